package cli_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/billkey/billkey/internal/cli"
)

func httpGet(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestServeSimulatorIntrospectionOnAdmin: billkey serve keeps the built-in
// simulator's ledger off --addr and serves it on --admin-addr; with --live
// the simulator is not served at all.
func TestServeSimulatorIntrospectionOnAdmin(t *testing.T) {
	admin := freeAddr(t)
	s := serve(t, "--data-dir", t.TempDir(), "--admin-addr", admin)
	if status, body := httpGet(t, s.url+"/inicis-sim/_sim/ledger"); status == http.StatusOK || strings.Contains(body, "keys") {
		t.Fatalf("ledger on the public listener: %d %s", status, body)
	}
	if status, _ := httpGet(t, s.url+"/inicis-sim/stdjs/INIStdPay.js"); status != http.StatusOK {
		t.Fatalf("simulator window script not served in test mode: %d", status)
	}
	var status int
	var body string
	for i := 0; i < 100; i++ { // the admin listener starts alongside
		if res, err := http.Get("http://" + admin + "/inicis-sim/_sim/ledger"); err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			status, body = res.StatusCode, string(b)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if status != http.StatusOK || !strings.Contains(body, `"keys"`) {
		t.Fatalf("ledger on the admin listener: %d %s", status, body)
	}

	live := serve(t, "--data-dir", t.TempDir(), "--live", "--no-demo")
	if status, body := httpGet(t, live.url+"/inicis-sim/stdjs/INIStdPay.js"); status == http.StatusOK || strings.Contains(body, "INIStdPay") {
		t.Fatalf("--live serves the simulator: %d %.100s", status, body)
	}
}

// TestChannelMobileWindowAndNoticeHostsCLI: the operator commands of the
// window settings.
func TestChannelMobileWindowAndNoticeHostsCLI(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) (int, string, string) {
		var out, errs bytes.Buffer
		code := cli.Main(context.Background(), append(args, "--data-dir", dir), &out, &errs)
		return code, out.String(), errs.String()
	}
	code, out, errs := run("merchant", "create", "--name", "shop", "--imp-code", "imp11112222", "--json")
	if code != 0 {
		t.Fatalf("merchant create: %s %s", out, errs)
	}
	if code, out, errs := run("channel", "mobile-window", "--merchant", "imp11112222", "--mid", "INIBillTst", "--mode", "refuse"); code != 0 || !strings.Contains(out, "refuse") {
		t.Fatalf("mobile-window: %d %s %s", code, out, errs)
	}
	if code, out, _ := run("channel", "list", "--merchant", "imp11112222"); code != 0 || !strings.Contains(out, "MOBILE") || !strings.Contains(out, "refuse") {
		t.Fatalf("channel list: %s", out)
	}
	if code, _, errs := run("channel", "mobile-window", "--merchant", "imp11112222", "--mid", "INIBillTst", "--mode", "inilite"); code == 0 || !strings.Contains(errs, "stdpay") {
		t.Fatalf("an unknown mode was accepted: %s", errs)
	}
	if code, out, errs := run("webhooks", "notice-hosts", "--merchant", "imp11112222", "--set", "Hooks.Example.com, *.example.net"); code != 0 ||
		!strings.Contains(out, "hooks.example.com") || !strings.Contains(out, "*.example.net") {
		t.Fatalf("notice-hosts --set: %d %s %s", code, out, errs)
	}
	if code, _, errs := run("webhooks", "notice-hosts", "--merchant", "imp11112222", "--set", "https://x/y"); code == 0 || !strings.Contains(errs, "허용 호스트") {
		t.Fatalf("a URL was accepted as a host: %s", errs)
	}
	if code, out, _ := run("webhooks", "notice-hosts", "--merchant", "imp11112222"); code != 0 || !strings.Contains(out, "hooks.example.com") {
		t.Fatalf("notice-hosts: %s", out)
	}
	if code, out, _ := run("webhooks", "notice-hosts", "--merchant", "imp11112222", "--clear"); code != 0 || strings.Contains(out, "hooks.example.com") {
		t.Fatalf("notice-hosts --clear: %s", out)
	}
}
