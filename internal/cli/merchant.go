package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/gateway"
	"github.com/billkey/billkey/inicis"
)

func runMerchant(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return groupUsage("merchant", args, stdout, stderr)
	}
	switch args[0] {
	case "create":
		return merchantCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return merchantList(ctx, args[1:], stdout, stderr)
	case "rotate-secret":
		return merchantRotateSecret(ctx, args[1:], stdout, stderr)
	case "revoke-tokens":
		return merchantRevokeTokens(ctx, args[1:], stdout, stderr)
	}
	return groupUsage("merchant", args, stdout, stderr)
}

// setup parses the common flags and opens keys and store.
func setup(ctx context.Context, fs *flag.FlagSet, c *config, args []string, stderr io.Writer) (*gateway.Service, *keys, error) {
	return setupChecked(ctx, fs, c, args, stderr, nil, false)
}

// setupRead is setup for read-only commands: a missing SQLite database or
// master key is an error saying where it looked, never created.
func setupRead(ctx context.Context, fs *flag.FlagSet, c *config, args []string, stderr io.Writer) (*gateway.Service, *keys, error) {
	return setupChecked(ctx, fs, c, args, stderr, func() error {
		c.resolve()
		return requireDatabase(c)
	}, true)
}

// setupChecked is setup running check (when not nil) after the flags are
// parsed and before anything is opened or created; readOnly never
// generates a master key.
func setupChecked(ctx context.Context, fs *flag.FlagSet, c *config, args []string, stderr io.Writer, check func() error, readOnly bool) (*gateway.Service, *keys, error) {
	if err := parse(fs, args, stderr); err != nil {
		return nil, nil, err
	}
	if check != nil {
		if err := check(); err != nil {
			return nil, nil, err
		}
	}
	// A key file named on the command line, in the environment or in the
	// configuration file (all visited: see applyEnv) is never generated;
	// neither is one that a read-only command needs.
	explicit := readOnly
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "key-file" })
	c.resolve()
	k, err := loadKeys(c, explicit, stderr)
	if err != nil {
		return nil, nil, err
	}
	store, err := openStore(ctx, c, k)
	if err != nil {
		return nil, nil, err
	}
	pgs, err := billkey.BuildPGRegistry(billkey.PGEnv{Logger: c.logger(stderr)}, PGFactories...)
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return gateway.New(store, k.Owned, pgs, c.logger(stderr)), k, nil
}

func merchantCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := storeFlags("merchant create")
	var in gateway.NewMerchant
	var asJSON bool
	fs.StringVar(&in.Name, "name", "", "merchant name (required)")
	fs.StringVar(&in.ImpCode, "imp-code", "", "keep an existing i'mport imp code (imp + 8 digits)")
	fs.StringVar(&in.ImpKey, "imp-key", "", "keep an existing i'mport REST API key")
	fs.StringVar(&in.ImpSecret, "imp-secret", "", "keep an existing i'mport REST API secret")
	fs.StringVar(&in.WebhookURL, "webhook-url", "", "default notification (webhook) URL")
	fs.BoolVar(&in.NoTestChannel, "no-test-channel", false, "do not add the html5_inicis test channel (MID INIBillTst)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	svc, _, err := setup(ctx, fs, c, args, stderr)
	if err != nil {
		return err
	}
	defer sqlStore(svc).Close()
	created, err := svc.CreateMerchant(ctx, in)
	if err != nil {
		return fmt.Errorf("create merchant: %s", billkey.ErrorMessage(err))
	}
	m := created.Merchant
	if asJSON {
		return json.NewEncoder(stdout).Encode(map[string]any{
			"id": m.ID, "name": m.Name, "imp_code": m.ImpCode, "imp_key": m.APIKey, "imp_secret": created.ImpSecret,
			"webhook_secret": created.WebhookSecret,
		})
	}
	fmt.Fprintf(stdout, "merchant %q created\n  imp code:       %s\n  imp_key:        %s\n  imp_secret:     %s\n  webhook secret: %s\n(the secrets are shown only now; billkey keeps a keyed hash of imp_secret and the webhook secret sealed)\n",
		m.Name, m.ImpCode, m.APIKey, created.ImpSecret, created.WebhookSecret)
	return nil
}

