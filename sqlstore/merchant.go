package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey"
)

// CreateMerchant inserts a merchant with the MAC of its API secret, and its
// channels, in one transaction. It sets the IDs it assigns.
func (s *Store) CreateMerchant(ctx context.Context, m *billkey.Merchant, secretMAC []byte, channels []*billkey.Channel) error {
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.Now()
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO merchants (imp_code, name, api_key, secret_mac, webhook_url, notice_hosts, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			m.ImpCode, m.Name, m.APIKey, secretMAC, m.WebhookURL, strings.Join(m.NoticeHosts, " "), unix(m.CreatedAt)).Scan(&m.ID)
		if isUniqueViolation(err) {
			return billkey.Errorf(billkey.EREJECTED, "imp code or REST API key already in use")
		} else if err != nil {
			return fmt.Errorf("sqlstore: insert merchant: %w", err)
		}
		for _, ch := range channels {
			ch.MerchantID = m.ID
			if err := s.insertChannel(ctx, tx, ch); err != nil {
				return err
			}
		}
		return nil
	})
}

const merchantColumns = `id, imp_code, name, api_key, webhook_url, notice_hosts, created_at`

func scanMerchant(row rowScanner, extra ...any) (*billkey.Merchant, error) {
	var m billkey.Merchant
	var created int64
	var hosts string
	dest := append([]any{&m.ID, &m.ImpCode, &m.Name, &m.APIKey, &m.WebhookURL, &hosts, &created}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	m.NoticeHosts = strings.Fields(hosts)
	m.CreatedAt = fromUnix(created)
	return &m, nil
}

// MerchantByAPIKey returns the merchant with the REST API key and the MAC of
// its secret.
func (s *Store) MerchantByAPIKey(ctx context.Context, apiKey string) (*billkey.Merchant, []byte, error) {
	var mac []byte
	m, err := scanMerchant(s.DB.QueryRowContext(ctx,
		`SELECT `+merchantColumns+`, secret_mac FROM merchants WHERE api_key = $1`, apiKey), &mac)
	if err != nil {
		return nil, nil, rowErr(err, "merchant by key", func() error { return notFound("merchant not found") })
	}
	return m, mac, nil
}

// MerchantByImpCode returns the merchant with the imp code.
func (s *Store) MerchantByImpCode(ctx context.Context, code string) (*billkey.Merchant, error) {
	m, err := scanMerchant(s.DB.QueryRowContext(ctx, `SELECT `+merchantColumns+` FROM merchants WHERE imp_code = $1`, code))
	if err != nil {
		return nil, rowErr(err, "merchant by code", func() error {
			return notFound("가맹점 식별코드(%s)에 해당하는 가맹점이 없습니다.", code)
		})
	}
	return m, nil
}

// MerchantByID returns the merchant with the id.
func (s *Store) MerchantByID(ctx context.Context, id int64) (*billkey.Merchant, error) {
	m, err := scanMerchant(s.DB.QueryRowContext(ctx, `SELECT `+merchantColumns+` FROM merchants WHERE id = $1`, id))
	if err != nil {
		return nil, rowErr(err, "merchant by id", func() error { return notFound("merchant not found") })
	}
	return m, nil
}

// ListMerchants returns every merchant, oldest first.
func (s *Store) ListMerchants(ctx context.Context) ([]*billkey.Merchant, error) {
	return queryAll(ctx, s.DB, "merchants", func(r rowScanner) (*billkey.Merchant, error) { return scanMerchant(r) },
		`SELECT `+merchantColumns+` FROM merchants ORDER BY id`)
}

// SetWebhookURL sets the merchant's default notification URL.
func (s *Store) SetWebhookURL(ctx context.Context, merchantID int64, u string) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE merchants SET webhook_url = $1 WHERE id = $2`, u, merchantID)
	if err != nil {
		return fmt.Errorf("sqlstore: set webhook url: %w", err)
	}
	return nil
}

// SetNoticeHosts replaces the hosts, besides the webhook URL's, that a
// payment window's notice_url may name.
func (s *Store) SetNoticeHosts(ctx context.Context, merchantID int64, hosts []string) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE merchants SET notice_hosts = $1 WHERE id = $2`, strings.Join(hosts, " "), merchantID)
	if err != nil {
		return fmt.Errorf("sqlstore: set notice hosts: %w", err)
	}
	return nil
}

