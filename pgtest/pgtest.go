// Package pgtest is the conformance suite every billkey PG provider passes:
// what the gateway relies on from a billkey.PG and a billkey.WindowPG,
// checked against the provider's test endpoint over its real transport, the
// way River's driver test suite checks each database driver.
//
// A provider's test builds a Harness (the provider, a working test
// channel, three cards with agreed behaviours, and how a buyer drives its
// window) and calls Run:
//
//	func TestConformance(t *testing.T) {
//		pgtest.Run(t, pgtest.Harness{Provider: p, Channel: ch, Cards: cards, ...})
//	}
//
// Run's subtests: the provider registers under its names; a billing key is
// issued from card data; a charge is approved and found by inquiry; a
// partial refund, a refund beyond what remains (refused), the rest refunded,
// a full refund and its retry (AlreadyDone); an order never sent is not
// approved by inquiry; a declined charge is an EPG error and never approved;
// a charge the PG approves without answering is EUNCERTAIN and its inquiry
// finds the approval; an order id is never approved twice; and the payment
// window: a form, the buyer's card, the return post redeemed server to
// server for a key that charges, a replayed or misdirected post refused, a
// cancelled window carrying the provider's WindowClosedCode, and a voided
// window approval whose key no longer charges.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"

	"github.com/billkey/billkey"
)

// Cards are three cards whose behaviour the provider's test endpoint
// agrees to: key-in issuance succeeds for all three.
type Cards struct {
	// Approve's charges are approved.
	Approve billkey.Card
	// Decline's charges are declined by the card company.
	Decline billkey.Card
	// Hang's charges are approved, but the PG never answers: the call
	// ends only when the connector gives up (keep its timeout short).
	Hang billkey.Card
}

// Harness describes the provider under test.
type Harness struct {
	// Provider is the provider under test. Its connector must give up on
	// a call after a short timeout (the Hang card waits for it).
	Provider *billkey.PGProvider
	// Channel is a working test channel of the provider.
	Channel billkey.PGChannel
	// Cards are the cards the test endpoint agrees to.
	Cards Cards
	// Buyer is who pays (the window's buyer fields).
	Buyer billkey.Buyer
	// WindowBuyer drives the provider's window like a browser, from the
	// form WindowForm built to the buyer entering card and confirming. It
	// returns where the PG posts the result and the post itself. Required
	// when the provider has a Window.
	WindowBuyer func(t *testing.T, form *billkey.WindowForm, card billkey.Card) (to string, post url.Values)
	// WindowCancel drives the window like a buyer who cancels it (the form
	// has no close URL), returning where the PG posts and the post.
	// Required when the provider has a Window.
	WindowCancel func(t *testing.T, form *billkey.WindowForm) (to string, post url.Values)
}

// Run runs the conformance suite against the harness.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Provider == nil || h.Provider.PG == nil {
		t.Fatal("pgtest: the harness needs a provider with a connector")
	}
	s := &suite{h: h, pg: h.Provider.PG, ch: h.Channel}
	t.Run("Registry", s.registry)
	t.Run("IssueChargeInquire", s.issueChargeInquire)
	t.Run("PartialRefunds", s.partialRefunds)
	t.Run("FullRefund", s.fullRefund)
	t.Run("InquiryNoApproval", s.inquiryNoApproval)
	t.Run("Decline", s.decline)
	t.Run("HangIsUncertain", s.hang)
	t.Run("DuplicateOrderID", s.duplicateOrderID)
	if h.Provider.Window != nil {
		if h.WindowBuyer == nil || h.WindowCancel == nil {
			t.Fatal("pgtest: a provider with a window needs WindowBuyer and WindowCancel")
		}
		t.Run("Window", s.window)
		t.Run("WindowCancelled", s.windowCancelled)
		t.Run("WindowVoided", s.windowVoided)
	}
}

type suite struct {
	h  Harness
	pg billkey.PG
	ch billkey.PGChannel
}

// OrderID returns a fresh order id (20 characters, unique per run).
func OrderID() string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "pgt_" + hex.EncodeToString(b)
}

