package cli_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestGroupHelp: every command group answers -h with each command's
// one-line summary and examples; no command or a wrong one is one line
// with the hint.
func TestGroupHelp(t *testing.T) {
	groups := map[string][]string{
		"merchant": {"create", "list"},
		"channel":  {"add", "list", "check"},
		"webhooks": {"list", "resend", "secret", "url"},
		"keys":     {"generate", "rotate"},
	}
	for g, subs := range groups {
		for _, h := range []string{"-h", "--help"} {
			code, out, _ := run(t, g, h)
			if code != 0 {
				t.Errorf("%s %s: exit %d", g, h, code)
			}
			for _, sub := range subs {
				if !strings.Contains(out, "billkey "+g+" "+sub+"\n") || !strings.Contains(out, "$ billkey "+g+" "+sub) {
					t.Errorf("%s %s: no summary or example of %s:\n%s", g, h, sub, out)
				}
			}
		}
		for _, args := range [][]string{{g}, {g, "bogus"}} {
			code, out, errs := run(t, args...)
			if code != 2 || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, `"billkey `+g+` -h"`) {
				t.Errorf("%v: exit %d, stderr %q", args, code, errs)
			}
		}
	}
	code, _, errs := run(t, "merchant", "create", "-h")
	if code != 0 || !strings.Contains(errs, "Create a merchant") || !strings.Contains(errs, "Examples:") || !strings.Contains(errs, "-imp-code") {
		t.Errorf("merchant create -h: exit %d\n%s", code, errs)
	}
}

// TestWrongFlagIsOneLine: a wrong flag prints the flag package's one line
// and the hint, not the whole flag list.
func TestWrongFlagIsOneLine(t *testing.T) {
	for _, args := range [][]string{{"merchant", "create", "--nope"}, {"serve", "--nope"}, {"merchant", "list", "extra"}} {
		code, _, errs := run(t, args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if code != 2 || len(lines) > 2 || !strings.Contains(errs, "-h\" for its flags") {
			t.Errorf("%v: exit %d, %d lines:\n%s", args, code, len(lines), errs)
		}
	}
}

// TestReadOnlyCommandsCreateNothing: listing on a missing database says
// where it looked and creates neither the database nor a master key (nor
// the data folder).
func TestReadOnlyCommandsCreateNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nothing-here")
	for _, args := range [][]string{
		{"merchant", "list"},
		{"channel", "list"},
		{"channel", "check", "--merchant", "imp12345678", "--mid", "INIBillTst"},
		{"webhooks", "list", "--merchant", "imp12345678"},
	} {
		code, _, errs := run(t, append(args, "--data-dir", dir)...)
		if code != 1 || !strings.Contains(errs, filepath.Join(dir, "billkey.db")) {
			t.Errorf("%v: exit %d: %s", args, code, errs)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Fatalf("%v created %s", args, dir)
		}
	}
	// An explicit --db that does not exist is named too.
	db := filepath.Join(t.TempDir(), "missing.db")
	if code, _, errs := run(t, "merchant", "list", "--db", db); code != 1 || !strings.Contains(errs, db) {
		t.Errorf("--db: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Fatal("merchant list created the database")
	}
}

// TestEnvironmentValuesAreChecked: an invalid value in the environment is
// an error (not silently the default); booleans take what flags take.
func TestEnvironmentValuesAreChecked(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("BILLKEY_PG_TIMEOUT", "5")
	code, _, errs := run(t, "serve", "--addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "a"))
	if code != 1 || !strings.Contains(errs, "BILLKEY_PG_TIMEOUT") || !strings.Contains(errs, "--pg-timeout") {
		t.Fatalf("BILLKEY_PG_TIMEOUT=5: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !os.IsNotExist(err) {
		t.Fatal("serve created its data folder before refusing its environment")
	}
	t.Setenv("BILLKEY_PG_TIMEOUT", "5s")
	t.Setenv("BILLKEY_NO_DEMO", "1")
	s := serve(t, "--data-dir", filepath.Join(dir, "b"))
	if strings.Contains(s.out.String(), "demo merchant") || strings.Contains(s.out.String(), "/demo") {
		t.Fatalf("BILLKEY_NO_DEMO=1 ignored:\n%s", s.out)
	}
	// The command line wins over the environment.
	t.Setenv("BILLKEY_PG_TIMEOUT", "nonsense")
	if code, _, errs := run(t, "serve", "--pg-timeout", "5s", "--addr", "256.0.0.0:1", "--data-dir", filepath.Join(dir, "c")); strings.Contains(errs, "BILLKEY_PG_TIMEOUT") {
		t.Fatalf("the environment overrode --pg-timeout: exit %d: %s", code, errs)
	}
}

// TestPublicAddrNeedsPublicURL: listening on every interface without
// --public-url is refused with the fix, before anything is created.
func TestPublicAddrNeedsPublicURL(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", ":0"} {
		code, _, errs := run(t, "serve", "--addr", addr, "--data-dir", dir)
		if code != 1 || !regexp.MustCompile(`--public-url https://`).MatchString(errs) {
			t.Errorf("--addr %s: exit %d: %s", addr, code, errs)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("serve created its data folder before refusing the address")
	}
}

// TestChannelListAll: without --merchant, every merchant's channels.
func TestChannelListAll(t *testing.T) {
	dir := t.TempDir()
	var codes []string
	for _, name := range []string{"one", "two"} {
		code, out, errs := run(t, "merchant", "create", "--data-dir", dir, "--name", name)
		m := regexp.MustCompile(`imp code:\s+(imp\d{8})`).FindStringSubmatch(out)
		if code != 0 || m == nil {
			t.Fatalf("create: %d %s %s", code, out, errs)
		}
		codes = append(codes, m[1])
	}
	code, out, errs := run(t, "channel", "list", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, codes[0]) || !strings.Contains(out, codes[1]) || strings.Count(out, "INIBillTst") != 2 {
		t.Fatalf("channel list: %d\n%s%s", code, out, errs)
	}
	code, out, _ = run(t, "channel", "list", "--data-dir", dir, "--merchant", codes[1])
	if code != 0 || strings.Contains(out, codes[0]) || !strings.Contains(out, codes[1]) {
		t.Fatalf("channel list --merchant: %d\n%s", code, out)
	}
}
