package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/billkey/billkey"
	"github.com/billkey/billkey/console"
)

// operatorStdin is where --password-stdin reads; tests replace it.
var operatorStdin io.Reader = os.Stdin

func runOperator(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return groupUsage("operator", args, stdout, stderr)
	}
	switch args[0] {
	case "create":
		return operatorCreate(ctx, args[1:], stdout, stderr)
	case "list":
		return operatorList(ctx, args[1:], stdout, stderr)
	case "disable":
		return operatorDisable(ctx, args[1:], stdout, stderr, true)
	case "enable":
		return operatorDisable(ctx, args[1:], stdout, stderr, false)
	case "reset-password":
		return operatorResetPassword(ctx, args[1:], stdout, stderr)
	}
	return groupUsage("operator", args, stdout, stderr)
}

// operatorPassword reads the password from stdin (--password-stdin) or
// generates one, which the caller prints once.
func operatorPassword(fromStdin bool) (password string, generated bool, err error) {
	if fromStdin {
		line, err := bufio.NewReader(operatorStdin).ReadString('\n')
		if err != nil && line == "" {
			return "", false, fmt.Errorf("read password from stdin: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), false, nil
	}
	const alphabet = "23456789abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
	b := make([]byte, 20)
	for i := range b {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			return "", false, err
		}
		b[i] = alphabet[n.Int64()]
	}
	return string(b), true, nil
}

func operatorCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := storeFlags("operator create")
	var login, name, merchants string
	var all, fromStdin bool
	fs.StringVar(&login, "login", "", "login name (required)")
	fs.StringVar(&name, "name", "", "display name")
	fs.StringVar(&merchants, "merchants", "", "comma-separated imp codes the operator may see")
	fs.BoolVar(&all, "all-merchants", false, "the operator may see every merchant")
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of stdin (default: generate one and print it once)")
	svc, _, err := setup(ctx, fs, c, args, stderr)
	if err != nil {
		return err
	}
	defer sqlStore(svc).Close()
	login = strings.TrimSpace(login)
	if login == "" || len(login) > 100 || strings.ContainsAny(login, " \t\r\n") {
		return fmt.Errorf("--login is required (1 to 100 characters, no spaces)")
	}
	if all == (merchants != "") {
		return fmt.Errorf("give exactly one of --merchants imp...,imp... and --all-merchants")
	}
	op := &billkey.Operator{Login: login, Name: name, AllMerchants: all}
	for _, code := range strings.Split(merchants, ",") {
		if code = strings.TrimSpace(code); code == "" {
			continue
		}
		m, err := sqlStore(svc).MerchantByImpCode(ctx, code)
		if err != nil {
			return fmt.Errorf("merchant %s: %s", code, billkey.ErrorMessage(err))
		}
		op.MerchantIDs = append(op.MerchantIDs, m.ID)
	}
	password, generated, err := operatorPassword(fromStdin)
	if err != nil {
		return err
	}
	if op.PasswordHash, err = console.HashPassword(password, console.DefaultHashParams); err != nil {
		return err
	}
	if err := sqlStore(svc).CreateOperator(ctx, op); err != nil {
		return fmt.Errorf("create operator: %s", billkey.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "operator %q created\n", login)
	if generated {
		fmt.Fprintf(stdout, "  password: %s\n(shown only now; billkey keeps an argon2id hash)\n", password)
	}
	return nil
}

func operatorList(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := storeFlags("operator list")
	svc, _, err := setup(ctx, fs, c, args, stderr)
	if err != nil {
		return err
	}
	defer sqlStore(svc).Close()
	ops, err := sqlStore(svc).ListOperators(ctx)
	if err != nil {
		return err
	}
	ms, err := sqlStore(svc).ListMerchants(ctx)
	if err != nil {
		return err
	}
	codes := map[int64]string{}
	for _, m := range ms {
		codes[m.ID] = m.ImpCode
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOGIN\tNAME\tMERCHANTS\tSTATE\tCREATED")
	for _, o := range ops {
		grants := "all"
		if !o.AllMerchants {
			var gs []string
			for _, id := range o.MerchantIDs {
				gs = append(gs, codes[id])
			}
			grants = strings.Join(gs, ",")
		}
		state := "active"
		if o.Disabled {
			state = "disabled"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.Login, o.Name, grants, state, o.CreatedAt.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

func operatorDisable(ctx context.Context, args []string, stdout, stderr io.Writer, disable bool) error {
	verb := map[bool]string{true: "disable", false: "enable"}[disable]
	fs, c := storeFlags("operator " + verb)
	var login string
	fs.StringVar(&login, "login", "", "login name (required)")
	svc, _, err := setup(ctx, fs, c, args, stderr)
	if err != nil {
		return err
	}
	defer sqlStore(svc).Close()
	if err := sqlStore(svc).SetOperatorDisabled(ctx, login, disable); err != nil {
		return fmt.Errorf("%s operator: %s", verb, billkey.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "operator %q %sd", login, verb)
	if disable {
		fmt.Fprint(stdout, " (its sessions ended)")
	}
	fmt.Fprintln(stdout)
	return nil
}

func operatorResetPassword(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := storeFlags("operator reset-password")
	var login string
	var fromStdin bool
	fs.StringVar(&login, "login", "", "login name (required)")
	fs.BoolVar(&fromStdin, "password-stdin", false, "read the new password from the first line of stdin (default: generate one and print it once)")
	svc, _, err := setup(ctx, fs, c, args, stderr)
	if err != nil {
		return err
	}
	defer sqlStore(svc).Close()
	password, generated, err := operatorPassword(fromStdin)
	if err != nil {
		return err
	}
	hash, err := console.HashPassword(password, console.DefaultHashParams)
	if err != nil {
		return err
	}
	if err := sqlStore(svc).SetOperatorPassword(ctx, login, hash); err != nil {
		return fmt.Errorf("reset password: %s", billkey.ErrorMessage(err))
	}
	fmt.Fprintf(stdout, "password of operator %q reset (its sessions ended)\n", login)
	if generated {
		fmt.Fprintf(stdout, "  password: %s\n(shown only now)\n", password)
	}
	return nil
}
