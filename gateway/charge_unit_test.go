package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey"
)

// TestChargeApproved: an approval becomes a paid payment with the PG's
// transaction, the decrypted key is what the PG is sent, and the payment's
// webhook is queued with it (same FinishPayment call).
func TestChargeApproved(t *testing.T) {
	u := newUnit(t)
	u.addCustomer(t, "c1")
	in := again("c1", "order-1", 12000)
	in.NoticeURL = "https://shop.example/hook"
	p, err := u.svc.ChargeAgain(context.Background(), u.merchant.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != billkey.StatusPaid || p.PGTID != "TID-"+p.ImpUID || p.Amount != 12000 || !strings.HasPrefix(p.ImpUID, "imps_") {
		t.Fatalf("payment %+v", p)
	}
	if len(u.pg.charges) != 1 || u.pg.charges[0].BillingKey != "BK-c1" || u.pg.charges[0].OrderID != p.ImpUID || u.pg.charges[0].Amount != 12000 {
		t.Fatalf("PG calls %+v", u.pg.charges)
	}
	evs := u.st.eventsOf(p.ImpUID)
	if len(evs) != 1 || evs[0].Status != billkey.StatusPaid || evs[0].NoticeURL != in.NoticeURL || evs[0].MerchantUID != "order-1" {
		t.Fatalf("events %+v", evs)
	}
	if stored, _ := u.st.PaymentByImpUID(context.Background(), u.merchant.ID, p.ImpUID); stored.Status != billkey.StatusPaid {
		t.Fatalf("stored %s", stored.Status)
	}
}

// TestChargeDeclined: a PG refusal (EPG envelope from the connector) is a
// failed payment returned without error (i'mport's code 0, status failed),
// with the PG's message as fail_reason and a failed webhook.
func TestChargeDeclined(t *testing.T) {
	u := newUnit(t)
	u.addCustomer(t, "c1")
	u.pg.charge = func(billkey.ChargeRequest) (*billkey.Approval, error) {
		return nil, pgDecline("[1254] [실시간빌링실패|잔액부족]")
	}
	p, err := u.svc.ChargeAgain(context.Background(), u.merchant.ID, again("c1", "order-1", 5000))
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != billkey.StatusFailed || !strings.Contains(p.FailReason, "잔액부족") || p.FailedAt.IsZero() {
		t.Fatalf("payment %+v", p)
	}
	if evs := u.st.eventsOf(p.ImpUID); len(evs) != 1 || evs[0].Status != billkey.StatusFailed {
		t.Fatalf("events %+v", evs)
	}
	// A failed order may be paid again with the same merchant_uid.
	u.pg.charge = nil
	if p2, err := u.svc.ChargeAgain(context.Background(), u.merchant.ID, again("c1", "order-1", 5000)); err != nil || p2.Status != billkey.StatusPaid {
		t.Fatalf("retry after decline: %v %+v", err, p2)
	}
}

// TestChargeUnknownOutcome: a PG call that hangs leaves the payment ready
// and marked for the reconciler with an EUNCERTAIN error; a retry with the
// same merchant_uid never reaches the PG; the reconciler records what the
// PG's inquiry says without charging.
func TestChargeUnknownOutcome(t *testing.T) {
	for _, c := range []struct {
		name    string
		inquiry billkey.Inquiry
		want    billkey.PaymentStatus
	}{
		{"approved", billkey.Inquiry{State: billkey.InquiryApproved, Approval: &billkey.Approval{TID: "LATE-TID", ApplyNum: "1", Amount: 9000}}, billkey.StatusPaid},
		{"declined", billkey.Inquiry{State: billkey.InquiryDeclined, Reason: "[1251] 한도초과"}, billkey.StatusFailed},
		{"not found yet", billkey.Inquiry{State: billkey.InquiryNotFound}, billkey.StatusReady},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := newUnit(t)
			u.addCustomer(t, "c1")
			u.pg.charge = func(billkey.ChargeRequest) (*billkey.Approval, error) { return nil, pgHang() }
			ctx := context.Background()
			_, err := u.svc.ChargeAgain(ctx, u.merchant.ID, again("c1", "order-9", 9000))
			if billkey.ErrorCode(err) != billkey.EUNCERTAIN || !strings.Contains(billkey.ErrorMessage(err), "다시 결제하지 마세요") {
				t.Fatalf("err %v", err)
			}
			ps := u.st.paymentsOf(u.merchant.ID, "order-9")
			if len(ps) != 1 || ps[0].Status != billkey.StatusReady || !ps[0].OutcomeUnknown {
				t.Fatalf("payments %+v", ps)
			}
			// The merchant retries: refused before the PG.
			u.pg.charge = nil
			if _, err := u.svc.ChargeAgain(ctx, u.merchant.ID, again("c1", "order-9", 9000)); billkey.ErrorCode(err) != billkey.EREJECTED {
				t.Fatalf("blind retry: %v", err)
			}
			u.pg.inquire = func(string) (*billkey.Inquiry, error) { inq := c.inquiry; return &inq, nil }
			u.svc.Now = func() time.Time { return fakeNow.Add(time.Minute) }
			if _, err := u.svc.ReconcileDue(ctx); err != nil {
				t.Fatal(err)
			}
			got, _ := u.st.PaymentByID(ctx, ps[0].ID)
			if got.Status != c.want || u.pg.chargeCount() != 1 || len(u.pg.inquiries) != 1 || u.pg.inquiries[0] != ps[0].ImpUID {
				t.Fatalf("after reconcile: %s, %d charges, inquiries %v", got.Status, u.pg.chargeCount(), u.pg.inquiries)
			}
			if c.want == billkey.StatusPaid && got.PGTID != "LATE-TID" {
				t.Fatalf("approval not recorded: %+v", got)
			}
			if c.want == billkey.StatusReady && (got.ReconcileAttempts != 1 || !got.ReconcileAfter.After(fakeNow.Add(time.Minute))) {
				t.Fatalf("not deferred: %+v", got)
			}
		})
	}
}

