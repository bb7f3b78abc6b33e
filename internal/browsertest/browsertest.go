// Package browsertest starts headless Chromium for browser tests: Debian's
// chromium ($BILLKEY_TEST_CHROMIUM, default /usr/bin/chromium), never a
// downloaded browser. A missing Chromium fails the test under CI=true (the
// test script installs it) and skips it otherwise.
package browsertest

import (
	"context"
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// Allocator returns a chromedp allocator context for t, with a fresh
// profile and no background network traffic; it is cancelled when t ends.
func Allocator(t testing.TB) context.Context {
	t.Helper()
	path := os.Getenv("BILLKEY_TEST_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser test needs Chromium at %s (apt-get install -y chromium): %v", path, err)
		}
		t.Skipf("Chromium not found at %s: %v", path, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	return alloc
}
