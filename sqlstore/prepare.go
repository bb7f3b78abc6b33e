package sqlstore

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/billkey/billkey"
)

// CreatePrepare registers a merchant_uid's amount. A merchant_uid already
// registered is refused (EREJECTED): use UpdatePrepare to change it.
func (s *Store) CreatePrepare(ctx context.Context, p *billkey.Prepare) error {
	now := s.Now()
	p.Created, p.Updated = now, now
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO payment_prepares (merchant_id, merchant_uid, amount, currency, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, p.MerchantID, p.MerchantUID, p.Amount, p.Currency, unix(now), unix(now))
		return err
	})
	if isUniqueViolation(err) {
		return billkey.WrapError(billkey.EREJECTED, billkey.PrepareExistsMessage, err)
	} else if err != nil {
		return fmt.Errorf("sqlstore: create prepare: %w", err)
	}
	return nil
}

// UpdatePrepare changes a registered merchant_uid's amount and currency;
// an unknown merchant_uid is ENOTFOUND with i'mport's message.
func (s *Store) UpdatePrepare(ctx context.Context, p *billkey.Prepare) error {
	now := s.Now()
	var created int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `UPDATE payment_prepares SET amount = $1, currency = $2, updated_at = $3
			WHERE merchant_id = $4 AND merchant_uid = $5 RETURNING created_at`,
			p.Amount, p.Currency, unix(now), p.MerchantID, p.MerchantUID).Scan(&created)
	})
	if err != nil {
		return rowErr(err, "update prepare", func() error { return notFound(billkey.NoPrepareMessage) })
	}
	p.Created, p.Updated = fromUnix(created), now
	return nil
}

// PrepareByMerchantUID returns a merchant_uid's pre-registration, or
// ENOTFOUND with i'mport's message.
func (s *Store) PrepareByMerchantUID(ctx context.Context, merchantID int64, merchantUID string) (*billkey.Prepare, error) {
	p := &billkey.Prepare{MerchantID: merchantID, MerchantUID: merchantUID}
	var created, updated int64
	err := s.read.QueryRowContext(ctx, `SELECT amount, currency, created_at, updated_at FROM payment_prepares
		WHERE merchant_id = $1 AND merchant_uid = $2`, merchantID, merchantUID).Scan(&p.Amount, &p.Currency, &created, &updated)
	if err != nil {
		return nil, rowErr(err, "prepare", func() error { return notFound(billkey.NoPrepareMessage) })
	}
	p.Created, p.Updated = fromUnix(created), fromUnix(updated)
	return p, nil
}
