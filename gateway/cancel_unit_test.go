package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/billkey/billkey"
)

// paidPayment stores a paid payment of amount on the unit's channel.
func (u *unit) paidPayment(t *testing.T, impUID string, amount int64) *billkey.Payment {
	t.Helper()
	p := &billkey.Payment{MerchantID: u.merchant.ID, ChannelID: u.channel.ID, ImpUID: impUID, MerchantUID: "m-" + impUID,
		Status: billkey.StatusPaid, Amount: amount, PGTID: "TID-" + impUID, StartedAt: fakeNow, PaidAt: fakeNow}
	if err := u.st.CreatePayment(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPartialRefundsNeverExceedPaid: a sequence of refunds on one payment.
// Each asks the PG for exactly its amount with what must remain, a refund
// larger than what is left is refused before the PG, and the payment ends
// cancelled when nothing is left.
func TestPartialRefundsNeverExceedPaid(t *testing.T) {
	u := newUnit(t)
	u.paidPayment(t, "imps_r", 10000)
	ctx := context.Background()
	steps := []struct {
		amount    int64
		refused   bool
		remaining int64 // sent to the PG
		partial   bool
		status    billkey.PaymentStatus
		cancelled int64
	}{
		{amount: 3000, remaining: 7000, partial: true, status: billkey.StatusPaid, cancelled: 3000},
		{amount: 8000, refused: true, status: billkey.StatusPaid, cancelled: 3000},
		{amount: 2000, remaining: 5000, partial: true, status: billkey.StatusPaid, cancelled: 5000},
		{amount: 0, remaining: 0, partial: true, status: billkey.StatusCancelled, cancelled: 10000}, // the rest
		{amount: 1, refused: true, status: billkey.StatusCancelled, cancelled: 10000},
	}
	for i, st := range steps {
		before := len(u.pg.refunds)
		p, err := u.svc.Cancel(ctx, u.merchant.ID, CancelInput{ImpUID: "imps_r", Amount: st.amount, Reason: "환불"})
		if st.refused {
			if billkey.ErrorCode(err) != billkey.EREJECTED || len(u.pg.refunds) != before {
				t.Fatalf("step %d: err %v, PG refunds %d", i, err, len(u.pg.refunds)-before)
			}
		} else {
			if err != nil {
				t.Fatalf("step %d: %v", i, err)
			}
			r := u.pg.refunds[len(u.pg.refunds)-1]
			want := st.amount
			if want == 0 {
				want = 5000
			}
			if len(u.pg.refunds) != before+1 || r.Amount != want || r.Remaining != st.remaining || r.Partial != st.partial || r.TID != "TID-imps_r" {
				t.Fatalf("step %d: refund %+v", i, r)
			}
			if p.Status != st.status {
				t.Fatalf("step %d: status %s", i, p.Status)
			}
		}
		got, _ := u.st.PaymentByImpUID(ctx, u.merchant.ID, "imps_r")
		if got.CancelAmount != st.cancelled || got.Status != st.status || got.CancelAmount > got.Amount {
			t.Fatalf("step %d: stored %d cancelled, %s", i, got.CancelAmount, got.Status)
		}
	}
}

// TestConcurrentCancelWaitsItsTurn: while another refund of the payment is
// in flight (ErrCancelBusy) a cancel waits and then proceeds; the PG gets
// one refund call.
func TestConcurrentCancelWaitsItsTurn(t *testing.T) {
	u := newUnit(t)
	u.paidPayment(t, "imps_c", 5000)
	u.st.reserveErr = func(call int) error {
		if call <= 2 {
			return billkey.ErrCancelBusy
		}
		return nil
	}
	p, err := u.svc.Cancel(context.Background(), u.merchant.ID, CancelInput{ImpUID: "imps_c"})
	if err != nil || p.Status != billkey.StatusCancelled || p.CancelAmount != 5000 {
		t.Fatalf("cancel: %v %+v", err, p)
	}
	if u.st.reserves != 3 || len(u.pg.refunds) != 1 {
		t.Fatalf("%d reservations, %d refunds", u.st.reserves, len(u.pg.refunds))
	}
}

// TestCancelBusyCallerGone: a cancel waiting behind another refund stops
// when its caller goes away, without calling the PG.
func TestCancelBusyCallerGone(t *testing.T) {
	u := newUnit(t)
	u.paidPayment(t, "imps_b", 5000)
	u.st.reserveErr = func(int) error { return billkey.ErrCancelBusy }
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := u.svc.Cancel(ctx, u.merchant.ID, CancelInput{ImpUID: "imps_b"})
	if !errors.Is(err, context.Canceled) || len(u.pg.refunds) != 0 {
		t.Fatalf("err %v, %d refunds", err, len(u.pg.refunds))
	}
}

// TestRefundOutcomes: what each PG answer to a refund leaves behind. A
// refusal releases the reservation (a later cancel works); an unknown
// outcome and a failed record after the PG refunded both keep it (nothing
// can be refunded twice) and say EUNCERTAIN.
func TestRefundOutcomes(t *testing.T) {
	for _, c := range []struct {
		name      string
		refund    func(billkey.RefundRequest) (*billkey.RefundResult, error)
		recordErr error
		code      string
		msg       string
		state     string
	}{
		{name: "declined", refund: func(billkey.RefundRequest) (*billkey.RefundResult, error) {
			return nil, pgDecline("[500626] 취소 불가")
		},
			code: billkey.EPG, msg: "취소에 실패하였습니다.", state: "failed"},
		{name: "unknown", refund: func(billkey.RefundRequest) (*billkey.RefundResult, error) { return nil, pgHang() },
			code: billkey.EUNCERTAIN, msg: "취소 금액은 보류", state: "uncertain"},
		{name: "record failed", recordErr: errors.New("database gone"), code: billkey.EUNCERTAIN, msg: "다시 취소하지 마세요", state: "uncertain"},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := newUnit(t)
			u.paidPayment(t, "imps_o", 4000)
			u.pg.refund, u.st.completeErr = c.refund, c.recordErr
			_, err := u.svc.Cancel(context.Background(), u.merchant.ID, CancelInput{ImpUID: "imps_o", Amount: 1000})
			if billkey.ErrorCode(err) != c.code || !strings.Contains(billkey.ErrorMessage(err), c.msg) {
				t.Fatalf("err %v", err)
			}
			if len(u.st.cancels) != 1 {
				t.Fatalf("%d cancels", len(u.st.cancels))
			}
			for _, mc := range u.st.cancels {
				if mc.state != c.state {
					t.Fatalf("reservation %s, want %s", mc.state, c.state)
				}
			}
			got, _ := u.st.PaymentByImpUID(context.Background(), u.merchant.ID, "imps_o")
			if got.CancelAmount != 0 || got.Status != billkey.StatusPaid {
				t.Fatalf("payment %d cancelled, %s", got.CancelAmount, got.Status)
			}
		})
	}
}

