package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/billkey/billkey"
)

const deliveryColumns = `id, event_id, merchant_id, imp_uid, merchant_uid, status, url, body, state, attempts,
	next_attempt_ms, give_up_ms, lease_owner, lease_until_ms, last_status_code, last_error, delivered_at, created_at, updated_at`

func scanDelivery(row rowScanner) (*billkey.WebhookDelivery, error) {
	var d billkey.WebhookDelivery
	var status, state, body string
	var next, giveUp, lease, delivered, created, updated int64
	if err := row.Scan(&d.ID, &d.EventID, &d.MerchantID, &d.ImpUID, &d.MerchantUID, &status, &d.URL, &body, &state,
		&d.Attempts, &next, &giveUp, &d.LeaseOwner, &lease, &d.LastStatusCode, &d.LastError, &delivered, &created,
		&updated); err != nil {
		return nil, err
	}
	d.Status, d.State, d.Body = billkey.PaymentStatus(status), billkey.DeliveryState(state), []byte(body)
	d.NextAttemptAt, d.GiveUpAt, d.LeaseUntil = fromMillis(next), fromMillis(giveUp), fromMillis(lease)
	d.DeliveredAt, d.CreatedAt, d.UpdatedAt = fromUnix(delivered), fromUnix(created), fromUnix(updated)
	return &d, nil
}

func (s *Store) queryDeliveries(ctx context.Context, q queryer, query string, args ...any) ([]*billkey.WebhookDelivery, error) {
	return queryAll(ctx, q, "deliveries", scanDelivery, query, args...)
}

// RelayEvents turns up to limit outbox events not yet relayed into
// deliveries (one per event; build decides URL, body and state) and marks
// them relayed, in one transaction. Several nodes may relay at once: on
// PostgreSQL they skip each other's locked events, and the unique event_id
// of deliveries makes a second relay of one event a no-op anyway. It
// returns how many events it relayed.
func (s *Store) RelayEvents(ctx context.Context, limit int, build func(billkey.RelayedEvent) billkey.NewDelivery) (int, error) {
	now := s.Now()
	if pending, err := s.exists(ctx, `SELECT 1 FROM events WHERE NOT relayed LIMIT 1`); err != nil || !pending {
		return 0, err
	}
	n := 0
	err := s.tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT e.id, e.merchant_id, e.imp_uid, e.merchant_uid, e.status, e.notice_url,
				e.created_at, m.webhook_url, e.payload
			FROM events e JOIN merchants m ON m.id = e.merchant_id
			WHERE NOT e.relayed ORDER BY e.id LIMIT $1`+s.dialect.skipLocked("e"), limit)
		if err != nil {
			return fmt.Errorf("sqlstore: relay events: %w", err)
		}
		var evs []billkey.RelayedEvent
		for rows.Next() {
			var ev billkey.RelayedEvent
			var status string
			var at int64
			if err := rows.Scan(&ev.ID, &ev.MerchantID, &ev.ImpUID, &ev.MerchantUID, &status, &ev.NoticeURL, &at,
				&ev.MerchantWebhookURL, &ev.Payload); err != nil {
				rows.Close()
				return fmt.Errorf("sqlstore: relay events: %w", err)
			}
			ev.Status, ev.CreatedAt = billkey.PaymentStatus(status), fromUnix(at)
			evs = append(evs, ev)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sqlstore: relay events: %w", err)
		}
		for _, ev := range evs {
			d := build(ev)
			if d.State == "" {
				d.State = billkey.DeliveryPending
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (event_id, merchant_id, imp_uid, merchant_uid, status,
					url, body, state, next_attempt_ms, give_up_ms, last_error, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
				ON CONFLICT (event_id) DO NOTHING`,
				ev.ID, ev.MerchantID, ev.ImpUID, ev.MerchantUID, string(ev.Status), d.URL, string(d.Body), string(d.State),
				millis(now), millis(d.GiveUpAt), d.Note, unix(now))
			if err != nil {
				return fmt.Errorf("sqlstore: insert delivery: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE events SET relayed = TRUE WHERE id = $1`, ev.ID); err != nil {
				return fmt.Errorf("sqlstore: mark event relayed: %w", err)
			}
		}
		n = len(evs)
		return nil
	})
	return n, err
}

