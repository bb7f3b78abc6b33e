package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/billkey/billkey"
)

const cardUpdateColumns = `id, merchant_id, subscription_id, customer_uid, token_hash, created_at, expires_at, used_at, imp_uid,
	retry_imp_uid`

func scanCardUpdateLink(row rowScanner) (*billkey.CardUpdateLink, error) {
	var l billkey.CardUpdateLink
	var created, expires, used int64
	if err := row.Scan(&l.ID, &l.MerchantID, &l.SubscriptionID, &l.CustomerUID, &l.TokenHash, &created, &expires, &used, &l.ImpUID, &l.RetryImpUID); err != nil {
		return nil, err
	}
	l.CreatedAt, l.ExpiresAt, l.UsedAt = fromUnix(created), fromUnix(expires), fromUnix(used)
	return &l, nil
}

// CreateCardUpdateLink inserts an unused link and sets its ID.
func (s *Store) CreateCardUpdateLink(ctx context.Context, l *billkey.CardUpdateLink) error {
	if len(l.TokenHash) == 0 {
		return fmt.Errorf("sqlstore: card-update link without a token hash")
	}
	if err := s.DB.QueryRowContext(ctx, `INSERT INTO card_update_links (merchant_id, subscription_id, customer_uid, token_hash,
			created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
		l.MerchantID, l.SubscriptionID, l.CustomerUID, l.TokenHash, unix(l.CreatedAt), unix(l.ExpiresAt)).Scan(&l.ID); err != nil {
		return fmt.Errorf("sqlstore: insert card-update link: %w", err)
	}
	return nil
}

func (s *Store) cardUpdateLink(ctx context.Context, query string, args ...any) (*billkey.CardUpdateLink, error) {
	ls, err := queryAll(ctx, s.DB, "card-update links", scanCardUpdateLink, `SELECT `+cardUpdateColumns+` FROM card_update_links WHERE `+query, args...)
	if err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, notFound("카드 변경 링크를 찾을 수 없습니다.")
	}
	return ls[0], nil
}

// CardUpdateLinkByToken returns the link whose token hashes to tokenHash;
// ENOTFOUND if none.
func (s *Store) CardUpdateLinkByToken(ctx context.Context, tokenHash []byte) (*billkey.CardUpdateLink, error) {
	return s.cardUpdateLink(ctx, `token_hash = $1`, tokenHash)
}

// CardUpdateLinkByID returns the merchant's link; ENOTFOUND if none.
func (s *Store) CardUpdateLinkByID(ctx context.Context, merchantID, id int64) (*billkey.CardUpdateLink, error) {
	return s.cardUpdateLink(ctx, `merchant_id = $1 AND id = $2`, merchantID, id)
}

// CardUpdateLinks returns the subscription's links, newest first (at most
// limit).
func (s *Store) CardUpdateLinks(ctx context.Context, merchantID, subscriptionID int64, limit int) ([]*billkey.CardUpdateLink, error) {
	return queryAll(ctx, s.DB, "card-update links", scanCardUpdateLink, `SELECT `+cardUpdateColumns+` FROM card_update_links
		WHERE merchant_id = $1 AND subscription_id = $2 ORDER BY id DESC LIMIT $3`, merchantID, subscriptionID, limit)
}

// UseCardUpdateLink marks an unused link used by the issuance impUID,
// recording retryImpUID (the declined payment the update retries). It
// reports false, changing nothing, when the link was used already: of
// concurrent window completions, exactly one wins.
func (s *Store) UseCardUpdateLink(ctx context.Context, id int64, impUID, retryImpUID string, now time.Time) (bool, error) {
	return s.execOne(ctx, "use card-update link", `UPDATE card_update_links SET used_at = $1, imp_uid = $2, retry_imp_uid = $3
		WHERE id = $4 AND used_at = 0`, unix(now), impUID, retryImpUID, id)
}

// ReleaseCardUpdateLink makes a link unused again after the window that
// used it (impUID) could not store the new card.
func (s *Store) ReleaseCardUpdateLink(ctx context.Context, id int64, impUID string) error {
	_, err := s.execOne(ctx, "release card-update link", `UPDATE card_update_links SET used_at = 0, imp_uid = '', retry_imp_uid = ''
		WHERE id = $1 AND imp_uid = $2`, id, impUID)
	return err
}

// execOne runs a conditional single-row update and reports whether it
// changed the row.
func (s *Store) execOne(ctx context.Context, what, query string, args ...any) (bool, error) {
	res, err := s.DB.ExecContext(ctx, query, args...)
	if err != nil {
		return false, fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlstore: %s: %w", what, err)
	}
	return n == 1, nil
}
