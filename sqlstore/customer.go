package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/billkey/billkey"
)

const customerColumns = `id, merchant_id, channel_id, customer_uid, pg_provider, pg_id, card_code, card_name, card_number,
	card_type, name, tel, email, addr, postcode, key_cipher, inserted, updated, customer_id`

// scanCustomer scans customerColumns, then any extra columns into extra.
func scanCustomer(row rowScanner, extra ...any) (*billkey.Customer, error) {
	var c billkey.Customer
	var cardType sql.NullInt64
	var inserted, updated int64
	dest := append([]any{&c.ID, &c.MerchantID, &c.ChannelID, &c.CustomerUID, &c.PGProvider, &c.PGID, &c.CardCode,
		&c.CardName, &c.CardNumber, &cardType, &c.Name, &c.Tel, &c.Email, &c.Addr, &c.Postcode, &c.KeyCiphertext,
		&inserted, &updated, &c.CustomerID}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	if cardType.Valid {
		v := int(cardType.Int64)
		c.CardType = &v
	}
	c.Inserted, c.Updated = fromUnix(inserted), fromUnix(updated)
	return &c, nil
}

// SaveCustomer stores a billing key under its customer_uid. An existing
// record is replaced (keeping its inserted time) and its old key is moved,
// still sealed, to retired_billing_keys as superseded. It reports whether a
// key was replaced.
func (s *Store) SaveCustomer(ctx context.Context, c *billkey.Customer) (replaced bool, err error) {
	ctx, span := s.span(ctx, "SaveCustomer")
	defer endSpan(span, &err)
	now := s.Now()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		old, err := scanCustomer(tx.QueryRowContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE merchant_id = $1 AND customer_uid = $2`,
			c.MerchantID, c.CustomerUID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			c.Inserted, c.Updated = now, now
			err := tx.QueryRowContext(ctx, `INSERT INTO customers (merchant_id, channel_id, customer_uid, pg_provider, pg_id,
					card_code, card_name, card_number, card_type, name, tel, email, addr, postcode, key_cipher, inserted, updated,
					customer_id)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id`,
				c.MerchantID, c.ChannelID, c.CustomerUID, c.PGProvider, c.PGID, c.CardCode, c.CardName, c.CardNumber,
				nullIntPtr(c.CardType), c.Name, c.Tel, c.Email, c.Addr, c.Postcode, c.KeyCiphertext, unix(now), unix(now),
				c.CustomerID).Scan(&c.ID)
			if err != nil {
				return fmt.Errorf("sqlstore: insert customer: %w", err)
			}
			return nil
		case err != nil:
			return fmt.Errorf("sqlstore: save customer: %w", err)
		}
		replaced = true
		if err := retireKey(ctx, tx, old, "superseded", now); err != nil {
			return err
		}
		c.ID, c.Inserted, c.Updated = old.ID, old.Inserted, now
		_, err = tx.ExecContext(ctx, `UPDATE customers SET channel_id = $1, pg_provider = $2, pg_id = $3, card_code = $4,
				card_name = $5, card_number = $6, card_type = $7, name = $8, tel = $9, email = $10, addr = $11, postcode = $12,
				key_cipher = $13, updated = $14, customer_id = $15
			WHERE id = $16`,
			c.ChannelID, c.PGProvider, c.PGID, c.CardCode, c.CardName, c.CardNumber, nullIntPtr(c.CardType), c.Name, c.Tel,
			c.Email, c.Addr, c.Postcode, c.KeyCiphertext, unix(now), c.CustomerID, c.ID)
		if err != nil {
			return fmt.Errorf("sqlstore: replace customer: %w", err)
		}
		return nil
	})
	return replaced, err
}

func retireKey(ctx context.Context, tx *sql.Tx, c *billkey.Customer, reason string, now interface{ Unix() int64 }) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO retired_billing_keys (merchant_id, channel_id, customer_uid, pg_id, card_number,
			key_cipher, reason, retired_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		c.MerchantID, c.ChannelID, c.CustomerUID, c.PGID, c.CardNumber, c.KeyCiphertext, reason, now.Unix())
	if err != nil {
		return fmt.Errorf("sqlstore: retire key: %w", err)
	}
	return nil
}

// CustomerByUID returns the merchant's billing-key record; ENOTFOUND if none.
func (s *Store) CustomerByUID(ctx context.Context, merchantID int64, customerUID string) (_ *billkey.Customer, err error) {
	ctx, span := s.span(ctx, "CustomerByUID")
	defer endSpan(span, &err)
	st, err := s.prepared(ctx, s.read, `SELECT `+customerColumns+` FROM customers WHERE merchant_id = $1 AND customer_uid = $2`)
	if err != nil {
		return nil, err
	}
	c, err := scanCustomer(st.QueryRowContext(ctx, merchantID, customerUID))
	if err != nil {
		return nil, rowErr(err, "customer", func() error {
			return notFound("요청하신 customer_uid(%s)로 등록된 정보를 찾을 수 없습니다.", customerUID)
		})
	}
	return c, nil
}

// customerForChargeSQL reads a customer and the amounts prepared for a
// merchant_uid (if any) in one statement: a charge needs both, and on
// PostgreSQL each statement is a round trip.
var customerForChargeSQL = `SELECT ` + qualified("c.", customerColumns) + `,
	p.amount, p.currency, p.created_at, p.updated_at
	FROM customers c LEFT JOIN payment_prepares p ON p.merchant_id = c.merchant_id AND p.merchant_uid = $3
	WHERE c.merchant_id = $1 AND c.customer_uid = $2`

// CustomerForCharge returns the merchant's customer for customerUID and the
// amounts prepared in advance for merchantUID (nil when none were), read
// together. An unknown customer is ENOTFOUND, as with CustomerByUID.
func (s *Store) CustomerForCharge(ctx context.Context, merchantID int64, customerUID, merchantUID string) (_ *billkey.Customer, _ *billkey.Prepare, err error) {
	ctx, span := s.span(ctx, "CustomerForCharge")
	defer endSpan(span, &err)
	st, err := s.prepared(ctx, s.read, customerForChargeSQL)
	if err != nil {
		return nil, nil, err
	}
	var amount, created, updated sql.NullInt64
	var currency sql.NullString
	c, err := scanCustomer(st.QueryRowContext(ctx, merchantID, customerUID, merchantUID), &amount, &currency, &created, &updated)
	if err != nil {
		return nil, nil, rowErr(err, "customer", func() error {
			return notFound("요청하신 customer_uid(%s)로 등록된 정보를 찾을 수 없습니다.", customerUID)
		})
	}
	if !amount.Valid {
		return c, nil, nil
	}
	return c, &billkey.Prepare{MerchantID: merchantID, MerchantUID: merchantUID, Amount: amount.Int64,
		Currency: currency.String, Created: fromUnix(created.Int64), Updated: fromUnix(updated.Int64)}, nil
}

// qualified prefixes every column of a comma-separated list with prefix.
func qualified(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// DeleteCustomer deletes the merchant's billing-key record and returns it; its
// key moves, still sealed, to retired_billing_keys as deleted.
func (s *Store) DeleteCustomer(ctx context.Context, merchantID int64, customerUID string) (*billkey.Customer, error) {
	var c *billkey.Customer
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		c, err = scanCustomer(tx.QueryRowContext(ctx, `SELECT `+customerColumns+` FROM customers WHERE merchant_id = $1 AND customer_uid = $2`,
			merchantID, customerUID))
		if err != nil {
			return rowErr(err, "delete customer", func() error {
				return notFound("요청하신 customer_uid(%s)로 등록된 정보를 찾을 수 없습니다.", customerUID)
			})
		}
		if err := retireKey(ctx, tx, c, "deleted", s.Now()); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM customers WHERE id = $1`, c.ID); err != nil {
			return fmt.Errorf("sqlstore: delete customer: %w", err)
		}
		return nil
	})
	return c, err
}

