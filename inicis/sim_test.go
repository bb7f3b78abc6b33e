package inicis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/inicissim"
)

var orderSeq atomic.Int64

func orderID(prefix string) string { return fmt.Sprintf("%s_%d", prefix, orderSeq.Add(1)) }

func (e *simEnv) issue(t *testing.T, number string) *billkey.BillingKey {
	t.Helper()
	bk, err := e.conn.IssueBillingKey(context.Background(), e.ch, billkey.IssueRequest{OrderID: orderID("issue"), Card: card(number), Buyer: buyer()})
	if err != nil {
		t.Fatalf("issue %s: %v", number[:6], err)
	}
	return bk
}

func (e *simEnv) charge(ctx context.Context, key string, amount int64) (*billkey.Approval, string, error) {
	id := orderID("imp")
	a, err := e.conn.Charge(ctx, e.ch, billkey.ChargeRequest{OrderID: id, BillingKey: key, Amount: amount, GoodName: "정기결제", Buyer: buyer()})
	return a, id, err
}

func TestLifecycleAgainstSimulator(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, 5*time.Second)
	ctx := context.Background()

	bk := e.issue(t, "4242424242424242")
	if len(bk.Key) != 40 || bk.CardNumber != "424242*********2" || bk.CardName != "해외비자" || bk.CardCode != "" {
		t.Fatalf("billing key %+v", bk)
	}
	a, moid, err := e.charge(ctx, bk.Key, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.TID) != 40 || !strings.HasPrefix(a.TID, "INIAPICARDINIBillTst") || len(a.ApplyNum) != 8 || a.Amount != 10000 {
		t.Fatalf("approval %+v", a)
	}
	r1, err := e.conn.Refund(ctx, e.ch, billkey.RefundRequest{TID: a.TID, OrderID: moid, Amount: 3000, Remaining: 7000, Partial: true, Reason: "부분취소"})
	if err != nil {
		t.Fatal(err)
	}
	if r1.TID == "" || r1.TID == a.TID || r1.AlreadyDone {
		t.Errorf("partial refund result %+v", r1)
	}
	// Over-refund is refused.
	_, err = e.conn.Refund(ctx, e.ch, billkey.RefundRequest{TID: a.TID, Amount: 8000, Remaining: 0, Partial: true})
	if errCode(err) != billkey.EPG || !strings.Contains(billkey.ErrorMessage(err), "초과") {
		t.Errorf("over-refund: %v", err)
	}
	// Wrong confirmPrice is refused.
	_, err = e.conn.Refund(ctx, e.ch, billkey.RefundRequest{TID: a.TID, Amount: 1000, Remaining: 5000, Partial: true})
	if errCode(err) != billkey.EPG || !strings.Contains(billkey.ErrorMessage(err), "confirmPrice") {
		t.Errorf("bad confirmPrice: %v", err)
	}
	r2, err := e.conn.Refund(ctx, e.ch, billkey.RefundRequest{TID: a.TID, Amount: 7000, Remaining: 0, Partial: true, Reason: "잔액 취소"})
	if err != nil || r2.AlreadyDone {
		t.Fatalf("refund of the rest: %+v %v", r2, err)
	}
	r3, err := e.conn.Refund(ctx, e.ch, billkey.RefundRequest{TID: a.TID, Reason: "재시도"})
	if err != nil || !r3.AlreadyDone {
		t.Fatalf("second full refund: %+v %v", r3, err)
	}
	inq, err := e.conn.Inquire(ctx, e.ch, moid)
	if err != nil || inq.State != billkey.InquiryCancelled || inq.Approval.TID != a.TID {
		t.Errorf("inquiry after refunds: %+v %v", inq, err)
	}

	l := e.sim.Ledger()
	if len(l.Keys) != 1 || l.Keys[0].BillKey != bk.Key || l.Keys[0].CardNumber != bk.CardNumber || l.Keys[0].Source != "api" {
		t.Errorf("ledger keys %+v", l.Keys)
	}
	if len(l.Approvals) != 1 {
		t.Fatalf("ledger approvals %+v", l.Approvals)
	}
	la := l.Approvals[0]
	if la.TID != a.TID || la.OrderID != moid || la.Price != 10000 || la.AuthCode != a.ApplyNum || la.BillKey != bk.Key ||
		la.Cancelled != 10000 || la.Remaining != 0 || la.State != inicissim.StateCancelled || !la.ApprovedAt.Truncate(time.Second).Equal(a.PaidAt) {
		t.Errorf("ledger approval %+v vs %+v", la, a)
	}
	if len(l.Refunds) != 2 || l.Refunds[0].Amount != 3000 || l.Refunds[0].Remaining != 7000 || l.Refunds[0].CancelTID != r1.TID ||
		l.Refunds[1].Amount != 7000 || l.Refunds[1].Remaining != 0 || l.Refunds[1].CancelTID != r2.TID {
		t.Errorf("ledger refunds %+v", l.Refunds)
	}
}