// TestCancelLookupRules: a cancel names its payment by imp_uid or
// merchant_uid (the paid payment first); neither, an unknown one or a
// negative amount is refused without a PG call.
func TestCancelLookupRules(t *testing.T) {
	u := newUnit(t)
	ctx := context.Background()
	// merchant_uid "m-imps_x" has a failed payment, then a paid one.
	_ = u.st.CreatePayment(ctx, &billkey.Payment{MerchantID: u.merchant.ID, ImpUID: "imps_f", MerchantUID: "m-imps_x", Status: billkey.StatusFailed, Amount: 100})
	u.paidPayment(t, "imps_x", 100)
	for _, c := range []struct {
		in   CancelInput
		ok   bool
		want string
	}{
		{CancelInput{}, false, "imp_uid 또는 merchant_uid"},
		{CancelInput{ImpUID: "imps_nope"}, false, "취소할 결제건이 존재하지 않습니다."},
		{CancelInput{MerchantUID: "nope"}, false, "취소할 결제건이 존재하지 않습니다."},
		{CancelInput{ImpUID: "imps_x", Amount: -1}, false, "0 이상"},
		{CancelInput{ImpUID: "imps_f"}, false, "결제완료 상태가 아닌"},
		{CancelInput{MerchantUID: "m-imps_x"}, true, ""},
	} {
		p, err := u.svc.Cancel(ctx, u.merchant.ID, c.in)
		if c.ok {
			if err != nil || p.ImpUID != "imps_x" || p.Status != billkey.StatusCancelled {
				t.Fatalf("%+v: %v %+v", c.in, err, p)
			}
			continue
		}
		if billkey.ErrorCode(err) != billkey.EREJECTED || !strings.Contains(billkey.ErrorMessage(err), c.want) {
			t.Fatalf("%+v: %v", c.in, err)
		}
	}
	if len(u.pg.refunds) != 1 {
		t.Fatalf("%d refunds", len(u.pg.refunds))
	}
}

// TestCancelOfAnotherMerchantsPayment: a merchant reaches only its own
// payments.
func TestCancelOfAnotherMerchantsPayment(t *testing.T) {
	u := newUnit(t)
	u.paidPayment(t, "imps_mine", 100)
	other := u.st.addMerchant("other")
	_, err := u.svc.Cancel(context.Background(), other.ID, CancelInput{ImpUID: "imps_mine"})
	if billkey.ErrorCode(err) != billkey.EREJECTED || len(u.pg.refunds) != 0 {
		t.Fatalf("err %v, %d refunds", err, len(u.pg.refunds))
	}
}
