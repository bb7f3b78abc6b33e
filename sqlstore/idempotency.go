package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/billkey/billkey"
)

// ExpireIdempotencyKeys deletes up to limit Idempotency-Key rows created
// before cutoff and reports how many it deleted.
func (s *Store) ExpireIdempotencyKeys(ctx context.Context, cutoff time.Time, limit int) (int64, error) {
	res, err := s.DB.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE (merchant_id, idem_key) IN (
		SELECT merchant_id, idem_key FROM idempotency_keys WHERE created_at < $1 LIMIT $2)`, unix(cutoff), limit)
	if err != nil {
		return 0, fmt.Errorf("sqlstore: expire idempotency keys: %w", err)
	}
	return res.RowsAffected()
}

// BeginIdempotent claims an Idempotency-Key for a request whose parameters
// hash to requestHash. It returns the stored reply when the key was used
// before with the same parameters; ECONFLICT while the first request is in
// flight; EMISMATCH when the parameters differ; and (nil, nil) when the
// caller now owns the key and must call FinishIdempotent or AbandonIdempotent.
func (s *Store) BeginIdempotent(ctx context.Context, merchantID int64, key string, requestHash []byte) (*billkey.StoredResponse, error) {
	now := s.Now()
	var stored *billkey.StoredResponse
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var hash, body []byte
		var state string
		var status int
		var created int64
		err := tx.QueryRowContext(ctx, `SELECT request_hash, state, response_status, response_body, created_at
			FROM idempotency_keys WHERE merchant_id = $1 AND idem_key = $2`, merchantID, key).Scan(&hash, &state, &status, &body, &created)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			_, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (merchant_id, idem_key, request_hash, state, created_at)
				VALUES ($1, $2, $3, 'in_flight', $4)`, merchantID, key, requestHash, unix(now))
			if isUniqueViolation(err) {
				return billkey.Errorf(billkey.ECONFLICT, "같은 Idempotency-Key의 요청이 처리 중입니다. (a request with this Idempotency-Key is in progress)")
			} else if err != nil {
				return fmt.Errorf("sqlstore: claim idempotency key: %w", err)
			}
			return nil
		case err != nil:
			return fmt.Errorf("sqlstore: idempotency key: %w", err)
		}
		if now.Sub(fromUnix(created)) >= billkey.IdempotencyTTL {
			// Expired but not swept yet: the key is new again.
			_, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET request_hash = $1, state = 'in_flight',
				response_status = 0, response_body = NULL, created_at = $2 WHERE merchant_id = $3 AND idem_key = $4`,
				requestHash, unix(now), merchantID, key)
			if err != nil {
				return fmt.Errorf("sqlstore: reuse expired idempotency key: %w", err)
			}
			return nil
		}
		if !bytes.Equal(hash, requestHash) {
			return billkey.Errorf(billkey.EMISMATCH, "Idempotency-Key가 다른 요청 파라미터로 재사용되었습니다. (Idempotency-Key reused with different parameters)")
		}
		if state == "done" {
			stored = &billkey.StoredResponse{Status: status, Body: body}
			return nil
		}
		if now.Sub(fromUnix(created)) < billkey.IdempotencyTakeover {
			return billkey.Errorf(billkey.ECONFLICT, "같은 Idempotency-Key의 요청이 처리 중입니다. (a request with this Idempotency-Key is in progress)")
		}
		_, err = tx.ExecContext(ctx, `UPDATE idempotency_keys SET created_at = $1 WHERE merchant_id = $2 AND idem_key = $3`, unix(now), merchantID, key)
		if err != nil {
			return fmt.Errorf("sqlstore: take over idempotency key: %w", err)
		}
		return nil
	})
	return stored, err
}

// FinishIdempotent stores the reply for a claimed Idempotency-Key.
func (s *Store) FinishIdempotent(ctx context.Context, merchantID int64, key string, resp billkey.StoredResponse) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE idempotency_keys SET state = 'done', response_status = $1, response_body = $2
		WHERE merchant_id = $3 AND idem_key = $4`, resp.Status, resp.Body, merchantID, key)
	if err != nil {
		return fmt.Errorf("sqlstore: finish idempotency key: %w", err)
	}
	return nil
}

// AbandonIdempotent releases a claimed key whose request ended in an internal
// error, so the client may retry it.
func (s *Store) AbandonIdempotent(ctx context.Context, merchantID int64, key string) error {
	_, err := s.DB.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE merchant_id = $1 AND idem_key = $2 AND state = 'in_flight'`, merchantID, key)
	if err != nil {
		return fmt.Errorf("sqlstore: abandon idempotency key: %w", err)
	}
	return nil
}