func TestFullRefundAgainstSimulator(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, 5*time.Second)
	ctx := context.Background()
	bk := e.issue(t, "9100201234567893")
	if bk.CardCode != "361" || bk.CardName != "BC카드" {
		t.Errorf("BC card: %+v", bk)
	}
	a, _, err := e.charge(ctx, bk.Key, 5000)
	if err != nil {
		t.Fatal(err)
	}
	if a.CardCode != "361" || a.CardName != "BC카드" {
		t.Errorf("approval card %+v", a)
	}
	res, err := e.conn.Refund(ctx, e.ch, billkey.RefundRequest{TID: a.TID, Amount: 5000, Reason: "전체취소"})
	if err != nil || res.AlreadyDone || res.TID != "" {
		t.Fatalf("full refund %+v %v", res, err)
	}
	res, err = e.conn.Refund(ctx, e.ch, billkey.RefundRequest{TID: a.TID, Amount: 1000, Remaining: 0, Partial: true})
	if err != nil || !res.AlreadyDone {
		t.Fatalf("partial after full: %+v %v", res, err)
	}
	if _, err := e.conn.Refund(ctx, e.ch, billkey.RefundRequest{TID: "INIAPICARDINIBillTst20260101000000000000"}); errCode(err) != billkey.EPG {
		t.Errorf("unknown tid: %v", err)
	}
}

