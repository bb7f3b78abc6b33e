package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/billkey/billkey/webhook"
)

func TestExcerpt(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"  OK\n", "OK"},
		{"line1\r\nline2\tend", "line1  line2 end"},
		{"a\x00b\x1bc\x7fd\u0085e", "abcde"},
		{"rtl\u202Eevil\u200Bx", "rtlevilx"},
		{"bad \xff\xfe utf8", "bad \uFFFD\uFFFD utf8"},
		{"주문 실패: 재고 없음", "주문 실패: 재고 없음"},
	}
	for _, c := range cases {
		if got := webhook.Excerpt([]byte(c.in)); got != c.want {
			t.Errorf("Excerpt(%q) = %q, want %q", c.in, got, c.want)
		}
	}
	// Over-long: bounded, cut at a character boundary (3-byte Hangul
	// does not divide 512), still valid UTF-8.
	long := strings.Repeat("가", 1000)
	got := webhook.Excerpt([]byte(long))
	if len(got) > webhook.ExcerptLimit || len(got) < webhook.ExcerptLimit-3 || !utf8.ValidString(got) || strings.Trim(got, "가") != "" {
		t.Fatalf("long excerpt: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}

func TestSenderKeepsBoundedCleanExcerpt(t *testing.T) {
	body := "ERR\x00\x1b[31m " + strings.Repeat("x", 100<<10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	s := webhook.NewSender(&webhook.Guard{AllowLoopback: true}, 5*time.Second)
	res := s.Send(context.Background(), webhook.Message{URL: srv.URL, ID: "evt_1", Timestamp: time.Now(), Body: []byte("{}")})
	if res.StatusCode != 500 || res.Delivered() {
		t.Fatalf("result: %+v", res)
	}
	if len(res.Body) != webhook.ExcerptLimit || !strings.HasPrefix(res.Body, "ERR[31m xxx") || strings.ContainsAny(res.Body, "\x00\x1b") {
		t.Fatalf("excerpt: %d bytes %q", len(res.Body), res.Body[:min(40, len(res.Body))])
	}
}
