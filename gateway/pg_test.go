package gateway

import (
	"context"
	"testing"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/internal/fakepg"
)

func testRegistry(t *testing.T) *billkey.PGRegistry {
	t.Helper()
	inicisLike := fakepg.New().Provider()
	inicisLike.Name, inicisLike.Aliases = billkey.ProviderHTML5Inicis, []string{billkey.ProviderInicis}
	r, err := billkey.NewPGRegistry(inicisLike, fakepg.New().Provider())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestMatchChannelByProvider: the pg parameter picks channels by the
// registry's names: a provider's aliases match its channels, a MID never
// matches another provider's channel, and an unknown provider matches
// nothing (REST calls then fall back to the default channel).
func TestMatchChannelByProvider(t *testing.T) {
	r := testRegistry(t)
	def := &billkey.Channel{ID: 1, Provider: billkey.ProviderHTML5Inicis, MID: "INIBillTst", Default: true}
	ini := &billkey.Channel{ID: 2, Provider: billkey.ProviderInicis, MID: "SHARED01"}
	fake := &billkey.Channel{ID: 3, Provider: fakepg.Name, MID: "FAKEMID01"}
	fake2 := &billkey.Channel{ID: 4, Provider: fakepg.Name, MID: "SHARED01"}
	chs := []*billkey.Channel{def, ini, fake, fake2}
	for _, tc := range []struct {
		pg   string
		want *billkey.Channel
	}{
		{"", def},
		{"html5_inicis", def},
		{"inicis", ini},
		{"fakepg", fake},
		{"fakepg.SHARED01", fake2},
		{"inicis.SHARED01", ini},
		{"html5_inicis.SHARED01", ini}, // same PG under its other name
		{"fakepg.INIBillTst", nil},     // a MID of another PG
		{"html5_inicis.FAKEMID01", nil},
		{"tosspayments", nil},
		{"tosspayments.FAKEMID01", nil},
	} {
		if got := matchChannel(r, chs, tc.pg); got != tc.want {
			t.Errorf("pg %q: channel %v, want %v", tc.pg, chID(got), chID(tc.want))
		}
	}
	// Only INICIS channels: "inicis" finds the html5_inicis one.
	if got := matchChannel(r, []*billkey.Channel{def, fake}, "inicis"); got != def {
		t.Errorf("inicis with only an html5_inicis channel: %v", chID(got))
	}
	// A nil registry knows no provider, and does not panic.
	if got := matchChannel(nil, chs, "html5_inicis"); got != nil {
		t.Errorf("nil registry: %v", chID(got))
	}
}

func chID(ch *billkey.Channel) any {
	if ch == nil {
		return nil
	}
	return ch.ID
}

// TestUnknownProviderNeverPanics: a channel whose provider the registry
// does not know is refused when chosen (EREJECTED, naming the known PGs),
// and any PG call for it is a refusal with nothing sent, never a panic.
func TestUnknownProviderNeverPanics(t *testing.T) {
	s := &Service{PGs: testRegistry(t)}
	ch := &billkey.Channel{Provider: "tosspayments", MID: "T1"}
	if _, err := s.usable(ch); billkey.ErrorCode(err) != billkey.EREJECTED {
		t.Fatalf("usable: %v", err)
	}
	if _, err := s.windowOf(ch); billkey.ErrorCode(err) != billkey.EREJECTED {
		t.Fatalf("window: %v", err)
	}
	ctx := context.Background()
	pg := s.pgOf(ch)
	if _, err := pg.Charge(ctx, ch.PGChannel(), billkey.ChargeRequest{Amount: 1}); billkey.ErrorCode(err) != billkey.EPG {
		t.Fatalf("charge: %v, want EPG (nothing sent, the payment fails)", err)
	}
	if _, err := pg.Refund(ctx, ch.PGChannel(), billkey.RefundRequest{}); billkey.ErrorCode(err) != billkey.EPG {
		t.Fatalf("refund: %v", err)
	}
	if _, err := pg.Inquire(ctx, ch.PGChannel(), "o"); billkey.ErrorCode(err) != billkey.EPG {
		t.Fatalf("inquire: %v", err)
	}
	if _, err := pg.IssueBillingKey(ctx, ch.PGChannel(), billkey.IssueRequest{}); billkey.ErrorCode(err) != billkey.EPG {
		t.Fatalf("issue: %v", err)
	}
	// Without a registry nothing can be reached either.
	if _, err := (&Service{}).pgOf(ch).Charge(ctx, ch.PGChannel(), billkey.ChargeRequest{}); billkey.ErrorCode(err) != billkey.EPG {
		t.Fatalf("no registry: %v", err)
	}
	// A known provider without a window is refused for windows.
	p := fakepg.New().Provider()
	p.Window = nil
	r, err := billkey.NewPGRegistry(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (&Service{PGs: r}).windowOf(&billkey.Channel{Provider: fakepg.Name}); billkey.ErrorCode(err) != billkey.EREJECTED {
		t.Fatalf("provider without a window: %v", err)
	}
}
