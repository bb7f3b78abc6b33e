package billkey

import (
	"errors"
	"fmt"
)

// Error codes. The API maps each to an HTTP status and an i'mport envelope code
// in exactly one place (api.writeError); nothing else chooses statuses.
const (
	// EINVALID: malformed query or parameters of a lookup (HTTP 400, code -1).
	EINVALID = "invalid"
	// EUNAUTHORIZED: missing, invalid or expired token or credentials (HTTP 401).
	EUNAUTHORIZED = "unauthorized"
	// ENOTFOUND: a looked-up object does not exist (HTTP 404, code -1).
	ENOTFOUND = "not_found"
	// EREJECTED: a business rule refused the request, as i'mport does with
	// HTTP 200 and code 1 (unknown customer, nothing to cancel, bad field...).
	EREJECTED = "rejected"
	// EPG: the PG or card company refused (HTTP 200, code -1). The message
	// carries the PG's own code and text, i'mport style: "[code] message".
	EPG = "pg"
	// EUNCERTAIN: the PG did not answer in time, so whether it approved is
	// unknown. The payment stays ready and is reconciled; never retry blindly.
	EUNCERTAIN = "uncertain"
	// ECONFLICT: a request with the same Idempotency-Key is still in flight (409).
	ECONFLICT = "conflict"
	// EMISMATCH: an Idempotency-Key was reused with different parameters (422).
	EMISMATCH = "mismatch"
	// EINTERNAL: anything unexpected (HTTP 500). Its details are logged, never shown.
	EINTERNAL = "internal"
)

// Error is billkey's one error type. Code is one of the E* constants, Message
// is safe to show to the merchant (Korean first, as i'mport answers), and Err
// is the wrapped cause, never shown.
type Error struct {
	Code    string
	Message string
	Err     error
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("billkey: %s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("billkey: %s: %s", e.Code, e.Message)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WrapError returns an *Error with the given code and message that wraps err.
func WrapError(code, message string, err error) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the merchant-facing message of err: the Message of the
// first *Error in its chain, or a generic text for anything else.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "내부 오류가 발생했습니다. (internal error)"
}
