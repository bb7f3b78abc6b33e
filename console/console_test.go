package console

import (
	"strings"
	"testing"
)

func TestPasswordHash(t *testing.T) {
	p := HashParams{Memory: 64, Time: 1, Threads: 1}
	h, err := HashPassword("correct horse battery", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(h, "horse") {
		t.Fatalf("hash %q", h)
	}
	h2, _ := HashPassword("correct horse battery", p)
	if h2 == h {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batter": false, "": false} {
		if ok, err := VerifyPassword(h, pw); err != nil || ok != want {
			t.Errorf("verify %q = %v, %v", pw, ok, err)
		}
	}
	// The parameters come from the hash: the defaults verify with theirs.
	d, err := HashPassword("another long password", DefaultHashParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d, "$m=19456,t=2,p=1$") {
		t.Fatalf("default params not recorded: %s", d)
	}
	if ok, err := VerifyPassword(d, "another long password"); !ok || err != nil {
		t.Fatalf("default-params hash does not verify: %v", err)
	}
	if _, err := HashPassword("short", p); err == nil {
		t.Fatal("a 5-character password was accepted")
	}
	parts := strings.Split(h, "$")
	for _, bad := range []string{"", "plain", "$bcrypt$x", strings.Replace(h, "argon2id", "argon2i", 1),
		strings.Replace(h, "m=64", "m=0", 1), strings.Replace(h, "v=19", "v=16", 1), strings.Join(parts[:5], "$") + "$!!!",
		strings.Replace(h, "m=64", "m=99999999", 1)} {
		if ok, err := VerifyPassword(bad, "correct horse battery"); ok || err == nil {
			t.Errorf("malformed hash %q verified (%v, %v)", bad, ok, err)
		}
	}
}

func TestFormatting(t *testing.T) {
	for n, want := range map[int64]string{0: "0원", 999: "999원", 1000: "1,000원", 1234567: "1,234,567원", -9900: "-9,900원"} {
		if got := won(n); got != want {
			t.Errorf("won(%d) = %q, want %q", n, got, want)
		}
	}
	for in, want := range map[string]string{"=SUM(A1)": "'=SUM(A1)", "+1": "'+1", "-1": "'-1", "@x": "'@x", "order-1": "order-1", "": ""} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
	if got := truncate("가나다라", 7); got != "가나" {
		t.Errorf("truncate cut a rune: %q", got)
	}
	if niceMax(0) != 1 || niceMax(7) != 10 || niceMax(130000) != 200000 || niceMax(500) != 500 {
		t.Error("niceMax")
	}
	svg := string(barChart("t", []barPoint{{Label: "<script>", Value: 3}}, "#000", func(n int64) string { return "" }))
	if strings.Contains(svg, "<script>") {
		t.Fatalf("chart label not escaped: %s", svg)
	}
}
