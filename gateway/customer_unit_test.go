package gateway

import (
	"context"
	"strings"
	"testing"

	"github.com/billkey/billkey"
)

var testCard = billkey.Card{Number: "5365-1012-3456-1234", Expiry: "2030-12", Birth: "800101", Pwd2Digit: "12"}

// TestIssueCustomerOutcomes: a billing key issued by the PG is stored
// sealed for its merchant and customer_uid (never in the clear on the
// record); a refusal or an unknown outcome stores nothing, and the unknown
// one tells the merchant to retry (an issued key nobody holds charges
// nothing).
func TestIssueCustomerOutcomes(t *testing.T) {
	for _, c := range []struct {
		name   string
		issue  func(billkey.IssueRequest) (*billkey.BillingKey, error)
		code   string
		msg    string
		stored bool
	}{
		{name: "issued", stored: true},
		{name: "declined", issue: func(billkey.IssueRequest) (*billkey.BillingKey, error) {
			return nil, pgDecline("[F113] 카드번호 오류")
		},
			code: billkey.EPG, msg: "카드정보 인증 및 빌키 발급에 실패하였습니다."},
		{name: "unknown", issue: func(billkey.IssueRequest) (*billkey.BillingKey, error) { return nil, pgHang() },
			code: billkey.EPG, msg: "다시 시도해주세요"},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := newUnit(t)
			u.pg.issue = c.issue
			ctx := context.Background()
			cust, err := u.svc.IssueCustomer(ctx, u.merchant.ID, IssueInput{CustomerUID: "c1", Card: testCard, Customer: billkey.Buyer{Name: "홍길동"}})
			if c.code != "" {
				if billkey.ErrorCode(err) != c.code || !strings.Contains(billkey.ErrorMessage(err), c.msg) {
					t.Fatalf("err %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got := len(u.pg.issues); got != 1 || u.pg.issues[0].Card.Number != "5365101234561234" {
				t.Fatalf("PG issue calls %+v", u.pg.issues)
			}
			stored, err := u.st.CustomerByUID(ctx, u.merchant.ID, "c1")
			if (err == nil) != c.stored {
				t.Fatalf("stored: %v", err)
			}
			if !c.stored {
				return
			}
			if cust.CardNumber != "5365-10**-****-1234" && !strings.Contains(cust.CardNumber, "*") {
				t.Fatalf("card number not masked: %q", cust.CardNumber)
			}
			key, err := fakeKeys{}.Open(stored.KeyCiphertext, billkey.PurposeBillingKey, u.merchant.ID, "c1")
			if err != nil || !strings.HasPrefix(string(key), "BK-") {
				t.Fatalf("stored key does not open for its owner: %v", err)
			}
			if _, err := (fakeKeys{}).Open(stored.KeyCiphertext, billkey.PurposeBillingKey, u.merchant.ID+1, "c1"); err == nil {
				t.Fatal("key opens for another merchant")
			}
		})
	}
}

// TestIssueCustomerRefusesBadCard: card data is checked before the PG is
// called.
func TestIssueCustomerRefusesBadCard(t *testing.T) {
	for name, card := range map[string]billkey.Card{
		"no number":    {Expiry: "2030-12", Birth: "800101"},
		"short number": {Number: "1234", Expiry: "2030-12", Birth: "800101"},
		"letters":      {Number: "5365abcd34561234", Expiry: "2030-12", Birth: "800101"},
		"bad expiry":   {Number: "5365101234561234", Expiry: "12/30x", Birth: "800101"},
		"no birth":     {Number: "5365101234561234", Expiry: "2030-12"},
	} {
		u := newUnit(t)
		_, err := u.svc.IssueCustomer(context.Background(), u.merchant.ID, IssueInput{CustomerUID: "c1", Card: card})
		if billkey.ErrorCode(err) != billkey.EREJECTED || len(u.pg.issues) != 0 || len(u.st.customers) != 0 {
			t.Fatalf("%s: err %v, %d PG calls", name, err, len(u.pg.issues))
		}
	}
}

// TestDeletedKeyCannotBeCharged: after DeleteCustomer a charge with the
// customer_uid is refused with i'mport's message and never reaches the PG;
// deleting an unknown customer_uid is an error.
func TestDeletedKeyCannotBeCharged(t *testing.T) {
	u := newUnit(t)
	u.addCustomer(t, "c1")
	ctx := context.Background()
	if c, err := u.svc.DeleteCustomer(ctx, u.merchant.ID, "c1"); err != nil || c.CustomerUID != "c1" {
		t.Fatalf("delete: %v", err)
	}
	_, err := u.svc.ChargeAgain(ctx, u.merchant.ID, again("c1", "o1", 1000))
	if billkey.ErrorCode(err) != billkey.EREJECTED || billkey.ErrorMessage(err) != unknownCustomer || u.pg.chargeCount() != 0 {
		t.Fatalf("charge after delete: %v", err)
	}
	if _, err := u.svc.DeleteCustomer(ctx, u.merchant.ID, "c1"); err == nil {
		t.Fatal("second delete succeeded")
	}
	if _, err := u.svc.Customer(ctx, u.merchant.ID, "c1"); billkey.ErrorCode(err) != billkey.EREJECTED {
		t.Fatalf("lookup after delete: %v", err)
	}
}

// TestOnetimeKeepsKeyOnlyWhenApproved: a key-in charge issues a key and
// charges it; the key is kept under customer_uid only when one was given
// and the charge was approved.
func TestOnetimeKeepsKeyOnlyWhenApproved(t *testing.T) {
	for _, c := range []struct {
		name    string
		uid     string
		decline bool
		kept    bool
		status  billkey.PaymentStatus
	}{
		{"approved with customer_uid", "c9", false, true, billkey.StatusPaid},
		{"approved without customer_uid", "", false, false, billkey.StatusPaid},
		{"declined with customer_uid", "c9", true, false, billkey.StatusFailed},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := newUnit(t)
			if c.decline {
				u.pg.charge = func(billkey.ChargeRequest) (*billkey.Approval, error) { return nil, pgDecline("[1251] 한도초과") }
			}
			in := OnetimeInput{ChargeInput: ChargeInput{CustomerUID: c.uid, MerchantUID: "ot-1", Amounts: Amounts{Amount: 3000}}, Card: testCard}
			p, err := u.svc.ChargeOnetime(context.Background(), u.merchant.ID, in)
			if err != nil || p.Status != c.status {
				t.Fatalf("%v %+v", err, p)
			}
			if len(u.pg.issues) != 1 || u.pg.chargeCount() != 1 || u.pg.charges[0].BillingKey != "BK-auth_"+p.ImpUID {
				t.Fatalf("PG calls: %d issues, charges %+v", len(u.pg.issues), u.pg.charges)
			}
			if kept := len(u.st.customers) == 1; kept != c.kept {
				t.Fatalf("key kept %v", kept)
			}
			if strings.Contains(p.CardNumber, "3456") {
				t.Fatalf("card number not masked: %q", p.CardNumber)
			}
		})
	}
}
