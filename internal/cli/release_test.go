package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestReleaseScriptSelfCheck: scripts/release.sh --self-check cross-builds
// the linux/amd64 release (static, stamped with version, commit and build
// date) with its archive and checksum file; on a linux/amd64 host the
// script itself runs "billkey version" and checks the stamps, and so does
// this test.
func TestReleaseScriptSelfCheck(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("bash is required by scripts/release.sh")
	}
	out := t.TempDir()
	cmd := exec.Command("bash", filepath.Join("..", "..", "scripts", "release.sh"), "--self-check", "v0.0.0-selfcheck")
	cmd.Env = append(os.Environ(), "OUT="+out, "SOURCE_DATE_EPOCH=1767225600")
	got, err := cmd.CombinedOutput()
	t.Logf("%s", got)
	if err != nil {
		t.Fatalf("release.sh --self-check: %v", err)
	}
	if !strings.Contains(string(got), "self-check ok") {
		t.Fatal("the self-check did not finish")
	}
	dir := filepath.Join(out, "billkey_v0.0.0-selfcheck_linux_amd64")
	for _, f := range []string{dir + ".tar.gz", filepath.Join(out, "SHA256SUMS"), filepath.Join(dir, "LICENSE"), filepath.Join(dir, "billkey")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	if sums, _ := os.ReadFile(filepath.Join(out, "SHA256SUMS")); !regexp.MustCompile(`^[0-9a-f]{64}  \./billkey_v0\.0\.0-selfcheck_linux_amd64\.tar\.gz\n$`).Match(sums) {
		t.Errorf("SHA256SUMS: %q", sums)
	}
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Logf("host %s/%s cannot run the linux/amd64 binary: its stamps are not checked here", runtime.GOOS, runtime.GOARCH)
		return
	}
	v, err := exec.Command(filepath.Join(dir, "billkey"), "version").CombinedOutput()
	if err != nil {
		t.Fatalf("billkey version: %v %s", err, v)
	}
	if !regexp.MustCompile(`(?m)^billkey v0\.0\.0-selfcheck\n  commit:  [0-9a-f]{40}.*\n  built:   2026-01-01T00:00:00Z\n`).Match(v) {
		t.Errorf("billkey version printed:\n%s", v)
	}
}