func (s *suite) registry(t *testing.T) {
	r, err := billkey.NewPGRegistry(s.h.Provider)
	if err != nil {
		t.Fatalf("registering: %v", err)
	}
	for _, n := range s.h.Provider.Names() {
		if p, err := r.Lookup(n); err != nil || p != s.h.Provider {
			t.Errorf("lookup %q: %v", n, err)
		}
	}
	if _, err := r.Lookup("no-such-pg"); billkey.ErrorCode(err) != billkey.EREJECTED {
		t.Errorf("unknown provider: %v, want EREJECTED", err)
	}
	if !r.Known(s.ch.Provider) {
		t.Errorf("the test channel's provider %q is not one of the provider's names", s.ch.Provider)
	}
	if c := s.h.Provider.CheckCredentials; c != nil {
		if err := c(s.ch.Live, s.ch.Credentials); err != nil {
			t.Errorf("the test channel's credentials fail the provider's own check: %v", err)
		}
	}
}

// issue issues a billing key from a card.
func (s *suite) issue(t *testing.T, card billkey.Card) *billkey.BillingKey {
	t.Helper()
	k, err := s.pg.IssueBillingKey(context.Background(), s.ch, billkey.IssueRequest{
		OrderID: OrderID(), Card: card, Buyer: s.h.Buyer, GoodName: "pgtest 카드 등록",
	})
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	if k.Key == "" {
		t.Fatal("issue: no billing key")
	}
	if digits := onlyDigits(card.Number); len(digits) >= 12 && strings.Contains(k.CardNumber, digits) {
		t.Fatal("issue: the card number comes back unmasked")
	}
	if strings.Contains(k.String(), k.Key) {
		t.Fatal("issue: BillingKey.String shows the key")
	}
	return k
}

// charge approves amount on key under a fresh order id.
func (s *suite) charge(t *testing.T, key string, amount int64) (*billkey.Approval, string) {
	t.Helper()
	order := OrderID()
	a, err := s.pg.Charge(context.Background(), s.ch, s.chargeReq(order, key, amount))
	if err != nil {
		t.Fatalf("charge %d: %v", amount, err)
	}
	if a.TID == "" || a.Amount != amount {
		t.Fatalf("charge %d: approval tid %q amount %d", amount, a.TID, a.Amount)
	}
	return a, order
}

func (s *suite) chargeReq(order, key string, amount int64) billkey.ChargeRequest {
	return billkey.ChargeRequest{OrderID: order, BillingKey: key, Amount: amount, Currency: "KRW", GoodName: "pgtest 정기결제", Buyer: s.h.Buyer}
}

func (s *suite) refund(t *testing.T, tid, order string, amount, remaining int64, partial bool) (*billkey.RefundResult, error) {
	t.Helper()
	return s.pg.Refund(context.Background(), s.ch, billkey.RefundRequest{
		TID: tid, OrderID: order, Amount: amount, Remaining: remaining, Partial: partial, Reason: "pgtest",
	})
}

func (s *suite) issueChargeInquire(t *testing.T) {
	k := s.issue(t, s.h.Cards.Approve)
	a, order := s.charge(t, k.Key, 12_300)
	inq, err := s.pg.Inquire(context.Background(), s.ch, order)
	if err != nil {
		t.Fatalf("inquire: %v", err)
	}
	if inq.State != billkey.InquiryApproved || inq.Approval == nil || inq.Approval.TID != a.TID || inq.Approval.Amount != 12_300 {
		t.Fatalf("inquiry of an approved order: state %s approval %+v", inq.State, inq.Approval)
	}
	// A second charge on the same key is a new approval.
	b, _ := s.charge(t, k.Key, 4_500)
	if b.TID == a.TID {
		t.Fatal("two charges share a tid")
	}
}

func (s *suite) partialRefunds(t *testing.T) {
	k := s.issue(t, s.h.Cards.Approve)
	a, order := s.charge(t, k.Key, 10_000)
	if r, err := s.refund(t, a.TID, order, 3_000, 7_000, true); err != nil || r.AlreadyDone {
		t.Fatalf("partial refund 3000 of 10000: %+v %v", r, err)
	}
	// More than what remains is refused by the PG itself.
	if _, err := s.refund(t, a.TID, order, 8_000, -1_000, true); billkey.ErrorCode(err) != billkey.EPG {
		t.Fatalf("refund of 8000 with 7000 remaining: %v, want EPG", err)
	}
	if r, err := s.refund(t, a.TID, order, 7_000, 0, true); err != nil || r.AlreadyDone {
		t.Fatalf("refund of the remaining 7000: %+v %v", r, err)
	}
	if _, err := s.refund(t, a.TID, order, 1, -1, true); billkey.ErrorCode(err) != billkey.EPG {
		t.Fatalf("refund after everything was refunded: %v, want EPG", err)
	}
}

