package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrPostgresBackup is returned by Backup for a PostgreSQL database, whose
// own tools do it better: pg_dump takes a consistent snapshot of a live
// database without blocking writers.
var ErrPostgresBackup = errors.New("billkey backs up SQLite only; back up PostgreSQL with pg_dump " +
	"(e.g. pg_dump --format=custom --file=billkey.dump \"$DATABASE_URL\", restored with " +
	"pg_restore --no-owner --dbname=\"$NEW_DATABASE_URL\" billkey.dump) or with continuous archiving")

// Backup writes an online, transactionally consistent copy of the SQLite
// database dsn to the new file out, with VACUUM INTO: it reads one snapshot
// (a WAL read transaction, so billkey keeps serving and writing meanwhile)
// and writes a compact database that needs no WAL file. out must not exist.
// Backup applies no migrations to the live database.
func Backup(ctx context.Context, dsn, out string) error {
	if !dialectOf(dsn).onlineBackup {
		return ErrPostgresBackup
	}
	if _, err := os.Stat(dsn); err != nil {
		return fmt.Errorf("sqlstore: backup: database %s: %w", dsn, err)
	}
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("sqlstore: backup: %s already exists; choose a new file", out)
	}
	db, _, _, err := openDB(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO `+quoteSQLString(out)); err != nil {
		return fmt.Errorf("sqlstore: backup: vacuum into %s: %w", out, err)
	}
	f, err := os.Open(out)
	if err != nil {
		return fmt.Errorf("sqlstore: backup: %w", err)
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return fmt.Errorf("sqlstore: backup: sync %s: %w", out, err)
	}
	return syncDir(filepath.Dir(out))
}

// OpenReadOnly opens an SQLite file read-only, without migrations, to
// inspect a backup without changing a byte of it.
func OpenReadOnly(path string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// BackupSummary counts what a database holds and how many sealed secrets
// opened with the keys.
type BackupSummary struct {
	Merchants, Payments, Customers int
	// BillingKeys, Channels and WebhookSecrets are the sealed billing keys
	// (current and retired), channel credentials and webhook signing
	// secrets that opened.
	BillingKeys, Channels, WebhookSecrets int
}

// VerifySealed counts a database's rows and opens every sealed billing key,
// channel credential and webhook secret with sealer: a database whose secrets do not open
// with the configured master key is useless, and this is the moment to find
// out. It works on any billkey database handle (a read-only backup too).
func VerifySealed(ctx context.Context, db *sql.DB, sealer Sealer) (BackupSummary, error) {
	var s BackupSummary
	for _, c := range []struct {
		table string
		n     *int
	}{{"merchants", &s.Merchants}, {"payments", &s.Payments}, {"customers", &s.Customers}} {
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+c.table).Scan(c.n); err != nil {
			return s, fmt.Errorf("sqlstore: count %s: %w", c.table, err)
		}
	}
	for _, table := range []string{"customers", "retired_billing_keys"} {
		err := eachBlob(ctx, db, `SELECT merchant_id, customer_uid, key_cipher FROM `+table+` ORDER BY id`, func(mid int64, subject string, blob []byte) error {
			if _, err := sealer.Open(blob, PurposeBillingKey, mid, subject); err != nil {
				return fmt.Errorf("billing key of customer_uid %q (merchant %d) does not open with the configured master key: %w", subject, mid, err)
			}
			s.BillingKeys++
			return nil
		})
		if err != nil {
			return s, err
		}
	}
	err := eachBlob(ctx, db, `SELECT merchant_id, id, credentials_cipher FROM channels ORDER BY id`, func(mid int64, subject string, blob []byte) error {
		if _, err := sealer.Open(blob, PurposeChannel, mid, subject); err != nil {
			return fmt.Errorf("channel %s credentials do not open with the configured master key: %w", subject, err)
		}
		s.Channels++
		return nil
	})
	if err != nil {
		return s, err
	}
	err = eachBlob(ctx, db, `SELECT merchant_id, id, secret_cipher FROM webhook_secrets ORDER BY id`, func(mid int64, subject string, blob []byte) error {
		if _, err := sealer.Open(blob, PurposeWebhookSecret, mid, subject); err != nil {
			return fmt.Errorf("webhook secret %s does not open with the configured master key: %w", subject, err)
		}
		s.WebhookSecrets++
		return nil
	})
	return s, err
}

func eachBlob(ctx context.Context, db *sql.DB, query string, fn func(mid int64, subject string, blob []byte) error) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("sqlstore: sealed secrets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var mid int64
		var subject string
		var blob []byte
		if err := rows.Scan(&mid, &subject, &blob); err != nil {
			return fmt.Errorf("sqlstore: sealed secrets: %w", err)
		}
		if err := fn(mid, subject, blob); err != nil {
			return err
		}
	}
	return rows.Err()
}

// quoteSQLString quotes s as an SQL string literal (VACUUM INTO takes an
// expression, but modernc's driver does not bind parameters to it reliably).
func quoteSQLString(s string) string {
	q := make([]byte, 0, len(s)+2)
	q = append(q, '\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			q = append(q, '\'')
		}
		q = append(q, s[i])
	}
	return string(append(q, '\''))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sqlstore: sync %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sqlstore: sync %s: %w", dir, err)
	}
	return nil
}
