package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/dbtest"
)

// TestReconciledApprovalCarriesINICISDetails: a charge whose reply was lost
// is reconciled through /v2/pg/inquiry, which the simulator answers in
// INICIS's shape (resultCode SUCCESS, approvedDate/approvedTime, nested
// cardInfo.approvedNumber); the paid payment gets the approval's real time,
// approval number and card, not the reconciler's clock and blanks.
func TestReconciledApprovalCarriesINICISDetails(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{pgTimeout: time.Second})
		h.mustIssue("cust-inq", "4000-0000-0000-0119")
		if status, env := h.again("cust-inq", "order-inq", 15000); status != 200 || env.Code != -1 {
			t.Fatalf("unknown outcome: %d %s", status, env.raw)
		}
		var p payment
		eventually(t, 15*time.Second, "the reconciler to resolve the payment", func() bool {
			_, env := h.call("GET", "/payments/find/order-inq", nil)
			p = env.payment(t)
			return p.Status != "ready"
		})
		ap := h.approvalsFor(p.ImpUID)
		if p.Status != "paid" || len(ap) != 1 {
			t.Fatalf("reconciled %+v; approvals %+v", p, ap)
		}
		a := ap[0]
		if p.ApplyNum == "" || p.ApplyNum != a.AuthCode || p.PaidAt != a.ApprovedAt.Unix() || p.CardName == "" || p.CardName != a.CardName ||
			!strings.HasSuffix(p.CardNumber, a.CardNumber[len(a.CardNumber)-1:]) {
			t.Errorf("reconciled payment %+v; INICIS approval %+v", p, a)
		}
	})
}
