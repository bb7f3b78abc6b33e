package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"

	"github.com/billkey/billkey/sqlstore"
)

// commandDoc is what "-h" says about a command besides its flags.
type commandDoc struct {
	Summary  string   // one line
	Examples []string // command lines
}

// commandDocs documents every command, by its flag set's name.
var commandDocs = map[string]commandDoc{
	"billkey serve": {"Run the gateway: REST API, iamport.js, payment window, demo shop, workers.", []string{
		"billkey serve",
		"billkey serve --addr 0.0.0.0:8080 --public-url https://pay.example.com",
		"billkey serve --db postgres://billkey@db/billkey --key-file /etc/billkey/keys.json",
	}},
	"billkey merchant create": {"Create a merchant; prints its imp code, REST API key and secret once.", []string{
		`billkey merchant create --name "내 상점"`,
		`billkey merchant create --name "이전 상점" --imp-code imp12345678 --imp-key KEY --imp-secret SECRET --json`,
	}},
	"billkey merchant list": {"List merchants (never their secrets).", []string{
		"billkey merchant list",
		"billkey merchant list --db postgres://billkey@db/billkey",
	}},
	"billkey channel add": {"Add a KG INICIS channel (MID and its keys) to a merchant.", []string{
		"billkey channel add --merchant imp12345678 --mid MYMID --sign-key ... --iniapi-key ... --iniapi-iv ... --live --default",
	}},
	"billkey channel list": {"List channels (all merchants', or one's), saying which secrets are set, never their values.", []string{
		"billkey channel list",
		"billkey channel list --merchant imp12345678",
	}},
	"billkey channel check": {"Check a channel's MID, INIAPI key and network path with a harmless inquiry.", []string{
		"billkey channel check --merchant imp12345678 --mid INIBillTst --inicis-sim-url http://127.0.0.1:8080/inicis-sim",
	}},
	"billkey merchant rotate-secret": {"Issue a new REST API secret (printed once); the old one stays valid for --overlap.", []string{
		"billkey merchant rotate-secret --merchant imp12345678 --overlap 24h",
	}},
	"billkey merchant revoke-tokens": {"End every access token of a merchant now, on every node.", []string{
		"billkey merchant revoke-tokens --merchant imp12345678",
	}},
	"billkey channel mobile-window": {"Choose how phones register cards on a channel: the INIStdPay window (stdpay) or refuse.", []string{
		"billkey channel mobile-window --merchant imp12345678 --mid MYMID --mode refuse",
	}},
	"billkey webhooks notice-hosts": {"Hosts, besides the webhook URL's, that a payment window's notice_url may name.", []string{
		"billkey webhooks notice-hosts --merchant imp12345678 --set hooks.example.com,*.example.net",
		"billkey webhooks notice-hosts --merchant imp12345678 --clear",
	}},
	"billkey operator create": {"Create a console operator (password from --password-stdin, or generated and printed once).", []string{
		"billkey operator create --login alice --name 김운영 --merchants imp12345678",
	}},
	"billkey operator list": {"List console operators and their grants.", []string{
		"billkey operator list",
	}},
	"billkey operator disable": {"Disable an operator and end their sessions.", []string{
		"billkey operator disable --login alice",
	}},
	"billkey operator enable": {"Enable a disabled operator.", []string{
		"billkey operator enable --login alice",
	}},
	"billkey operator reset-password": {"Set a new password for an operator and end their sessions.", []string{
		"billkey operator reset-password --login alice",
	}},
	"billkey backup": {"Copy the SQLite database online, checked against the master key (PostgreSQL: use pg_dump).", []string{
		"billkey backup --out /backups/billkey.db",
	}},
	"billkey restore": {"Restore a backup into a new, empty data folder.", []string{
		"billkey restore --from /backups/billkey.db --data-dir /var/lib/billkey-restored",
	}},
	"billkey probe": {"Exit 0 when a URL answers 200 (a health check for images without curl).", []string{
		"billkey probe --url http://127.0.0.1:8080/readyz",
	}},
	"billkey migrate": {"Apply database migrations.", []string{
		"billkey migrate --db postgres://billkey@db/billkey",
	}},
	"billkey webhooks list": {"List webhook deliveries with every attempt.", []string{
		"billkey webhooks list --merchant imp12345678",
		"billkey webhooks list --merchant imp12345678 --state failed --json",
	}},
	"billkey webhooks resend": {"Send a delivery again.", []string{
		"billkey webhooks resend --merchant imp12345678 --id 42",
	}},
	"billkey webhooks secret": {"Rotate the webhook signing secret (the previous one keeps signing for a while).", []string{
		"billkey webhooks secret --merchant imp12345678 --previous-valid-for 24h",
	}},
	"billkey webhooks url": {"Set the merchant's default notification URL.", []string{
		"billkey webhooks url --merchant imp12345678 --url https://shop.example.com/iamport-webhook",
	}},
	"billkey keys generate": {"Create a master key file (mode 0600) for --key-file.", []string{
		"billkey keys generate --key-file /etc/billkey/keys.json",
	}},
	"billkey keys rotate": {"Add a new master key and re-wrap every sealed secret under it.", []string{
		"billkey keys rotate --key-file /etc/billkey/keys.json",
		`BILLKEY_KEK="new:...,old:..." billkey keys rotate --rewrap-only`,
	}},
	"billkey inicis-sim": {"Run the KG INICIS simulator alone.", []string{
		"billkey inicis-sim --addr 127.0.0.1:9090 --state sim.db",
	}},
	"billkey loadtest": {"Measure a running billkey against the PG alone and bare baselines, with CPU per charge, the window and the renewal spike.", []string{
		"billkey loadtest --imp-key KEY --imp-secret SECRET --step 50:50:1000",
		"billkey loadtest --imp-key KEY --imp-secret SECRET --imp-code imp12345678 --phases window,spike --spike 100000",
		"billkey loadtest --url http://n1:8080,http://n2:8080 --billkey-pid 101,102 --pg-stat-dsn postgres://... --json report.json",
	}},
}