func TestMagicCardsKeyIn(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, 5*time.Second)
	ctx := context.Background()
	refused := []struct{ number, msg string }{
		{"1234123412341234", "카드 번호가 올바르지 않습니다. 카드 번호를 다시 확인해 주세요. ([F111] 유효하지않은 카드번호를 입력하셨습니다."},
		{"1111222233334444", "카드 번호가 올바르지 않습니다. 카드 번호를 다시 확인해 주세요. ([F112] 유효하지않은 카드번호를 입력하셨습니다. (card_bin 없음))"},
		{"4000000000000002", "카드사에서 승인을 거절했습니다. 다른 카드로 결제하시거나 카드사에 문의해 주세요. ([1103] [빌링키발급실패|카드사 승인거절])"},
		{"4000000000000127", "카드 비밀번호 앞 2자리가 일치하지 않습니다. 다시 입력해 주세요. ([F114] 카드 비밀번호가 일치하지 않습니다.)"},
	}
	for _, tc := range refused {
		_, err := e.conn.IssueBillingKey(ctx, e.ch, billkey.IssueRequest{OrderID: orderID("m"), Card: card(tc.number), Buyer: buyer()})
		if errCode(err) != billkey.EPG || !strings.HasPrefix(billkey.ErrorMessage(err), tc.msg) {
			t.Errorf("%s: %v, want EPG %q", tc.number, err, tc.msg)
		}
	}
	// Expired at issuance.
	old := card("4242424242424242")
	old.Expiry = "2020-01"
	if _, err := e.conn.IssueBillingKey(ctx, e.ch, billkey.IssueRequest{OrderID: orderID("m"), Card: old}); !strings.Contains(billkey.ErrorMessage(err), "[F113]") {
		t.Errorf("expired card: %v", err)
	}

	declines := []struct{ number, msg string }{
		{"4000000000000341", "카드 한도가 초과되었습니다. 다른 카드로 결제하시거나 카드사에 문의해 주세요. ([1251] [실시간빌링실패|한도초과])"},
		{"4000000000009995", "잔액이 부족합니다. 잔액을 확인하시거나 다른 카드로 결제해 주세요. ([1254] [실시간빌링실패|잔액부족])"},
		{"4000000000000069", "카드 유효기간이 지났거나 잘못 입력되었습니다. 유효기간을 확인해 주세요. ([1205] [실시간빌링실패|유효기간 경과])"},
	}
	for _, tc := range declines {
		bk := e.issue(t, tc.number)
		for range 2 {
			_, moid, err := e.charge(ctx, bk.Key, 1000)
			if errCode(err) != billkey.EPG || billkey.ErrorMessage(err) != tc.msg {
				t.Errorf("%s: %v, want %q", tc.number, err, tc.msg)
			}
			if re := resultErr(t, err); len(re.TID) != 40 {
				t.Errorf("decline without tid: %+v", re)
			}
			inq, err := e.conn.Inquire(ctx, e.ch, moid)
			if err != nil || inq.State != billkey.InquiryDeclined || inq.Reason != tc.msg {
				t.Errorf("inquiry of declined %s: %+v %v", moid, inq, err)
			}
		}
	}
	// Every known BIN issues and charges.
	for _, is := range inicissim.BINTable {
		num := luhnComplete(is.BIN + "123456789")
		if is.BIN == "378282" {
			num = luhnComplete(is.BIN + "12345678")
		}
		bk := e.issue(t, num)
		wantKFTC, wantName := kftcOf(is.Code)
		if bk.CardCode != wantKFTC || bk.CardName != wantName {
			t.Errorf("BIN %s: %s %s, want %s %s", is.BIN, bk.CardCode, bk.CardName, wantKFTC, wantName)
		}
		if _, _, err := e.charge(ctx, bk.Key, 1200); err != nil {
			t.Errorf("BIN %s charge: %v", is.BIN, err)
		}
	}
	if _, _, err := e.charge(ctx, "0000000000000000000000000000000000000000", 1000); !strings.Contains(billkey.ErrorMessage(err), "[1195]") {
		t.Errorf("unknown billKey: %v", err)
	}
	bk := e.issue(t, "4242424242424242")
	if _, _, err := e.charge(ctx, bk.Key, 0); !strings.Contains(billkey.ErrorMessage(err), "[1113]") {
		t.Errorf("zero amount: %v", err)
	}
}

func kftcOf(inicisCode string) (string, string) {
	c, _ := inicis.LookupCardCompany(inicisCode)
	return c.KFTC, c.Name
}