// BillingKeyBlobs returns every sealed billing key (current and retired) with
// what binds it, for key rotation.
func (s *Store) BillingKeyBlobs(ctx context.Context) ([]billkey.KeyBlob, error) {
	var out []billkey.KeyBlob
	for _, table := range []string{"customers", "retired_billing_keys"} {
		bs, err := s.keyBlobs(ctx, table, `SELECT id, merchant_id, customer_uid, key_cipher FROM `+table+` ORDER BY id`)
		if err != nil {
			return nil, err
		}
		out = append(out, bs...)
	}
	return out, nil
}

// keyBlobs reads the (id, merchant_id, customer_uid, blob) rows of a query
// over table.
func (s *Store) keyBlobs(ctx context.Context, table, query string) ([]billkey.KeyBlob, error) {
	return queryAll(ctx, s.DB, table+" sealed blobs", scanned(func(b *billkey.KeyBlob) []any {
		b.Table = table
		return []any{&b.ID, &b.MerchantID, &b.CustomerUID, &b.Blob}
	}), query)
}

// ChannelBlobs returns every sealed channel credential, for key rotation.
func (s *Store) ChannelBlobs(ctx context.Context) ([]billkey.KeyBlob, error) {
	return s.keyBlobs(ctx, "channels", `SELECT id, merchant_id, '', credentials_cipher FROM channels ORDER BY id`)
}

// ReplaceKeyBlob swaps a sealed billing key for its rewrapped form, only if
// the row still holds the old blob.
func (s *Store) ReplaceKeyBlob(ctx context.Context, b billkey.KeyBlob, newBlob []byte) error {
	col := "key_cipher"
	switch b.Table {
	case "customers", "retired_billing_keys":
	case "channels":
		col = "credentials_cipher"
	default:
		return fmt.Errorf("sqlstore: replace key blob: bad table %q", b.Table)
	}
	_, err := s.DB.ExecContext(ctx, `UPDATE `+b.Table+` SET `+col+` = $1 WHERE id = $2 AND `+col+` = $3`, newBlob, b.ID, b.Blob)
	if err != nil {
		return fmt.Errorf("sqlstore: replace key blob: %w", err)
	}
	return nil
}

func nullIntPtr(v *int) any {
	if v == nil {
		return nil
	}
	return int64(*v)
}
