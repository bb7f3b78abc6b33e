package gateway

import (
	"encoding/base64"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/billkey/billkey/window/sdk"
)

// FuzzWindowTokenHash: only canonical 43-character base64url tokens of 32
// bytes are accepted, and each maps to one hash.
func FuzzWindowTokenHash(f *testing.F) {
	f.Add(NewWindowToken())
	f.Add("")
	f.Add(strings.Repeat("A", 43))
	f.Add(strings.Repeat("_", 43))
	f.Add(strings.Repeat("A", 42) + "B") // non-canonical last character
	f.Add("../../../etc/passwd")
	f.Add(strings.Repeat("가", 15))
	f.Fuzz(func(t *testing.T, tok string) {
		h, ok := WindowTokenHash(tok)
		if !ok {
			if h != nil {
				t.Fatal("hash without ok")
			}
			return
		}
		if len(tok) != 43 || len(h) != 32 {
			t.Fatalf("accepted %q", tok)
		}
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || base64.RawURLEncoding.EncodeToString(raw) != tok {
			t.Fatalf("accepted a non-canonical token %q", tok)
		}
	})
}

func TestNewWindowToken(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := NewWindowToken()
		if _, ok := WindowTokenHash(tok); !ok || seen[tok] {
			t.Fatalf("token %q", tok)
		}
		seen[tok] = true
	}
}

func TestWindowHelpers(t *testing.T) {
	for in, want := range map[string]string{`{"a":1}`: `{"a":1}`, `text`: `"text"`, `"q"`: `"q"`, `12`: `12`} {
		s := in
		if got := string(sdk.CustomData(&s)); got != want {
			t.Errorf("sdk.CustomData(%s) = %s, want %s", in, got, want)
		}
	}
	if got := string(sdk.CustomData(nil)); got != "null" {
		t.Errorf("sdk.CustomData(nil) = %s", got)
	}
	long := strings.Repeat("가", 20) // 60 bytes
	if got := truncateBytes(long, 40); len(got) > 40 || !utf8.ValidString(got) || got != strings.Repeat("가", 13) {
		t.Errorf("truncateBytes: %q", got)
	}
	for u, want := range map[string]bool{
		"https://shop.example/done?x=1": true, "http://127.0.0.1:8080/c": true, "javascript:alert(1)": false,
		"//shop.example/x": false, "https://user:pw@shop.example/": false, "ftp://x/": false, "": false,
	} {
		if IsWebURL(u) != want {
			t.Errorf("IsWebURL(%q) != %v", u, want)
		}
	}
}
