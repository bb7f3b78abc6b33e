package cli

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/vault"
	"github.com/billkey/billkey/webhook"
)

//go:generate go test -run TestREADMESettingsTable -update-readme .

// The configuration table.
//
// Every billkey setting is one row of settingTable: its flag, environment
// variable, built-in default, whether it is secret, its help text and the
// commands that take it. Everything else is derived from the table: the
// flags are registered from it (bindSetting), the environment is read
// through it (applyEnv, getenv), the configuration file accepts exactly its
// flag names (applyConfig), "-h" prints its help and defaults, the start log
// of billkey serve shows its values with secrets masked, and README.md's
// configuration table is generated from it (settingsMarkdown; a test fails
// when the README, a command's flags or the environment reads drift from the
// table). Flags outside the table are one-off arguments of one invocation
// (--merchant, --name, --json...), never read from the environment or a file.

// setting is one configuration setting.
type setting struct {
	// Flag is the flag name without dashes; empty for a setting that only
	// the environment gives (the master keys).
	Flag string
	// Env is the environment variable.
	Env string
	// Default is the built-in value as the flag parses it; empty for none.
	Default string
	// Doc describes the default when Default cannot say it: a value derived
	// from other settings at run time ("DATA_DIR/billkey.db") or a list
	// whose default lives in another package.
	Doc string
	// Secret settings are never shown: not in logs, not as a "-h" default,
	// not in an error about their value. Mask, when set, shows the
	// non-secret part instead of hiding all of it (a database URL's host).
	Secret bool
	Mask   func(string) string
	// Help says what the setting does, in one line.
	Help string
	// Commands are the commands that take it ("serve", "merchant create").
	Commands []string
}

// storeCommands are the commands that open billkey's database; each takes
// the common settings (data-dir, db, key-file, logs, config).
var storeCommands = []string{
	"serve", "migrate", "backup", "restore",
	"merchant create", "merchant list", "merchant rotate-secret", "merchant revoke-tokens",
	"channel add", "channel list", "channel check", "channel mobile-window",
	"webhooks list", "webhooks resend", "webhooks secret", "webhooks url", "webhooks notice-hosts",
	"operator create", "operator list", "operator disable", "operator enable", "operator reset-password",
	"keys generate", "keys rotate",
}

// otherCommands are the commands with flags that do not open the database.
var otherCommands = []string{"inicis-sim", "loadtest", "probe"}

var (
	serveOnly = []string{"serve"}
	simOnly   = []string{"inicis-sim"}
	loadOnly  = []string{"loadtest"}
)

