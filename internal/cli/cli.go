// Package cli is billkey's command line: flag and environment parsing, and
// the wiring of store, vault, PG connector, simulator and HTTP servers for
// each subcommand. cmd/billkey is a thin shell over Main, which tests call
// directly.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
)

// Version is set at build time with -ldflags "-X github.com/billkey/billkey/internal/cli.Version=...".
var Version = "dev"

const usage = `billkey: a self-hosted subscription payment gateway (i'mport V1 compatible, KG INICIS)

Usage:
  billkey serve [flags]              run the gateway (REST API, iamport.js, window, demo shop, workers)
  billkey merchant create [flags]    create a merchant (prints imp code, REST key and secret once)
  billkey merchant list [flags]      list merchants
  billkey channel add [flags]        add a PG channel to a merchant
  billkey channel list [flags]       list channels (every merchant's, or --merchant's)
  billkey channel check [flags]      check a channel's MID, INIAPI key and network path with a harmless inquiry
  billkey migrate [flags]            apply database migrations
  billkey webhooks list|resend|secret|url [flags]
                                     webhook deliveries (with every attempt), resend, rotate the signing secret, URL
  billkey operator create|list|disable|enable|reset-password [flags]
                                     admin console operators (argon2id passwords, merchant grants)
  billkey keys generate [flags]      create a master key file (for --key-file)
  billkey keys rotate [flags]        add a new master key and re-wrap every sealed secret
  billkey inicis-sim [flags]         run the KG INICIS simulator alone
  billkey loadtest [flags]           measure a running billkey against the PG alone and bare baselines
  billkey backup --out FILE          online, consistent copy of the SQLite database (PostgreSQL: pg_dump)
  billkey restore --from FILE        restore an SQLite backup into a new, empty data folder
  billkey probe [--url URL]          exit 0 when URL (default http://127.0.0.1:8080/readyz) answers 200
  billkey version                    print version, commit and build date
  billkey help settings              every setting: flag, environment variable, default, commands

Every setting has an environment variable (BILLKEY_ADDR, BILLKEY_DB, ...);
run "billkey <command> -h" for a command's flags, "billkey help settings" for all.
`

// Main runs billkey with the arguments (without the program name) and
// returns the process exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		err = runServe(ctx, rest, stdout, stderr)
	case "merchant":
		err = runMerchant(ctx, rest, stdout, stderr)
	case "channel":
		err = runChannel(ctx, rest, stdout, stderr)
	case "migrate":
		err = runMigrate(ctx, rest, stdout, stderr)
	case "webhooks":
		err = runWebhooks(ctx, rest, stdout, stderr)
	case "operator":
		err = runOperator(ctx, rest, stdout, stderr)
	case "keys":
		err = runKeys(ctx, rest, stdout, stderr)
	case "inicis-sim":
		err = runSimulator(ctx, rest, stdout, stderr)
	case "loadtest":
		err = runLoadtest(ctx, rest, stdout, stderr)
	case "version", "--version", "-v":
		runVersion(stdout)
	case "backup":
		err = runBackup(ctx, rest, stdout, stderr)
	case "restore":
		err = runRestore(ctx, rest, stdout, stderr)
	case "probe":
		err = runProbe(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		if len(rest) > 0 && rest[0] == "settings" {
			settingsHelp(stdout)
			break
		}
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "billkey: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) || errors.Is(err, errListFlags) {
		return 0
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "billkey:", err)
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

// config is what most subcommands share.
type config struct {
	DB       string
	DataDir  string
	KeyFile  string
	LogLevel string
	LogJSON  bool
}

// storeFlags is the flag set of a command that opens the database (one of
// storeCommands), with the settings they all take; the command adds its own.
func storeFlags(command string) (*flag.FlagSet, *config) {
	fs := flag.NewFlagSet("billkey "+command, flag.ContinueOnError)
	c := &config{}
	bindSetting(fs, "data-dir", &c.DataDir)
	bindSetting(fs, "db", &c.DB)
	bindSetting(fs, "key-file", &c.KeyFile)
	bindSetting(fs, "log-level", &c.LogLevel)
	bindSetting(fs, "log-json", &c.LogJSON)
	var configFile string
	bindSetting(fs, "config", &configFile)
	return fs, c
}

// resolve fills the defaults that depend on other flags.
func (c *config) resolve() {
	if c.DB == "" {
		c.DB = filepath.Join(c.DataDir, "billkey.db")
	}
	if c.KeyFile == "" {
		c.KeyFile = filepath.Join(c.DataDir, "master-key.json")
	}
}

func (c *config) logger(w io.Writer) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.LogJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// parse parses a flag set, then applies the environment variables of the
// flags not given (an invalid value is an error). On -h it prints the
// command's summary, examples and flags; on a wrong flag, one line and the
// hint.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if listFlags(fs, args) {
		return errListFlags
	}
	fs.Usage = func() {} // the flag package's error line is enough
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			commandHelp(stderr, fs)
			return err
		}
		fmt.Fprintf(stderr, "run \"%s -h\" for its flags\n", fs.Name())
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "unexpected arguments: %s; run \"%s -h\" for its flags\n", strings.Join(fs.Args(), " "), fs.Name())
		return errUsage
	}
	if err := applyEnv(fs); err != nil {
		return err
	}
	return applyConfig(fs)
}

// maskDSN hides a password in a database URL.
func maskDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.LastIndex(dsn, "@"); at > i {
			cred := dsn[i+3 : at]
			if user, _, ok := strings.Cut(cred, ":"); ok {
				return dsn[:i+3] + user + ":****" + dsn[at:]
			}
		}
	}
	return dsn
}
