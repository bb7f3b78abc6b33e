package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/billkey/billkey/inicissim"
	"github.com/billkey/billkey/vault"
)

// runKeys implements "billkey keys rotate": a new primary master key is
// added to the key file (old keys stay, so running nodes and old blobs keep
// working), then every sealed billing key and channel secret is re-wrapped
// under it. Only data keys are re-wrapped; payloads are untouched.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "generate" {
		return keysGenerate(args[1:], stdout, stderr)
	}
	if len(args) == 0 || args[0] != "rotate" {
		return groupUsage("keys", args, stdout, stderr)
	}
	fs, c := storeFlags("keys rotate")
	var rewrapOnly bool
	fs.BoolVar(&rewrapOnly, "rewrap-only", false, "do not add a key; only re-wrap under the current primary (after changing BILLKEY_KEK)")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	c.resolve()
	if !rewrapOnly {
		if getenv(vault.EnvKEK) != "" {
			return fmt.Errorf("keys come from BILLKEY_KEK: put the new key first in BILLKEY_KEK (\"new:...,old:...\") and run with --rewrap-only")
		}
		id, err := vault.RotateFile(c.KeyFile)
		if err != nil {
			return fmt.Errorf("rotate %s: %w", c.KeyFile, err)
		}
		fmt.Fprintf(stdout, "new primary master key %s added to %s (old keys kept)\n", id, c.KeyFile)
	}
	svc, k, err := setup(ctx, flag.NewFlagSet("", flag.ContinueOnError), c, nil, stderr)
	if err != nil {
		return err
	}
	defer sqlStore(svc).Close()
	n, err := svc.RotateKeys(ctx, k.Rewrap)
	if err != nil {
		return err
	}
	m, err := svc.RewrapWebhookSecrets(ctx, k.Rewrap)
	if err != nil {
		return err
	}
	n += m
	fmt.Fprintf(stdout, "re-wrapped %d sealed secrets under %s\n", n, k.PrimaryID())
	return nil
}

// keysGenerate implements "billkey keys generate": a new key file (0600)
// for production, where a key is never generated implicitly.
func keysGenerate(args []string, stdout, stderr io.Writer) error {
	fs, c := storeFlags("keys generate")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	c.resolve()
	ring, err := vault.GenerateFile(c.KeyFile)
	if err != nil {
		return fmt.Errorf("generate %s: %w", c.KeyFile, err)
	}
	fmt.Fprintf(stdout, "master key file %s created (mode 0600), primary key %s; back it up\n", c.KeyFile, ring.PrimaryID())
	return nil
}

// runSimulator implements "billkey inicis-sim": the KG INICIS simulator alone.
func runSimulator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("billkey inicis-sim", flag.ContinueOnError)
	var addr, public, logLevel, token, state string
	var hold time.Duration
	bindSetting(fs, "addr", &addr)
	bindSetting(fs, "introspect-token", &token)
	bindSetting(fs, "public-url", &public)
	bindSetting(fs, "log-level", &logLevel)
	bindSetting(fs, "state", &state)
	bindSetting(fs, "hold-max", &hold)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	c := config{LogLevel: logLevel}
	guard := "open to anyone who reaches it"
	if token != "" {
		guard = "needs its bearer token"
	} else if !isLoopback(addr) {
		fmt.Fprintf(stderr, "warning: --addr %s is not loopback and /_sim/ (the ledger shows raw billing keys) has no --introspect-token\n", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("inicis-sim: %w", err)
	}
	sim, err := inicissim.Open(inicissim.Config{PublicURL: public, HoldMax: hold, Logger: c.logger(stderr), StateFile: state,
		IntrospectToken: token})
	if err != nil {
		ln.Close()
		return err
	}
	defer sim.CloseState()
	where := "in memory"
	if state != "" {
		where = state
	}
	// Printed only now that the port is bound and the state loaded.
	fmt.Fprintf(stdout, "KG INICIS simulator listening on http://%s (ledger: /_sim/ledger, %s; state: %s)\n", ln.Addr(), guard, where)
	return inicissim.ServeSimulator(ctx, ln, sim)
}

// isLoopback reports whether a listen address binds loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