func (s *suite) fullRefund(t *testing.T) {
	k := s.issue(t, s.h.Cards.Approve)
	a, order := s.charge(t, k.Key, 5_000)
	if r, err := s.refund(t, a.TID, order, 5_000, 0, false); err != nil || r.AlreadyDone {
		t.Fatalf("full refund: %+v %v", r, err)
	}
	// A retried full refund (the first reply lost) is already done, not
	// a refusal: billkey treats it as success.
	r, err := s.refund(t, a.TID, order, 5_000, 0, false)
	if err != nil || !r.AlreadyDone {
		t.Fatalf("retried full refund: %+v %v, want AlreadyDone", r, err)
	}
	inq, err := s.pg.Inquire(context.Background(), s.ch, order)
	if err != nil || inq.State == billkey.InquiryApproved {
		t.Fatalf("inquiry of a refunded order: %+v %v", inq, err)
	}
}

func (s *suite) inquiryNoApproval(t *testing.T) {
	inq, err := s.pg.Inquire(context.Background(), s.ch, OrderID())
	if err != nil {
		t.Fatalf("inquiry of an order never sent: %v", err)
	}
	if inq.State != billkey.InquiryNotFound && inq.State != billkey.InquiryNoApproval {
		t.Fatalf("inquiry of an order never sent: %s, want not_found or no_approval", inq.State)
	}
	if inq.Approval != nil {
		t.Fatal("inquiry of an order never sent carries an approval")
	}
}

func (s *suite) decline(t *testing.T) {
	k := s.issue(t, s.h.Cards.Decline)
	order := OrderID()
	_, err := s.pg.Charge(context.Background(), s.ch, s.chargeReq(order, k.Key, 7_700))
	if billkey.ErrorCode(err) != billkey.EPG {
		t.Fatalf("declined charge: %v, want EPG", err)
	}
	if msg := billkey.ErrorMessage(err); msg == "" || strings.Contains(msg, k.Key) {
		t.Fatalf("declined charge message %q", msg)
	}
	inq, err := s.pg.Inquire(context.Background(), s.ch, order)
	if err != nil || inq.State == billkey.InquiryApproved || inq.State == billkey.InquiryCancelled {
		t.Fatalf("inquiry of a declined order: %+v %v", inq, err)
	}
}

func (s *suite) hang(t *testing.T) {
	k := s.issue(t, s.h.Cards.Hang)
	order := OrderID()
	_, err := s.pg.Charge(context.Background(), s.ch, s.chargeReq(order, k.Key, 4_900))
	if billkey.ErrorCode(err) != billkey.EUNCERTAIN {
		t.Fatalf("charge the PG never answers: %v, want EUNCERTAIN", err)
	}
	// The reconciler's inquiry finds what the PG did.
	inq, err := s.pg.Inquire(context.Background(), s.ch, order)
	if err != nil || inq.State != billkey.InquiryApproved || inq.Approval == nil || inq.Approval.Amount != 4_900 {
		t.Fatalf("inquiry after an unknown outcome: %+v %v", inq, err)
	}
}

func (s *suite) duplicateOrderID(t *testing.T) {
	k := s.issue(t, s.h.Cards.Approve)
	a, order := s.charge(t, k.Key, 3_300)
	b, err := s.pg.Charge(context.Background(), s.ch, s.chargeReq(order, k.Key, 3_300))
	switch {
	case err == nil && b.TID != a.TID:
		t.Fatalf("a second charge with order id %s was approved again (tid %s, first %s)", order, b.TID, a.TID)
	case err != nil && billkey.ErrorCode(err) != billkey.EPG:
		t.Fatalf("second charge with the same order id: %v, want EPG (or the first approval)", err)
	}
	// Exactly one approval to refund: 3300, then nothing more.
	if _, err := s.refund(t, a.TID, order, 3_300, 0, false); err != nil {
		t.Fatalf("refund of the one approval: %v", err)
	}
	inq, err := s.pg.Inquire(context.Background(), s.ch, order)
	if err != nil || inq.State == billkey.InquiryApproved {
		t.Fatalf("after refunding the one approval the order is still approved: %+v %v", inq, err)
	}
}

