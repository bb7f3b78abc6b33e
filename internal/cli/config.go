package cli

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// The configuration file.
//
// Every billkey setting is a row of the configuration table (settings.go):
// a flag with an environment variable. A configuration file, named by
// --config or BILLKEY_CONFIG, sets the same settings under the flags' names:
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
// another command (addr in "billkey migrate") is ignored. Flags outside the
// table (one-off arguments such as --name) are not settings.

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
	// Flags given on the command line or by the environment (applyEnv
	// sets them through fs.Set) are visited: the file does not override them.
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	known := fileSettings()
	for _, e := range entries {
		if e.name == "config" || fs.Lookup(e.name) == nil || lookupSetting(commandOf(fs), e.name) == nil {
			if !known[e.name] {
				return fmt.Errorf("config file %s:%d: unknown setting %q (settings: %s)", path, e.line, e.name, strings.Join(sortedKeys(known), ", "))
			}
			continue // a setting of another command
		}
		if given[e.name] {
			continue
		}
		if err := fs.Set(e.name, e.value); err != nil {
			return fmt.Errorf("config file %s:%d: %s: %w", path, e.line, e.name, err)
		}
	}
	return nil
}

// errListFlags stops a command right after it defined its flags; see
// flagLister.
var errListFlags = errors.New("flags listed")

// listFlagsArg, as a command's only argument, makes parse report the flag
// set to flagLister instead of parsing.
const listFlagsArg = "\x00billkey-list-flags"

// flagLister, when set, receives the flag set of a command run with
// listFlagsArg; the settings tests use it to see every command's flags.
var (
	flagListerMu sync.Mutex
	flagLister   func(*flag.FlagSet)
)

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
