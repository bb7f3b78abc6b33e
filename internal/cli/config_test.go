package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "billkey.conf")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConfigFilePrecedence: a setting comes from the command line, else the
// environment, else the configuration file, else the default.
func TestConfigFilePrecedence(t *testing.T) {
	dir := t.TempDir()
	conf := writeConfig(t, `# billkey test configuration
data-dir     = `+dir+`
public-url   = "https://file.example"
pg-timeout   = 7s
schedule-lease = 42s
no-demo      = true
addr         = 127.0.0.1:1   # overridden by the test's --addr
`)
	t.Setenv("BILLKEY_PG_TIMEOUT", "9s") // env beats the file
	t.Setenv("BILLKEY_CONFIG", "/nonexistent/ignored.conf")
	s := serve(t, "--config", conf, "--public-url", "http://flag.example") // flag beats env and file
	logs := s.errs.String()
	for _, want := range []string{
		"public_url=http://flag.example", // flag
		"pg_timeout=9s",                  // env over file
		"schedule_lease=42s",             // file over default
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(s.out.String(), "demo merchant") {
		t.Error("no-demo = true from the file was ignored")
	}
	if _, err := os.Stat(filepath.Join(dir, "billkey.db")); err != nil {
		t.Errorf("data-dir from the file was ignored: %v", err)
	}
	s.stop()

	// BILLKEY_CONFIG names the file when --config is absent; a setting of
	// another command (addr, for "merchant list") is ignored, not an error.
	t.Setenv("BILLKEY_CONFIG", conf)
	code, stdout, stderr := run(t, "merchant", "list")
	if code != 0 {
		t.Fatalf("merchant list with BILLKEY_CONFIG: exit %d %s", code, stderr)
	}
	if strings.Contains(stdout, "데모") {
		t.Errorf("merchant list read another database: %s", stdout)
	}
}

// TestConfigFileErrors: unknown names, bad values and malformed lines are
// refused with the file and line; nothing starts.
func TestConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ text, want string }{
		{"data-dir = " + dir + "\npublic-ulr = https://x.example\n", `:2: unknown setting "public-ulr"`},
		{"data-dir = " + dir + "\npg-timeout = soon\n", ":2: pg-timeout"},
		{"data-dir = " + dir + "\njust words\n", `:2: expected "name = value"`},
		{"data-dir = " + dir + "\nname = shop\n", `:2: unknown setting "name"`}, // a one-off argument is no setting
		{"data-dir = " + dir + "\ndata-dir = /tmp\n", ":2: data-dir is already set on line 1"},
		{"public-url = \"https://x\n", ":1: bad quoted value"},
	} {
		conf := writeConfig(t, c.text)
		code, _, stderr := run(t, "serve", "--config", conf, "--addr", "127.0.0.1:0")
		if code == 0 || !strings.Contains(stderr, c.want) {
			t.Errorf("%q: exit %d, stderr %q, want %q", c.text, code, stderr, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "billkey.db")); !os.IsNotExist(err) {
		t.Error("a refused configuration still created a database")
	}
	code, _, stderr := run(t, "migrate", "--config", filepath.Join(dir, "missing.conf"))
	if code == 0 || !strings.Contains(stderr, "missing.conf") {
		t.Errorf("missing file: exit %d %s", code, stderr)
	}
}

// TestExampleConfigIsValid: deploy/billkey.conf.example names only real
// settings with valid values (serve starts with it, its public URL and
// timeout in force), so the file operators copy does not rot.
func TestExampleConfigIsValid(t *testing.T) {
	example := filepath.Join("..", "..", "deploy", "billkey.conf.example")
	s := serve(t, "--config", example, "--data-dir", t.TempDir(), "--admin-addr", "127.0.0.1:0")
	logs := s.errs.String()
	for _, want := range []string{`"public_url":"https://pay.example.com"`, `"msg":"billkey starting"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %s:\n%s", want, logs)
		}
	}
	if strings.Contains(s.out.String(), "demo merchant") {
		t.Error("no-demo = true was not applied")
	}
}