// settingTable is every setting of every command.
var settingTable = []setting{
	// Every command with a database.
	{Flag: "data-dir", Env: "BILLKEY_DATA_DIR", Default: "billkey-data", Commands: storeCommands,
		Help: "data folder for the default SQLite database and master key file"},
	{Flag: "db", Env: "BILLKEY_DB", Doc: "DATA_DIR/billkey.db", Secret: true, Mask: maskDSN, Commands: storeCommands,
		Help: "database: an SQLite file path or a postgres:// URL (its password is masked wherever billkey shows it)"},
	{Flag: "key-file", Env: "BILLKEY_KEY_FILE", Doc: "DATA_DIR/master-key.json", Commands: storeCommands,
		Help: "master key file (billkey keys generate); BILLKEY_KEK and BILLKEY_MAC_KEY override it"},
	{Env: vault.EnvKEK, Secret: true, Commands: storeCommands,
		Help: "master keys from the environment instead of a key file: id:base64key[,id:base64key...], the first is primary"},
	{Env: vault.EnvMACKey, Secret: true, Commands: storeCommands,
		Help: "with BILLKEY_KEK: the base64 MAC key, at least 32 random bytes"},
	{Flag: "log-level", Env: "BILLKEY_LOG_LEVEL", Default: "info", Commands: append(slices.Clone(storeCommands), "inicis-sim"),
		Help: "log level: debug, info, warn, error (logs never hold a key, card number or secret)"},
	{Flag: "log-json", Env: "BILLKEY_LOG_JSON", Default: "false", Commands: storeCommands,
		Help: "log as JSON instead of text"},
	{Flag: "config", Env: "BILLKEY_CONFIG", Commands: storeCommands,
		Help: "configuration file of \"name = value\" lines using these flags' names; precedence: flag > env > file > default"},

	// billkey serve: listeners and URLs.
	{Flag: "addr", Env: "BILLKEY_ADDR", Default: "127.0.0.1:8080", Commands: serveOnly,
		Help: "listen address; on every interface (0.0.0.0, ::, :8080) it needs --public-url"},
	{Flag: "public-url", Env: "BILLKEY_PUBLIC_URL", Doc: "http://ADDR", Commands: serveOnly,
		Help: "base URL browsers use to reach billkey (the payment window's and INICIS's return URLs); live mode wants https"},
	{Flag: "admin-addr", Env: "BILLKEY_ADMIN_ADDR", Doc: "none, and no /metrics", Commands: serveOnly,
		Help: "private listener for /metrics, /debug/pprof, the console and, in test mode, the built-in simulator's /inicis-sim/_sim/ introspection; keep it off the internet"},
	{Flag: "public-metrics", Env: "BILLKEY_PUBLIC_METRICS", Default: "false", Commands: serveOnly,
		Help: "also serve /metrics on the public --addr listener (off by default: it reveals traffic by route)"},
	{Flag: "tls-cert", Env: "BILLKEY_TLS_CERT", Commands: serveOnly,
		Help: "serve HTTPS on --addr with this PEM certificate chain (with --tls-key; reloaded when the file changes)"},
	{Flag: "tls-key", Env: "BILLKEY_TLS_KEY", Commands: serveOnly,
		Help: "the certificate's PEM private key file"},
	{Flag: "insecure-public-url", Env: "BILLKEY_INSECURE_PUBLIC_URL", Default: "false", Commands: serveOnly,
		Help: "allow live mode with a public URL that is not https (testing only)"},
	{Flag: "otlp-endpoint", Env: "BILLKEY_OTLP_ENDPOINT", Doc: "tracing off, nothing sent", Commands: serveOnly,
		Help: "OpenTelemetry tracing: OTLP/HTTP base URL of the collector, such as http://otel-collector:4318; spans go to its /v1/traces; OTEL_EXPORTER_OTLP_ENDPOINT also works"},
	{Flag: "otlp-sample-ratio", Env: "BILLKEY_OTLP_SAMPLE_RATIO", Default: "1", Commands: serveOnly,
		Help: "share of requests traced when tracing is on: more than 0, at most 1"},

	// billkey serve: modes and the simulator.
	{Flag: "live", Env: "BILLKEY_LIVE", Default: "false", Commands: serveOnly,
		Help: "live mode: never mount the built-in INICIS simulator (any live channel implies it too)"},
	{Flag: "no-demo", Env: "BILLKEY_NO_DEMO", Default: "false", Commands: serveOnly,
		Help: "no demo merchant on an empty database and no demo shop at /demo"},
	{Flag: "demo-merchant", Env: "BILLKEY_DEMO_MERCHANT", Doc: "the oldest merchant", Commands: serveOnly,
		Help: "imp code of the demo shop's merchant; it must use a test channel"},
	{Flag: "inicis-sim-url", Env: "BILLKEY_INICIS_SIM_URL", Doc: "serve: built-in at /inicis-sim", Commands: []string{"serve", "channel check"},
		Help: "external INICIS simulator that test channels talk to, e.g. http://127.0.0.1:9090 (a running billkey serve has its own at BASE_URL/inicis-sim)"},
	{Flag: "inicis-sim-state", Env: "BILLKEY_INICIS_SIM_STATE", Doc: "DATA_DIR/inicis-sim.db", Commands: serveOnly,
		Help: "state file of the built-in INICIS simulator, whose test billing keys survive restarts"},

	// billkey serve: PG timing and reconciliation.
	{Flag: "pg-timeout", Env: "BILLKEY_PG_TIMEOUT", Default: short(gateway.DefaultPGTimeout), Commands: serveOnly,
		Help: "timeout of each INICIS call; past it the outcome is unknown and reconciled"},
	{Flag: "in-flight-margin", Env: "BILLKEY_IN_FLIGHT_MARGIN", Default: short(gateway.DefaultInFlightMargin), Commands: serveOnly,
		Help: "added to 2 x pg-timeout: the in-flight window, before which no payment is declared failed"},
	{Flag: "reconcile-delays", Env: "BILLKEY_RECONCILE_DELAYS", Doc: shortList(gateway.DefaultReconcileDelays), Commands: serveOnly,
		Help: "when an unknown PG outcome is inquired, counted from the outcome becoming unknown, comma separated; the last repeats as the interval"},
	{Flag: "no-approval-grace", Env: "BILLKEY_NO_APPROVAL_GRACE", Default: short(gateway.DefaultNoApprovalGrace), Commands: serveOnly,
		Help: "how long after a payment started an inquiry reply without approval state (an unrecognised INICIS code) counts as not found"},
	{Flag: "stale-ready-after", Env: "BILLKEY_STALE_READY_AFTER", Default: "3m", Commands: serveOnly,
		Help: "when a payment left ready counts as abandoned by a dead node; must exceed the in-flight window"},
	{Flag: "drain-timeout", Env: "BILLKEY_DRAIN_TIMEOUT", Default: "0s", Doc: "2 x pg-timeout + 15s", Commands: serveOnly,
		Help: "on SIGTERM, how long in-flight requests may finish; at least --pg-timeout"},

	// billkey serve: background jobs.
	{Flag: "no-jobs", Env: "BILLKEY_NO_JOBS", Default: "false", Commands: serveOnly,
		Help: "run no scheduled payments or webhook deliveries on this node (an API-only node)"},
	{Flag: "jobs-poll-interval", Env: "BILLKEY_JOBS_POLL_INTERVAL", Default: "1s", Commands: serveOnly,
		Help: "how often idle job queues look for due work"},
	{Flag: "jobs-concurrency", Env: "BILLKEY_JOBS_CONCURRENCY", Default: "32", Commands: serveOnly,
		Help: "schedules and webhooks one node works at once, each"},
	{Flag: "schedule-lease", Env: "BILLKEY_SCHEDULE_LEASE", Default: short(gateway.DefaultScheduleLease), Commands: serveOnly,
		Help: "how long a node holds a schedule it runs; a dead node's is taken over after it"},
	{Flag: "schedule-retry", Env: "BILLKEY_SCHEDULE_RETRY", Doc: "5s,15s,30s,1m,5m", Commands: serveOnly,
		Help: "waits before a schedule whose charge outcome is unknown runs again, comma separated"},
	{Flag: "webhook-timeout", Env: "BILLKEY_WEBHOOK_TIMEOUT", Default: short(webhook.DefaultTimeout), Commands: serveOnly,
		Help: "timeout of one webhook attempt"},
	{Flag: "webhook-retry", Env: "BILLKEY_WEBHOOK_RETRY", Doc: shortList(webhook.DefaultRetryPolicy.Delays), Commands: serveOnly,
		Help: "webhook retry delays, comma separated, the last repeating"},
	{Flag: "webhook-give-up-after", Env: "BILLKEY_WEBHOOK_GIVE_UP_AFTER", Default: short(webhook.DefaultRetryPolicy.GiveUpAfter), Commands: serveOnly,
		Help: "how long failed webhooks are retried"},
	{Flag: "webhook-allow-cidr", Env: "BILLKEY_WEBHOOK_ALLOW_CIDR", Commands: serveOnly,
		Help: "address ranges webhooks may reach despite the SSRF guard, comma separated, e.g. 10.0.0.0/8"},

	// billkey channel add: the channel's INICIS secrets.
	{Flag: "sign-key", Env: "BILLKEY_INICIS_SIGN_KEY", Secret: true, Commands: []string{"channel add"},
		Help: "INIStdPay signKey of the MID"},
	{Flag: "iniapi-key", Env: "BILLKEY_INICIS_API_KEY", Secret: true, Commands: []string{"channel add"},
		Help: "INIAPI key of the MID"},
	{Flag: "iniapi-iv", Env: "BILLKEY_INICIS_API_IV", Secret: true, Commands: []string{"channel add"},
		Help: "INIAPI IV of the MID"},
	{Flag: "inilite-key", Env: "BILLKEY_INICIS_LITE_KEY", Secret: true, Commands: []string{"channel add"},
		Help: "INILite key of the MID (kept, not used by the window)"},
	{Flag: "credentials", Env: "BILLKEY_CHANNEL_CREDENTIALS", Secret: true, Commands: []string{"channel add"},
		Help: "the channel's credentials in its PG provider's own format, in place of the INICIS flags"},

	// billkey inicis-sim.
	{Flag: "addr", Env: "BILLKEY_SIM_ADDR", Default: "127.0.0.1:9090", Commands: simOnly,
		Help: "the standalone simulator's listen address"},
	{Flag: "public-url", Env: "BILLKEY_SIM_PUBLIC_URL", Doc: "http://ADDR", Commands: simOnly,
		Help: "base URL browsers use to reach the standalone simulator"},
	{Flag: "introspect-token", Env: "BILLKEY_SIM_INTROSPECT_TOKEN", Secret: true, Commands: simOnly,
		Help: "require \"Authorization: Bearer TOKEN\" on the simulator's /_sim/ (set it when --addr is not loopback)"},
	{Flag: "state", Env: "BILLKEY_SIM_STATE", Doc: "in memory", Commands: simOnly,
		Help: "SQLite file keeping the standalone simulator's ledger (keys, approvals, refunds, open windows) across restarts"},
	{Flag: "hold-max", Env: "BILLKEY_SIM_HOLD_MAX", Default: "2m", Commands: simOnly,
		Help: "how long a magic 'reply never comes' card holds the reply"},

	// billkey loadtest.
	{Flag: "url", Env: "BILLKEY_LOADTEST_URL", Default: "http://127.0.0.1:8080", Commands: loadOnly,
		Help: "base URL of the billkey that loadtest drives; several nodes on one database: comma separated, charges go to each in turn"},
	{Flag: "imp-key", Env: "BILLKEY_LOADTEST_IMP_KEY", Commands: loadOnly,
		Help: "REST API key of the merchant loadtest charges with (required)"},
	{Flag: "imp-secret", Env: "BILLKEY_LOADTEST_IMP_SECRET", Secret: true, Commands: loadOnly,
		Help: "that merchant's REST API secret (required)"},
	{Flag: "imp-code", Env: "BILLKEY_LOADTEST_IMP_CODE", Commands: loadOnly,
		Help: "that merchant's imp code (imp_...), for the window phase"},
}