func merchantList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := storeFlags("merchant list")
	svc, _, err := setupRead(ctx, fs, c, args, stderr)
	if err != nil {
		return err
	}
	defer sqlStore(svc).Close()
	ms, err := sqlStore(svc).ListMerchants(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tIMP CODE\tIMP_KEY\tNAME\tCREATED")
	for _, m := range ms {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", m.ID, m.ImpCode, m.APIKey, m.Name, m.CreatedAt.Format("2006-01-02 15:04:05"))
	}
	return tw.Flush()
}

func runChannel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return groupUsage("channel", args, stdout, stderr)
	}
	switch args[0] {
	case "add":
		return channelAdd(ctx, args[1:], stdout, stderr)
	case "list":
		return channelList(ctx, args[1:], stdout, stderr)
	case "check":
		return channelCheck(ctx, args[1:], stdout, stderr)
	case "mobile-window":
		return channelMobileWindow(ctx, args[1:], stdout, stderr)
	}
	return groupUsage("channel", args, stdout, stderr)
}

func channelAdd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := storeFlags("channel add")
	var impCode string
	ch := &billkey.Channel{}
	fs.StringVar(&impCode, "merchant", "", "merchant imp code (required)")
	fs.StringVar(&ch.Provider, "pg", billkey.ProviderHTML5Inicis, "provider: html5_inicis or inicis (KG INICIS), or another registered PG")
	fs.StringVar(&ch.MID, "mid", "", "INICIS MID (required)")
	fs.BoolVar(&ch.Live, "live", false, "a live channel (real INICIS hosts, real money)")
	fs.BoolVar(&ch.Default, "default", false, "make it the merchant's default channel")
	var cr inicis.Credentials
	var rawCreds string
	bindSetting(fs, "sign-key", &cr.SignKey)
	bindSetting(fs, "iniapi-key", &cr.APIKey)
	bindSetting(fs, "iniapi-iv", &cr.APIIV)
	bindSetting(fs, "inilite-key", &cr.LiteKey)
	bindSetting(fs, "credentials", &rawCreds)
	fs.StringVar(&ch.MobileWindow, "mobile-window", billkey.MobileWindowStdPay, "on phones: stdpay (INIStdPay window, verified server to server) or refuse")
	svc, k, err := setup(ctx, fs, c, args, stderr)
	if err != nil {
		return err
	}
	defer sqlStore(svc).Close()
	ch.Credentials = cr.Encode()
	if rawCreds != "" {
		ch.Credentials = billkey.ChannelCredentials(rawCreds)
	}
	if ch.Live && !k.Explicit {
		return fmt.Errorf("a live channel needs an explicit master key (--key-file, BILLKEY_KEY_FILE or BILLKEY_KEK); the generated test key in %s is not one", k.Source)
	}
	if err := svc.AddChannel(ctx, impCode, ch); err != nil {
		return fmt.Errorf("add channel: %s", billkey.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "channel %d added: %s.%s (%s)\n", ch.ID, ch.Provider, ch.MID, mode(ch.Live))
	return nil
}

func channelList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := storeFlags("channel list")
	var impCode string
	fs.StringVar(&impCode, "merchant", "", "only this merchant's channels (imp code; default: every merchant's)")
	svc, _, err := setupRead(ctx, fs, c, args, stderr)
	if err != nil {
		return err
	}
	defer sqlStore(svc).Close()
	var ms []*billkey.Merchant
	if impCode != "" {
		m, err := sqlStore(svc).MerchantByImpCode(ctx, impCode)
		if err != nil {
			return fmt.Errorf("%s", billkey.ErrorMessage(err))
		}
		ms = []*billkey.Merchant{m}
	} else if ms, err = sqlStore(svc).ListMerchants(ctx); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MERCHANT\tID\tPG\tMID\tMODE\tDEFAULT\tMOBILE\tCREDENTIALS\tCHANNEL KEY")
	for _, m := range ms {
		chs, err := sqlStore(svc).Channels(ctx, m.ID)
		if err != nil {
			return err
		}
		for _, ch := range chs {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%v\t%s\t%s\t%s\n", m.ImpCode, ch.ID, ch.Provider, ch.MID, mode(ch.Live), ch.Default, ch.MobileWindow,
				credentialSummary(ch), gateway.ChannelKey(ch))
		}
	}
	return tw.Flush()
}