// TestChargeStoreFailureAfterApproval: the PG approved but recording the
// approval failed. The merchant is told not to pay again (EUNCERTAIN), the
// payment stays ready so a retry is refused, and once it is stale the
// reconciler finds the approval by inquiry: recorded paid once, never
// charged twice.
func TestChargeStoreFailureAfterApproval(t *testing.T) {
	u := newUnit(t)
	u.addCustomer(t, "c1")
	ctx := context.Background()
	u.st.finishErr = func(p *billkey.Payment) error {
		if p.Status == billkey.StatusPaid {
			return errors.New("disk full")
		}
		return nil
	}
	_, err := u.svc.ChargeAgain(ctx, u.merchant.ID, again("c1", "order-2", 7000))
	if billkey.ErrorCode(err) != billkey.EUNCERTAIN || !strings.Contains(billkey.ErrorMessage(err), "다시 결제하지 마세요") {
		t.Fatalf("err %v", err)
	}
	ps := u.st.paymentsOf(u.merchant.ID, "order-2")
	if len(ps) != 1 || ps[0].Status != billkey.StatusReady {
		t.Fatalf("payments %+v", ps)
	}
	if _, err := u.svc.ChargeAgain(ctx, u.merchant.ID, again("c1", "order-2", 7000)); billkey.ErrorCode(err) != billkey.EREJECTED {
		t.Fatalf("retry: %v", err)
	}
	u.st.finishErr = nil
	tid := u.pg.charges[0].OrderID
	u.pg.inquire = func(order string) (*billkey.Inquiry, error) {
		return &billkey.Inquiry{State: billkey.InquiryApproved, Approval: &billkey.Approval{TID: "TID-" + order, Amount: 7000}}, nil
	}
	// Not stale yet: the payment may still be being charged by its node.
	if n, _ := u.svc.ReconcileDue(ctx); n != 0 || len(u.pg.inquiries) != 0 {
		t.Fatalf("reconciled a fresh ready payment: %d, %v", n, u.pg.inquiries)
	}
	u.svc.Now = func() time.Time { return fakeNow.Add(u.svc.staleReadyAfter() + time.Second) }
	if n, err := u.svc.ReconcileDue(ctx); n != 1 || err != nil {
		t.Fatalf("reconcile: %d %v", n, err)
	}
	got, _ := u.st.PaymentByID(ctx, ps[0].ID)
	if got.Status != billkey.StatusPaid || got.PGTID != "TID-"+tid || u.pg.chargeCount() != 1 {
		t.Fatalf("payment %+v, %d charges", got, u.pg.chargeCount())
	}
	if evs := u.st.eventsOf(got.ImpUID); len(evs) != 1 || evs[0].Status != billkey.StatusPaid {
		t.Fatalf("events %+v", evs)
	}
}