// commandOf is the command a flag set belongs to: "serve" for the flag set
// named "billkey serve".
func commandOf(fs *flag.FlagSet) string { return strings.TrimPrefix(fs.Name(), "billkey ") }

// lookupSetting is the row of a command's flag, or nil.
func lookupSetting(command, flagName string) *setting {
	for i := range settingTable {
		s := &settingTable[i]
		if s.Flag == flagName && slices.Contains(s.Commands, command) {
			return s
		}
	}
	return nil
}

// usage is a setting's help text as "-h" prints it.
func (s *setting) usage() string {
	extra := "env " + s.Env
	if s.Doc != "" {
		extra += "; default " + s.Doc
	}
	if s.Secret {
		extra += "; secret"
	}
	return s.Help + " (" + extra + ")"
}

// show is a value as logs and messages may show it.
func (s *setting) show(v string) string {
	switch {
	case !s.Secret || v == "":
		return v
	case s.Mask != nil:
		return s.Mask(v)
	default:
		return "****"
	}
}

// bindSetting registers the flag of a table row on fs, storing into p: a
// *string, *bool, *int, *float64, *time.Duration, or a func(string) error
// for list values (whose default is then the zero value and Doc says what
// it means). A flag missing from the table, or a bad default, is a
// programming error found by any test that runs the command.
func bindSetting(fs *flag.FlagSet, name string, p any) {
	s := lookupSetting(commandOf(fs), name)
	if s == nil {
		panic(fmt.Sprintf("cli: --%s of %q is not in the settings table", name, fs.Name()))
	}
	var err error
	switch p := p.(type) {
	case *string:
		fs.StringVar(p, name, s.Default, s.usage())
	case *bool:
		var def bool
		def, err = strconv.ParseBool(s.Default)
		fs.BoolVar(p, name, def, s.usage())
	case *int:
		var def int
		def, err = strconv.Atoi(s.Default)
		fs.IntVar(p, name, def, s.usage())
	case *float64:
		var def float64
		def, err = strconv.ParseFloat(s.Default, 64)
		fs.Float64Var(p, name, def, s.usage())
	case *time.Duration:
		var def time.Duration
		def, err = time.ParseDuration(s.Default)
		fs.DurationVar(p, name, def, s.usage())
	case func(string) error:
		if s.Default != "" {
			err = errors.New("a list setting's default belongs in Doc")
		}
		fs.Func(name, s.usage(), p)
	default:
		err = fmt.Errorf("unsupported type %T", p)
	}
	if err != nil {
		panic(fmt.Sprintf("cli: setting --%s: %v", name, err))
	}
}

