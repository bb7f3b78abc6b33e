package cli

import (
	"bytes"
	"context"
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

var updateREADME = flag.Bool("update-readme", false, "rewrite README.md's configuration table from the settings table")

// repoRoot is the repository's root folder.
const repoRoot = "../.."

// commandFlags runs every command with listFlagsArg and returns its flag
// set, by command ("merchant create").
func commandFlags(t *testing.T) map[string]*flag.FlagSet {
	t.Helper()
	out := map[string]*flag.FlagSet{}
	flagListerMu.Lock()
	defer flagListerMu.Unlock()
	flagLister = func(fs *flag.FlagSet) { out[commandOf(fs)] = fs }
	defer func() { flagLister = nil }()
	for _, cmd := range append(slices.Clone(storeCommands), otherCommands...) {
		args := append(strings.Fields(cmd), listFlagsArg)
		if code := Main(context.Background(), args, io.Discard, io.Discard); code != 0 {
			t.Fatalf("%s: listing its flags exited %d", cmd, code)
		}
		if out[cmd] == nil {
			t.Fatalf("%s: no flag set reported", cmd)
		}
	}
	return out
}

// TestSettingsTableIsConsistent: every row names real commands, one row per
// command and flag, one row per environment variable; secrets have no
// default to show; help texts leave the env and default to the generator.
func TestSettingsTableIsConsistent(t *testing.T) {
	known := append(slices.Clone(storeCommands), otherCommands...)
	var docs []string
	for name := range commandDocs {
		docs = append(docs, strings.TrimPrefix(name, "billkey "))
	}
	sort.Strings(docs)
	if sorted := slices.Sorted(slices.Values(known)); !slices.Equal(sorted, docs) {
		t.Errorf("commands with flags %v differ from the documented commands %v", sorted, docs)
	}
	envs := map[string]bool{}
	pairs := map[string]bool{}
	envRE := regexp.MustCompile(`^BILLKEY_[A-Z0-9_]+$`)
	for _, s := range settingTable {
		if !envRE.MatchString(s.Env) || envs[s.Env] {
			t.Errorf("%s: malformed or repeated environment variable", s.Env)
		}
		envs[s.Env] = true
		if len(s.Commands) == 0 || s.Help == "" {
			t.Errorf("%s: no commands or no help", s.Env)
		}
		if strings.Contains(s.Help, "(env ") || strings.Contains(s.Help, "default ") && s.Doc == "" && s.Default == "" {
			t.Errorf("%s: the help text says what the generator adds: %q", s.Env, s.Help)
		}
		if s.Secret && s.Default != "" {
			t.Errorf("%s: a secret has no built-in value", s.Env)
		}
		for _, c := range s.Commands {
			if !slices.Contains(known, c) {
				t.Errorf("%s: unknown command %q", s.Env, c)
			}
			if s.Flag != "" {
				k := c + " --" + s.Flag
				if pairs[k] {
					t.Errorf("two rows for %s", k)
				}
				pairs[k] = true
			}
		}
	}
}

// TestFlagsComeFromTheTable: each command registers exactly the table's
// rows for it, with the table's help and default; no other flag claims an
// environment variable; the commands with a database are storeCommands.
func TestFlagsComeFromTheTable(t *testing.T) {
	sets := commandFlags(t)
	for cmd, fs := range sets {
		if hasDB := fs.Lookup("db") != nil; hasDB != slices.Contains(storeCommands, cmd) {
			t.Errorf("%s: has --db %v, but storeCommands says %v", cmd, hasDB, !hasDB)
		}
		fs.VisitAll(func(f *flag.Flag) {
			s := lookupSetting(cmd, f.Name)
			if s == nil {
				if strings.Contains(f.Usage, "env BILLKEY_") {
					t.Errorf("%s --%s: names an environment variable but is not in the settings table", cmd, f.Name)
				}
				return
			}
			if f.Usage != s.usage() {
				t.Errorf("%s --%s: usage %q, not the table's %q", cmd, f.Name, f.Usage, s.usage())
			}
			if s.Default != "" && !sameValue(f.DefValue, s.Default) {
				t.Errorf("%s --%s: default %q, table says %q", cmd, f.Name, f.DefValue, s.Default)
			}
		})
	}
	for _, s := range settingTable {
		for _, c := range s.Commands {
			if s.Flag != "" && sets[c].Lookup(s.Flag) == nil {
				t.Errorf("the table gives %s --%s, which the command does not register", c, s.Flag)
			}
		}
	}
}

// sameValue reports whether two flag values are equal, durations by value
// (the flag package prints 3m as 3m0s).
func sameValue(a, b string) bool {
	if a == b {
		return true
	}
	da, err1 := time.ParseDuration(a)
	db, err2 := time.ParseDuration(b)
	return err1 == nil && err2 == nil && da == db
}

// TestEnvironmentIsReadThroughTheTable: no production code reads the
// environment except the table's reader (and the standard OpenTelemetry
// variables in internal/tracing, and the test helpers' own variables).
func TestEnvironmentIsReadThroughTheTable(t *testing.T) {
	allowed := map[string]bool{
		"internal/cli/settings.go":            true, // getenv, applyEnv
		"internal/tracing/tracing.go":         true, // OTEL_* (the OpenTelemetry SDK's own)
		"internal/dbtest/dbtest.go":           true, // BILLKEY_TEST_POSTGRES (tests only)
		"internal/browsertest/browsertest.go": true, // BILLKEY_TEST_CHROMIUM (tests only)
	}
	readRE := regexp.MustCompile(`\b(os\.Getenv|os\.LookupEnv|os\.Environ|syscall\.Getenv)\(`)
	walkGo(t, func(rel string, src []byte) {
		if readRE.Match(src) && !allowed[rel] {
			t.Errorf("%s reads the environment outside the settings table (use getenv or a table row)", rel)
		}
	})
}

// testVariables are environment variables of the test suite and the
// deployment files, not settings of billkey.
var testVariables = map[string]bool{
	"BILLKEY_TEST_POSTGRES": true, "BILLKEY_TEST_CHROMIUM": true, "BILLKEY_SCREENSHOTS": true,
	"BILLKEY_DRILL_ROUNDS": true, "BILLKEY_DRILL_ROUND_MS": true,
	"BILLKEY_VERSION": true, // deploy/compose.yaml's image tag
}

// TestNamedVariablesExist: every BILLKEY_ variable the command's messages,
// the README, docs/ and deploy/ name is a setting (or a test variable): a
// renamed or removed setting leaves no stale name behind.
func TestNamedVariablesExist(t *testing.T) {
	envs := map[string]bool{}
	for _, s := range settingTable {
		envs[s.Env] = true
	}
	nameRE := regexp.MustCompile(`BILLKEY_[A-Z0-9_]*[A-Z0-9]`)
	check := func(rel string, text []byte) {
		for _, n := range nameRE.FindAll(text, -1) {
			if !envs[string(n)] && !testVariables[string(n)] {
				t.Errorf("%s names %s, which is not a setting", rel, n)
			}
		}
	}
	walkGo(t, func(rel string, src []byte) {
		if strings.HasPrefix(rel, "internal/cli/") {
			check(rel, src)
		}
	})
	for _, pattern := range []string{"*.md", "docs/*.md", "docs/*/*.md", "deploy/*"} {
		files, _ := filepath.Glob(filepath.Join(repoRoot, pattern))
		for _, f := range files {
			if st, err := os.Stat(f); err != nil || st.IsDir() {
				continue
			}
			text, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			rel, _ := filepath.Rel(repoRoot, f)
			check(rel, text)
		}
	}
}

// walkGo calls fn with every non-test Go file of the repository.
func walkGo(t *testing.T, fn func(rel string, src []byte)) {
	t.Helper()
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != repoRoot || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(repoRoot, path)
		fn(filepath.ToSlash(rel), src)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestREADMESettingsTable: README.md's configuration table is the one the
// settings table generates (go generate ./internal/cli rewrites it).
func TestREADMESettingsTable(t *testing.T) {
	path := filepath.Join(repoRoot, "README.md")
	readme, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	begin := bytes.Index(readme, []byte(readmeSettingsBegin))
	end := bytes.Index(readme, []byte(readmeSettingsEnd))
	if begin < 0 || end < begin {
		t.Fatalf("README.md lacks the settings table markers %q … %q", readmeSettingsBegin, readmeSettingsEnd)
	}
	start := begin + len(readmeSettingsBegin) + 1
	want := settingsMarkdown()
	if got := string(readme[start:end]); got != want {
		if *updateREADME {
			out := append(append(slices.Clone(readme[:start]), want...), readme[end:]...)
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("README.md's settings table is stale; run go generate ./internal/cli. Want:\n%s", want)
	}
}

// TestSecretSettingsAreNeverShown: with every secret setting in the
// environment, no command's help, the settings help, or billkey serve's
// start log shows its value; a database URL's password is masked.
func TestSecretSettingsAreNeverShown(t *testing.T) {
	marker := map[string]string{}
	for _, s := range settingTable {
		if s.Secret && s.Flag != "" && s.Flag != "db" {
			v := "secret-" + strings.ToLower(s.Env)
			marker[s.Env] = v
			t.Setenv(s.Env, v)
		}
	}
	var out bytes.Buffer
	for _, cmd := range append(slices.Clone(storeCommands), otherCommands...) {
		Main(context.Background(), append(strings.Fields(cmd), "-h"), &out, &out)
	}
	Main(context.Background(), []string{"help", "settings"}, &out, &out)
	for env, v := range marker {
		if strings.Contains(out.String(), v) {
			t.Errorf("%s's value shown in help", env)
		}
	}
	db := lookupSetting("serve", "db")
	if got := db.show("postgres://billkey:hunter2@db:5432/billkey"); strings.Contains(got, "hunter2") || !strings.Contains(got, "db:5432") {
		t.Errorf("database URL shown as %q", got)
	}
	token := lookupSetting("inicis-sim", "introspect-token")
	if got := token.show("t0ken"); got != "****" {
		t.Errorf("a secret shown as %q", got)
	}
	var fs flag.FlagSet
	fs.Init("billkey channel add", flag.ContinueOnError)
	var key string
	bindSetting(&fs, "sign-key", &key)
	if err := applyEnv(&fs); err != nil || key != marker["BILLKEY_INICIS_SIGN_KEY"] {
		t.Fatalf("BILLKEY_INICIS_SIGN_KEY not applied: %q %v", key, err)
	}
	for _, a := range settingAttrs(&fs) {
		if strings.Contains(a.(interface{ String() string }).String(), key) {
			t.Errorf("settingAttrs shows the secret: %v", a)
		}
	}
}
