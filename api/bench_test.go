package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey"
)

func benchPayment() *billkey.Payment {
	vat := int64(900)
	custom := `{"plan":"monthly"}`
	return &billkey.Payment{ImpUID: "imps_123456789012", MerchantUID: "order_000001", PayMethod: "card", Channel: "api",
		PGProvider: "html5_inicis", PGID: "INIBillTst", PGTID: "INIAPICARDINIBillTst20270115080000123456", ApplyNum: "30123157",
		CardCode: "366", CardName: "신한카드", CardNumber: "451842*********7", Name: "월간 이용권", Amount: 9900, VatAmount: &vat,
		Currency: "KRW", Buyer: billkey.Buyer{Name: "홍길동", Email: "gildong@example.com", Tel: "010-1234-5678"},
		CustomData: &custom, Status: billkey.StatusPaid, StartedAt: time.Unix(1_800_000_000, 0), PaidAt: time.Unix(1_800_000_001, 0),
		CustomerUID: "gildong_0001", CustomerUIDUsage: "payment"}
}

// BenchmarkEnvelope measures rendering a Payment reply.
func BenchmarkEnvelope(b *testing.B) {
	p := benchPayment()
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		w.Body.Reset()
		writeOK(w, newPaymentView(p))
	}
}

// BenchmarkBindJSON measures binding an again request sent as JSON.
func BenchmarkBindJSON(b *testing.B) {
	body := `{"customer_uid":"gildong_0001","merchant_uid":"order_000001","amount":9900,"name":"월간 이용권","buyer_email":"a@b.c"}`
	benchBind(b, "application/json", body)
}

// BenchmarkBindForm measures binding the same request as go-iamport's form.
func BenchmarkBindForm(b *testing.B) {
	benchBind(b, "application/x-www-form-urlencoded", "customer_uid=gildong_0001& merchant_uid=order_000001& amount=9900& name=x& buyer_email=a@b.c")
}

func benchBind(b *testing.B, ct, body string) {
	r, _ := http.NewRequest("POST", "/subscribe/payments/again", nil)
	r.Header.Set("Content-Type", ct)
	b.ReportAllocs()
	for b.Loop() {
		r.Body = io.NopCloser(strings.NewReader(body))
		p, err := readParams(r)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := p.Int64("amount"); err != nil {
			b.Fatal(err)
		}
	}
}
