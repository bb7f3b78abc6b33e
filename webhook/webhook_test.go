package webhook_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/webhook"
)

// The Standard Webhooks specification's published example.
const (
	vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTS     = 1614265330
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignKnownVector(t *testing.T) {
	key, err := webhook.DecodeSecret(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := webhook.Sign(key, vectorID, vectorTS, []byte(vectorBody)); got != vectorSig {
		t.Fatalf("Sign = %s, want %s", got, vectorSig)
	}
	err = webhook.Verify([]string{vectorSecret}, vectorID, strconv.Itoa(vectorTS), vectorSig, []byte(vectorBody), time.Unix(vectorTS+10, 0), 0)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestNewSecret(t *testing.T) {
	a, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := webhook.NewSecret()
	if a == b || !strings.HasPrefix(a, "whsec_") {
		t.Fatalf("secrets: %q %q", a, b)
	}
	if k, err := webhook.DecodeSecret(a); err != nil || len(k) != 32 {
		t.Fatalf("decode: %d %v", len(k), err)
	}
	for _, bad := range []string{"whsec_!!", "whsec_c2hvcnQ=", ""} {
		if _, err := webhook.DecodeSecret(bad); err == nil {
			t.Errorf("DecodeSecret(%q) accepted", bad)
		}
	}
}

func TestVerifyRotation(t *testing.T) {
	oldS, _ := webhook.NewSecret()
	newS, _ := webhook.NewSecret()
	otherS, _ := webhook.NewSecret()
	kOld, _ := webhook.DecodeSecret(oldS)
	kNew, _ := webhook.DecodeSecret(newS)
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"imp_uid":"imps_1","merchant_uid":"m1","status":"paid"}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	both := webhook.SignatureHeader([][]byte{kNew, kOld}, "evt_1", now.Unix(), body)
	if n := len(strings.Fields(both)); n != 2 {
		t.Fatalf("header %q has %d signatures", both, n)
	}
	for name, tc := range map[string]struct {
		secrets []string
		id, ts  string
		sig     string
		body    []byte
		now     time.Time
		want    error
	}{
		"receiver knows the new secret": {[]string{newS}, "evt_1", ts, both, body, now, nil},
		"receiver knows the old secret": {[]string{oldS}, "evt_1", ts, both, body, now, nil},
		"receiver knows both":           {[]string{otherS, oldS}, "evt_1", ts, both, body, now, nil},
		"wrong secret":                  {[]string{otherS}, "evt_1", ts, both, body, now, webhook.ErrBadSignature},
		"tampered body":                 {[]string{newS}, "evt_1", ts, both, append([]byte{' '}, body...), now, webhook.ErrBadSignature},
		"other id":                      {[]string{newS}, "evt_2", ts, both, body, now, webhook.ErrBadSignature},
		"too old":                       {[]string{newS}, "evt_1", ts, both, body, now.Add(6 * time.Minute), webhook.ErrTimestampTooFar},
		"from the future":               {[]string{newS}, "evt_1", ts, both, body, now.Add(-6 * time.Minute), webhook.ErrTimestampTooFar},
		"bad timestamp":                 {[]string{newS}, "evt_1", "12x", both, body, now, webhook.ErrBadTimestamp},
		"no v1":                         {[]string{newS}, "evt_1", ts, "v2,AAAA", body, now, webhook.ErrNoSignature},
		"missing header":                {[]string{newS}, "", ts, both, body, now, webhook.ErrMissingHeaders},
	} {
		t.Run(name, func(t *testing.T) {
			err := webhook.Verify(tc.secrets, tc.id, tc.ts, tc.sig, tc.body, tc.now, 0)
			if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestParseSignatureHeader(t *testing.T) {
	sigs := webhook.ParseSignatureHeader("v1,AAEC  v1a,AAEC bogus v1,!!! ,AA v1,")
	if len(sigs) != 2 || sigs[0].Version != "v1" || sigs[1].Version != "v1a" || len(sigs[0].Value) != 3 {
		t.Fatalf("parsed %+v", sigs)
	}
	many := strings.Repeat("v1,AAEC ", 100)
	if n := len(webhook.ParseSignatureHeader(many)); n != 16 {
		t.Fatalf("kept %d entries of 100", n)
	}
}

func FuzzParseSignatureHeader(f *testing.F) {
	f.Add("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	f.Add("v1,AAEC v1,AAEC")
	f.Add(" ,v1, v1,,=\t\x00")
	f.Add(strings.Repeat("v1,AA== ", 40))
	key := []byte("0123456789abcdef0123456789abcdef")
	f.Fuzz(func(t *testing.T, h string) {
		sigs := webhook.ParseSignatureHeader(h)
		if len(sigs) > 16 {
			t.Fatalf("%d entries", len(sigs))
		}
		for _, s := range sigs {
			if s.Version == "" || len(s.Value) == 0 || strings.ContainsAny(s.Version, " \t\n") {
				t.Fatalf("bad entry %+v from %q", s, h)
			}
		}
		// Verify never panics and never accepts a header not made with the key.
		ts := time.Unix(1_800_000_000, 0)
		secret := "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
		if webhook.Verify([]string{secret}, "evt_1", "1800000000", h, []byte("{}"), ts, 0) == nil &&
			!strings.Contains(h, webhook.Sign(key, "evt_1", ts.Unix(), []byte("{}"))[3:]) {
			t.Fatalf("accepted a forged header %q", h)
		}
	})
}

func TestGuard(t *testing.T) {
	strict := &webhook.Guard{}
	test := &webhook.Guard{AllowLoopback: true}
	allowed := &webhook.Guard{Allow: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}
	for _, tc := range []struct {
		ip                    string
		strict, test, allowed bool // reachable?
	}{
		{"8.8.8.8", true, true, true},
		{"2001:4860:4860::8888", true, true, true},
		{"127.0.0.1", false, true, false},
		{"127.9.9.9", false, true, false},
		{"::1", false, true, false},
		{"::ffff:127.0.0.1", false, true, false},
		{"10.1.2.3", false, false, true},
		{"10.2.0.1", false, false, false},
		{"172.16.0.1", false, false, false},
		{"192.168.1.1", false, false, false},
		{"fd00::1", false, false, false},
		{"169.254.169.254", false, false, false},
		{"fe80::1", false, false, false},
		{"224.0.0.1", false, false, false},
		{"ff02::1", false, false, false},
		{"0.0.0.0", false, false, false},
		{"::", false, false, false},
		{"0.1.2.3", false, false, false},
		{"100.64.0.1", false, false, false},
		{"255.255.255.255", false, false, false},
		{"192.0.0.1", false, false, false},
		{"198.18.0.1", false, false, false},
		{"240.0.0.1", false, false, false},
		{"64:ff9b::7f00:1", false, false, false},
		{"2002:7f00:1::", false, false, false},
		{"::7f00:1", false, false, false},
		{"2001:db8::1", false, false, false},
	} {
		ip := netip.MustParseAddr(tc.ip)
		for _, g := range []struct {
			name  string
			guard *webhook.Guard
			want  bool
		}{{"strict", strict, tc.strict}, {"test", test, tc.test}, {"allowed", allowed, tc.allowed}} {
			err := g.guard.Check(ip)
			if (err == nil) != g.want {
				t.Errorf("%s guard, %s: %v (want reachable=%v)", g.name, tc.ip, err, g.want)
			}
			var be *webhook.BlockedError
			if err != nil && !errors.As(err, &be) {
				t.Errorf("%s: error %T", tc.ip, err)
			}
		}
	}
	if _, err := webhook.ParsePrefixes("10.0.0.0/8, 192.168.1.5 ,"); err != nil {
		t.Fatal(err)
	}
	if _, err := webhook.ParsePrefixes("10.0.0.0/33"); err == nil {
		t.Fatal("bad prefix accepted")
	}
}

func TestSender(t *testing.T) {
	var got *http.Request
	var gotBody string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/ok", http.StatusFound)
			return
		}
		b, _ := io.ReadAll(r.Body)
		got, gotBody = r, string(b)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	secret, _ := webhook.NewSecret()
	key, _ := webhook.DecodeSecret(secret)
	now := time.Now()
	msg := webhook.Message{URL: srv.URL + "/hook", ID: "evt_7", Timestamp: now, Body: []byte(`{"imp_uid":"imps_1","merchant_uid":"m","status":"paid"}`), Keys: [][]byte{key}}
	ctx := context.Background()

	// Live mode refuses loopback, even by name: the dialed IP is checked.
	strict := webhook.NewSender(&webhook.Guard{}, time.Second)
	for _, u := range []string{srv.URL + "/hook", strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/hook"} {
		m := msg
		m.URL = u
		res := strict.Send(ctx, m)
		var be *webhook.BlockedError
		if res.Delivered() || !errors.As(res.Err, &be) {
			t.Fatalf("%s: %+v", u, res)
		}
	}

	test := webhook.NewSender(&webhook.Guard{AllowLoopback: true}, time.Second)
	res := test.Send(ctx, msg)
	if !res.Delivered() || res.StatusCode != 204 || got == nil {
		t.Fatalf("send: %+v", res)
	}
	if got.Header.Get("webhook-id") != "evt_7" || got.Header.Get("Content-Type") != "application/json" || gotBody != string(msg.Body) {
		t.Fatalf("request: %v %q", got.Header, gotBody)
	}
	if err := webhook.Verify([]string{secret}, got.Header.Get("webhook-id"), got.Header.Get("webhook-timestamp"),
		got.Header.Get("webhook-signature"), []byte(gotBody), time.Now(), 0); err != nil {
		t.Fatalf("verify what was sent: %v", err)
	}
	// A redirect is not a delivery and is not followed.
	m := msg
	m.URL = srv.URL + "/redirect"
	if res := test.Send(ctx, m); res.Delivered() || res.StatusCode != http.StatusFound {
		t.Fatalf("redirect: %+v", res)
	}
	for _, bad := range []string{"ftp://x/y", "/relative", "http://user:pw@host/", "http://"} {
		m.URL = bad
		if res := test.Send(ctx, m); !errors.Is(res.Err, webhook.ErrBadURL) {
			t.Errorf("%s: %+v", bad, res)
		}
	}
	// Unsigned when the merchant has no secret.
	m = msg
	m.Keys = nil
	if res := test.Send(ctx, m); !res.Delivered() || got.Header.Get("webhook-signature") != "" {
		t.Fatalf("unsigned: %+v %v", res, got.Header)
	}
}

func TestRetryPolicy(t *testing.T) {
	start := time.Unix(1_800_000_000, 0)
	giveUp := start.Add(webhook.DefaultRetryPolicy.GiveUpAfter)
	last, attempts := start, 1
	for {
		next, ok := webhook.DefaultRetryPolicy.Next(attempts, last, giveUp)
		if !ok {
			break
		}
		if !next.After(last) || next.After(giveUp) {
			t.Fatalf("attempt %d at %s after %s", attempts+1, next.Sub(start), last.Sub(start))
		}
		last = next
		attempts++
	}
	if attempts < 12 || attempts > 13 || !last.Equal(giveUp) {
		t.Fatalf("%d attempts, last after %s", attempts, last.Sub(start))
	}
	p := webhook.RetryPolicy{Delays: []time.Duration{time.Second, 2 * time.Second}, GiveUpAfter: time.Minute}
	if n, _ := p.Next(1, start, start.Add(time.Minute)); !n.Equal(start.Add(time.Second)) {
		t.Fatalf("first retry at %s", n.Sub(start))
	}
	if n, _ := p.Next(5, start, start.Add(time.Minute)); !n.Equal(start.Add(2 * time.Second)) {
		t.Fatalf("the last delay repeats: %s", n.Sub(start))
	}
	if ds, err := webhook.ParseDelays("1s, 2m,3h"); err != nil || len(ds) != 3 || ds[2] != 3*time.Hour {
		t.Fatalf("parse: %v %v", ds, err)
	}
	if _, err := webhook.ParseDelays("1s,-2s"); err == nil {
		t.Fatal("negative delay accepted")
	}
}
