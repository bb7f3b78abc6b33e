// Package cycle is the pure date arithmetic of recurring subscriptions:
// billing dates in Korea Standard Time (Asia/Seoul, UTC+9 without daylight
// saving), month-end rules, pauses and per-cycle amounts. Nothing here
// reads a clock or a database, so every rule is property-tested.
//
// Billing dates are anchored: period k (0-based) of a subscription is
// computed from the anchor (its first billing time) and k, never from the
// previous period's date. A monthly plan anchored on the 31st therefore
// renews on the last day of shorter months (30 April, 28 or 29 February)
// and goes back to the 31st whenever the month has one, instead of drifting
// to the 28th for good.
package cycle

import (
	"fmt"
	"time"
)

// KST is Korea Standard Time. A fixed zone: Korea has had no daylight
// saving time since 1988, and a fixed zone needs no tzdata at run time.
var KST = time.FixedZone("KST", 9*60*60)

// Unit is the unit of an interval.
type Unit string

// Interval units.
const (
	Day   Unit = "day"
	Week  Unit = "week"
	Month Unit = "month"
	Year  Unit = "year"
)

// MaxCount bounds Interval.Count (e.g. every 3650 days at most).
const MaxCount = 3650

// Interval is "every Count Units".
type Interval struct {
	Unit  Unit
	Count int
}

// Validate reports whether the interval is usable.
func (iv Interval) Validate() error {
	switch iv.Unit {
	case Day, Week, Month, Year:
	default:
		return fmt.Errorf("interval must be day, week, month or year, not %q", iv.Unit)
	}
	if iv.Count < 1 || iv.Count > MaxCount {
		return fmt.Errorf("interval_count must be between 1 and %d", MaxCount)
	}
	return nil
}

// daysIn returns the number of days of month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// addMonths returns t moved by n months in KST, keeping the time of day and
// clamping the day to the target month's last day.
func addMonths(t time.Time, n int) time.Time {
	k := t.In(KST)
	total := int(k.Month()) - 1 + n
	y := k.Year() + floorDiv(total, 12)
	m := time.Month(total - floorDiv(total, 12)*12 + 1)
	d := min(k.Day(), daysIn(y, m))
	return time.Date(y, m, d, k.Hour(), k.Minute(), k.Second(), k.Nanosecond(), KST)
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// At returns the billing time of period k (k >= 0) of a plan anchored at
// anchor: the anchor itself for k = 0.
func At(anchor time.Time, iv Interval, k int) time.Time {
	switch iv.Unit {
	case Day:
		return anchor.In(KST).AddDate(0, 0, k*iv.Count)
	case Week:
		return anchor.In(KST).AddDate(0, 0, 7*k*iv.Count)
	case Year:
		return addMonths(anchor, 12*k*iv.Count)
	default:
		return addMonths(anchor, k*iv.Count)
	}
}

// NextAfter returns the smallest period k >= from whose billing time is
// strictly after t: where a resumed subscription continues (the periods
// that fell inside the pause are skipped, never charged late).
func NextAfter(anchor time.Time, iv Interval, from int, t time.Time) int {
	k := max(from, 0)
	if !At(anchor, iv, k).After(t) {
		// Jump close by the average period length, then step.
		approx := map[Unit]time.Duration{Day: 24 * time.Hour, Week: 7 * 24 * time.Hour,
			Month: 2629746 * time.Second, Year: 31556952 * time.Second}[iv.Unit] * time.Duration(iv.Count)
		if j := int(t.Sub(anchor)/approx) - 2; j > k {
			k = j
		}
		for !At(anchor, iv, k).After(t) {
			k++
		}
	}
	return k
}

// Anchor returns the first billing time of a plan starting at start with an
// optional trial ending at trialEnd (zero: no trial): the trial's end when
// there is one, else the start. Monthly and yearly plans keep the anchor's
// day of month (the start day) for good.
func Anchor(start, trialEnd time.Time) time.Time {
	if !trialEnd.IsZero() && trialEnd.After(start) {
		return trialEnd.In(KST)
	}
	return start.In(KST)
}

// Amount returns the amount of a charge for period k: next from
// changeFrom on (an amount change applies from the next cycle), amount
// before (changeFrom < 0: no change pending).
func Amount(amount, next int64, changeFrom, k int) int64 {
	if changeFrom >= 0 && k >= changeFrom {
		return next
	}
	return amount
}

// Retry returns when retry number n (1-based) of a declined charge due at
// due runs under the policy's delays in days (e.g. 1, 3, 7: the days after
// the original due time), and false once the policy is exhausted.
func Retry(due time.Time, policyDays []int, n int) (time.Time, bool) {
	if n < 1 || n > len(policyDays) {
		return time.Time{}, false
	}
	return due.In(KST).AddDate(0, 0, policyDays[n-1]), true
}
