package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/billkey/billkey"
)

// RecordOrphan records an orphan (once per payment, kind and PG tid), adds
// note to the payment's fail_reason when the payment is failed, and queues
// ev in the same transaction. It reports false, changing nothing, when the
// orphan was already recorded.
func (s *Store) RecordOrphan(ctx context.Context, o *billkey.Orphan, note string, ev *billkey.Event) (bool, error) {
	now := s.Now()
	o.CreatedAt = now
	var added bool
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO orphan_approvals (merchant_id, payment_id, kind, pg_tid, amount, state,
				next_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
			ON CONFLICT (payment_id, kind, pg_tid) DO NOTHING RETURNING id`,
			o.MerchantID, o.PaymentID, o.Kind, o.PGTID, o.Amount, o.State, unix(o.NextAt), unix(now)).Scan(&o.ID)
		if err == sql.ErrNoRows {
			return nil
		} else if err != nil {
			return fmt.Errorf("sqlstore: record orphan: %w", err)
		}
		added = true
		if note != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE payments SET fail_reason = fail_reason || $1, updated_at = $2
				WHERE id = $3 AND status = 'failed'`, note, unix(now), o.PaymentID); err != nil {
				return fmt.Errorf("sqlstore: record orphan: %w", err)
			}
		}
		if ev != nil {
			return s.insertEvent(ctx, tx, ev, now)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return added, nil
}

const orphanColumns = `id, merchant_id, payment_id, kind, pg_tid, amount, state, attempts, next_at, last_error, created_at`

func scanOrphan(row rowScanner) (*billkey.Orphan, error) {
	var o billkey.Orphan
	var next, created int64
	if err := row.Scan(&o.ID, &o.MerchantID, &o.PaymentID, &o.Kind, &o.PGTID, &o.Amount, &o.State, &o.Attempts,
		&next, &o.LastError, &created); err != nil {
		return nil, err
	}
	o.NextAt, o.CreatedAt = fromUnix(next), fromUnix(created)
	return &o, nil
}

// DueOrphans returns orphan approvals still to refund whose next attempt is
// due at now, oldest first.
func (s *Store) DueOrphans(ctx context.Context, now time.Time, limit int) ([]*billkey.Orphan, error) {
	return queryAll(ctx, s.DB, "orphans", scanOrphan, `SELECT `+orphanColumns+` FROM orphan_approvals
		WHERE state = 'refunding' AND next_at <= $1 ORDER BY next_at, id LIMIT $2`, unix(now), limit)
}

// Orphans returns every orphan of the payment, oldest first.
func (s *Store) Orphans(ctx context.Context, paymentID int64) ([]*billkey.Orphan, error) {
	return queryAll(ctx, s.read, "orphans", scanOrphan, `SELECT `+orphanColumns+` FROM orphan_approvals
		WHERE payment_id = $1 ORDER BY id`, paymentID)
}

// SettleOrphan records the result of one refund attempt of an orphan
// approval: state refunded, or still refunding with the error and the next
// attempt's time.
func (s *Store) SettleOrphan(ctx context.Context, o *billkey.Orphan) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE orphan_approvals SET state = $1, attempts = $2, next_at = $3, last_error = $4,
		updated_at = $5 WHERE id = $6 AND state = 'refunding'`,
		o.State, o.Attempts, unix(o.NextAt), o.LastError, unix(s.Now()), o.ID)
	if err != nil {
		return fmt.Errorf("sqlstore: settle orphan: %w", err)
	}
	return nil
}

// ProbeWrite proves the database takes writes: it upserts the node's row of
// health_probes (one tiny durable write).
func (s *Store) ProbeWrite(ctx context.Context, node string) error {
	now := unix(s.Now())
	err := s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO health_probes (node, at) VALUES ($1, $2)
			ON CONFLICT (node) DO UPDATE SET at = excluded.at`, node, now)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlstore: write probe: %w", err)
	}
	return nil
}

// MigrationsCurrent reports an error unless every embedded migration is
// applied (a node older than its database, or a database not migrated).
func (s *Store) MigrationsCurrent(ctx context.Context) error {
	p, err := s.dialect.migrationProvider(s.read, false)
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("sqlstore: migrations: %w", err)
	}
	if pending {
		return fmt.Errorf("sqlstore: migrations pending")
	}
	return nil
}
