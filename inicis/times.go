package inicis

import (
	"strconv"
	"time"
)

// KST is Korea Standard Time (UTC+9, no daylight saving). INICIS writes every
// timestamp in KST without an offset. A fixed zone avoids depending on the
// host's tz database.
var KST = time.FixedZone("KST", 9*60*60)

// apiTimestamp formats t as INIAPI's 14-digit YYYYMMDDhhmmss in KST (24-hour).
func apiTimestamp(t time.Time) string { return t.In(KST).Format("20060102150405") }

// msTimestamp formats t as INIStdPay's epoch milliseconds.
func msTimestamp(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// parseKST parses an INICIS date (YYYYMMDD) and time (hhmmss) pair in KST.
// It returns the zero time when either does not parse.
func parseKST(date, clock string) time.Time {
	if len(clock) == 4 { // hhmm seen in a few samples
		clock += "00"
	}
	t, err := time.ParseInLocation("20060102150405", date+clock, KST)
	if err != nil {
		return time.Time{}
	}
	return t
}