// luhnComplete appends the Luhn check digit.
func luhnComplete(partial string) string {
	sum := 0
	for i := len(partial) - 1; i >= 0; i-- {
		d := int(partial[i] - '0')
		if (len(partial)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return partial + string(rune('0'+(10-sum%10)%10))
}

func TestHangingCardIsUncertainThenInquiryFindsIt(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, 300*time.Millisecond)
	ctx := context.Background()
	bk := e.issue(t, "4000000000000119")
	_, moid, err := e.charge(ctx, bk.Key, 4900)
	if errCode(err) != billkey.EUNCERTAIN {
		t.Fatalf("hanging card: %v, want EUNCERTAIN", err)
	}
	inq, err := e.conn.Inquire(ctx, e.ch, moid)
	if err != nil || inq.State != billkey.InquiryApproved || inq.Approval.Amount != 4900 || len(inq.Approval.ApplyNum) != 8 {
		t.Fatalf("inquiry: %+v %v", inq, err)
	}
	l := e.sim.Ledger()
	if len(l.Approvals) != 1 || !l.Approvals[0].ReplyDropped || l.Approvals[0].TID != inq.Approval.TID {
		t.Errorf("ledger %+v", l.Approvals)
	}
	// billkey must never resend: a second charge with the same moid is refused.
	_, err = e.conn.Charge(ctx, e.ch, billkey.ChargeRequest{OrderID: moid, BillingKey: bk.Key, Amount: 4900, GoodName: "g", Buyer: buyer()})
	if !strings.Contains(billkey.ErrorMessage(err), "[1196]") {
		t.Errorf("duplicate moid: %v", err)
	}
}

func TestFaultSwitches(t *testing.T) {
	t.Parallel()
	e := newSimEnv(t, 300*time.Millisecond)
	ctx := context.Background()
	bk := e.issue(t, "4242424242424242")

	t.Run("drop after approve", func(t *testing.T) {
		if err := e.sim.SetFaults(inicissim.Faults{Drop: true, Paths: []string{"/api/v1/billing"}, Count: 1}); err != nil {
			t.Fatal(err)
		}
		_, moid, err := e.charge(ctx, bk.Key, 2500)
		if errCode(err) != billkey.EUNCERTAIN || !errors.Is(err, inicis.ErrNoReply) {
			t.Fatalf("drop: %v", err)
		}
		inq, err := e.conn.Inquire(ctx, e.ch, moid)
		if err != nil || inq.State != billkey.InquiryApproved {
			t.Fatalf("inquiry after drop: %+v %v", inq, err)
		}
		if f := e.sim.CurrentFaults(); f.Drop {
			t.Errorf("Count:1 fault still armed: %+v", f)
		}
		if _, _, err := e.charge(ctx, bk.Key, 2500); err != nil {
			t.Errorf("charge after the fault was used up: %v", err)
		}
	})
	t.Run("status 503", func(t *testing.T) {
		if err := e.sim.SetFaults(inicissim.Faults{Status: 503}); err != nil {
			t.Fatal(err)
		}
		before := len(e.sim.Ledger().Approvals)
		_, moid, err := e.charge(ctx, bk.Key, 1000)
		e.sim.ClearFaults()
		if errCode(err) != billkey.EPG || !errors.Is(err, inicis.ErrRefused) {
			t.Fatalf("503: %v, want an EPG refusal (nothing processed)", err)
		}
		if len(e.sim.Ledger().Approvals) != before {
			t.Error("a 503 fault approved anyway")
		}
		inq, err := e.conn.Inquire(ctx, e.ch, moid)
		if err != nil || inq.State != billkey.InquiryNotFound {
			t.Errorf("inquiry after 503: %+v %v", inq, err)
		}
	})
	t.Run("latency beyond timeout", func(t *testing.T) {
		if err := e.sim.SetFaults(inicissim.Faults{Latency: time.Second, Paths: []string{"/api/v1/billing"}, Count: 1}); err != nil {
			t.Fatal(err)
		}
		_, _, err := e.charge(ctx, bk.Key, 1000)
		if errCode(err) != billkey.EUNCERTAIN {
			t.Fatalf("latency: %v", err)
		}
	})
	t.Run("small latency succeeds", func(t *testing.T) {
		slow := newConnector(e.srv.URL, 5*time.Second)
		if err := e.sim.SetFaults(inicissim.Faults{Latency: 50 * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
		defer e.sim.ClearFaults()
		if _, err := slow.Charge(ctx, e.ch, billkey.ChargeRequest{OrderID: orderID("lat"), BillingKey: bk.Key, Amount: 1000, GoodName: "g", Buyer: buyer()}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("refund dropped then retried", func(t *testing.T) {
		a, _, err := e.charge(ctx, bk.Key, 3000)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.sim.SetFaults(inicissim.Faults{Drop: true, Paths: []string{"/api/v1/refund"}, Count: 1}); err != nil {
			t.Fatal(err)
		}
		_, err = e.conn.Refund(ctx, e.ch, billkey.RefundRequest{TID: a.TID, Amount: 3000})
		if errCode(err) != billkey.EUNCERTAIN {
			t.Fatalf("dropped refund: %v", err)
		}
		res, err := e.conn.Refund(ctx, e.ch, billkey.RefundRequest{TID: a.TID, Amount: 3000})
		if err != nil || !res.AlreadyDone {
			t.Fatalf("retried refund: %+v %v", res, err)
		}
	})
}
