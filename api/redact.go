package api

import "strings"

// tokenPaths are path prefixes whose next segment is a secret: a payment
// window attempt token (a bearer credential for that attempt's return and
// close URLs, or a card-update link).
var tokenPaths = []string{"/window/return/", "/window/close/", "/card-update/"}

// logPath is the request path as it may appear in logs: attempt tokens are
// replaced by "{token}".
func logPath(p string) string {
	for _, pre := range tokenPaths {
		if rest, ok := strings.CutPrefix(p, pre); ok && rest != "" {
			return pre + "{token}"
		}
	}
	return p
}
