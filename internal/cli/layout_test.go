package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
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
	m := regexp.MustCompile("(?s)\n## Layout\n.*?\n```\n(.*?)```").FindSubmatch(readme)
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

// TestDocsAreSelfContained: no comment or document cites a document that
// is not in the repository (the design notes and specifications billkey
// was written from stay outside it; the facts used are copied in), and
// every relative link of a Markdown file reaches a file of the repository.
func TestDocsAreSelfContained(t *testing.T) {
	outside := regexp.MustCompile(`DESIGN\.md|STYLE\.md|\.\./shared|/work/shared|iamport-api\.md|client-compat\.md|spec/inicis|§`)
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	err := filepath.WalkDir(repoRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") && rel != "." || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		ext := filepath.Ext(path)
		if rel == "internal/cli/layout_test.go" || rel == "CHANGELOG.md" ||
			!slices.Contains([]string{".go", ".md", ".js", ".html", ".sh", ".yaml", ".yml", ".tmpl"}, ext) {
			return nil
		}
		text, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if m := outside.Find(text); m != nil {
			t.Errorf("%s cites %q, a document outside the repository: state the fact instead", rel, m)
		}
		if ext != ".md" {
			return nil
		}
		for _, m := range link.FindAllSubmatch(text, -1) {
			target := string(m[1])
			if strings.Contains(target, "://") || strings.HasPrefix(target, "#") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			target, _, _ = strings.Cut(target, "#")
			if _, err := os.Stat(filepath.Join(filepath.Dir(path), target)); err != nil {
				t.Errorf("%s links to %s, which does not exist", rel, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
