package ghaction

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEscapeMarkdown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "Provision sandbox 2", "Provision sandbox 2"},
		{"table pipe", "a|b", `a\|b`},
		{"link", "[click](https://evil.example)", `\[click\](https://evil.example)`},
		{"image", "![x](y)", `!\[x\](y)`},
		{"html", "<img src=x onerror=alert(1)>", `\<img src=x onerror=alert(1)\>`},
		{"code span", "`rm -rf`", "\\`rm -rf\\`"},
		{"emphasis", "*bold* _it_ ~~s~~", `\*bold\* \_it\_ \~\~s\~\~`},
		{"heading", "# Title", `\# Title`},
		{"entity", "&lt;b&gt;", `\&lt;b\&gt;`},
		{"backslash cannot undo an escape", `\|`, `\\\|`},
		{"newlines", "a\nb\r\nc\rd", "a<br>b<br>c<br>d"},
		{"unicode kept", "Sécurité ✓", "Sécurité ✓"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, EscapeMarkdown(tt.in)); diff != "" {
				t.Errorf("EscapeMarkdown(%q) mismatch (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// FuzzInfo checks that no text given to Info, the annotations or Group can
// produce a log line the runner would read as a command other than the one we
// issued: every Info line is inert, and each of our commands is one line.
func FuzzInfo(f *testing.F) {
	for _, s := range []string{
		"::set-output name=x::y",
		"\n::error::x",
		"%0A::warning::",
		"::stop-commands::tok",
		"ok\r::add-mask::x",
		" \t\u00a0\ufeff::endgroup::",
		"##[add-mask]x",
		"a\x1b[2K\r::error::y",
		"\u2028::notice::x",
		"\x85::debug::x",
		"%",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, env := range []map[string]string{actionsEnv, nil} {
			e, buf := newTestEnv(t, env, WithVerbose(true))
			e.Info("%s", s)
			e.Info("title %s: %s", s, s)
			e.Warning("%s", s)
			e.Group(s)
			e.EndGroup()

			lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			wantPrefixes := []string{"", "", "::warning::", "::group::", "::endgroup::"}
			if !e.InActions() {
				wantPrefixes = []string{"", "", "warning: ", "▶ "}
			}
			if len(lines) != len(wantPrefixes) {
				t.Fatalf("InActions=%v: %d lines, want %d:\n%q", e.InActions(), len(lines), len(wantPrefixes), buf.String())
			}
			for i, line := range lines {
				if strings.ContainsRune(line, '\r') {
					t.Errorf("InActions=%v: line %d %q contains CR", e.InActions(), i, line)
				}
				own := wantPrefixes[i] != "" && strings.HasPrefix(line, wantPrefixes[i]) && strings.HasPrefix(wantPrefixes[i], "::")
				if !strings.HasPrefix(line, wantPrefixes[i]) {
					t.Errorf("InActions=%v: line %d %q does not start with %q", e.InActions(), i, line, wantPrefixes[i])
				}
				if !own && commandLine(line) {
					t.Errorf("InActions=%v: line %d %q would be read as a workflow command", e.InActions(), i, line)
				}
			}
		}
	})
}
