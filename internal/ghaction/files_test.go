package ghaction

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSetOutputRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		value string
	}{
		{"simple", "setup_new_action"},
		{"empty", ""},
		{"multi-line", "line one\nline two"},
		{"trailing newline", "value\n"},
		{"only newlines", "\n\n"},
		{"CRLF", "a\r\nb"},
		{"looks like our delimiter", "x\nghadelimiter_00000000000000000000000000000000\nevil=1"},
		{"go-githubactions fixed delimiter", "x\n_GitHubActionsFileCommandDelimeter_\nevil<<EOF\n1\nEOF"},
		{"heredoc-looking", "name<<EOF\nEOF"},
		{"unicode", "Sécurité ✓"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "output")
			e, _ := newTestEnv(t, map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": out})
			if err := e.SetOutput("action_identifier", "first"); err != nil {
				t.Fatal(err)
			}
			if err := e.SetOutput("value", tt.value); err != nil {
				t.Fatal(err)
			}
			got, err := ParseOutputs([]byte(readFile(t, out)))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{"action_identifier": "first", "value": tt.value}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("parsed outputs mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want, e.Outputs()); diff != "" {
				t.Errorf("Outputs() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSetOutputFormat(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "output")
	ones := bytes.Repeat([]byte{0x11}, 16)
	e, _ := newTestEnv(t, map[string]string{"GITHUB_OUTPUT": out}, withRand(bytes.NewReader(ones)))
	if err := e.SetOutput("run_id", "r_abc"); err != nil {
		t.Fatal(err)
	}
	want := "run_id<<ghadelimiter_11111111111111111111111111111111\nr_abc\nghadelimiter_11111111111111111111111111111111\n"
	if diff := cmp.Diff(want, readFile(t, out)); diff != "" {
		t.Errorf("outputs file mismatch (-want +got):\n%s", diff)
	}
}

// TestSetOutputDelimiterCollision forces the first random delimiter to occur in
// the value and checks that another one is drawn.
func TestSetOutputDelimiterCollision(t *testing.T) {
	t.Parallel()
	zeros, ones := make([]byte, 16), bytes.Repeat([]byte{0x11}, 16)
	first := "ghadelimiter_" + hex.EncodeToString(zeros)
	second := "ghadelimiter_" + hex.EncodeToString(ones)
	value := "a\n" + first + "\ninjected=yes"

	out := filepath.Join(t.TempDir(), "output")
	e, _ := newTestEnv(t, map[string]string{"GITHUB_OUTPUT": out}, withRand(bytes.NewReader(append(zeros, ones...))))
	if err := e.SetOutput("title", value); err != nil {
		t.Fatal(err)
	}
	data := readFile(t, out)
	if !strings.HasPrefix(data, "title<<"+second+"\n") {
		t.Errorf("delimiter was not redrawn:\n%s", data)
	}
	got, err := ParseOutputs([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"title": value}, got); diff != "" {
		t.Errorf("parsed outputs mismatch (-want +got):\n%s", diff)
	}

	// A source that only ever yields colliding delimiters is an error.
	e, _ = newTestEnv(t, map[string]string{"GITHUB_OUTPUT": out}, withRand(bytes.NewReader(bytes.Repeat(zeros, 8))))
	if err := e.SetOutput("title", value); err == nil {
		t.Error("SetOutput succeeded although every delimiter collided")
	}
	// An exhausted source is an error, not a panic.
	e, _ = newTestEnv(t, map[string]string{"GITHUB_OUTPUT": out}, withRand(bytes.NewReader(nil)))
	if err := e.SetOutput("title", "v"); err == nil {
		t.Error("SetOutput succeeded without randomness")
	}
}

func TestSetOutputErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name     string
		env      map[string]string
		output   string
		wantErr  string
		recorded bool
	}{
		{
			name:    "in Actions without GITHUB_OUTPUT",
			env:     map[string]string{"GITHUB_ACTIONS": "true"},
			output:  "action_identifier",
			wantErr: "GITHUB_OUTPUT is not set",
		},
		{
			name:     "outside Actions without GITHUB_OUTPUT",
			env:      map[string]string{},
			output:   "action_identifier",
			recorded: true,
		},
		{
			name:    "output file is a directory",
			env:     map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": dir},
			output:  "action_identifier",
			wantErr: "is a directory",
		},
		{
			name:    "output file in a missing directory",
			env:     map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(dir, "missing", "output")},
			output:  "action_identifier",
			wantErr: "no such file or directory",
		},
		{"empty name", map[string]string{}, "", "the name must", false},
		{"name starting with a digit", map[string]string{}, "1st", "the name must", false},
		{"name with a space", map[string]string{}, "run id", "the name must", false},
		{"name with a newline", map[string]string{}, "a\nb", "the name must", false},
		{"name with a heredoc marker", map[string]string{}, "a<<b", "the name must", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, _ := newTestEnv(t, tt.env)
			err := e.SetOutput(tt.output, "value")
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("SetOutput: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("SetOutput error = %v, want one containing %q", err, tt.wantErr)
			}
			want := map[string]string{}
			if tt.recorded {
				want[tt.output] = "value"
			}
			if diff := cmp.Diff(want, e.Outputs()); diff != "" {
				t.Errorf("Outputs() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOutputsIsACopy(t *testing.T) {
	t.Parallel()
	e, _ := newTestEnv(t, nil)
	if err := e.SetOutput("a", "1"); err != nil {
		t.Fatal(err)
	}
	if err := e.SetOutput("a", "2"); err != nil {
		t.Fatal(err)
	}
	got := e.Outputs()
	got["b"] = "x"
	if diff := cmp.Diff(map[string]string{"a": "2"}, e.Outputs()); diff != "" {
		t.Errorf("Outputs() mismatch (-want +got):\n%s", diff)
	}
}

func TestParseOutputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		data    string
		want    map[string]string
		wantErr string
	}{
		{name: "empty", data: "", want: map[string]string{}},
		{name: "single line", data: "a=1\nb=x=y\n", want: map[string]string{"a": "1", "b": "x=y"}},
		{name: "single line without final newline", data: "a=1", want: map[string]string{"a": "1"}},
		{name: "empty value", data: "a=\n", want: map[string]string{"a": ""}},
		{name: "heredoc", data: "a<<EOF\nl1\nl2\nEOF\n", want: map[string]string{"a": "l1\nl2"}},
		{name: "heredoc with no lines", data: "a<<EOF\nEOF\n", want: map[string]string{"a": ""}},
		{name: "heredoc with one empty line", data: "a<<EOF\n\nEOF\n", want: map[string]string{"a": ""}},
		{name: "equals before heredoc marker", data: "a=b<<c\n", want: map[string]string{"a": "b<<c"}},
		{name: "heredoc marker before equals", data: "a<<D=1\nv\nD=1\n", want: map[string]string{"a": "v"}},
		{name: "blank lines skipped", data: "\na=1\n\n\nb<<E\nx\nE\n\n", want: map[string]string{"a": "1", "b": "x"}},
		{name: "later wins", data: "a=1\na<<E\n2\nE\n", want: map[string]string{"a": "2"}},
		{name: "no name", data: "=1\n", wantErr: "line 1: an entry without a name"},
		{name: "heredoc without name", data: "<<E\nx\nE\n", wantErr: "line 1: an entry without a name"},
		{name: "empty delimiter", data: "a<<\nx\n", wantErr: "empty heredoc delimiter"},
		{name: "unclosed heredoc", data: "a=1\nb<<E\nx\n", wantErr: `line 2: output "b": heredoc delimiter "E" never closed`},
		{name: "garbage", data: "a=1\njunk\n", wantErr: "line 2: neither"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseOutputs([]byte(tt.data))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseOutputs error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseOutputs mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAppendSummary(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "summary.md")
	e, _ := newTestEnv(t, map[string]string{"GITHUB_STEP_SUMMARY": path})
	if err := e.AppendSummary("## ROI\n"); err != nil {
		t.Fatal(err)
	}
	if err := e.AppendSummary("| a | " + EscapeMarkdown("b|c") + " |"); err != nil {
		t.Fatal(err)
	}
	want := "## ROI\n| a | b\\|c |\n"
	if diff := cmp.Diff(want, readFile(t, path)); diff != "" {
		t.Errorf("summary mismatch (-want +got):\n%s", diff)
	}
}

func TestAppendSummaryErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	full := filepath.Join(dir, "full.md")
	if err := os.WriteFile(full, bytes.Repeat([]byte("x"), maxSummaryBytes), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		wantErr string
	}{
		{"unset is a no-op", "", ""},
		{"directory", dir, "is a directory"},
		{"missing directory", filepath.Join(dir, "missing", "summary.md"), "no such file or directory"},
		{"over the 1 MiB limit", full, "would exceed GitHub's limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, _ := newTestEnv(t, map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": tt.path})
			err := e.AppendSummary("more")
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("AppendSummary error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
