package cli_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/cli"
)

func runCLI(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var out, errs bytes.Buffer
	code := cli.Main(context.Background(), args, &out, &errs)
	return code, out.String() + errs.String()
}

// consoleLogin logs in to /console over HTTP and reports whether it reached
// the console.
func consoleLogin(t *testing.T, base, login, password string) bool {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	res, err := c.Get(base + "/console/login")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("login page CSP: %q", csp)
	}
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(string(page))
	if m == nil {
		t.Fatalf("no CSRF token on the login page:\n%s", page)
	}
	res, err = c.PostForm(base+"/console/login", url.Values{"csrf": {m[1]}, "login": {login}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return strings.HasPrefix(res.Request.URL.Path, "/console/m/")
}

// TestOperatorCommands: billkey operator create|list|disable|enable|
// reset-password, and the console that billkey serve mounts.
func TestOperatorCommands(t *testing.T) {
	dir := t.TempDir()
	s := serve(t, "--data-dir", dir)
	if !strings.Contains(s.out.String(), "/console/") {
		t.Errorf("serve does not announce the console:\n%s", s.out)
	}
	code, out := runCLI(t, "operator", "create", "--data-dir", dir, "--login", "kim", "--all-merchants")
	pw := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
	if code != 0 || pw == nil {
		t.Fatalf("operator create: %d %s", code, out)
	}
	if code, out := runCLI(t, "operator", "create", "--data-dir", dir, "--login", "kim", "--all-merchants"); code == 0 {
		t.Fatalf("a second kim was created: %s", out)
	}
	if code, out := runCLI(t, "operator", "create", "--data-dir", dir, "--login", "lee", "--merchants", "imp00000000"); code == 0 || !strings.Contains(out, "imp00000000") {
		t.Fatalf("an operator was granted an unknown merchant: %d %s", code, out)
	}
	if code, out := runCLI(t, "operator", "list", "--data-dir", dir); code != 0 || !regexp.MustCompile(`kim\s+all\s+active`).MatchString(out) {
		t.Fatalf("operator list: %d %s", code, out)
	}
	if !consoleLogin(t, s.url, "kim", pw[1]) {
		t.Fatal("the created operator cannot log in")
	}
	if code, out := runCLI(t, "operator", "disable", "--data-dir", dir, "--login", "kim"); code != 0 {
		t.Fatalf("disable: %s", out)
	}
	if consoleLogin(t, s.url, "kim", pw[1]) {
		t.Fatal("a disabled operator logged in")
	}
	if code, out := runCLI(t, "operator", "enable", "--data-dir", dir, "--login", "kim"); code != 0 {
		t.Fatalf("enable: %s", out)
	}
	code, out = runCLI(t, "operator", "reset-password", "--data-dir", dir, "--login", "kim")
	pw2 := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
	if code != 0 || pw2 == nil || pw2[1] == pw[1] {
		t.Fatalf("reset-password: %d %s", code, out)
	}
	if consoleLogin(t, s.url, "kim", pw[1]) {
		t.Fatal("the old password still works after a reset")
	}
	if !consoleLogin(t, s.url, "kim", pw2[1]) {
		t.Fatal("the new password does not work")
	}
	if code, _ := runCLI(t, "operator", "reset-password", "--data-dir", dir, "--login", "nobody"); code == 0 {
		t.Fatal("reset-password of an unknown operator succeeded")
	}
}