// ClaimDueDeliveries leases up to limit pending deliveries due at now to
// owner until leaseUntil, oldest due first, rechecking every condition in
// the UPDATE (see ClaimDueSchedules).
func (s *Store) ClaimDueDeliveries(ctx context.Context, owner string, now, leaseUntil time.Time, limit int) ([]*billkey.WebhookDelivery, error) {
	if due, err := s.exists(ctx, `SELECT 1 FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_ms <= $1 AND lease_until_ms <= $1 LIMIT 1`,
		millis(now)); err != nil || !due {
		return nil, err
	}
	return s.queryDeliveries(ctx, s.DB, `WITH picked AS MATERIALIZED (SELECT id FROM webhook_deliveries
			WHERE state = 'pending' AND next_attempt_ms <= $3 AND lease_until_ms <= $3
			ORDER BY next_attempt_ms, id LIMIT $4`+s.dialect.skipLocked("")+`)
		UPDATE webhook_deliveries SET lease_owner = $1, lease_until_ms = $2
		WHERE id IN (SELECT id FROM picked) AND state = 'pending' AND next_attempt_ms <= $3 AND lease_until_ms <= $3
		RETURNING `+deliveryColumns,
		owner, millis(leaseUntil), millis(now), limit)
}

// RecordWebhookAttempt stores one attempt of a delivery and its outcome in
// one transaction: delivered, retried at Next, or failed for good. The
// delivery's state changes only while it is pending (a delivery another
// node already completed stays completed); owner's lease is released.
func (s *Store) RecordWebhookAttempt(ctx context.Context, d *billkey.WebhookDelivery, owner string, a billkey.WebhookAttempt, o billkey.AttemptOutcome) error {
	now := s.Now()
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, attempted_ms, status_code, latency_ms, error, node, response_excerpt)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			d.ID, millis(a.At), a.StatusCode, a.Latency.Milliseconds(), truncateText(a.Error, 500), a.Node, truncateText(a.Response, 512)); err != nil {
			return fmt.Errorf("sqlstore: insert webhook attempt: %w", err)
		}
		state, next, deliveredAt := billkey.DeliveryPending, millis(o.Next), int64(0)
		switch {
		case o.Delivered:
			state, next, deliveredAt = billkey.DeliveryDelivered, millis(d.NextAttemptAt), unix(a.At)
		case o.Next.IsZero():
			state, next = billkey.DeliveryFailed, millis(d.NextAttemptAt)
		}
		_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1,
				next_attempt_ms = $2,
				last_status_code = $3, last_error = $4, delivered_at = $5, updated_at = $6,
				lease_owner = CASE WHEN lease_owner = $7 THEN '' ELSE lease_owner END,
				lease_until_ms = CASE WHEN lease_owner = $7 THEN 0 ELSE lease_until_ms END
			WHERE id = $8 AND state = 'pending'`,
			string(state), next, a.StatusCode, truncateText(a.Error, 500), deliveredAt, unix(now), owner, d.ID)
		if err != nil {
			return fmt.Errorf("sqlstore: record webhook attempt: %w", err)
		}
		return nil
	})
}

// ListDeliveries returns one page of the merchant's deliveries matching f,
// newest first, each with its attempts, and the total number matching.
func (s *Store) ListDeliveries(ctx context.Context, f billkey.DeliveryFilter) ([]*billkey.WebhookDelivery, int, error) {
	w := where("merchant_id = ?", f.MerchantID)
	if f.ImpUID != "" {
		w.add("imp_uid = ?", f.ImpUID)
	}
	if f.MerchantUID != "" {
		w.add("merchant_uid = ?", f.MerchantUID)
	}
	if f.State != "" {
		w.add("state = ?", string(f.State))
	}
	total, err := w.count(ctx, s.DB, "webhook_deliveries")
	if err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 20
	}
	query, args := w.page(deliveryColumns, "webhook_deliveries", "id DESC", limit, f.Offset)
	ds, err := s.deliveriesWithAttempts(ctx, query, args...)
	return ds, total, err
}

// deliveriesWithAttempts runs a deliveries query and loads the attempts of
// each.
func (s *Store) deliveriesWithAttempts(ctx context.Context, query string, args ...any) ([]*billkey.WebhookDelivery, error) {
	ds, err := s.queryDeliveries(ctx, s.DB, query, args...)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		if d.Log, err = s.webhookAttempts(ctx, d.ID); err != nil {
			return nil, err
		}
	}
	return ds, nil
}

// DeliveryByID returns one of the merchant's deliveries with its attempts.
func (s *Store) DeliveryByID(ctx context.Context, merchantID, id int64) (*billkey.WebhookDelivery, error) {
	ds, err := s.deliveriesWithAttempts(ctx, `SELECT `+deliveryColumns+` FROM webhook_deliveries WHERE merchant_id = $1 AND id = $2`,
		merchantID, id)
	return first(ds, err, func() error { return notFound("웹훅 전송 기록이 존재하지 않습니다. (id: %d)", id) })
}

func (s *Store) webhookAttempts(ctx context.Context, deliveryID int64) ([]billkey.WebhookAttempt, error) {
	return queryAll(ctx, s.DB, "webhook attempts", func(r rowScanner) (billkey.WebhookAttempt, error) {
		var a billkey.WebhookAttempt
		var at, latency int64
		err := r.Scan(&a.ID, &a.DeliveryID, &at, &a.StatusCode, &latency, &a.Error, &a.Node, &a.Response)
		a.At, a.Latency = fromMillis(at), time.Duration(latency)*time.Millisecond
		return a, err
	}, `SELECT id, delivery_id, attempted_ms, status_code, latency_ms, error, node, response_excerpt
		FROM webhook_attempts WHERE delivery_id = $1 ORDER BY id`, deliveryID)
}

// ResendDelivery makes a delivery pending again, due now and retried until
// giveUp, whatever its state (a manual resend, as i'mport's console offers).
// It goes to the URL stored with it; one relayed without a URL takes the
// merchant's current URL. EREJECTED when there is still no URL.
func (s *Store) ResendDelivery(ctx context.Context, merchantID, id int64, giveUp time.Time) (*billkey.WebhookDelivery, error) {
	now := s.Now()
	var d *billkey.WebhookDelivery
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var url, merchantURL string
		err := tx.QueryRowContext(ctx, `SELECT d.url, m.webhook_url FROM webhook_deliveries d JOIN merchants m ON m.id = d.merchant_id
			WHERE d.merchant_id = $1 AND d.id = $2`, merchantID, id).Scan(&url, &merchantURL)
		if err != nil {
			return rowErr(err, "resend delivery", func() error { return notFound("웹훅 전송 기록이 존재하지 않습니다. (id: %d)", id) })
		}
		if url == "" {
			url = merchantURL
		}
		if url == "" {
			return billkey.Errorf(billkey.EREJECTED, "웹훅 URL이 설정되지 않았습니다. PUT /webhooks/url로 먼저 설정해주세요.")
		}
		ds, err := s.queryDeliveries(ctx, tx, `UPDATE webhook_deliveries SET state = 'pending', url = $1, next_attempt_ms = $2,
				give_up_ms = $3, updated_at = $4
			WHERE id = $5 RETURNING `+deliveryColumns, url, millis(now), millis(giveUp), unix(now), id)
		if err != nil {
			return err
		}
		d = ds[0]
		return nil
	})
	return d, err
}

// AddWebhookSecret makes secret the merchant's signing secret. The newest
// previous secret stays valid until previousUntil (at most two secrets are
// valid at once); any older one expires now. The secret is sealed before it
// reaches the database.
func (s *Store) AddWebhookSecret(ctx context.Context, merchantID int64, secret string, previousUntil time.Time) error {
	now := s.Now()
	return s.tx(ctx, func(tx *sql.Tx) error {
		var latest int64
		err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM webhook_secrets WHERE merchant_id = $1
			AND (expires_at = 0 OR expires_at > $2)`, merchantID, unix(now)).Scan(&latest)
		if err != nil {
			return fmt.Errorf("sqlstore: add webhook secret: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_secrets SET expires_at = $1
			WHERE merchant_id = $2 AND id <> $3 AND (expires_at = 0 OR expires_at > $1)`, unix(now), merchantID, latest); err != nil {
			return fmt.Errorf("sqlstore: expire webhook secrets: %w", err)
		}
		if latest != 0 {
			until := max(unix(previousUntil), unix(now))
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_secrets SET expires_at = $1
				WHERE id = $2 AND (expires_at = 0 OR expires_at > $1)`, until, latest); err != nil {
				return fmt.Errorf("sqlstore: expire previous webhook secret: %w", err)
			}
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO webhook_secrets (merchant_id, secret_cipher, created_at) VALUES ($1, $2, $3) RETURNING id`,
			merchantID, []byte{}, unix(now)).Scan(&id); err != nil {
			return fmt.Errorf("sqlstore: insert webhook secret: %w", err)
		}
		blob, err := s.sealer.Seal([]byte(secret), PurposeWebhookSecret, merchantID, strconv.FormatInt(id, 10))
		if err != nil {
			return fmt.Errorf("sqlstore: seal webhook secret: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_secrets SET secret_cipher = $1 WHERE id = $2`, blob, id); err != nil {
			return fmt.Errorf("sqlstore: store webhook secret: %w", err)
		}
		return nil
	})
}

