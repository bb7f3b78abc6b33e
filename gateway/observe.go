package gateway

import "strings"

// windowResult reports how a payment window attempt ended.
func (s *Service) windowResult(result string) {
	if s.OnWindowResult != nil {
		s.OnWindowResult(result)
	}
}

// windowFailure names how a failed window attempt ended, from what
// failWindow recorded: closed by the buyer, expired, superseded by a newer
// window for the same order, interrupted (a node stopped mid-approval),
// refused (INICIS or the card company answered with a result code), or
// failed (anything else).
func windowFailure(code, msg string) string {
	switch {
	case msg == msgUserCancel:
		return "closed"
	case msg == msgWindowSuperseded:
		return "superseded"
	case msg == msgWindowInterrupted:
		return "interrupted"
	case strings.HasSuffix(msg, "(window expired)"):
		return "expired"
	case code != "":
		return "refused"
	}
	return "failed"
}
