/* billkey card-update page: opens the ordinary payment window
 * (IMP.request_pay) for the link's customer; billkey binds the window to
 * the link by its token and fills customer_uid and the buyer fields. */
(function () {
  "use strict";
  var cfgEl = document.getElementById("card-update-data");
  var button = document.getElementById("change-card");
  if (!cfgEl || !button) {
    return;
  }
  var cfg = JSON.parse(cfgEl.textContent);
  var errorBox = document.getElementById("card-update-error");

  function showError(msg) {
    errorBox.textContent = msg || "";
    errorBox.className = msg ? "err" : "err hidden";
  }

  button.addEventListener("click", function () {
    showError("");
    var params = { pay_method: "card", amount: 0, billkey_card_update: cfg.token };
    var email = document.getElementById("buyer_email");
    var tel = document.getElementById("buyer_tel");
    if (email) {
      if (!email.value) { showError("이메일을 입력해주세요."); email.focus(); return; }
      params.buyer_email = email.value;
    }
    if (tel) {
      if (!tel.value) { showError("휴대폰 번호를 입력해주세요."); tel.focus(); return; }
      params.buyer_tel = tel.value;
    }
    button.disabled = true;
    IMP.init(cfg.imp_code);
    IMP.request_pay(params, function (rsp) {
      if (rsp.success) {
        window.location.replace(cfg.result_url);
        return;
      }
      button.disabled = false;
      showError(rsp.error_msg || "카드를 변경하지 못했습니다. 다시 시도해주세요.");
    });
  });
})();
