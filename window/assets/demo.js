/* billkey demo shop: the merchant page's own script, using IMP exactly as
 * an i'mport merchant would. */
(function () {
  "use strict";
  // Forms with data-confirm ask before they post (refund, unschedule).
  var confirmForms = document.querySelectorAll("form[data-confirm]");
  for (var i = 0; i < confirmForms.length; i++) {
    confirmForms[i].addEventListener("submit", function (ev) {
      if (!window.confirm(this.getAttribute("data-confirm"))) {
        ev.preventDefault();
      }
    });
  }
  var auto = document.getElementById("auto-submit");
  if (auto) {
    auto.submit(); // /demo/complete: hand the imp_uid to the shop's server
    return;
  }
  var form = document.getElementById("buyer");
  var cfgEl = document.getElementById("demo-config");
  if (!form || !cfgEl) {
    return;
  }
  var cfg = JSON.parse(cfgEl.textContent);
  var button = document.getElementById("subscribe");
  var errorBox = document.getElementById("demo-error");

  function showError(msg) {
    errorBox.textContent = msg || "";
    errorBox.className = msg ? "err" : "err hidden";
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    showError("");
    var now = Date.now();
    var rand = Math.random().toString(36).slice(2, 10);
    button.disabled = true;
    IMP.init(cfg.imp_code);
    IMP.request_pay({
      pg: "html5_inicis",
      pay_method: "card",
      merchant_uid: "demo_issue_" + now,
      name: cfg.plan_name,
      amount: cfg.price, // shown in the window only: issuing a key charges nothing
      customer_uid: "demo_cust_" + now + "_" + rand,
      buyer_name: form.buyer_name.value,
      buyer_email: form.buyer_email.value,
      buyer_tel: form.buyer_tel.value,
      m_redirect_url: window.location.origin + "/demo/complete",
      custom_data: { plan: "basic-monthly" }
    }, function (rsp) {
      button.disabled = false;
      if (rsp.success) {
        window.location.href = "/demo/complete?imp_success=true&imp_uid=" + encodeURIComponent(rsp.imp_uid) +
          "&merchant_uid=" + encodeURIComponent(rsp.merchant_uid);
      } else {
        showError(rsp.error_msg || "카드 등록에 실패했습니다.");
      }
    });
  });
})();
