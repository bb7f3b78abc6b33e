package cli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Build stamps, set by the release build (scripts/release.sh) with
//
//	-ldflags "-X github.com/billkey/billkey/internal/cli.Version=v1.2.3
//	          -X github.com/billkey/billkey/internal/cli.Commit=<sha>
//	          -X github.com/billkey/billkey/internal/cli.BuildDate=<RFC 3339>"
//
// A plain "go build" in a git checkout leaves them empty; buildInfo then
// falls back to the VCS settings the Go toolchain records.
var (
	Commit    = ""
	BuildDate = ""
)

// BuildInfo describes the running binary.
type BuildInfo struct {
	Version, Commit, BuildDate, GoVersion, Platform string
	Modified                                        bool // built from a checkout with uncommitted changes
}

// buildInfo returns the stamped build information, completed from the
// toolchain's VCS settings.
func buildInfo() BuildInfo {
	b := BuildInfo{Version: Version, Commit: Commit, BuildDate: BuildDate,
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if (b.Version == "" || b.Version == "dev") && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.BuildDate == "" {
					b.BuildDate = s.Value // the commit's time: the best a plain build knows
				}
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.BuildDate == "" {
		b.BuildDate = "unknown"
	}
	return b
}

// runVersion implements "billkey version".
func runVersion(stdout io.Writer) {
	b := buildInfo()
	commit := b.Commit
	if b.Modified {
		commit += " (modified)"
	}
	fmt.Fprintf(stdout, "billkey %s\n  commit:  %s\n  built:   %s\n  go:      %s %s\n", b.Version, commit, b.BuildDate, b.GoVersion, b.Platform)
}
