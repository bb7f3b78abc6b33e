package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMELayout: README.md's layout section lists each path once, every
// listed path exists, every top-level folder is listed (or folders inside
// it, as internal/'s packages are), and every Go package is listed or lies
// under a listed folder.
func TestREADMELayout(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)\n## Layout\n\n```\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md has no ## Layout block")
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(m[1]), "\n") {
		if line == "" || strings.HasPrefix(line, " ") {
			continue // a description's continuation
		}
		names, _, _ := strings.Cut(line, "  ")
		for _, name := range strings.Split(strings.TrimSpace(names), ", ") {
			if name == "*.go (root)" {
				continue
			}
			path := strings.TrimSuffix(name, "/")
			if listed[path] {
				t.Errorf("layout lists %s twice", name)
			}
			listed[path] = true
			if _, err := os.Stat(filepath.Join(repoRoot, path)); err != nil {
				t.Errorf("layout lists %s, which does not exist", name)
			}
		}
	}
	covered := func(dir string) bool {
		for d := dir; d != "." && d != "/"; d = filepath.Dir(d) {
			if listed[filepath.ToSlash(d)] {
				return true
			}
		}
		return false
	}
	entries, err := os.ReadDir(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || listed[e.Name()] {
			continue
		}
		inside := false // internal/ is listed package by package
		for p := range listed {
			inside = inside || strings.HasPrefix(p, e.Name()+"/")
		}
		if !inside {
			t.Errorf("layout misses the top-level folder %s/", e.Name())
		}
	}
	packages := map[string]bool{}
	walkGo(t, func(rel string, _ []byte) { packages[filepath.Dir(rel)] = true })
	for dir := range packages {
		if dir != "." && !covered(dir) {
			t.Errorf("layout misses the Go package %s/", dir)
		}
	}
}