// WebhookSecrets returns the merchant's secrets valid at now, newest first
// (at most two), decrypted, and their descriptions.
func (s *Store) WebhookSecrets(ctx context.Context, merchantID int64, now time.Time) ([]string, []billkey.WebhookSecretInfo, error) {
	rows, err := s.DB.QueryContext(ctx, `SELECT id, secret_cipher, created_at, expires_at FROM webhook_secrets
		WHERE merchant_id = $1 AND (expires_at = 0 OR expires_at > $2) ORDER BY id DESC LIMIT 2`, merchantID, unix(now))
	if err != nil {
		return nil, nil, fmt.Errorf("sqlstore: webhook secrets: %w", err)
	}
	type row struct {
		info billkey.WebhookSecretInfo
		blob []byte
	}
	var raw []row
	for rows.Next() {
		var r row
		var created, expires int64
		if err := rows.Scan(&r.info.ID, &r.blob, &created, &expires); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("sqlstore: webhook secrets: %w", err)
		}
		r.info.CreatedAt, r.info.ExpiresAt = fromUnix(created), fromUnix(expires)
		raw = append(raw, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("sqlstore: webhook secrets: %w", err)
	}
	var secrets []string
	var infos []billkey.WebhookSecretInfo
	for _, r := range raw {
		plain, err := s.sealer.Open(r.blob, PurposeWebhookSecret, merchantID, strconv.FormatInt(r.info.ID, 10))
		if err != nil {
			return nil, nil, fmt.Errorf("sqlstore: open webhook secret %d: %w", r.info.ID, err)
		}
		secrets = append(secrets, string(plain))
		infos = append(infos, r.info)
	}
	return secrets, infos, nil
}

// WebhookSecretBlobs returns every sealed webhook secret, for key rotation.
func (s *Store) WebhookSecretBlobs(ctx context.Context) ([]billkey.KeyBlob, error) {
	return s.keyBlobs(ctx, "webhook_secrets", `SELECT id, merchant_id, '', secret_cipher FROM webhook_secrets ORDER BY id`)
}

// ReplaceWebhookSecretBlob swaps a sealed webhook secret for its rewrapped
// form, only if the row still holds the old blob.
func (s *Store) ReplaceWebhookSecretBlob(ctx context.Context, b billkey.KeyBlob, newBlob []byte) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE webhook_secrets SET secret_cipher = $1 WHERE id = $2 AND secret_cipher = $3`, newBlob, b.ID, b.Blob)
	if err != nil {
		return fmt.Errorf("sqlstore: replace webhook secret blob: %w", err)
	}
	return nil
}

// WebhookDeliveryCounts returns how many deliveries are in each state.
func (s *Store) WebhookDeliveryCounts(ctx context.Context) (map[billkey.DeliveryState]int, error) {
	return countBy[billkey.DeliveryState](ctx, s.DB, "delivery counts", `SELECT state, COUNT(*) FROM webhook_deliveries GROUP BY state`)
}
