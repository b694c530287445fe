package ghaction

import (
	"fmt"
	"strings"
	"unicode"
)

// zeroWidthSpace is put in front of a line that would otherwise start with
// "::". The runner trims leading white space (.NET char.IsWhiteSpace) before
// looking for "::", so a plain space is not enough; U+200B is a format
// character, not white space, and stays invisible in the log.
const zeroWidthSpace = "\u200b"

// SanitizeLine makes untrusted text safe to print as one log line:
//   - CR and LF become the visible two-character sequences \r and \n, and the
//     other C0 control characters and DEL become \xNN, so the text cannot start
//     a new line (the runner splits its input on CR and on LF);
//   - a line whose first non-space characters are "::" gets a zero-width space
//     in front, so the runner cannot read it as a workflow command
//     (actions/runner ActionCommand.TryParseV2 trims leading white space first);
//   - every "##[" becomes "##\u200b[", because the runner still accepts the
//     legacy "##[command]" form anywhere in a line (ActionCommand.TryParse).
//
// The result is meant for the log, not for round-tripping.
func SanitizeLine(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	out := strings.ReplaceAll(b.String(), "##[", "##"+zeroWidthSpace+"[")
	if strings.HasPrefix(strings.TrimLeftFunc(out, trimmedByRunner), "::") {
		out = zeroWidthSpace + out
	}
	return out
}

// trimmedByRunner over-approximates what .NET's String.TrimStart removes:
// white space, plus format characters such as U+FEFF so that a line starting
// with an invisible character followed by "::" is neutralised too.
func trimmedByRunner(r rune) bool {
	return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r)
}

// newMarkdownReplacer escapes CommonMark/GFM syntax. The backslash comes first
// so an input backslash cannot undo one of our escapes.
func newMarkdownReplacer() *strings.Replacer {
	return strings.NewReplacer(
		`\`, `\\`,
		"|", `\|`,
		"`", "\\`",
		"*", `\*`,
		"_", `\_`,
		"[", `\[`,
		"]", `\]`,
		"<", `\<`,
		">", `\>`,
		"#", `\#`,
		"~", `\~`,
		"&", `\&`,
		"\r\n", "<br>",
		"\n", "<br>",
		"\r", "<br>",
	)
}

// EscapeMarkdown escapes untrusted text (an action title, a Port message) for
// a Markdown job summary or a table cell: the characters \ | ` * _ [ ] < > # ~ &
// are backslash-escaped so the text cannot open links, images, HTML, code spans
// or emphasis, or split a table cell, and line breaks become <br> so it cannot
// end a table row. Bare URLs may still be autolinked by GitHub; their visible
// text is their target, so they cannot disguise a link.
func EscapeMarkdown(s string) string {
	return newMarkdownReplacer().Replace(s)
}
