package pgtest_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/inicis"
	"github.com/billkey/billkey/internal/fakepg"
	"github.com/billkey/billkey/pgtest"
)

// TestFakeSecondPG runs the suite against a second, in-memory PG looked up
// by its name in a registry that also holds KG INICIS, as billkey serve
// would register it: the suite needs nothing INICIS-specific.
func TestFakeSecondPG(t *testing.T) {
	fake := fakepg.New()
	fake.Timeout = 200 * time.Millisecond
	ini, err := inicis.Factory(billkey.PGEnv{})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := billkey.BuildPGRegistry(billkey.PGEnv{}, func(billkey.PGEnv) (*billkey.PGProvider, error) { return ini, nil }, fake.Factory)
	if err != nil {
		t.Fatal(err)
	}
	p, err := reg.Lookup(fakepg.Name)
	if err != nil {
		t.Fatal(err)
	}
	if reg.Same(fakepg.Name, billkey.ProviderHTML5Inicis) || !reg.Same(billkey.ProviderInicis, billkey.ProviderHTML5Inicis) {
		t.Fatal("the registry confuses the fake with INICIS")
	}
	ch := billkey.PGChannel{Provider: fakepg.Name, MID: "FAKEMID01", Credentials: fakepg.Credentials{Secret: "fake-secret"}.Encode()}
	card := func(n string) billkey.Card {
		return billkey.Card{Number: n, Expiry: "2031-12", Birth: "800101", Pwd2Digit: "12"}
	}
	pgtest.Run(t, pgtest.Harness{
		Provider: p,
		Channel:  ch,
		Cards:    pgtest.Cards{Approve: card(fakepg.ApproveNumber), Decline: card(fakepg.DeclineNumber), Hang: card(fakepg.HangNumber)},
		Buyer:    billkey.Buyer{Name: "홍길동", Email: "gildong@example.com", Tel: "01012345678"},
		WindowBuyer: func(t *testing.T, f *billkey.WindowForm, c billkey.Card) (string, url.Values) {
			to, post, err := fake.Buyer(ch, f, c, false)
			if err != nil {
				t.Fatal(err)
			}
			return to, post
		},
		WindowCancel: func(t *testing.T, f *billkey.WindowForm) (string, url.Values) {
			to, post, err := fake.Buyer(ch, f, billkey.Card{}, true)
			if err != nil {
				t.Fatal(err)
			}
			return to, post
		},
	})
	if fake.Calls() == 0 {
		t.Fatal("the suite never reached the fake")
	}
}

// TestRegistryRefusesUnknownAndDuplicates: an unknown provider name is a
// clear EREJECTED error (never a panic, also on a nil registry), and a
// name registered twice is refused.
func TestRegistryRefusesUnknownAndDuplicates(t *testing.T) {
	var nilReg *billkey.PGRegistry
	if _, err := nilReg.Lookup("html5_inicis"); billkey.ErrorCode(err) != billkey.EREJECTED {
		t.Fatalf("nil registry: %v", err)
	}
	a, b := fakepg.New().Provider(), fakepg.New().Provider()
	if _, err := billkey.NewPGRegistry(a, b); err == nil {
		t.Fatal("two providers named fakepg registered")
	}
	if _, err := billkey.NewPGRegistry(&billkey.PGProvider{Name: "x.y", PG: a.PG}); err == nil {
		t.Fatal("a provider name with a dot (the pg parameter's separator) registered")
	}
	r, err := billkey.NewPGRegistry(a)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Lookup("tosspayments")
	if billkey.ErrorCode(err) != billkey.EREJECTED || billkey.ErrorMessage(err) == "" {
		t.Fatalf("unknown provider: %v", err)
	}
}
