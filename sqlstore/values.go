package sqlstore

import (
	"database/sql"
	"time"
)

// Conversions between Go values and stored columns: times are BIGINT UNIX
// seconds (or milliseconds for leases and due times), 0 for "never"; an
// absent optional value is NULL.

// unix and millis convert a time to stored UNIX seconds or milliseconds
// (0 for the zero time).
func unix(t time.Time) int64   { return toEpoch(t, 1) }
func millis(t time.Time) int64 { return toEpoch(t, 1000) }

// fromUnix and fromMillis convert stored UNIX seconds or milliseconds back
// (0 is the zero time).
func fromUnix(s int64) time.Time    { return fromEpoch(s, 1) }
func fromMillis(ms int64) time.Time { return fromEpoch(ms, 1000) }

// toEpoch counts t in units of 1/perSecond second since the UNIX epoch.
func toEpoch(t time.Time, perSecond int64) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()*perSecond + int64(t.Nanosecond())/(int64(time.Second)/perSecond)
}

// fromEpoch is the time n units of 1/perSecond second after the UNIX epoch.
func fromEpoch(n, perSecond int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(n/perSecond, n%perSecond*(int64(time.Second)/perSecond))
}

// unixTime scans stored UNIX seconds into a time.Time (0 is the zero time).
type unixTime time.Time

// Scan implements sql.Scanner.
func (t *unixTime) Scan(src any) error {
	n, ok := src.(int64)
	if !ok {
		var v sql.NullInt64
		if err := v.Scan(src); err != nil {
			return err
		}
		n = v.Int64
	}
	*t = unixTime(fromUnix(n))
	return nil
}

// optional scans a nullable column into a *T (nil for NULL).
type optional[T any] struct{ p **T }

// Scan implements sql.Scanner.
func (o optional[T]) Scan(src any) error {
	var v sql.Null[T]
	if err := v.Scan(src); err != nil {
		return err
	}
	*o.p = nil
	if v.Valid {
		*o.p = &v.V
	}
	return nil
}

func nullInt(v *int64) any {
	if v == nil {
		return nil
	}
	return *v
}

func nullString(v *string) any {
	if v == nil {
		return nil
	}
	return *v
}

// truncateText cuts s to at most n bytes, on a rune boundary.
func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Cut on a rune boundary.
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