// TestDuplicateMerchantUID: one PG approval per (merchant, merchant_uid):
// a merchant_uid with a paid or in-flight payment is refused before the PG;
// one whose payments all failed may be charged; another merchant's order
// with the same merchant_uid is independent.
func TestDuplicateMerchantUID(t *testing.T) {
	for _, c := range []struct {
		name    string
		prior   billkey.PaymentStatus
		refused bool
	}{
		{"paid", billkey.StatusPaid, true},
		{"ready", billkey.StatusReady, true},
		{"cancelled", billkey.StatusCancelled, true},
		{"failed", billkey.StatusFailed, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := newUnit(t)
			u.addCustomer(t, "c1")
			ctx := context.Background()
			if err := u.st.CreatePayment(ctx, &billkey.Payment{MerchantID: u.merchant.ID, ImpUID: "imps_prior", MerchantUID: "dup", Status: c.prior, Amount: 100}); err != nil {
				t.Fatal(err)
			}
			_, err := u.svc.ChargeAgain(ctx, u.merchant.ID, again("c1", "dup", 100))
			if c.refused {
				if billkey.ErrorCode(err) != billkey.EREJECTED || billkey.ErrorMessage(err) != billkey.DuplicateOrderMessage || u.pg.chargeCount() != 0 {
					t.Fatalf("err %v, %d charges", err, u.pg.chargeCount())
				}
			} else if err != nil || u.pg.chargeCount() != 1 {
				t.Fatalf("err %v, %d charges", err, u.pg.chargeCount())
			}
			other := u.st.addMerchant("other")
			u.st.addChannel(other.ID, false)
			blob, _ := fakeKeys{}.Seal([]byte("BK-x"), billkey.PurposeBillingKey, other.ID, "c1")
			chs, _ := u.st.Channels(ctx, other.ID)
			_, _ = u.st.SaveCustomer(ctx, &billkey.Customer{MerchantID: other.ID, ChannelID: chs[0].ID, CustomerUID: "c1", KeyCiphertext: blob})
			if p, err := u.svc.ChargeAgain(ctx, other.ID, again("c1", "dup", 100)); err != nil || p.Status != billkey.StatusPaid {
				t.Fatalf("other merchant: %v", err)
			}
		})
	}
}

