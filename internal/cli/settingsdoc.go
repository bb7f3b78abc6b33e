package cli

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// README.md's configuration table sits between these markers; the settings
// tests compare it with settingsMarkdown (and rewrite it with
// -update-readme, which go generate runs).
const (
	readmeSettingsBegin = "<!-- settings table: generated from internal/cli/settings.go by go generate ./internal/cli; do not edit -->"
	readmeSettingsEnd   = "<!-- end of settings table -->"
)

// databaseCommands names storeCommands in documentation.
const databaseCommands = "every command with a database"

// commandsDoc names a row's commands: storeCommands as a whole, others one
// by one.
func (s *setting) commandsDoc() string {
	var out []string
	rest := s.Commands
	if len(rest) >= len(storeCommands) && slices.Equal(rest[:len(storeCommands)], storeCommands) {
		out, rest = append(out, databaseCommands), rest[len(storeCommands):]
	}
	return strings.Join(append(out, rest...), ", ")
}

// defaultDoc is a row's default as documentation shows it.
func (s *setting) defaultDoc() string {
	switch {
	case s.Doc != "":
		return s.Doc
	case s.Default == "false":
		return "off"
	case s.Default == "":
		return "—"
	}
	return s.Default
}

// settingsMarkdown is README.md's configuration table.
func settingsMarkdown() string {
	var b strings.Builder
	b.WriteString("| flag | env | default | commands | meaning |\n|---|---|---|---|---|\n")
	for _, s := range settingTable {
		flagCell := "—"
		if s.Flag != "" {
			flagCell = "`--" + s.Flag + "`"
		}
		def := s.defaultDoc()
		if def != "—" {
			def = "`" + def + "`"
		}
		help := strings.ReplaceAll(s.Help, "|", `\|`)
		if s.Secret {
			help = "**secret**: " + help
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s |\n", flagCell, s.Env, def, s.commandsDoc(), help)
	}
	return b.String()
}

// settingsHelp prints every setting ("billkey help settings").
func settingsHelp(w io.Writer) {
	fmt.Fprintf(w, "billkey settings: each is a flag (where it has one) and an environment variable;\n"+
		"commands with a database also read them from --config FILE (\"name = value\" lines).\n"+
		"Precedence: flag > environment > file > default. Secret values are never shown.\n\n")
	for _, s := range settingTable {
		name := s.Env
		if s.Flag != "" {
			name = "--" + s.Flag + ", " + s.Env
		}
		secret := ""
		if s.Secret {
			secret = " [secret]"
		}
		fmt.Fprintf(w, "  %s%s\n      %s\n      default: %s; commands: %s\n", name, secret, s.Help, s.defaultDoc(), s.commandsDoc())
	}
}
