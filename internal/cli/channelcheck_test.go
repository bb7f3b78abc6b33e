package cli_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/billkey/billkey/inicissim"
	"github.com/billkey/billkey/internal/cli"
	"github.com/billkey/billkey/internal/dbtest"
)

// TestChannelCheck runs "billkey channel check" against the simulator: the
// merchant's test channel (INIBillTst with its real credentials) passes; a
// channel with a wrong INIAPI key fails on the key; an unknown MID fails on
// the MID; an unreachable simulator fails on the network; a malformed IV is
// caught. Nothing is charged.
func TestChannelCheck(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dsn string) {
		sim := inicissim.New(inicissim.Config{})
		srv := httptest.NewServer(sim)
		t.Cleanup(func() { _ = sim.Close(); srv.Close() })
		dir := t.TempDir()
		keyFile := filepath.Join(dir, "keys.json")
		run := func(args ...string) (int, string) {
			var out, errs bytes.Buffer
			code := cli.Main(context.Background(), append(args, "--db", dsn, "--data-dir", dir, "--key-file", keyFile), &out, &errs)
			return code, out.String() + errs.String()
		}
		if code, out := run("keys", "generate"); code != 0 {
			t.Fatalf("keys generate: %s", out)
		}
		if code, out := run("merchant", "create", "--name", "check", "--imp-code", "imp11112222"); code != 0 {
			t.Fatalf("merchant create: %s", out)
		}
		add := func(mid, key, iv string) {
			t.Helper()
			if code, out := run("channel", "add", "--merchant", "imp11112222", "--mid", mid, "--iniapi-key", key, "--iniapi-iv", iv, "--sign-key", "s"); code != 0 {
				t.Fatalf("channel add %s: %s", mid, out)
			}
		}
		add("INIpayTest", "wrongKey00000000", "HYb3yQ4f65QL89==")
		add("NOSUCHMID1", "rKnPljRn5m6J9Mzz", "W2KLNKra6Wxc1P==")
		add("INIescrow0", "yERbIlJ3NhTeObsA", "short")

		check := func(mid, simURL string) (int, string) {
			return run("channel", "check", "--merchant", "imp11112222", "--mid", mid, "--inicis-sim-url", simURL)
		}
		if code, out := check("INIBillTst", srv.URL); code != 0 || !strings.Contains(out, "result: ok") || !strings.Contains(out, "INIAPI key:  ok") {
			t.Errorf("good channel: %d\n%s", code, out)
		}
		if code, out := check("INIpayTest", srv.URL); code != 1 || !strings.Contains(out, "INIAPI key:  FAILED") || !strings.Contains(out, "hashData") {
			t.Errorf("wrong key: %d\n%s", code, out)
		}
		if code, out := check("NOSUCHMID1", srv.URL); code != 1 || !strings.Contains(out, "MID:         FAILED") {
			t.Errorf("unknown MID: %d\n%s", code, out)
		}
		if code, out := check("INIescrow0", srv.URL); code != 1 || !strings.Contains(out, "INIAPI IV:   FAILED") {
			t.Errorf("short IV: %d\n%s", code, out)
		}
		dead := httptest.NewServer(nil)
		deadURL := dead.URL
		dead.Close()
		if code, out := check("INIBillTst", deadURL); code != 1 || !strings.Contains(out, "network:     FAILED") {
			t.Errorf("unreachable: %d\n%s", code, out)
		}
		if code, out := check("NOTTHERE00", srv.URL); code != 1 || !strings.Contains(out, "no channel with MID") {
			t.Errorf("unknown channel: %d\n%s", code, out)
		}
		if l := sim.Ledger(); len(l.Approvals)+len(l.Keys)+len(l.Refunds) != 0 {
			t.Errorf("the check changed the simulator: %+v", l)
		}
	})
}
