package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/billkey/billkey/sqlstore"
)

// masterKeyReminder is printed by backup and restore: a database is useless
// without the master key, and a backup that holds the key next to the data
// hands both to whoever steals it.
const masterKeyReminder = "REMEMBER: the master key (%s) is NOT in the backup. Back it up separately, somewhere else:\n" +
	"without it the billing keys and channel secrets in the backup cannot be decrypted; stored together, one theft leaks both.\n"

// backupKeys loads the configured master key for backup and restore, which
// never generate one: a fresh key would not open the data.
func backupKeys(fs *flag.FlagSet, c *config, stderr io.Writer) (*keys, error) {
	c.resolve()
	k, err := loadKeys(c, true, stderr)
	if err != nil {
		return nil, fmt.Errorf("%w (restore the master key file, backed up separately, to %s first, or point --key-file or BILLKEY_KEK/BILLKEY_MAC_KEY at it)", err, c.KeyFile)
	}
	return k, nil
}

// runBackup implements "billkey backup --out FILE".
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := storeFlags("backup")
	var out string
	fs.StringVar(&out, "out", "", "the new backup file (required; must not exist)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	c.resolve()
	if sqlstore.IsPostgres(c.DB) {
		return fmt.Errorf("backup: %w", sqlstore.ErrPostgresBackup)
	}
	if out == "" {
		fmt.Fprintln(stderr, "billkey backup: --out FILE is required")
		return errUsage
	}
	k, err := backupKeys(fs, c, stderr)
	if err != nil {
		return err
	}
	// Write beside the target, verify, then move into place: a failed or
	// interrupted backup never leaves a file that looks complete.
	if _, err := os.Lstat(out); err == nil {
		return fmt.Errorf("backup: %s already exists; choose a new file", out)
	}
	tmp := out + ".partial"
	_ = os.Remove(tmp)
	if err := sqlstore.Backup(ctx, c.DB, tmp); err != nil {
		return err
	}
	defer os.Remove(tmp)
	sum, err := verifyBackupFile(ctx, tmp, k)
	if err != nil {
		return fmt.Errorf("backup written but unusable: %w", err)
	}
	if err := os.Link(tmp, out); err != nil { // fails rather than overwrite
		return fmt.Errorf("backup: %w", err)
	}
	fmt.Fprintf(stdout, "backup of %s written to %s: %d merchants, %d payments, %d customers; %d billing keys, %d channel secrets and %d webhook secrets open with master key %s\n",
		c.DB, out, sum.Merchants, sum.Payments, sum.Customers, sum.BillingKeys, sum.Channels, sum.WebhookSecrets, k.PrimaryID())
	fmt.Fprintf(stdout, masterKeyReminder, k.Source)
	return nil
}

// verifyBackupFile opens a backup read-only and checks its sealed secrets
// open with the keys.
func verifyBackupFile(ctx context.Context, path string, k *keys) (sqlstore.BackupSummary, error) {
	db, err := sqlstore.OpenReadOnly(path)
	if err != nil {
		return sqlstore.BackupSummary{}, err
	}
	defer db.Close()
	return sqlstore.VerifySealed(ctx, db, k.Owned)
}

// runRestore implements "billkey restore --from FILE": the backup becomes
// the database of a new, empty data folder (or --db file). It never
// overwrites a database.
func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := storeFlags("restore")
	var from string
	fs.StringVar(&from, "from", "", "the backup file (required)")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	c.resolve()
	if sqlstore.IsPostgres(c.DB) {
		return errors.New("restore: the database is PostgreSQL: restore a pg_dump archive with pg_restore (see billkey backup)")
	}
	if from == "" {
		fmt.Fprintln(stderr, "billkey restore: --from FILE is required")
		return errUsage
	}
	for _, p := range []string{c.DB, c.DB + "-wal", c.DB + "-journal"} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("restore: %s exists: billkey restores only into a new, empty data folder and never overwrites a database (stop billkey, move the old folder aside, or choose another --data-dir)", p)
		}
	}
	k, err := backupKeys(fs, c, stderr)
	if err != nil {
		return err
	}
	if _, err := verifyBackupFile(ctx, from, k); err != nil {
		return fmt.Errorf("restore: %s: %w", from, err)
	}
	if err := os.MkdirAll(filepath.Dir(c.DB), 0o700); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tmp := c.DB + ".restoring"
	_ = os.Remove(tmp)
	if err := copyFile(from, tmp); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer os.Remove(tmp)
	// Bring the copy to this binary's schema, then check it once more.
	store, err := sqlstore.Open(ctx, tmp, k.Owned)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	sum, err := sqlstore.VerifySealed(ctx, store.DB, k.Owned)
	if cerr := store.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	for _, side := range []string{"-wal", "-shm"} {
		_ = os.Remove(tmp + side)
	}
	if err := os.Link(tmp, c.DB); err != nil { // fails rather than overwrite
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(stdout, "restored %s into %s: %d merchants, %d payments, %d customers; %d billing keys, %d channel secrets and %d webhook secrets open with master key %s\n",
		from, c.DB, sum.Merchants, sum.Payments, sum.Customers, sum.BillingKeys, sum.Channels, sum.WebhookSecrets, k.PrimaryID())
	fmt.Fprintf(stdout, masterKeyReminder, k.Source)
	return nil
}

// copyFile copies src to the new file dst (mode 0600) and syncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
