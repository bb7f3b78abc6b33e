package cycle

import (
	"math/rand/v2"
	"testing"
	"testing/quick"
	"time"
)

// genTime returns a random KST time between 1990 and 2100.
func genTime(r *rand.Rand) time.Time {
	lo := time.Date(1990, 1, 1, 0, 0, 0, 0, KST).Unix()
	hi := time.Date(2100, 1, 1, 0, 0, 0, 0, KST).Unix()
	return time.Unix(lo+r.Int64N(hi-lo), 0).In(KST)
}

func genInterval(r *rand.Rand) Interval {
	units := []Unit{Day, Week, Month, Year}
	return Interval{Unit: units[r.IntN(4)], Count: 1 + r.IntN(13)}
}

// check runs prop on 3000 random cases (a fixed seed: deterministic).
func check(t *testing.T, prop func(r *rand.Rand) bool) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	cfg := &quick.Config{MaxCount: 3000}
	if err := quick.Check(func(seed uint64) bool { return prop(rand.New(rand.NewPCG(seed, r.Uint64()))) }, cfg); err != nil {
		t.Fatal(err)
	}
}

func TestMonthEndRule(t *testing.T) {
	check(t, func(r *rand.Rand) bool {
		a := genTime(r)
		iv := Interval{Unit: Month, Count: 1 + r.IntN(13)}
		k := r.IntN(400)
		got := At(a, iv, k)
		// The day is the anchor's, clamped to the month's last day.
		want := min(a.Day(), daysIn(got.Year(), got.Month()))
		months := (got.Year()*12 + int(got.Month())) - (a.Year()*12 + int(a.Month()))
		if got.Day() != want || months != k*iv.Count {
			t.Logf("anchor %v k %d: %v", a, k, got)
			return false
		}
		// Time of day kept.
		return got.Hour() == a.Hour() && got.Minute() == a.Minute() && got.Second() == a.Second()
	})
}

func TestAnchoredOn31st(t *testing.T) {
	a := time.Date(2024, 1, 31, 9, 0, 0, 0, KST)
	want := []string{"2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30", "2024-05-31", "2024-06-30",
		"2024-07-31", "2024-08-31", "2024-09-30", "2024-10-31", "2024-11-30", "2024-12-31", "2025-01-31", "2025-02-28", "2025-03-31"}
	for k, w := range want {
		if got := At(a, Interval{Month, 1}, k).Format("2006-01-02"); got != w {
			t.Fatalf("period %d: %s, want %s", k, got, w)
		}
	}
	// Yearly on 29 February: 28 February in common years, back on leap years.
	leap := time.Date(2024, 2, 29, 0, 0, 0, 0, KST)
	for k, w := range []string{"2024-02-29", "2025-02-28", "2026-02-28", "2027-02-28", "2028-02-29"} {
		if got := At(leap, Interval{Year, 1}, k).Format("2006-01-02"); got != w {
			t.Fatalf("year %d: %s, want %s", k, got, w)
		}
	}
}

func TestPeriodsStrictlyIncreaseAndAreFixedLengthForDays(t *testing.T) {
	check(t, func(r *rand.Rand) bool {
		a, iv := genTime(r), genInterval(r)
		k := r.IntN(300)
		p, q := At(a, iv, k), At(a, iv, k+1)
		if !q.After(p) {
			return false
		}
		switch iv.Unit {
		case Day:
			return q.Sub(p) == time.Duration(iv.Count)*24*time.Hour // KST has no DST
		case Week:
			return q.Sub(p) == time.Duration(iv.Count)*7*24*time.Hour
		}
		return true
	})
}

func TestNextAfterIsTheFirstPeriodAfter(t *testing.T) {
	// A pause from the anchor to t: the subscription resumes at the first
	// period strictly after t, never earlier, never skipping one.
	check(t, func(r *rand.Rand) bool {
		a, iv := genTime(r), genInterval(r)
		from := r.IntN(20)
		tt := a.Add(time.Duration(r.Int64N(int64(20 * 365 * 24 * time.Hour))))
		k := NextAfter(a, iv, from, tt)
		if k < from || !At(a, iv, k).After(tt) {
			return false
		}
		return k == from || !At(a, iv, k-1).After(tt)
	})
}

func TestAmountChangesFromTheNextCycle(t *testing.T) {
	check(t, func(r *rand.Rand) bool {
		amount, next := 1+r.Int64N(1e7), 1+r.Int64N(1e7)
		from, k := r.IntN(50), r.IntN(100)
		got := Amount(amount, next, from, k)
		if Amount(amount, next, -1, k) != amount {
			return false
		}
		return (k < from && got == amount) || (k >= from && got == next)
	})
}

func TestRetryPolicy(t *testing.T) {
	check(t, func(r *rand.Rand) bool {
		due := genTime(r)
		policy := []int{1 + r.IntN(3), 4 + r.IntN(3), 8 + r.IntN(10)}
		prev := due
		for n := 1; n <= len(policy); n++ {
			at, ok := Retry(due, policy, n)
			if !ok || !at.After(prev) || at.Sub(due) != time.Duration(policy[n-1])*24*time.Hour {
				return false
			}
			prev = at
		}
		_, ok := Retry(due, policy, len(policy)+1)
		return !ok
	})
}

func TestKSTDateBoundary(t *testing.T) {
	// 31 January 15:30 UTC is already 1 February 00:30 in Seoul: the plan is
	// anchored on the 1st, not the 31st.
	a := time.Date(2025, 1, 31, 15, 30, 0, 0, time.UTC)
	if got := At(a, Interval{Month, 1}, 1).Format("2006-01-02 15:04"); got != "2025-03-01 00:30" {
		t.Fatalf("got %s", got)
	}
}

func TestValidate(t *testing.T) {
	for _, iv := range []Interval{{"hour", 1}, {Month, 0}, {Day, MaxCount + 1}} {
		if iv.Validate() == nil {
			t.Fatalf("%v accepted", iv)
		}
	}
	if (Interval{Month, 1}).Validate() != nil {
		t.Fatal("monthly refused")
	}
}
