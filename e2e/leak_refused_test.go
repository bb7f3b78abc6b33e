package e2e

import (
	"strings"
	"testing"

	"github.com/billkey/billkey/internal/dbtest"
)

// TestOnetimeRefusedAtIssuanceLeaksNothing: a onetime charge whose card is
// refused when billkey asks INICIS for a key (issuer refusal, wrong PIN
// digits) records a failed payment; neither the card number nor the birth
// date reaches a reply, a log line or any column, and the payment keeps only
// the masked number.
func TestOnetimeRefusedAtIssuanceLeaksNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		h := start(t, dsn, options{})
		cards := []string{"4000000000000002", "4000000000000127"} // [1103] issuer refusal, [F114] PIN mismatch
		for i, card := range cards {
			for _, keep := range []string{"", "cust-refused"} {
				body := map[string]any{"merchant_uid": "refused-" + card[12:] + keep, "amount": 500,
					"card_number": card[:4] + "-" + card[4:8] + "-" + card[8:12] + "-" + card[12:], "expiry": "2030-12",
					"birth": "770707", "pwd_2digit": "98", "name": "x", "buyer_name": "a", "buyer_email": "a@b.c", "buyer_tel": "1"}
				if keep != "" {
					body["customer_uid"] = keep
				}
				_, env := h.call("POST", "/subscribe/payments/onetime", body)
				if env.Code == 0 {
					t.Fatalf("card %d: a refused issuance was answered code 0: %s", i, env.raw)
				}
				if !strings.Contains(env.msg(), "카드정보 인증에 실패") {
					t.Errorf("card %d: message %q", i, env.msg())
				}
			}
		}
		_, env := h.call("GET", "/payments/find/refused-0002", nil)
		p := env.payment(t)
		if p.Status != "failed" || !strings.Contains(p.CardNumber, "*") || !strings.HasPrefix(p.CardNumber, "400000") {
			t.Fatalf("the refused payment: %s", env.raw)
		}
		secrets := append([]string{"770707"}, cards...)
		for _, c := range cards { // the number as typed, with dashes, too
			secrets = append(secrets, c[:4]+"-"+c[4:8]+"-"+c[8:12]+"-"+c[12:])
		}
		dump := dumpDatabase(t, h.store)
		if !strings.Contains(dump, "refused-0002") {
			t.Fatal("the database dump is empty: the scan proves nothing")
		}
		for name, text := range map[string]string{"API replies": h.bodies.String(), "logs": h.logs.String(), "database": dump} {
			for _, s := range secrets {
				if strings.Contains(text, s) {
					t.Errorf("%s contain the secret %q", name, s[:6]+"…")
				}
			}
		}
	})
}
