package inicis

import (
	"errors"
	"fmt"

	"github.com/billkey/billkey"
)

// Sentinel causes wrapped inside the *billkey.Error values the Connector
// returns, for callers that need more than the error code.
var (
	// ErrNotSent: the request never left (connection refused, DNS or TLS
	// failure, a deadline hit before the request was written). INICIS saw
	// nothing, so nothing was charged. Wrapped in an EPG error.
	ErrNotSent = errors.New("inicis: request not sent")
	// ErrNoReply: the request was written but no usable reply came back
	// (timeout, connection reset, 500/502/504 without an INICIS body,
	// unparsable body). INICIS may or may not have acted. Wrapped in an
	// EUNCERTAIN error.
	ErrNoReply = errors.New("inicis: no usable reply")
	// ErrRefused: INICIS (or its load balancer) answered 503 without an
	// INICIS body: it declined to process the request, so nothing was
	// approved or refunded. Wrapped in an EPG error.
	ErrRefused = errors.New("inicis: refused to process")
	// ErrTampered: a reply failed its integrity checks (authSignature, MID,
	// order id or amount mismatch).
	ErrTampered = errors.New("inicis: reply failed integrity check")
)

// ResultError is a refusal by INICIS or the card company: a well-formed reply
// whose result code is not a success code. It is wrapped in a *billkey.Error
// with code EPG whose Message is DescribeRefusal's "sentence ([code] message)".
type ResultError struct {
	Op         string // "billing", "auth", "refund", "inquiry", "payAuth", "netCancel", "window"
	Code       string // resultCode as INICIS sent it
	Message    string // resultMsg as INICIS sent it
	DetailCode string // detailResultCode, when present
	TID        string // tid, when present (declined charges carry one)
}

// Error implements error.
func (e *ResultError) Error() string {
	return fmt.Sprintf("inicis: %s refused: [%s] %s", e.Op, e.Code, e.Message)
}

// pgRefusal wraps a ResultError as billkey's EPG error whose message is the
// buyer's sentence followed by INICIS's code and message (DescribeRefusal).
func pgRefusal(re *ResultError) *billkey.Error {
	return &billkey.Error{Code: billkey.EPG, Message: DescribeRefusal(re.Op, re.Code, re.Message), Err: re}
}

// notSent is the EPG error for a request that never reached INICIS.
func notSent(op string, cause error) *billkey.Error {
	return &billkey.Error{
		Code:    billkey.EPG,
		Message: "PG사 서버에 연결하지 못했습니다. 요청이 전달되지 않아 처리된 내용이 없습니다. (PG connection failed; nothing was sent)",
		Err:     fmt.Errorf("%s: %w: %w", op, ErrNotSent, cause),
	}
}

// noReply is the EUNCERTAIN error for a request whose outcome is unknown.
func noReply(op string, cause error) *billkey.Error {
	return &billkey.Error{
		Code:    billkey.EUNCERTAIN,
		Message: "PG사 응답을 받지 못해 처리 결과를 알 수 없습니다. (PG reply lost; outcome unknown)",
		Err:     fmt.Errorf("%s: %w: %w", op, ErrNoReply, cause),
	}
}

// tampered is the error for a reply that fails an integrity check.
func tampered(op, what string) *billkey.Error {
	return &billkey.Error{
		Code:    billkey.EPG,
		Message: "PG사 응답 검증에 실패했습니다. (" + what + ")",
		Err:     fmt.Errorf("%s: %w: %s", op, ErrTampered, what),
	}
}
