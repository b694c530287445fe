package ghaction

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

// newTestEnv returns an Env reading env and writing to the returned buffer.
func newTestEnv(t *testing.T, env map[string]string, opts ...Option) (*Env, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	return New(func(k string) string { return env[k] }, &buf, opts...), &buf
}

var actionsEnv = map[string]string{"GITHUB_ACTIONS": "true"}

func TestInActions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		value string
		want  bool
	}{
		{"true", true},
		{"", false},
		{"false", false},
		{"TRUE", false},
		{"1", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.value), func(t *testing.T) {
			t.Parallel()
			e, _ := newTestEnv(t, map[string]string{"GITHUB_ACTIONS": tt.value})
			if got := e.InActions(); got != tt.want {
				t.Errorf("InActions() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInputAndGetenv(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"INPUT_PORT-CLIENT-ID": "  id-123 \n",
		"INPUT_PORT_CLIENT_ID": "not this one",
		"INPUT_BASE_URL":       "https://api.us.port.io",
		"INPUT_DRY-RUN":        "true",
		"GITHUB_REPOSITORY":    "acme/port-actions",
	}
	e, _ := newTestEnv(t, env)
	tests := []struct {
		name string
		want string
	}{
		{"port-client-id", "id-123"},
		{"PORT-CLIENT-ID", "id-123"},
		{"base url", "https://api.us.port.io"},
		{"Base URL", "https://api.us.port.io"},
		{"dry-run", "true"},
		{"missing", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := e.Input(tt.name); got != tt.want {
				t.Errorf("Input(%q) = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
	if got := e.Getenv("GITHUB_REPOSITORY"); got != "acme/port-actions" {
		t.Errorf("Getenv(GITHUB_REPOSITORY) = %q", got)
	}
}

func TestNewNilArguments(t *testing.T) {
	t.Parallel()
	e := New(nil, nil)
	e.Info("no writer")
	e.Error("still no writer")
	if e.InActions() || e.Input("x") != "" {
		t.Error("a nil getenv must behave as an empty environment")
	}
}

// TestCommands asserts the exact text of every workflow command and of its
// plain-log counterpart outside Actions.
func TestCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		call    func(e *Env)
		actions string // output with GITHUB_ACTIONS=true
		local   string // output outside Actions
		verbose string // output outside Actions with WithVerbose(true)
	}{
		{
			name:    "mask",
			call:    func(e *Env) { e.Mask("s3cr3t") },
			actions: "::add-mask::s3cr3t\n",
		},
		{
			name: "mask empty",
			call: func(e *Env) { e.Mask("") },
		},
		{
			name: "mask blank",
			call: func(e *Env) { e.Mask(" \n\t") },
		},
		{
			name:    "mask multi-line masks each line once",
			call:    func(e *Env) { e.Mask("-----BEGIN KEY-----\r\nabc\n\n  \nabc\n-----END KEY-----\n") },
			actions: "::add-mask::-----BEGIN KEY-----\n::add-mask::abc\n::add-mask::-----END KEY-----\n",
		},
		{
			name:    "mask escapes percent",
			call:    func(e *Env) { e.Mask("100%0A") },
			actions: "::add-mask::100%250A\n",
		},
		{
			name:    "group",
			call:    func(e *Env) { e.Group("Register action") },
			actions: "::group::Register action\n",
			local:   "▶ Register action\n",
			verbose: "▶ Register action\n",
		},
		{
			name:    "group with hostile title",
			call:    func(e *Env) { e.Group("x\n::error::y") },
			actions: "::group::x%0A::error::y\n",
			local:   "▶ x\\n::error::y\n",
			verbose: "▶ x\\n::error::y\n",
		},
		{
			name:    "endgroup",
			call:    func(e *Env) { e.EndGroup() },
			actions: "::endgroup::\n",
		},
		{
			name:    "info",
			call:    func(e *Env) { e.Info("created %q in %d ms", "deploy", 12) },
			actions: "created \"deploy\" in 12 ms\n",
			local:   "created \"deploy\" in 12 ms\n",
			verbose: "created \"deploy\" in 12 ms\n",
		},
		{
			name:    "debug",
			call:    func(e *Env) { e.Debug("token expires in %ds", 3600) },
			actions: "::debug::token expires in 3600s\n",
			verbose: "debug: token expires in 3600s\n",
		},
		{
			name:    "notice",
			call:    func(e *Env) { e.Notice("50%% done\r\n%s", "next") },
			actions: "::notice::50%25 done%0D%0Anext\n",
			local:   "notice: 50% done\\r\\nnext\n",
			verbose: "notice: 50% done\\r\\nnext\n",
		},
		{
			name:    "warning",
			call:    func(e *Env) { e.Warning("category %q not found", "sec\nurity") },
			actions: "::warning::category \"sec\\nurity\" not found\n",
			local:   "warning: category \"sec\\nurity\" not found\n",
			verbose: "warning: category \"sec\\nurity\" not found\n",
		},
		{
			name:    "error with untrusted text",
			call:    func(e *Env) { e.Error("%s", "bad\n::add-mask::x") },
			actions: "::error::bad%0A::add-mask::x\n",
			local:   "error: bad\\n::add-mask::x\n",
			verbose: "error: bad\\n::add-mask::x\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			modes := []struct {
				name string
				env  map[string]string
				opts []Option
				want string
			}{
				{"actions", actionsEnv, nil, tt.actions},
				{"actions verbose", actionsEnv, []Option{WithVerbose(true)}, tt.actions},
				{"local", nil, nil, tt.local},
				{"local verbose", nil, []Option{WithVerbose(true)}, tt.verbose},
			}
			for _, m := range modes {
				e, buf := newTestEnv(t, m.env, m.opts...)
				tt.call(e)
				if diff := cmp.Diff(m.want, buf.String()); diff != "" {
					t.Errorf("%s: output mismatch (-want +got):\n%s", m.name, diff)
				}
			}
		})
	}
}

// commandLine reports whether the runner would read line as a workflow
// command: "::" after the leading white space it trims, or the legacy "##["
// anywhere.
func commandLine(line string) bool {
	return strings.HasPrefix(strings.TrimLeftFunc(line, unicode.IsSpace), "::") || strings.Contains(line, "##[")
}

// logLines splits output the way the runner does: on LF and on CR.
func logLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	return strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
}

func TestInfoNeutralisesHostileText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want string
	}{
		{"set-output", "::set-output name=x::y", "\u200b::set-output name=x::y"},
		{"newline then error", "ok\n::error::x", `ok\n::error::x`},
		{"CR then error", "ok\r::error::x", `ok\r::error::x`},
		{"CRLF then command", "ok\r\n::endgroup::", `ok\r\n::endgroup::`},
		{"percent-encoded newline stays text", "%0A::warning::", "%0A::warning::"},
		{"stop-commands", "::stop-commands::tok", "\u200b::stop-commands::tok"},
		{"leading spaces", "   ::add-mask::x", "\u200b   ::add-mask::x"},
		{"leading tab", "\t::add-mask::x", "\u200b\t::add-mask::x"},
		{"leading NBSP", "\u00a0::add-mask::x", "\u200b\u00a0::add-mask::x"},
		{"leading BOM", "\ufeff::add-mask::x", "\u200b\ufeff::add-mask::x"},
		{"legacy form mid-line", "title ##[add-mask]x", "title ##\u200b[add-mask]x"},
		{"legacy stop-commands", "##[stop-commands]tok", "##\u200b[stop-commands]tok"},
		{"control characters", "a\x1b[31mred\x00\x7f", `a\x1b[31mred\x00\x7f`},
		{"colons mid-line untouched", "std::string a::b", "std::string a::b"},
		{"tab kept", "a\tb", "a\tb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, env := range []map[string]string{actionsEnv, nil} {
				e, buf := newTestEnv(t, env)
				e.Info("%s", tt.text)
				if diff := cmp.Diff(tt.want+"\n", buf.String()); diff != "" {
					t.Errorf("InActions=%v: output mismatch (-want +got):\n%s", e.InActions(), diff)
				}
				e.Info("title: %s (%s)", tt.text, tt.text)
				for _, line := range logLines(buf.String()) {
					if commandLine(line) {
						t.Errorf("InActions=%v: line %q would be read as a workflow command", e.InActions(), line)
					}
				}
			}
		})
	}
}