// TestChargeInputRefusedBeforeAnyWrite: invalid amounts and text are
// refused with EREJECTED before a payment is written or the PG is called;
// an unknown customer_uid gets i'mport's message.
func TestChargeInputRefusedBeforeAnyWrite(t *testing.T) {
	vat := int64(5000)
	for _, c := range []struct {
		name string
		edit func(*ChargeInput)
		msg  string
	}{
		{"unknown customer", func(in *ChargeInput) { in.CustomerUID = "nobody" }, unknownCustomer},
		{"zero amount", func(in *ChargeInput) { in.Amount = 0 }, "0보다 커야"},
		{"missing amount", func(in *ChargeInput) { in.AmountMissing = true }, "amount 파라미터가 누락"},
		{"tax free over amount", func(in *ChargeInput) { in.TaxFree = 2000 }, "면세금액"},
		{"vat over taxable", func(in *ChargeInput) { in.VatAmount = &vat }, "부가세"},
		{"foreign currency", func(in *ChargeInput) { in.Currency = "USD" }, "KRW만"},
		{"quota under 50000", func(in *ChargeInput) { in.CardQuota = 3 }, "할부"},
		{"empty merchant_uid", func(in *ChargeInput) { in.MerchantUID = "" }, "merchant_uid"},
		{"name too long", func(in *ChargeInput) { in.Name = strings.Repeat("가", maxName+1) }, "name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := newUnit(t)
			u.addCustomer(t, "c1")
			in := again("c1", "order-x", 1000)
			c.edit(&in)
			_, err := u.svc.ChargeAgain(context.Background(), u.merchant.ID, in)
			if billkey.ErrorCode(err) != billkey.EREJECTED && billkey.ErrorCode(err) != billkey.EINVALID {
				t.Fatalf("err %v", err)
			}
			if !strings.Contains(billkey.ErrorMessage(err), c.msg) {
				t.Fatalf("message %q lacks %q", billkey.ErrorMessage(err), c.msg)
			}
			if len(u.st.payments) != 0 || u.pg.chargeCount() != 0 {
				t.Fatalf("%d payments written, %d charges", len(u.st.payments), u.pg.chargeCount())
			}
		})
	}
}

// TestLiveChannelNeedsExplicitKey: a live channel is refused (nothing
// written, no PG call) unless the service allows live mode.
func TestLiveChannelNeedsExplicitKey(t *testing.T) {
	for _, allow := range []bool{false, true} {
		u := newUnit(t)
		u.st.channels[0].Live = true
		u.addCustomer(t, "c1")
		u.svc.AllowLive = allow
		p, err := u.svc.ChargeAgain(context.Background(), u.merchant.ID, again("c1", "o", 1000))
		if !allow && (billkey.ErrorCode(err) != billkey.EREJECTED || len(u.st.payments) != 0 || u.pg.chargeCount() != 0) {
			t.Fatalf("live refused: %v, %d payments", err, len(u.st.payments))
		}
		if allow && (err != nil || p.Status != billkey.StatusPaid) {
			t.Fatalf("live allowed: %v", err)
		}
	}
}

// TestLateApprovalOfAFailedPaymentIsRefunded: an approval the reconciler
// finds for a payment already recorded failed is never lost: it is kept as
// an orphan and refunded at the PG.
func TestLateApprovalOfAFailedPaymentIsRefunded(t *testing.T) {
	u := newUnit(t)
	u.addCustomer(t, "c1")
	ctx := context.Background()
	p := &billkey.Payment{MerchantID: u.merchant.ID, ChannelID: u.channel.ID, ImpUID: "imps_late", MerchantUID: "late",
		Status: billkey.StatusFailed, Amount: 3000, StartedAt: fakeNow}
	if err := u.st.CreatePayment(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := u.svc.recordApproval(ctx, p, &billkey.Approval{TID: "ORPHAN-TID", Amount: 3000})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != billkey.StatusFailed || len(u.st.orphans) != 1 || u.st.orphans[0].PGTID != "ORPHAN-TID" || u.st.orphans[0].Amount != 3000 {
		t.Fatalf("payment %s, orphans %+v", got.Status, u.st.orphans)
	}
	if len(u.pg.refunds) != 1 || u.pg.refunds[0].TID != "ORPHAN-TID" || u.pg.refunds[0].Amount != 3000 {
		t.Fatalf("refunds %+v", u.pg.refunds)
	}
}
