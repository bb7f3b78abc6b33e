/*!
 * billkey iamport.js — a browser SDK compatible with i'mport's (PortOne V1)
 * IMP.init / IMP.request_pay, for billkey's KG INICIS billing-key window.
 * Written for billkey; no dependencies (no jQuery), ES5.
 *
 * Protocol (see the window package documentation):
 *   1. request_pay submits a form to <billkey>/window/open (fields imp_code,
 *      tier, params = JSON of the parameters + request_id, device, delivery,
 *      origin, sdk) into a modal iframe (PC) or the page itself (redirect).
 *   2. billkey's pages in the iframe post JSON strings
 *      {from:"billkey", action:"opened"|"done", data:{request_id, ...}} to
 *      this page, pinned to its origin. Only messages whose origin is
 *      billkey's (the origin of this script's src) and whose source is the
 *      iframe are accepted.
 *   3. "done" carries the rsp; the callback gets it and the modal closes.
 *      In redirect mode the browser ends at m_redirect_url?imp_uid=&
 *      merchant_uid=&imp_success=true|false[&error_code=&error_msg=].
 */
(function (window, document) {
  "use strict";
  if (window.IMP && window.IMP.billkey) {
    return; // loaded twice: keep the first instance and its state
  }

  var VERSION = "billkey-1";

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

  // isMobile detects phones and tablets the way i'mport's SDK does (user
  // agent), plus iPadOS, which reports itself as a Mac with touch points.
  function isMobile() {
    var ua = window.navigator.userAgent || "";
    if (/Android|webOS|iPhone|iPad|iPod|BlackBerry|IEMobile|Opera Mini|Mobile/i.test(ua)) {
      return true;
    }
    return window.navigator.platform === "MacIntel" && window.navigator.maxTouchPoints > 1;
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

  function failure(data, msg) {
    return {
      success: false, error_code: null, error_msg: msg, imp_uid: null,
      merchant_uid: data.merchant_uid, pay_method: data.pay_method || "card",
      customer_uid: data.customer_uid || null, status: "failed", request_id: data.request_id
    };
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

  // open builds the modal: a dimmed overlay, a close button and the iframe.
  function openModal(name) {
    var narrow = (window.innerWidth || 1024) < 560;
    var overlay = css(document.createElement("div"), {
      position: "fixed", top: "0", left: "0", right: "0", bottom: "0", zIndex: "2147483000",
      background: "rgba(17, 24, 39, 0.55)", display: "flex", flexDirection: "column",
      alignItems: "center", justifyContent: "center", margin: "0", padding: "0"
    });
    overlay.id = "billkey-overlay";
    overlay.setAttribute("role", "dialog");
    overlay.setAttribute("aria-modal", "true");
    overlay.setAttribute("aria-label", "결제창");
    var bar = css(document.createElement("div"), {
      width: "100%", maxWidth: narrow ? "none" : "480px", height: "44px", flex: "0 0 44px",
      display: "flex", alignItems: "center", justifyContent: "flex-end"
    });
    var close = css(document.createElement("button"), {
      width: "36px", height: "36px", margin: narrow ? "0 8px" : "0", border: "0", borderRadius: "18px",
      background: "rgba(255, 255, 255, 0.92)", color: "#1d2330", fontSize: "22px", lineHeight: "36px",
      cursor: "pointer", padding: "0", fontFamily: "sans-serif"
    });
    close.type = "button";
    close.id = "billkey-close";
    close.setAttribute("aria-label", "결제창 닫기");
    close.appendChild(document.createTextNode("\u00d7"));
    bar.appendChild(close);
    var frame = css(document.createElement("iframe"), {
      width: "100%", maxWidth: narrow ? "none" : "480px", height: narrow ? "calc(100% - 44px)" : "calc(100% - 88px)",
      maxHeight: narrow ? "none" : "720px",
      border: "0", background: "#fff", borderRadius: narrow ? "0" : "12px", display: "block",
      boxShadow: "0 12px 40px rgba(0, 0, 0, 0.3)"
    });
    frame.name = name;
    frame.id = "billkey-frame";
    frame.title = "KG이니시스 카드 등록";
    frame.setAttribute("allow", "payment");
    overlay.appendChild(bar);
    overlay.appendChild(frame);
    container().appendChild(overlay);
    var root = document.documentElement;
    var saved = root.style.overflow;
    root.style.overflow = "hidden";
    close.onclick = onClose;
    return { overlay: overlay, frame: frame, restore: function () { root.style.overflow = saved; } };
  }

  function onKey(ev) {
    if (current && (ev.key === "Escape" || ev.keyCode === 27)) {
      onClose();
    }
  }

  // onClose asks billkey to close the attempt (the result then arrives as
  // a "done" message); a second click, or a click before billkey answered,
  // closes at once with a failure rsp.
  function onClose() {
    if (!current) {
      return;
    }
    if (current.closeURL && !current.closing) {
      current.closing = true;
      current.frame.src = current.closeURL;
      return;
    }
    finish(failure(current.data, "사용자가 결제창을 닫았습니다."));
  }

  function finish(rsp) {
    var w = current;
    current = null;
    if (w.overlay.parentNode) {
      w.overlay.parentNode.removeChild(w.overlay);
    }
    w.restore();
    document.removeEventListener("keydown", onKey, true);
    if (w.callback) {
      w.callback(rsp);
    }
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
      finish(msg.data);
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
     * PC: a modal iframe; the callback gets the rsp.
     * Mobile (touch user agent) with m_redirect_url: the page is redirected
     * and ends at m_redirect_url; the callback is not called. popup: true
     * forces the modal (callback) on mobile; popup: false with
     * m_redirect_url forces the redirect anywhere; without a callback,
     * m_redirect_url is used on PC too.
     */
    request_pay: function (params, callback) {
      var data = copy(params);
      var now = new Date().getTime();
      if (!data.pay_method) {
        data.pay_method = "card";
      }
      if (data.merchant_uid == null || data.merchant_uid === "") {
        data.merchant_uid = "nobody_" + now;
      }
      data.request_id = "req_" + now + "_" + (++seq);
      var cb = typeof callback === "function" ? callback : null;
      if (!merchantCode) {
        if (cb) {
          later(function () { cb(failure(data, "IMP.init()으로 가맹점 식별코드를 먼저 설정해주세요.")); });
        }
        return;
      }
      if (current) {
        if (cb) {
          later(function () { cb(failure(data, "이미 결제창이 열려 있습니다.")); });
        }
        return;
      }
      var json;
      try {
        json = JSON.stringify(data);
      } catch (e) {
        if (cb) {
          later(function () { cb(failure(data, "결제 요청 파라미터를 JSON으로 변환할 수 없습니다.")); });
        }
        return;
      }
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
      var modal = openModal(name);
      current = {
        data: data, callback: cb, overlay: modal.overlay, frame: modal.frame, restore: modal.restore,
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
          callback({ success: false, error_code: null, error_msg: "billkey는 본인인증(IMP.certification)을 지원하지 않습니다.", imp_uid: null, merchant_uid: params && params.merchant_uid });
        });
      }
    },

    /** close closes an open window as if the buyer had clicked its close button. */
    close: function () {
      onClose();
    }
  };

  window.IMP = IMP;
})(window, document);
