package inicissim_test

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/inicissim"
)

func TestServeAlone(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- inicissim.Serve(ctx, ln, inicissim.Config{}) }()
	base := "http://" + ln.Addr().String()
	conn := inicis.New(inicis.Config{Test: inicis.SimulatorEndpoints(base), Timeout: 5 * time.Second})
	bk, err := conn.IssueBillingKey(context.Background(), testChannel(), billkey.IssueRequest{OrderID: "alone", Card: billkey.Card{Number: "4242424242424242", Expiry: "2031-12", Birth: "800101"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(bk.Key) != 40 {
		t.Errorf("key %q", bk.Key)
	}
	resp, err := http.Get(base + "/")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("index: %v %v", resp, err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if err := inicissim.ListenAndServe(context.Background(), "256.0.0.1:1", inicissim.Config{}); err == nil {
		t.Error("bad address accepted")
	}
}
