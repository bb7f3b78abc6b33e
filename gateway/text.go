package gateway

import (
	"unicode"
	"unicode/utf8"
)

// TextFault is what ScanText finds wrong with a text.
type TextFault int

// Text faults.
const (
	TextOK          TextFault = iota
	TextInvalidUTF8           // not UTF-8: PostgreSQL refuses it, SQLite would store raw bytes
	TextControl               // a control character (C0, DEL or C1)
	TextReplacement           // U+FFFD (what a lone surrogate escape such as "\ud800" decodes to)
)

// ScanText is billkey's one check of text from outside (REST parameters,
// window parameters, INICIS posts): it returns the first fault of s and the
// offending rune. Tab, line feed and carriage return pass when multiline;
// U+FFFD is a fault only when refuseReplacement.
func ScanText(s string, multiline, refuseReplacement bool) (TextFault, rune) {
	if !utf8.ValidString(s) {
		return TextInvalidUTF8, utf8.RuneError
	}
	for _, r := range s {
		switch {
		case r == utf8.RuneError && refuseReplacement:
			return TextReplacement, r
		case multiline && (r == '\t' || r == '\n' || r == '\r'):
		case unicode.IsControl(r):
			return TextControl, r
		}
	}
	return TextOK, 0
}