func (s *suite) windowForm(t *testing.T, order string, closeURL string) *billkey.WindowForm {
	t.Helper()
	w := s.h.Provider.Window
	if err := w.CheckWindow(s.ch); err != nil {
		t.Fatalf("CheckWindow on the test channel: %v", err)
	}
	f, err := w.WindowForm(s.ch, billkey.WindowFormRequest{
		OrderID: order, Amount: 0, GoodName: "pgtest 카드 등록", Buyer: s.h.Buyer,
		ReturnURL: returnURL(order), CloseURL: closeURL, Language: "ko",
	})
	if err != nil {
		t.Fatalf("window form: %v", err)
	}
	if f.ScriptURL == "" && f.Action == "" {
		t.Fatal("window form has neither a script nor an action")
	}
	return f
}

func returnURL(order string) string { return "https://merchant.pgtest.example/return/" + order }

func (s *suite) window(t *testing.T) {
	ctx := context.Background()
	w := s.h.Provider.Window
	order := OrderID()
	f := s.windowForm(t, order, "https://merchant.pgtest.example/close/"+order)
	to, post := s.h.WindowBuyer(t, f, s.h.Cards.Approve)
	if to != returnURL(order) {
		t.Fatalf("the PG posts the result to %s, want the return URL", to)
	}
	// A post for another attempt is refused, nothing issued.
	if _, err := w.ApproveWindow(ctx, s.ch, OrderID(), post); err == nil {
		t.Fatal("a return post redeemed for another order id")
	}
	// Nothing at all is not a result.
	if _, err := w.ApproveWindow(ctx, s.ch, order, url.Values{}); err == nil {
		t.Fatal("an empty return post redeemed")
	}
	k, err := w.ApproveWindow(ctx, s.ch, order, post)
	if err != nil {
		t.Fatalf("approve window: %v", err)
	}
	if k.Key == "" || strings.Contains(post.Encode(), url.QueryEscape(k.Key)) || strings.Contains(post.Encode(), k.Key) {
		t.Fatal("the billing key is missing, or travelled through the browser")
	}
	if d := onlyDigits(s.h.Cards.Approve.Number); strings.Contains(k.CardNumber, d) {
		t.Fatal("window key: card number unmasked")
	}
	// The post is redeemed once.
	if k2, err := w.ApproveWindow(ctx, s.ch, order, post); err == nil {
		t.Fatalf("a replayed return post was redeemed again (same key: %v)", k2.Key == k.Key)
	}
	s.charge(t, k.Key, 9_900)
}

func (s *suite) windowCancelled(t *testing.T) {
	w := s.h.Provider.Window
	order := OrderID()
	f := s.windowForm(t, order, "")
	to, post := s.h.WindowCancel(t, f)
	if to != returnURL(order) {
		t.Fatalf("the PG posts the cancel to %s, want the return URL", to)
	}
	_, err := w.ApproveWindow(context.Background(), s.ch, order, post)
	if billkey.ErrorCode(err) != billkey.EPG {
		t.Fatalf("cancelled window: %v, want EPG", err)
	}
	if code := billkey.PGResultCode(err); code == "" || code != w.WindowClosedCode() {
		t.Fatalf("cancelled window: result code %q, want WindowClosedCode %q", code, w.WindowClosedCode())
	}
}

func (s *suite) windowVoided(t *testing.T) {
	ctx := context.Background()
	w := s.h.Provider.Window
	order := OrderID()
	f := s.windowForm(t, order, "")
	_, post := s.h.WindowBuyer(t, f, s.h.Cards.Approve)
	k, err := w.ApproveWindow(ctx, s.ch, order, post)
	if err != nil {
		t.Fatalf("approve window: %v", err)
	}
	if err := w.CancelWindow(ctx, s.ch, post); err != nil {
		t.Fatalf("void the window approval: %v", err)
	}
	if _, err := s.pg.Charge(ctx, s.ch, s.chargeReq(OrderID(), k.Key, 1_000)); billkey.ErrorCode(err) != billkey.EPG {
		t.Fatalf("charge on a voided window key: %v, want EPG", err)
	}
}

func onlyDigits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