// getenv reads an environment variable of the table; any other is a
// programming error.
func getenv(name string) string {
	if !slices.ContainsFunc(settingTable, func(s setting) bool { return s.Env == name }) {
		panic("cli: environment variable " + name + " is not in the settings table")
	}
	return os.Getenv(name)
}

// applyEnv sets every setting of fs not given on the command line from its
// environment variable, through the flag's own parser: an invalid value
// ("BILLKEY_PG_TIMEOUT=5") is an error instead of being ignored, and
// booleans accept what the command line accepts (1, true, ...).
func applyEnv(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		s := lookupSetting(commandOf(fs), f.Name)
		if s == nil || set[f.Name] {
			return
		}
		v, ok := os.LookupEnv(s.Env)
		if !ok {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("environment %s=%q (for --%s): %w", s.Env, s.show(v), f.Name, err))
		}
	})
	return errors.Join(errs...)
}

// settingAttrs are the effective settings of fs for the start log, secrets
// masked; a setting left to a default derived at run time says so (list
// settings show only a value given).
func settingAttrs(fs *flag.FlagSet) []any {
	var attrs []any
	fs.VisitAll(func(f *flag.Flag) {
		if s := lookupSetting(commandOf(fs), f.Name); s != nil {
			v := s.show(f.Value.String())
			if v == "" && s.Doc != "" {
				v = "default: " + s.Doc
			}
			attrs = append(attrs, slog.String(f.Name, v))
		}
	})
	return attrs
}

// fileSettings are the names a configuration file may set: the flags of
// every command that reads one.
func fileSettings() map[string]bool {
	known := map[string]bool{}
	for _, s := range settingTable {
		if s.Flag != "" && s.Flag != "config" && slices.ContainsFunc(s.Commands, func(c string) bool { return slices.Contains(storeCommands, c) }) {
			known[s.Flag] = true
		}
	}
	return known
}

// short formats a duration without zero units: 2m, not 2m0s.
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// shortList formats delays as a comma-separated list.
func shortList(ds []time.Duration) string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = short(d)
	}
	return strings.Join(out, ",")
}

// delaysInto parses a comma-separated list of delays into p.
func delaysInto(p *[]time.Duration) func(string) error {
	return func(v string) error {
		ds, err := webhook.ParseDelays(v)
		*p = ds
		return err
	}
}
