package loadtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCompare(t *testing.T) {
	approvals := func(ids ...string) *ledger {
		l := &ledger{}
		for _, id := range ids {
			l.Approvals = append(l.Approvals, struct {
				OrderID string `json:"order_id"`
				TID     string `json:"tid"`
			}{OrderID: id})
		}
		return l
	}
	paid := func(uid string) payment { return payment{MerchantUID: uid, Status: "paid"} }
	replied := map[string]struct{}{"imp_1": {}}
	cases := []struct {
		name     string
		payments map[string]payment
		ledger   *ledger
		replied  map[string]struct{}
		ok       bool
		check    func(c *LedgerCheck) bool
	}{
		{"agree", map[string]payment{"imp_1": paid("o1"), "imp_2": paid("o2")}, approvals("imp_1", "imp_2", "other"), replied, true,
			func(c *LedgerCheck) bool { return c.Paid == 2 && c.Approvals == 2 }},
		{"approved twice", map[string]payment{"imp_1": paid("o1")}, approvals("imp_1", "imp_1"), replied, false,
			func(c *LedgerCheck) bool { return c.Duplicated == 1 && c.DoubleCharged == 1 }},
		{"paid without approval", map[string]payment{"imp_1": paid("o1")}, approvals(), replied, false,
			func(c *LedgerCheck) bool { return c.Lost == 1 }},
		{"approval of a failed payment", map[string]payment{"imp_1": {MerchantUID: "o1", Status: "failed"}}, approvals("imp_1"), nil, false,
			func(c *LedgerCheck) bool { return c.Unrecorded == 1 }},
		{"one order paid twice", map[string]payment{"imp_1": paid("o1"), "imp_2": paid("o1")}, approvals("imp_1", "imp_2"), replied, false,
			func(c *LedgerCheck) bool { return c.DoubleCharged == 1 && c.Duplicated == 0 }},
		{"answered paid, not recorded", map[string]payment{}, approvals(), replied, false,
			func(c *LedgerCheck) bool { return c.Lost == 1 }},
		{"still ready", map[string]payment{"imp_1": {MerchantUID: "o1", Status: "ready"}}, approvals(), nil, false,
			func(c *LedgerCheck) bool { return c.Ready == 1 }},
	}
	for _, tc := range cases {
		c := compare(tc.payments, tc.ledger, tc.replied)
		if c.OK() != tc.ok || !tc.check(c) {
			t.Errorf("%s: %s", tc.name, c)
		}
	}
}

func TestParseStatTicks(t *testing.T) {
	// comm may hold spaces and parentheses; utime, stime, cutime, cstime
	// are fields 14 to 17.
	stat := "4242 (a (weird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 70 3 2 20 0 9 0 100 1000 50"
	got, err := parseStatTicks(stat)
	if err != nil || got != 250+70+3+2 {
		t.Fatalf("got %d, %v", got, err)
	}
	if _, err := parseStatTicks("4242 (x) S 1"); err == nil {
		t.Fatal("a short line parsed")
	}
}

func TestUsage(t *testing.T) {
	before := cpuSample{ProcBillkey: {1: 100, 2: 50}}
	after := cpuSample{ProcBillkey: {1: 300, 3: 40}}
	u := usage(before, after, 1000)[ProcBillkey]
	// pid 1: +200 ticks; pid 3 started during the phase: 40; pid 2 gone.
	if u.Seconds != 2.4 || u.PerOp != 2400 || len(u.Pids) != 2 || u.Note == "" {
		t.Fatalf("%+v", u)
	}
}

func TestPageForm(t *testing.T) {
	page := `<form id="other"><input name="x" value="1"></form>
<form id="inicis-return" method="post" action="http://b.example/window/return/t&amp;1" accept-charset="UTF-8">
 <input type="hidden" name="resultCode" value="0000">
 <input type="hidden" name="merchantData" value="a&quot;b&amp;c">
</form>`
	action, f, err := pageForm(page, "inicis-return")
	if err != nil || action != "http://b.example/window/return/t&1" || f.Get("resultCode") != "0000" || f.Get("merchantData") != `a"b&c` || f.Has("x") {
		t.Fatalf("%q %v %v", action, f, err)
	}
	if _, _, err := pageForm(page, "missing"); err == nil {
		t.Fatal("found a form that is not there")
	}
}

func TestScrapeMetrics(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("# HELP x\nbillkey_jobs_claimed_total{queue=\"schedules\"} 7\nbillkey_jobs_claimed_total{queue=\"webhooks\"} 3\nprocess_resident_memory_bytes 1.5e+07\n"))
	}))
	defer srv.Close()
	m, err := scrapeMetrics(context.Background(), srv.URL)
	if err != nil || m[`billkey_jobs_claimed_total{queue="schedules"}`] != 7 || m["billkey_jobs_claimed_total"] != 10 || m["process_resident_memory_bytes"] != 1.5e7 {
		t.Fatalf("%v %v", m, err)
	}
}

func TestMedian(t *testing.T) {
	if median([]int{2500, 400, 1000}) != 1000 || median([]int{3, 1}) != 1 || median[int](nil) != 0 {
		t.Fatal("median")
	}
}

func TestSoakTrend(t *testing.T) {
	const mib = 1 << 20
	// A warm-up's memory returned in the first minute, then flat: the
	// trend compares the first minute's median, not its first sample.
	flat := []float64{66 * mib, 52 * mib, 51 * mib, 52 * mib, 52 * mib, 51 * mib, 52 * mib, 52 * mib, 51 * mib, 52 * mib}
	first, last, ok := soakTrend(flat)
	if !ok || first != 52*mib || last != 52*mib {
		t.Fatalf("flat: %v %v %v", first/mib, last/mib, ok)
	}
	// A leak: every sample higher than the one before.
	var leak []float64
	for i := range 12 {
		leak = append(leak, float64(50+2*i)*mib)
	}
	if first, last, ok := soakTrend(leak); !ok || first != 52*mib || last != 68*mib {
		t.Fatalf("leak: %v %v %v", first/mib, last/mib, ok)
	}
	if _, _, ok := soakTrend(leak[:7]); ok {
		t.Fatal("under two minutes of samples gives no trend")
	}
}