// failingWriter fails every write, like a closed stdout.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestLogWriteErrorsDoNotPanic(t *testing.T) {
	t.Parallel()
	for _, env := range []map[string]string{actionsEnv, nil} {
		e := New(func(k string) string { return env[k] }, failingWriter{}, WithVerbose(true))
		e.Mask("secret")
		e.Group("g")
		e.Info("i")
		e.Debug("d")
		e.Notice("n")
		e.Warning("w")
		e.Error("e")
		e.EndGroup()
	}
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	out := t.TempDir() + "/output"
	e, buf := newTestEnv(t, map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			e.Info("line %d", i)
			e.Warning("warning %d", i)
			if err := e.SetOutput(fmt.Sprintf("out_%d", i), fmt.Sprint(i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(logLines(buf.String())); got != 16 {
		t.Errorf("got %d log lines, want 16 whole lines:\n%s", got, buf.String())
	}
	if got := len(e.Outputs()); got != 8 {
		t.Errorf("Outputs() has %d entries, want 8", got)
	}
}

// Masked secrets are redacted from every later line, the summary and the outputs, also outside Actions; the
// ::add-mask:: command itself keeps the value for the runner.
func TestMaskRedactsEverywhere(t *testing.T) {
	t.Parallel()
	for _, inActions := range []string{"true", ""} {
		dir := t.TempDir()
		vars := map[string]string{"GITHUB_ACTIONS": inActions, "GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "sum")}
		var buf bytes.Buffer
		e := New(func(k string) string { return vars[k] }, &buf)
		e.Mask("hunter22-secret")
		e.Mask("abc") // too short to redact by ourselves
		e.Info("value %s", "hunter22-secret")
		e.Error("failed with hunter22-secret")
		if err := e.SetOutput("x", "a hunter22-secret b"); err != nil {
			t.Fatal(err)
		}
		if err := e.AppendSummary("| hunter22-secret |"); err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(buf.String(), "\n") {
			if strings.Contains(l, "hunter22-secret") && l != "::add-mask::hunter22-secret" {
				t.Errorf("GITHUB_ACTIONS=%q: line %q not redacted", inActions, l)
			}
		}
		for _, f := range []string{"out", "sum"} {
			b, _ := os.ReadFile(filepath.Join(dir, f))
			if strings.Contains(string(b), "hunter22-secret") || !strings.Contains(string(b), "***") {
				t.Errorf("GITHUB_ACTIONS=%q: %s = %q", inActions, f, b)
			}
		}
		if got := e.Redact("abc hunter22-secret"); got != "abc ***" {
			t.Errorf("Redact = %q", got)
		}
	}
}