// groups are the commands with subcommands, with their one-line summary.
var groups = map[string]struct {
	Summary string
	Subs    []string
}{
	"merchant": {"Merchants: create, list, rotate the REST secret, revoke tokens.", []string{"create", "list", "rotate-secret", "revoke-tokens"}},
	"channel":  {"PG channels (KG INICIS MIDs) of merchants: add, list, check, phone window.", []string{"add", "list", "check", "mobile-window"}},
	"webhooks": {"Webhook deliveries, resend, signing secret, URL and allowed notice_url hosts.", []string{"list", "resend", "secret", "url", "notice-hosts"}},
	"keys":     {"Master keys: generate a key file, rotate.", []string{"generate", "rotate"}},
	"operator": {"Console operators: create, list, disable, enable, reset a password.", []string{"create", "list", "disable", "enable", "reset-password"}},
}

// isHelp reports whether arg asks for help.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// groupHelp prints a group's summary and each subcommand's summary and
// examples.
func groupHelp(w io.Writer, group string) {
	g := groups[group]
	fmt.Fprintf(w, "billkey %s: %s\n\nCommands:\n", group, g.Summary)
	for _, sub := range g.Subs {
		d := commandDocs["billkey "+group+" "+sub]
		fmt.Fprintf(w, "  billkey %s %s\n      %s\n", group, sub, d.Summary)
		for _, ex := range d.Examples {
			fmt.Fprintf(w, "      $ %s\n", ex)
		}
	}
	fmt.Fprintf(w, "\nRun \"billkey %s <command> -h\" for a command's flags.\n", group)
}

// groupUsage answers a group called without a known subcommand: its help on
// -h (exit 0), else one line and the hint (exit 2).
func groupUsage(group string, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		groupHelp(stdout, group)
		return flag.ErrHelp
	}
	subs := strings.Join(groups[group].Subs, ", ")
	if len(args) == 0 {
		fmt.Fprintf(stderr, "billkey %s: a command is needed (%s); run \"billkey %s -h\" for help\n", group, subs, group)
	} else {
		fmt.Fprintf(stderr, "billkey %s: unknown command %q (%s); run \"billkey %s -h\" for help\n", group, args[0], subs, group)
	}
	return errUsage
}

// commandHelp prints a command's summary, examples and flags.
func commandHelp(w io.Writer, fs *flag.FlagSet) {
	d := commandDocs[fs.Name()]
	fmt.Fprintf(w, "%s: %s\n", fs.Name(), d.Summary)
	if len(d.Examples) > 0 {
		fmt.Fprintln(w, "\nExamples:")
		for _, ex := range d.Examples {
			fmt.Fprintf(w, "  $ %s\n", ex)
		}
	}
	fmt.Fprintln(w, "\nFlags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
}

// checkPublicAddr refuses listening on every interface without a public
// URL: billkey would otherwise send browsers (the payment window's return
// URLs) to http://0.0.0.0:PORT.
func checkPublicAddr(addr, publicURL, envHint string) error {
	if publicURL != "" {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil // net.Listen reports a malformed address
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return fmt.Errorf("--addr %s listens on every interface, but without --public-url browsers would be sent to http://%s; "+
			"add --public-url with the address browsers use, e.g. --public-url https://pay.example.com (env %s), or listen on one address (--addr 127.0.0.1:%s)",
			addr, net.JoinHostPort(host, port), envHint, port)
	}
	return nil
}

// requireDatabase makes read-only commands refuse a missing SQLite
// database instead of creating an empty one (and a master key) there.
func requireDatabase(c *config) error {
	if sqlstore.IsPostgres(c.DB) {
		return nil
	}
	path := strings.TrimPrefix(c.DB, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no billkey database at %s (looked there because of --db/BILLKEY_DB, else --data-dir/BILLKEY_DATA_DIR %q); "+
			"pass --db or --data-dir of an existing installation, or create one with \"billkey serve\" or \"billkey migrate\"", path, c.DataDir)
	} else if err != nil {
		return fmt.Errorf("database %s: %w", path, err)
	}
	return nil
}
