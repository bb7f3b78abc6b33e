package inicis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
)

// BenchmarkChargeOverHTTP measures one INIAPI billing round trip between the
// client and the simulator on loopback. No timing is asserted.
func BenchmarkChargeOverHTTP(b *testing.B) {
	e := newSimEnv(b, 5*time.Second)
	bk, err := e.conn.IssueBillingKey(context.Background(), e.ch, billkey.IssueRequest{OrderID: "bench", Card: card("4242424242424242")})
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	b.ReportAllocs()
	for b.Loop() {
		i++
		if _, err := e.conn.Charge(context.Background(), e.ch, billkey.ChargeRequest{
			OrderID: fmt.Sprintf("bench_%d", i), BillingKey: bk.Key, Amount: 1000, GoodName: "g", Buyer: buyer(),
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBillingRequest measures building one INIAPI billing request: the
// form and its SHA-512 hashData, with allocation counts.
func BenchmarkBillingRequest(b *testing.B) {
	conn := inicis.New(inicis.Config{Test: inicis.SimulatorEndpoints("http://127.0.0.1:1")})
	ch := billkey.PGChannel{Provider: billkey.ProviderHTML5Inicis, MID: "INIBillTst",
		Credentials: inicis.Credentials{APIKey: "rKnPljRn5m6J9Mzz", APIIV: "W2KLNKra6Wxc1P=="}.Encode()}
	req := billkey.ChargeRequest{OrderID: "imps_123456789012", BillingKey: "a94b3384630058effd9cff593d05ec0ef6145725",
		Amount: 9900, GoodName: "월간 이용권", Buyer: buyer()}
	b.ReportAllocs()
	for b.Loop() {
		if _, form, err := conn.BillingRequest(ch, req); err != nil || form.Get("hashData") == "" {
			b.Fatal(err)
		}
	}
}
