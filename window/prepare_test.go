package window_test

import (
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/dbtest"
)

// TestWindowPreparedAmount: IMP.request_pay for a pre-registered
// merchant_uid with another amount is refused before INICIS's window opens
// (what /payments/prepare is for); the prepared amount opens it.
func TestWindowPreparedAmount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		e := newEnv(t, dsn, nil)
		tok := e.token()
		if r := e.api("POST", "/payments/prepare", map[string]any{"merchant_uid": "order_cust-prep", "amount": 1000}, tok); r["code"] != float64(0) {
			t.Fatalf("prepare: %v", r)
		}
		p := issueParams("cust-prep") // amount 9900
		status, page, _ := e.post(e.app.BaseURL+"/window/open", openForm(e.merchant.ImpCode, p, "pc", "message"), merchantOrigin)
		m, _ := doneMessage(t, page)
		msg, _ := m.Data["error_msg"].(string)
		if status != 200 || m.Data["success"] != false || m.Data["imp_uid"] != nil || !strings.Contains(msg, "사전등록된 결제금액") {
			t.Fatalf("window with another amount: %d %v", status, m.Data)
		}
		if r := e.api("GET", "/payments/find/order_cust-prep", nil, tok); r["_status"] != float64(404) {
			t.Fatalf("a refused window wrote a payment: %v", r)
		}
		p["amount"] = 1000
		w := e.openWindow(openForm(e.merchant.ImpCode, p, "pc", "message"))
		if w == nil {
			t.Fatal("the prepared amount did not open the window")
		}
	})
}
