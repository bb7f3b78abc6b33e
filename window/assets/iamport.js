/*!
 * billkey iamport.js — a browser SDK compatible with i'mport's (PortOne V1)
 * IMP.init / IMP.request_pay, for billkey's KG INICIS billing-key window.
 * Written for billkey; no dependencies (no jQuery), ES5.
 *
 * The protocol between this file and billkey (form post to /window/open,
 * "opened"/"done" messages, redirect results) is described once, in the
 * window package documentation ("SDK ↔ server protocol", go doc ./window).
 *
 * The dialog is i'mport's: div.imp-dialog, a transparent full-viewport frame
 * (position fixed, z-index 99999) holding a full-size iframe into which
 * INICIS's window draws itself, so merchant CSS written for i'mport's
 * .imp-dialog keeps working.
 */
(function (window, document) {
  "use strict";
  if (window.IMP && window.IMP.billkey) {
    return; // loaded twice: keep the first instance and its state
  }

  var VERSION = "billkey-2";

  // Error codes of failures decided before or outside INICIS. NOT_READY,
  // F400 and F500 are i'mport's; WINDOW_CLOSED is billkey's own.
  var NOT_READY = "NOT_READY"; // IMP.init() was not called
  var F400 = "F400"; // the request itself is unusable
  var F500 = "F500"; // billkey could not process the request
  var CLOSED = "WINDOW_CLOSED"; // closed before billkey answered

  // billkey's origin: where this script was loaded from.
  function findOrigin() {
    var s = document.currentScript;
    if (!s || !s.src) {
      var all = document.getElementsByTagName("script");
      for (var i = all.length - 1; i >= 0; i--) {
        if (/iamport[^\/]*\.js(?:[?#]|$)/.test(all[i].src)) {
          s = all[i];
          break;
        }
      }
    }
    var src = s && s.src ? s.src : window.location.href;
    try {
      return new URL(src, window.location.href).origin;
    } catch (e) {
      var a = document.createElement("a");
      a.href = src;
      return a.protocol + "//" + a.host;
    }
  }

  var ORIGIN = findOrigin();
  var merchantCode = null;
  var tierCode = "";
  var seq = 0;
  var current = null; // the open window, if any
  var dialog = null; // div.imp-dialog, created once and reused

  // isMobile detects phones and tablets the way i'mport's SDK does (user
  // agent), plus iPadOS, which reports itself as a Mac with touch points.
  function isMobile() {
    var ua = window.navigator.userAgent || "";
    if (/Android|webOS|iPhone|iPad|iPod|BlackBerry|IEMobile|Opera Mini|Mobile/i.test(ua)) {
      return true;
    }
    return window.navigator.platform === "MacIntel" && window.navigator.maxTouchPoints > 1;
  }

  function isIOS() {
    var ua = window.navigator.userAgent || "";
    return /iPhone|iPad|iPod/.test(ua) || (window.navigator.platform === "MacIntel" && window.navigator.maxTouchPoints > 1);
  }

  function copy(obj) {
    var out = {};
    if (obj && typeof obj === "object") {
      for (var k in obj) {
        if (Object.prototype.hasOwnProperty.call(obj, k)) {
          out[k] = obj[k];
        }
      }
    }
    return out;
  }

  function later(fn) {
    window.setTimeout(fn, 0);
  }

  function failure(data, code, msg) {
    return {
      success: false, error_code: code, error_msg: msg, imp_uid: null,
      merchant_uid: data.merchant_uid, pay_method: data.pay_method || "card",
      customer_uid: data.customer_uid || null, status: "failed"
    };
  }

  // absolute resolves a URL against the page's address, as a browser
  // following a relative link would; anything unresolvable is kept as is
  // (billkey refuses it if it must redirect there).
  function absolute(u) {
    if (typeof u !== "string" || u === "") {
      return u;
    }
    try {
      return new URL(u, window.location.href).href;
    } catch (e) {
      var a = document.createElement("a");
      a.href = u;
      return a.href || u;
    }
  }

  function css(el, styles) {
    for (var k in styles) {
      if (Object.prototype.hasOwnProperty.call(styles, k)) {
        el.style[k] = styles[k];
      }
    }
    return el;
  }

  function hidden(form, name, value) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value == null ? "" : String(value);
    form.appendChild(input);
  }

  function container() {
    return document.body || document.documentElement;
  }

  // i'mport's dialog rules (class names and geometry as its SDK injects
  // them), plus billkey's close button. As i'mport hides its .imp-header for
  // INICIS, the header is hidden: INICIS's window has its own ×, so the buyer
  // sees one close control (Esc still closes). Merchant CSS overrides these
  // rules as it overrides i'mport's (.imp-dialog .imp-header{display:block}
  // shows billkey's ×).
  var STYLE = [
    "body.imp-payment-progress {position: static}",
    "body.imp-payment-progress > :not(.imp-dialog) {display: none}",
    ".imp-dialog {display: none; position: fixed; top: 0; bottom: 0; left: 0; right: 0; width: 100%; height: 100%; z-index: 99999; margin: 0; padding: 0; background: transparent}",
    ".imp-dialog .imp-frame {position: absolute; left: 0; right: 0; top: 0; bottom: 0; width: 100%; height: 100%; border: 0; margin: 0; padding: 0; background: transparent; color-scheme: normal}",
    ".imp-dialog.mobile.ios {position: absolute}",
    ".imp-dialog .imp-header {display: none; background: transparent; position: absolute; top: 0; right: 0; width: 56px; height: 56px}",
    ".imp-dialog .imp-close {position: absolute; top: 10px; right: 10px; width: 36px; height: 36px; border: 0; border-radius: 18px; padding: 0;" +
      " background: rgba(255, 255, 255, 0.92); color: #1d2330; font: 22px/36px sans-serif; text-align: center; cursor: pointer;" +
      " box-shadow: 0 2px 8px rgba(0, 0, 0, 0.25)}"
  ].join("\n");

  // FALLBACK is applied inline when a Content-Security-Policy kept the
  // style element from applying, so the dialog still works.
  var FALLBACK = {
    dialog: { position: "fixed", top: "0", left: "0", right: "0", bottom: "0", width: "100%", height: "100%", zIndex: "99999", margin: "0", padding: "0" },
    frame: { position: "absolute", top: "0", left: "0", right: "0", bottom: "0", width: "100%", height: "100%", border: "0", margin: "0", padding: "0", background: "transparent" },
    header: { display: "none", position: "absolute", top: "0", right: "0", width: "56px", height: "56px" },
    close: {
      position: "absolute", top: "10px", right: "10px", width: "36px", height: "36px", border: "0", borderRadius: "18px", padding: "0",
      background: "rgba(255, 255, 255, 0.92)", color: "#1d2330", font: "22px/36px sans-serif", cursor: "pointer"
    }
  };

  function addStyle() {
    if (document.getElementById("billkey-imp-style")) {
      return;
    }
    var style = document.createElement("style");
    style.id = "billkey-imp-style";
    style.appendChild(document.createTextNode(STYLE));
    var head = document.head || document.getElementsByTagName("head")[0] || document.documentElement;
    // First in <head>, so the merchant's own rules for .imp-dialog win.
    head.insertBefore(style, head.firstChild);
  }

  // getDialog returns div.imp-dialog (hidden), creating it on first use.
  function getDialog() {
    if (dialog && dialog.el.parentNode) {
      return dialog;
    }
    addStyle();
    var el = document.createElement("div");
    el.className = "imp-dialog customizable";
    el.id = "billkey-overlay";
    el.setAttribute("role", "dialog");
    el.setAttribute("aria-modal", "true");
    el.setAttribute("aria-label", "결제창");
    var header = document.createElement("div");
    header.className = "imp-header";
    var close = document.createElement("button");
    close.type = "button";
    close.className = "imp-close";
    close.id = "billkey-close";
    close.setAttribute("aria-label", "결제창 닫기");
    close.appendChild(document.createTextNode("\u00d7"));
    close.onclick = onClose;
    header.appendChild(close);
    el.appendChild(header);
    container().appendChild(el);
    var styled = true;
    if (window.getComputedStyle) {
      try {
        styled = window.getComputedStyle(el).position === "fixed";
      } catch (e) {
        styled = true;
      }
    }
    if (!styled) {
      css(el, FALLBACK.dialog);
      css(header, FALLBACK.header);
      css(close, FALLBACK.close);
    }
    el.style.display = "none";
    dialog = { el: el, header: header, styled: styled };
    return dialog;
  }

  // openDialog shows the dialog with a fresh iframe named name, classed as
  // i'mport classes its dialog and frames.
  function openDialog(name, pg, mobile) {
    var d = getDialog();
    var provider = String(pg || "html5_inicis").split(".")[0].replace(/[^A-Za-z0-9_\-]/g, "") || "html5_inicis";
    d.el.className = "imp-dialog customizable payment-" + provider + " " + (mobile ? "mobile" : "pc") + (mobile && isIOS() ? " ios" : "");
    var frame = document.createElement("iframe");
    frame.name = name;
    frame.id = "billkey-frame";
    frame.className = "imp-frame " + (mobile ? "imp-frame-mobile" : "imp-frame-pc") + " imp-frame-default imp-frame-" + provider;
    frame.title = "KG이니시스 카드 등록";
    frame.setAttribute("frameborder", "0");
    frame.setAttribute("allowtransparency", "true");
    frame.setAttribute("allow", "payment");
    if (!d.styled) {
      css(frame, FALLBACK.frame);
    }
    d.el.insertBefore(frame, d.header);
    d.el.style.display = "block";
    var root = document.documentElement;
    var saved = root.style.overflow;
    root.style.overflow = "hidden";
    if (mobile && document.body) {
      document.body.className += " imp-payment-progress";
    }
    return {
      frame: frame,
      restore: function () {
        root.style.overflow = saved;
        if (document.body) {
          document.body.className = document.body.className.replace(/(^|\s)imp-payment-progress(?=\s|$)/g, "").replace(/^\s+|\s+$/g, "");
        }
        if (frame.parentNode) {
          frame.parentNode.removeChild(frame);
        }
        d.el.style.display = "none";
      }
    };
  }

  function onKey(ev) {
    if (current && (ev.key === "Escape" || ev.keyCode === 27)) {
      onClose();
    }
  }

  // onClose is the buyer closing the window (Esc, or the dialog's × when
  // the merchant's CSS shows it; INICIS's own × goes through closeUrl): it
  // asks billkey to close the attempt, and the result then arrives as a
  // "done" message (a failure with INICIS's user-cancel code). A second
  // click, or a click before billkey answered, closes at once with a
  // WINDOW_CLOSED failure.
  function onClose() {
    if (!current) {
      return;
    }
    if (current.closeURL && !current.closing) {
      current.closing = true;
      current.frame.src = current.closeURL;
      return;
    }
    var w = dismiss();
    if (w.closeURL && !w.closing) {
      abandon(w.closeURL);
    }
    if (w.callback) {
      w.callback(failure(w.data, CLOSED, "사용자가 결제창을 닫았습니다."));
    }
  }

  // dismiss hides the dialog of the open window and forgets it.
  function dismiss() {
    var w = current;
    current = null;
    w.restore();
    document.removeEventListener("keydown", onKey, true);
    return w;
  }

  // abandon tells billkey, in the background, that an attempt the page no
  // longer shows is closed (its payment becomes failed at once instead of
  // when the attempt expires). Nothing reaches the page's callback.
  function abandon(closeURL) {
    try {
      if (window.navigator.sendBeacon && window.navigator.sendBeacon(closeURL)) {
        return;
      }
    } catch (e) { /* fall through */ }
    try {
      new Image().src = closeURL;
    } catch (e2) { /* best effort: the attempt expires anyway */ }
  }

  // quietClose closes the open window without a callback, as i'mport's
  // IMP.close() hides its dialog.
  function quietClose() {
    if (!current) {
      return;
    }
    var w = dismiss();
    if (w.closeURL) {
      abandon(w.closeURL);
    }
  }

  function deliver(w, rsp) {
    if (!w.callback) {
      return;
    }
    rsp = copy(rsp);
    delete rsp.request_id; // i'mport's SDK removes it before the callback
    if (Object.prototype.hasOwnProperty.call(w.data, "custom_data")) {
      rsp.custom_data = w.data.custom_data; // the value, in the type it was given
    }
    if (rsp.success !== true && (rsp.error_code == null || rsp.error_code === "")) {
      rsp.error_code = F500;
    }
    w.callback(rsp);
  }

  function onMessage(ev) {
    if (!current || ev.origin !== ORIGIN || ev.source !== current.frame.contentWindow) {
      return;
    }
    var msg = ev.data;
    if (typeof msg === "string") {
      try {
        msg = JSON.parse(msg);
      } catch (e) {
        return;
      }
    }
    if (!msg || msg.from !== "billkey" || !msg.data || msg.data.request_id !== current.data.request_id) {
      return;
    }
    if (msg.action === "opened") {
      var u = msg.data.close_url;
      if (typeof u === "string" && u.indexOf(ORIGIN + "/window/close/") === 0) {
        current.closeURL = u;
      }
    } else if (msg.action === "done") {
      deliver(dismiss(), msg.data);
    }
  }

  window.addEventListener("message", onMessage, false);

  var IMP = {
    billkey: VERSION,

    /** init sets the merchant identification code ("imp" + 8 digits). */
    init: function (code) {
      merchantCode = code == null ? null : String(code);
    },

    /** agency sets the code and a sub-merchant tier code. */
    agency: function (code, tier) {
      merchantCode = code == null ? null : String(code);
      tierCode = tier == null ? "" : String(tier);
    },

    /**
     * request_pay opens the KG INICIS billing-key window.
     * PC: the dialog's iframe; the callback gets the rsp.
     * Mobile (touch user agent) with m_redirect_url: the page is redirected
     * and ends at m_redirect_url; the callback is not called. popup: true
     * forces the dialog (callback) on mobile; popup: false with
     * m_redirect_url forces the redirect anywhere; without a callback,
     * m_redirect_url is used on PC too. A relative m_redirect_url is
     * resolved against the page's address. A call while a window is open
     * replaces that window (its callback is not called).
     */
    request_pay: function (params, callback) {
      var cb = typeof callback === "function" ? callback : null;
      var data = copy(params);
      var now = new Date().getTime();
      if (!data.pay_method) {
        data.pay_method = "card";
      }
      if (data.merchant_uid == null || data.merchant_uid === "") {
        data.merchant_uid = "nobody_" + now;
      }
      if (params == null || typeof params !== "object") {
        if (cb) {
          later(function () { cb(failure(data, F400, "결제요청 파라메터가 누락되었습니다.")); });
        }
        return false;
      }
      data.request_id = "req_" + now + "_" + (++seq);
      if (!merchantCode) {
        if (cb) {
          later(function () { cb(failure(data, NOT_READY, "가맹점 식별코드가 설정되지 않았습니다. IMP.init()을 먼저 호출해주세요.")); });
        }
        return;
      }
      if (typeof data.m_redirect_url === "string") {
        data.m_redirect_url = absolute(data.m_redirect_url.replace(/^\s+|\s+$/g, ""));
      }
      var json;
      try {
        json = JSON.stringify(data);
      } catch (e) {
        if (cb) {
          later(function () { cb(failure(data, F400, "결제 요청 파라미터를 JSON으로 변환할 수 없습니다.")); });
        }
        return;
      }
      // A second call while a window is open replaces it, as i'mport's
      // dialog takes the new request: the first callback is not called.
      quietClose();

      var mobile = isMobile();
      var redirect = !!data.m_redirect_url &&
        (data.popup === false || (mobile && data.popup !== true) || !cb);

      var form = document.createElement("form");
      form.method = "post";
      form.action = ORIGIN + "/window/open";
      form.setAttribute("accept-charset", "UTF-8");
      form.style.display = "none";
      hidden(form, "imp_code", merchantCode);
      hidden(form, "tier", tierCode);
      hidden(form, "params", json);
      var notice = data.notice_url;
      if (Object.prototype.toString.call(notice) === "[object Array]") {
        for (var i = 0; i < notice.length; i++) {
          if (notice[i] != null && notice[i] !== "") {
            hidden(form, "notice_url", notice[i]);
          }
        }
      } else if (notice != null && notice !== "") {
        hidden(form, "notice_url", notice);
      }
      hidden(form, "device", mobile ? "mobile" : "pc");
      hidden(form, "delivery", redirect ? "redirect" : "message");
      hidden(form, "origin", window.location.origin || (window.location.protocol + "//" + window.location.host));
      hidden(form, "sdk", VERSION);

      if (redirect) {
        form.target = "_self";
        container().appendChild(form);
        form.submit();
        return;
      }
      var name = "billkey_window_" + data.request_id;
      var opened = openDialog(name, data.pg, mobile);
      current = {
        data: data, callback: cb, frame: opened.frame, restore: opened.restore,
        closeURL: null, closing: false
      };
      document.addEventListener("keydown", onKey, true);
      form.target = name;
      container().appendChild(form);
      form.submit();
      form.parentNode.removeChild(form);
    },

    /** certification (identity verification) is not offered by billkey. */
    certification: function (params, callback) {
      if (typeof callback === "function") {
        later(function () {
          callback({
            success: false, error_code: F400, error_msg: "billkey는 본인인증(IMP.certification)을 지원하지 않습니다.",
            imp_uid: null, merchant_uid: params && params.merchant_uid
          });
        });
      }
    },

    /**
     * close hides an open window without calling its callback, as
     * i'mport's IMP.close() does; billkey is told in the background, so the
     * attempt's payment becomes failed.
     */
    close: function () {
      quietClose();
    }
  };

  window.IMP = IMP;
})(window, document);
