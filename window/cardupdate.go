package window

import (
	"fmt"
	"net/http"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/internal/cycle"
)

// The card-update page (gateway/cardupdate.go): GET /card-update/{token}
// shows the merchant, the masked current card and the next charge, and a
// button that calls IMP.request_pay (billkey's own iamport.js, the ordinary
// window) with the link's token as billkey_card_update; on success the page
// goes to /card-update/{token}/result, which shows the new card and the
// outcome of the retried charge. A used, expired or unknown link, or one
// whose subscription ended, gets a refusal page. The token is in the path
// only: the pages send no referrer, are never cached or framed, and the
// request log shows the path as /card-update/{token}.

// Paths of the card-update pages.
const (
	PathCardUpdateJS = gateway.PathCardUpdate + "assets/cardupdate.js"
)

// cardUpdateHeaders: scripts only from billkey (iamport.js and the page's
// own), the inline style by nonce, iamport.js's dialog frame and form on
// billkey's origin, never framed, no referrer (the token is in the URL).
func cardUpdateHeaders(hd http.Header, nonce string) {
	setPageHeaders(hd)
	hd.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'nonce-"+nonce+
		"'; img-src 'self' data:; frame-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
}

// kstText formats a time as Korean readers expect, in KST.
func kstText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	k := t.In(cycle.KST)
	return fmt.Sprintf("%d년 %d월 %d일 %02d:%02d", k.Year(), int(k.Month()), k.Day(), k.Hour(), k.Minute())
}

// cardUpdateData is what the page template shows.
func cardUpdateData(v *gateway.CardUpdateView, nonce string) map[string]any {
	sub := v.Subscription
	card := "등록된 카드 없음"
	if v.CardNumber != "" {
		card = v.CardNumber
		if v.CardName != "" {
			card = v.CardName + " " + v.CardNumber
		}
	}
	return map[string]any{
		"Nonce": nonce, "MerchantName": v.Merchant.Name, "PlanName": sub.Name, "Card": card,
		"DueAmount": v.DueAmount, "DueAt": kstText(v.DueAt), "DueNow": v.DueNow, "Status": string(sub.Status),
		"Overdue":   sub.Status == billkey.SubPastDue || sub.Status == billkey.SubUnpaid,
		"ExpiresAt": kstText(v.Link.ExpiresAt), "NeedEmail": v.NeedEmail, "NeedTel": v.NeedTel,
		"Interval": intervalText(sub), "Retry": v.Retry, "RetryFail": v.RetryFail,
	}
}

// intervalText says how often the plan renews, in Korean.
func intervalText(sub *billkey.Subscription) string {
	unit := map[string]string{"day": "일", "week": "주", "month": "개월", "year": "년"}[sub.Unit]
	if sub.Count == 1 {
		return map[string]string{"day": "매일", "week": "매주", "month": "매월", "year": "매년"}[sub.Unit]
	}
	return fmt.Sprintf("%d%s마다", sub.Count, unit)
}

// HandleCardUpdatePage serves GET /card-update/{token}.
func (h *Handler) HandleCardUpdatePage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	v, err := h.cfg.Service.CardUpdatePage(r.Context(), token)
	if err != nil {
		h.cardUpdateRefused(w, err)
		return
	}
	// html/template writes it as JSON into the application/json block.
	cfg := map[string]string{
		"imp_code": v.Merchant.ImpCode, "token": token,
		"result_url": gateway.PathCardUpdate + token + "/result",
	}
	nonce := newNonce()
	cardUpdateHeaders(w.Header(), nonce)
	data := cardUpdateData(v, nonce)
	data["Mode"], data["Config"] = "form", cfg
	h.render(w, http.StatusOK, "cardupdate.html", data)
}

// HandleCardUpdateResult serves GET /card-update/{token}/result.
func (h *Handler) HandleCardUpdateResult(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	v, err := h.cfg.Service.CardUpdateResult(r.Context(), token)
	if billkey.ErrorCode(err) == billkey.EINVALID {
		// Not used yet: the link's own page.
		noStore(w.Header())
		w.Header().Set("Referrer-Policy", "no-referrer")
		http.Redirect(w, r, gateway.PathCardUpdate+token, http.StatusSeeOther)
		return
	}
	if err != nil {
		h.cardUpdateRefused(w, err)
		return
	}
	nonce := newNonce()
	cardUpdateHeaders(w.Header(), nonce)
	data := cardUpdateData(v, nonce)
	data["Mode"] = "result"
	h.render(w, http.StatusOK, "cardupdate.html", data)
}

// cardUpdateRefused renders the refusal page of a link: 404 unknown, 410
// used, expired or its subscription ended.
func (h *Handler) cardUpdateRefused(w http.ResponseWriter, err error) {
	status := http.StatusGone
	switch billkey.ErrorCode(err) {
	case billkey.ENOTFOUND:
		status = http.StatusNotFound
	case billkey.EREJECTED:
	default:
		h.log.Error("card-update page failed", "error", err)
		status = http.StatusInternalServerError
		err = billkey.Errorf(billkey.EINTERNAL, "페이지를 표시하지 못했습니다. 잠시 후 다시 시도해주세요.")
	}
	nonce := newNonce()
	cardUpdateHeaders(w.Header(), nonce)
	h.render(w, status, "cardupdate.html", map[string]any{"Nonce": nonce, "Mode": "refused", "Message": billkey.ErrorMessage(err)})
}