// channelMobileWindow implements "billkey channel mobile-window --merchant
// impXXXXXXXX --mid MID --mode stdpay|refuse".
func channelMobileWindow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := storeFlags("channel mobile-window")
	var impCode, mid, mode string
	fs.StringVar(&impCode, "merchant", "", "merchant imp code (required)")
	fs.StringVar(&mid, "mid", "", "the channel's INICIS MID (required)")
	fs.StringVar(&mode, "mode", "", "stdpay (INIStdPay window on phones, verified server to server) or refuse (required)")
	svc, _, err := setup(ctx, fs, c, args, stderr)
	if err != nil {
		return err
	}
	defer sqlStore(svc).Close()
	if err := svc.SetMobileWindow(ctx, impCode, mid, mode); err != nil {
		return fmt.Errorf("mobile window: %s", billkey.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "channel %s of %s: mobile window %s\n", mid, impCode, mode)
	return nil
}

func mode(live bool) string {
	if live {
		return "live"
	}
	return "test"
}

// credentialSummary says which secrets are set, never their values.
func credentialSummary(ch *billkey.Channel) string {
	if ch.Provider != billkey.ProviderHTML5Inicis && ch.Provider != billkey.ProviderInicis {
		return fmt.Sprintf("credentials:%d bytes", len(ch.Credentials))
	}
	c, err := inicis.ParseCredentials(ch.Credentials)
	if err != nil {
		return "credentials:unreadable"
	}
	set := func(name, v string) string {
		if v == "" {
			return name + ":-"
		}
		return name + ":set"
	}
	return set("signKey", c.SignKey) + " " + set("iniapi", c.APIKey) + " " + set("iv", c.APIIV) + " " + set("inilite", c.LiteKey)
}

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := storeFlags("migrate")
	svc, _, err := setup(ctx, fs, c, args, stderr)
	if err != nil {
		return err
	}
	defer sqlStore(svc).Close()
	fmt.Fprintf(stdout, "database %s (%s) is up to date\n", maskDSN(c.DB), sqlStore(svc).Dialect)
	return nil
}

// merchantRotateSecret implements "billkey merchant rotate-secret": a new
// REST API secret, printed once; the old one keeps working for --overlap.
func merchantRotateSecret(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := storeFlags("merchant rotate-secret")
	var impCode string
	var overlap time.Duration
	var asJSON bool
	fs.StringVar(&impCode, "merchant", "", "imp code of the merchant (required)")
	fs.DurationVar(&overlap, "overlap", 24*time.Hour, "how long the old secret keeps working (0: it stops now; at most 720h)")
	fs.BoolVar(&asJSON, "json", false, "print one JSON object")
	svc, _, err := setup(ctx, fs, c, args, stderr)
	if err != nil {
		return err
	}
	defer sqlStore(svc).Close()
	if impCode == "" {
		fmt.Fprintln(stderr, "billkey merchant rotate-secret: --merchant is required")
		return errUsage
	}
	secret, until, err := svc.RotateSecret(ctx, impCode, overlap)
	if err != nil {
		return fmt.Errorf("rotate secret: %s", billkey.ErrorMessage(err))
	}
	if asJSON {
		out := map[string]any{"imp_code": impCode, "imp_secret": secret, "old_secret_valid_until": nil}
		if !until.IsZero() {
			out["old_secret_valid_until"] = until.Unix()
		}
		return json.NewEncoder(stdout).Encode(out)
	}
	fmt.Fprintf(stdout, "new REST API secret of %s (shown only now; billkey keeps a keyed hash):\n  imp_secret: %s\n", impCode, secret)
	if until.IsZero() {
		fmt.Fprintln(stdout, "the old secret no longer works")
	} else {
		fmt.Fprintf(stdout, "the old secret keeps working until %s\n", until.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(stdout, "tokens already issued stay valid until they expire; end them with: billkey merchant revoke-tokens --merchant "+impCode)
	return nil
}

// merchantRevokeTokens implements "billkey merchant revoke-tokens": the
// merchant's access tokens stop working on every node (within a second).
func merchantRevokeTokens(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := storeFlags("merchant revoke-tokens")
	var impCode string
	fs.StringVar(&impCode, "merchant", "", "imp code of the merchant (required)")
	svc, _, err := setup(ctx, fs, c, args, stderr)
	if err != nil {
		return err
	}
	defer sqlStore(svc).Close()
	if impCode == "" {
		fmt.Fprintln(stderr, "billkey merchant revoke-tokens: --merchant is required")
		return errUsage
	}
	if err := svc.RevokeTokens(ctx, impCode); err != nil {
		return fmt.Errorf("revoke tokens: %s", billkey.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "access tokens of %s revoked (every node stops accepting them within a second)\n", impCode)
	return nil
}
