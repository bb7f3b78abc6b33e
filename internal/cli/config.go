package cli

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// The configuration file.
//
// Every billkey setting is a flag with an environment variable (its usage
// text says "env BILLKEY_..."). A configuration file, named by --config or
// BILLKEY_CONFIG, sets the same settings under the flags' names:
//
//	# billkey.conf
//	addr       = 0.0.0.0:8080
//	db         = postgres://billkey@db/billkey
//	public-url = "https://pay.example.com"
//
// One "name = value" per line; blank lines and lines starting with # are
// ignored; a value may be double-quoted (Go syntax) to keep surrounding
// spaces or a #. The format is deliberately the flags themselves, parsed by
// the standard library: each value goes through the flag's own Set, so a
// duration, a list or a boolean means exactly what it means on the command
// line, and any flag added to a command later is configurable without
// touching this file. (JSON would need typed values that can drift from the
// flags; TOML and YAML need a dependency.)
//
// Precedence, per setting: command line > environment variable > file >
// built-in default. A name that is not a setting of any billkey command is
// an error (a typo must not silently leave a default in place); a setting of
// another command (addr in "billkey migrate") is ignored. Flags without an
// environment variable (one-off arguments such as --name) are not settings.

// configFlag registers --config on a flag set that takes the common flags.
func configFlag(fs *flag.FlagSet) {
	fs.String("config", env("BILLKEY_CONFIG", ""), "configuration file of \"name = value\" lines using these flags' names (env BILLKEY_CONFIG; precedence: flag > env > file > default)")
}

// envOfUsage finds the environment variable a flag's usage text names.
var envOfUsage = regexp.MustCompile(`env (BILLKEY_[A-Z0-9_]+)`)

// settingEnv is the environment variable of a flag, or "" when the flag is
// not a setting.
func settingEnv(f *flag.Flag) string {
	if f.Name == "config" {
		return ""
	}
	if m := envOfUsage.FindStringSubmatch(f.Usage); m != nil {
		return m[1]
	}
	return ""
}

// configEntry is one setting read from a file.
type configEntry struct {
	name, value string
	line        int
}

// readConfig parses a configuration file.
func readConfig(r io.Reader, path string) ([]configEntry, error) {
	var out []configEntry
	seen := map[string]int{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if n == 1 {
			line = strings.TrimPrefix(line, "\uFEFF")
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%s:%d: expected \"name = value\"", path, n)
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		name = strings.TrimLeft(name, "-") // "--addr = ..." is forgiven
		if name == "" {
			return nil, fmt.Errorf("%s:%d: missing setting name", path, n)
		}
		if strings.HasPrefix(value, `"`) {
			v, err := strconv.Unquote(value)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: bad quoted value: %w", path, n, err)
			}
			value = v
		}
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("%s:%d: %s is already set on line %d", path, n, name, prev)
		}
		seen[name] = n
		out = append(out, configEntry{name: name, value: value, line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// applyConfig applies the file named by the flag set's --config to every
// setting that neither the command line nor the environment set.
func applyConfig(fs *flag.FlagSet) error {
	cf := fs.Lookup("config")
	if cf == nil || cf.Value.String() == "" {
		return nil
	}
	path := cf.Value.String()
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	entries, err := readConfig(bytes.NewReader(data), path)
	if err != nil {
		return fmt.Errorf("config file %w", err)
	}
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	known := allSettings()
	for _, e := range entries {
		f := fs.Lookup(e.name)
		if f == nil || settingEnv(f) == "" {
			if !known[e.name] {
				return fmt.Errorf("config file %s:%d: unknown setting %q (settings: %s)", path, e.line, e.name, strings.Join(sortedKeys(known), ", "))
			}
			continue // a setting of another command
		}
		if onCommandLine[e.name] {
			continue
		}
		if _, set := os.LookupEnv(settingEnv(f)); set {
			continue
		}
		if err := fs.Set(e.name, e.value); err != nil {
			return fmt.Errorf("config file %s:%d: %s: %w", path, e.line, e.name, err)
		}
	}
	return nil
}

// errListFlags stops a command right after it defined its flags; see
// allSettings.
var errListFlags = errors.New("flags listed")

// listFlagsArg, as a command's only argument, makes parse report the flag
// set to flagLister instead of parsing.
const listFlagsArg = "\x00billkey-list-flags"

var (
	flagListerMu sync.Mutex
	flagLister   func(*flag.FlagSet)
	settingsOnce sync.Once
	settings     map[string]bool
)

// configCommands are the commands that read a configuration file.
var configCommands = [][]string{
	{"serve"}, {"merchant", "create"}, {"merchant", "list"}, {"channel", "add"}, {"channel", "list"},
	{"migrate"}, {"webhooks", "list"}, {"webhooks", "resend"}, {"webhooks", "secret"}, {"webhooks", "url"},
	{"keys", "generate"}, {"keys", "rotate"}, {"backup"}, {"restore"},
}

// allSettings is the set of setting names of every command, found by
// letting each command define its flags and stop.
func allSettings() map[string]bool {
	settingsOnce.Do(func() {
		settings = map[string]bool{}
		flagListerMu.Lock()
		defer flagListerMu.Unlock()
		flagLister = func(fs *flag.FlagSet) {
			fs.VisitAll(func(f *flag.Flag) {
				if settingEnv(f) != "" {
					settings[f.Name] = true
				}
			})
		}
		defer func() { flagLister = nil }()
		for _, cmd := range configCommands {
			Main(context.Background(), append(append([]string{}, cmd...), listFlagsArg), io.Discard, io.Discard)
		}
	})
	return settings
}

// listFlags reports fs to the lister when args asks for it.
func listFlags(fs *flag.FlagSet, args []string) bool {
	if len(args) != 1 || args[0] != listFlagsArg {
		return false
	}
	if flagLister != nil {
		flagLister(fs)
	}
	return true
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
