package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/billkey/billkey"
)

// CurrentToken implements i'mport's token rules atomically for one merchant:
// while the current token is valid it is returned again (its expiry extended
// by billkey.TokenExtension when fewer than billkey.TokenExtendIn remain);
// otherwise the fresh token (nonce, tokenMAC) replaces it for
// billkey.TokenLifetime. Many servers of one merchant may race here: all get
// the same token.
func (s *Store) CurrentToken(ctx context.Context, merchantID int64, nonce, tokenMAC []byte, now time.Time) (*billkey.TokenRecord, error) {
	var rec billkey.TokenRecord
	err := s.tx(ctx, func(tx *sql.Tx) error {
		n := now.Unix()
		exp := now.Add(billkey.TokenLifetime).Unix()
		// Replace only an expired token; a valid one is kept.
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO access_tokens (merchant_id, nonce, token_mac, issued_at, expires_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (merchant_id) DO UPDATE
			SET nonce = excluded.nonce, token_mac = excluded.token_mac,
			    issued_at = excluded.issued_at, expires_at = excluded.expires_at
			WHERE access_tokens.expires_at <= $4`,
			merchantID, nonce, tokenMAC, n, exp); err != nil {
			return fmt.Errorf("sqlstore: issue token: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE access_tokens SET expires_at = expires_at + $2
			WHERE merchant_id = $1 AND expires_at > $3 AND expires_at - $3 <= $4`,
			merchantID, int64(billkey.TokenExtension/time.Second), n, int64(billkey.TokenExtendIn/time.Second)); err != nil {
			return fmt.Errorf("sqlstore: extend token: %w", err)
		}
		var issued, expires int64
		if err := tx.QueryRowContext(ctx, `SELECT nonce, issued_at, expires_at FROM access_tokens WHERE merchant_id = $1`,
			merchantID).Scan(&rec.Nonce, &issued, &expires); err != nil {
			return fmt.Errorf("sqlstore: read token: %w", err)
		}
		rec.MerchantID, rec.IssuedAt, rec.ExpiresAt = merchantID, fromUnix(issued), fromUnix(expires)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rec, nil
}

// TokenByMAC returns the merchant and expiry of the token with the MAC.
func (s *Store) TokenByMAC(ctx context.Context, tokenMAC []byte) (merchantID int64, expiresAt time.Time, err error) {
	var exp int64
	st, err := s.prepared(ctx, s.read, `SELECT merchant_id, expires_at FROM access_tokens WHERE token_mac = $1`)
	if err != nil {
		return 0, time.Time{}, err
	}
	err = st.QueryRowContext(ctx, tokenMAC).Scan(&merchantID, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, time.Time{}, billkey.Errorf(billkey.EUNAUTHORIZED, "유효하지 않은 토큰입니다. (invalid access token)")
	} else if err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlstore: token lookup: %w", err)
	}
	return merchantID, fromUnix(exp), nil
}