// SetMobileWindow sets what a channel's payment window does on phones
// (billkey.MobileWindowStdPay or billkey.MobileWindowRefuse).
func (s *Store) SetMobileWindow(ctx context.Context, merchantID, channelID int64, mode string) error {
	res, err := s.DB.ExecContext(ctx, `UPDATE channels SET mobile_window = $1 WHERE id = $2 AND merchant_id = $3`, mode, channelID, merchantID)
	if err != nil {
		return fmt.Errorf("sqlstore: set mobile window: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return notFound("channel not found")
	}
	return nil
}

// HasLiveChannel reports whether any merchant has a live channel.
func (s *Store) HasLiveChannel(ctx context.Context) (bool, error) {
	var n int
	err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM channels WHERE live = TRUE`).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlstore: live channels: %w", err)
	}
	return n > 0, nil
}

// CreateChannel adds a channel to a merchant. If it is the default, the
// merchant's other channels stop being default.
func (s *Store) CreateChannel(ctx context.Context, ch *billkey.Channel) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return s.insertChannel(ctx, tx, ch) })
}

func (s *Store) insertChannel(ctx context.Context, tx *sql.Tx, ch *billkey.Channel) error {
	if ch.CreatedAt.IsZero() {
		ch.CreatedAt = s.Now()
	}
	if ch.MobileWindow == "" {
		ch.MobileWindow = billkey.MobileWindowStdPay
	}
	if ch.Default {
		if _, err := tx.ExecContext(ctx, `UPDATE channels SET is_default = FALSE WHERE merchant_id = $1`, ch.MerchantID); err != nil {
			return fmt.Errorf("sqlstore: reset default channel: %w", err)
		}
	}
	// Insert first with an empty blob: the sealed credentials are bound to
	// the channel id, which the insert assigns.
	err := tx.QueryRowContext(ctx, `
		INSERT INTO channels (merchant_id, provider, mid, live, is_default, credentials_cipher, created_at, mobile_window)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		ch.MerchantID, ch.Provider, ch.MID, ch.Live, ch.Default, []byte{}, unix(ch.CreatedAt), ch.MobileWindow).Scan(&ch.ID)
	if isUniqueViolation(err) {
		return billkey.Errorf(billkey.EREJECTED, "channel %s.%s already exists", ch.Provider, ch.MID)
	} else if err != nil {
		return fmt.Errorf("sqlstore: insert channel: %w", err)
	}
	// The credentials are the provider's opaque blob (KG INICIS: the JSON
	// of inicis.Credentials, the format channels have always been stored
	// in), sealed as they are.
	blob, err := s.sealer.Seal(ch.Credentials, PurposeChannel, ch.MerchantID, strconv.FormatInt(ch.ID, 10))
	if err != nil {
		return fmt.Errorf("sqlstore: seal credentials: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE channels SET credentials_cipher = $1 WHERE id = $2`, blob, ch.ID); err != nil {
		return fmt.Errorf("sqlstore: store credentials: %w", err)
	}
	return nil
}

// Channels returns the merchant's channels, default first, with their
// credentials decrypted.
func (s *Store) Channels(ctx context.Context, merchantID int64) ([]*billkey.Channel, error) {
	rows, err := s.read.QueryContext(ctx, `
		SELECT id, merchant_id, provider, mid, live, is_default, credentials_cipher, created_at, mobile_window
		FROM channels WHERE merchant_id = $1 ORDER BY is_default DESC, id`, merchantID)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: channels: %w", err)
	}
	defer rows.Close()
	type row struct {
		ch   billkey.Channel
		blob []byte
	}
	var raw []row
	for rows.Next() {
		var r row
		var created int64
		if err := rows.Scan(&r.ch.ID, &r.ch.MerchantID, &r.ch.Provider, &r.ch.MID, &r.ch.Live, &r.ch.Default, &r.blob, &created, &r.ch.MobileWindow); err != nil {
			return nil, fmt.Errorf("sqlstore: channels: %w", err)
		}
		r.ch.CreatedAt = fromUnix(created)
		raw = append(raw, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: channels: %w", err)
	}
	out := make([]*billkey.Channel, 0, len(raw))
	for _, r := range raw {
		ch := r.ch
		plain, err := s.sealer.Open(r.blob, PurposeChannel, ch.MerchantID, strconv.FormatInt(ch.ID, 10))
		if err != nil {
			return nil, fmt.Errorf("sqlstore: open credentials of channel %d: %w", ch.ID, err)
		}
		ch.Credentials = billkey.ChannelCredentials(plain)
		out = append(out, &ch)
	}
	return out, nil
}

// ChannelByID returns one channel of a merchant.
func (s *Store) ChannelByID(ctx context.Context, merchantID, channelID int64) (*billkey.Channel, error) {
	chs, err := s.Channels(ctx, merchantID)
	if err != nil {
		return nil, err
	}
	for _, ch := range chs {
		if ch.ID == channelID {
			return ch, nil
		}
	}
	return nil, notFound("channel not found")
}

// MerchantSecrets returns the merchant with the REST API key, the MAC of its
// secret, and the MAC of the secret it replaced with when that one stops
// being accepted (nil and zero when none).
func (s *Store) MerchantSecrets(ctx context.Context, apiKey string) (m *billkey.Merchant, mac, prevMAC []byte, prevUntil time.Time, err error) {
	var until int64
	m, err = scanMerchant(s.DB.QueryRowContext(ctx,
		`SELECT `+merchantColumns+`, secret_mac, previous_secret_mac, previous_secret_until FROM merchants WHERE api_key = $1`, apiKey),
		&mac, &prevMAC, &until)
	if err != nil {
		return nil, nil, nil, time.Time{}, rowErr(err, "merchant by key", func() error { return notFound("merchant not found") })
	}
	if until > 0 {
		prevUntil = fromUnix(until)
	}
	return m, mac, prevMAC, prevUntil, nil
}

// RotateSecret makes newMAC the MAC of the merchant's REST API secret; the
// current one stays accepted until prevUntil (a zero time drops it at once).
// A secret replaced earlier and still overlapping is dropped: at most two
// secrets are ever valid.
func (s *Store) RotateSecret(ctx context.Context, merchantID int64, newMAC []byte, prevUntil time.Time) error {
	var until int64
	if !prevUntil.IsZero() {
		until = unix(prevUntil)
	}
	res, err := s.DB.ExecContext(ctx, `
		UPDATE merchants SET previous_secret_mac = secret_mac, previous_secret_until = $2, secret_mac = $3
		WHERE id = $1`, merchantID, until, newMAC)
	if err != nil {
		return fmt.Errorf("sqlstore: rotate secret: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("merchant not found")
	}
	return nil
}

// RevokeTokens deletes the merchant's access token and records the
// revocation (at, in unix milliseconds) so every node's token cache drops
// what it holds (see TokensRevokedMark).
func (s *Store) RevokeTokens(ctx context.Context, merchantID int64, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM access_tokens WHERE merchant_id = $1`, merchantID); err != nil {
			return fmt.Errorf("sqlstore: revoke tokens: %w", err)
		}
		// Strictly increasing, whatever the clocks of the nodes say.
		if _, err := tx.ExecContext(ctx, `
			UPDATE merchants SET tokens_revoked_at = (SELECT MAX(x) FROM (SELECT CAST($2 AS BIGINT) AS x UNION ALL SELECT MAX(tokens_revoked_at) + 1 FROM merchants) t)
			WHERE id = $1`, merchantID, at.UnixMilli()); err != nil {
			return fmt.Errorf("sqlstore: revoke tokens: %w", err)
		}
		return nil
	})
}

// TokensRevokedMark returns the latest token revocation of any merchant
// (unix milliseconds, 0 for none). A node that sees it grow drops its token
// cache.
func (s *Store) TokensRevokedMark(ctx context.Context) (int64, error) {
	var mark int64
	if err := s.read.QueryRowContext(ctx, `SELECT COALESCE(MAX(tokens_revoked_at), 0) FROM merchants`).Scan(&mark); err != nil {
		return 0, fmt.Errorf("sqlstore: token revocations: %w", err)
	}
	return mark, nil
}
