package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/billkey/billkey"
)

const windowColumns = `id, token_hash, merchant_id, channel_id, payment_id, imp_uid, merchant_uid, customer_uid, order_id,
	kind, delivery, opener_origin, redirect_url, request_id, state, result, created_at, expires_at, finished_at, customer_id,
	card_update_link_id`

func scanWindowAttempt(row rowScanner) (*billkey.WindowAttempt, error) {
	var a billkey.WindowAttempt
	var result string
	var created, expires, finished int64
	if err := row.Scan(&a.ID, &a.TokenHash, &a.MerchantID, &a.ChannelID, &a.PaymentID, &a.ImpUID, &a.MerchantUID,
		&a.CustomerUID, &a.OrderID, &a.Kind, &a.Delivery, &a.OpenerOrigin, &a.RedirectURL, &a.RequestID, &a.State,
		&result, &created, &expires, &finished, &a.CustomerID, &a.CardUpdateLinkID); err != nil {
		return nil, err
	}
	if result != "" {
		a.Result = []byte(result)
	}
	a.CreatedAt, a.ExpiresAt, a.FinishedAt = fromUnix(created), fromUnix(expires), fromUnix(finished)
	return &a, nil
}

// CreateWindowAttempt inserts an open attempt and sets its ID. The payment it
// names must exist (normally just created ready). A token hash that is
// already used is an error (tokens are 256-bit random values).
func (s *Store) CreateWindowAttempt(ctx context.Context, a *billkey.WindowAttempt) error {
	if len(a.TokenHash) == 0 {
		return errors.New("sqlstore: window attempt without a token hash")
	}
	if a.State == "" {
		a.State = billkey.WindowOpen
	}
	err := s.DB.QueryRowContext(ctx, `
		INSERT INTO window_attempts (token_hash, merchant_id, channel_id, payment_id, imp_uid, merchant_uid, customer_uid,
			order_id, kind, delivery, opener_origin, redirect_url, request_id, state, result, created_at, expires_at, customer_id,
			card_update_link_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
		RETURNING id`,
		a.TokenHash, a.MerchantID, a.ChannelID, a.PaymentID, a.ImpUID, a.MerchantUID, a.CustomerUID, a.OrderID, a.Kind,
		a.Delivery, a.OpenerOrigin, a.RedirectURL, a.RequestID, a.State, string(a.Result), unix(a.CreatedAt),
		unix(a.ExpiresAt), a.CustomerID, a.CardUpdateLinkID).Scan(&a.ID)
	if err != nil {
		return fmt.Errorf("sqlstore: insert window attempt: %w", err)
	}
	return nil
}

// WindowAttemptByToken returns the attempt whose token hashes to tokenHash;
// ENOTFOUND if there is none.
func (s *Store) WindowAttemptByToken(ctx context.Context, tokenHash []byte) (*billkey.WindowAttempt, error) {
	a, err := scanWindowAttempt(s.DB.QueryRowContext(ctx, `SELECT `+windowColumns+` FROM window_attempts WHERE token_hash = $1`, tokenHash))
	if err != nil {
		return nil, rowErr(err, "window attempt", func() error { return notFound("결제창 요청 정보를 찾을 수 없습니다.") })
	}
	return a, nil
}

// WindowAttemptByID returns an attempt by its ID; ENOTFOUND if there is none.
func (s *Store) WindowAttemptByID(ctx context.Context, id int64) (*billkey.WindowAttempt, error) {
	a, err := scanWindowAttempt(s.DB.QueryRowContext(ctx, `SELECT `+windowColumns+` FROM window_attempts WHERE id = $1`, id))
	if err != nil {
		return nil, rowErr(err, "window attempt", func() error { return notFound("결제창 요청 정보를 찾을 수 없습니다.") })
	}
	return a, nil
}

// ClaimWindowAttempt moves an open attempt that has not expired at now to
// processing. It reports false, changing nothing, when the attempt was not
// open (already claimed, finished or failed) or has expired: of concurrent
// or replayed return posts, exactly one wins.
func (s *Store) ClaimWindowAttempt(ctx context.Context, id int64, now time.Time) (bool, error) {
	n, err := execCount(ctx, s.DB, "claim window attempt", `UPDATE window_attempts SET state = $1 WHERE id = $2 AND state = $3 AND expires_at > $4`,
		billkey.WindowProcessing, id, billkey.WindowOpen, unix(now))
	return n == 1, err
}

// FinishWindowAttempt records the final state (WindowDone or WindowFailed)
// and the delivered result of an attempt that is in one of the states from.
// It reports false, changing nothing, when the attempt was in none of them.
func (s *Store) FinishWindowAttempt(ctx context.Context, id int64, from []string, state string, result []byte, now time.Time) (bool, error) {
	if state != billkey.WindowDone && state != billkey.WindowFailed {
		return false, fmt.Errorf("sqlstore: window attempt cannot finish as %q", state)
	}
	if len(from) == 0 {
		return false, errors.New("sqlstore: finish window attempt: no source state")
	}
	w := &filter{args: []any{state, string(result), unix(now)}}
	w.add("id = ?", id)
	w.raw(w.in("state", from))
	n, err := execCount(ctx, s.DB, "finish window attempt", `UPDATE window_attempts SET state = $1, result = $2, finished_at = $3
		WHERE `+w.String(), w.args...)
	return n == 1, err
}

// OpenWindowAttempts returns the merchant's open attempts for a merchant_uid,
// oldest first.
func (s *Store) OpenWindowAttempts(ctx context.Context, merchantID int64, merchantUID string) ([]*billkey.WindowAttempt, error) {
	return s.queryWindowAttempts(ctx, `SELECT `+windowColumns+` FROM window_attempts
		WHERE merchant_id = $1 AND merchant_uid = $2 AND state = $3 ORDER BY id`, merchantID, merchantUID, billkey.WindowOpen)
}

// DueWindowAttempts returns, oldest first, the attempts the expiry sweep must
// settle at now: open ones past their expiry; processing ones that expired
// before staleProcessing (a node stopped while handling the return post);
// and done ones whose payment is still ready (the outcome was delivered but
// recording it on the payment failed).
func (s *Store) DueWindowAttempts(ctx context.Context, now, staleProcessing time.Time, limit int) ([]*billkey.WindowAttempt, error) {
	return s.queryWindowAttempts(ctx, `SELECT `+prefixed("w.", windowColumns)+` FROM window_attempts w
		JOIN payments p ON p.id = w.payment_id
		WHERE (w.state = $1 AND w.expires_at <= $2)
		   OR (w.state = $3 AND w.expires_at <= $4)
		   OR (w.state = $5 AND p.status = $6)
		ORDER BY w.id LIMIT $7`,
		billkey.WindowOpen, unix(now), billkey.WindowProcessing, unix(staleProcessing), billkey.WindowDone, string(billkey.StatusReady), limit)
}

func (s *Store) queryWindowAttempts(ctx context.Context, query string, args ...any) ([]*billkey.WindowAttempt, error) {
	return queryAll(ctx, s.DB, "window attempts", scanWindowAttempt, query, args...)
}

// prefixed qualifies each column of a comma-separated list.
func prefixed(prefix, columns string) string {
	parts := strings.Split(columns, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}
