package inicis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/billkey/billkey"
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
	for b.Loop() {
		i++
		if _, err := e.conn.Charge(context.Background(), e.ch, billkey.ChargeRequest{
			OrderID: fmt.Sprintf("bench_%d", i), BillingKey: bk.Key, Amount: 1000, GoodName: "g", Buyer: buyer(),
		}); err != nil {
			b.Fatal(err)
		}
	}
}
