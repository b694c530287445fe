package cli

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/port-roi/port-roi-action/internal/ghaction"
	"github.com/port-roi/port-roi-action/internal/register"
)

// hostileValues are what a careless or hostile user may type into any input. The title comes from whoever
// may run the Port action; everything else from workflow authors, Port's payload, or act.
var hostileValues = []string{
	"", " ", "'", `"quoted"`, `back\slash`, "$(id)", "`id`", "a\nb", "a\rb", "\x00", "a\tb",
	"::set-output name=x::y", "::add-mask::x", "%0A::warning::pwned", "##[error]x", "{{ .secrets }}",
	"Создать бакет", "バケット", "🚀 launch", "İ", strings.Repeat("a", 10000), strings.Repeat("é", 70000),
	`{"identifier":`, `{"identifier":["x"]}`, `{"identifier":"ok","extra":{"a":[1,2,3]}}`, `[1,2]`, `null`, `true`,
	strings.Repeat("[", 20000), strings.Repeat(`{"a":`, 20000),
	"-1", "-0", "NaN", "Inf", "-Inf", "1e309", "4h", "0x10", "1_000", "1,5", "1e-400", "0.000001",
	"true", "TRUE", "yes", "https://evil.example", "http://127.0.0.1:1/x", "javascript:alert(1)", "5m", "-5m", "0s", "9999h",
}

// workflowCommand matches the lines the runner would read as a command.
var workflowCommand = regexp.MustCompile(`^\s*(::|##\[)`)

// ourCommands are the workflow commands the action itself issues.
var ourCommands = regexp.MustCompile(`^::(add-mask|group|endgroup|error|warning|notice|debug)::`)

// TestHostileInputs tries every hostile value in every input of register. Each run must end with a correct
// result (exit 0) or input errors that name the input (exit 2) — never another failure, a workflow command
// smuggled into the log, a broken outputs file, or a write to Port on bad input.
func TestHostileInputs(t *testing.T) {
	t.Parallel()
	inputs := []string{"action-title", "category", "lead-time-before", "cycle-time-before", "port-context",
		"port-region", "port-base-url", "dry-run", "report-status", "timeout", "request-timeout"}
	for _, name := range inputs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			o := newOrg(t)
			for _, value := range hostileValues {
				env := newActionsEnv(t, o.url, map[string]any{"actionTitle": "Create S3 Bucket", "category": "infrastructure",
					"port_context": `{"runId":"` + o.dispatch(t) + `"}`})
				key := "INPUT_" + strings.ToUpper(name)
				env.vars[key] = value
				if strings.TrimSpace(value) == "" && name != "port-base-url" {
					delete(env.vars, key) // a blank input falls back to the dispatch payload or the default
				}
				o.emu.ResetRequests()
				code := env.run(t)
				out := env.stdout.String()
				checkLog(t, name, value, out)
				outputs, err := ghaction.ParseOutputs([]byte(readFile(t, env.output)))
				if err != nil {
					t.Errorf("%s=%.40q: outputs file does not parse: %v", name, value, err)
				}
				switch code {
				case ExitOK:
					if id := outputs["action-identifier"]; !register.ValidActionIdentifier(id) {
						t.Errorf("%s=%.40q: action-identifier %q is not valid", name, value, id)
					}
				case ExitInput:
					// A category is checked against Port after the other inputs; that run has outputs.
					if len(outputs) > 0 && name != "category" {
						t.Errorf("%s=%.40q: outputs written on bad input: %v", name, value, outputs)
					}
					if !strings.Contains(out, "::error::input \"") {
						t.Errorf("%s=%.40q: exit 2 without an input error:\n%.2000s", name, value, out)
					}
					if w := writes(o.emu.Requests()); len(w) > 0 && name != "category" {
						t.Errorf("%s=%.40q: bad input wrote to Port: %v", name, value, w)
					}
				case ExitFailure:
					// A well-formed base URL or region that does not lead to the emulator: Port is unreachable.
					if (name != "port-base-url" && name != "port-region") || !strings.Contains(out, "Hint: Port could not be reached") {
						t.Errorf("%s=%.40q: exit code 1:\n%.2000s", name, value, out)
					}
				default:
					t.Errorf("%s=%.40q: exit code %d, want 0 or 2:\n%.2000s", name, value, code, out)
				}
				if err := os.Truncate(env.output, 0); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// checkLog fails when a log line could be read as a workflow command we did not issue.
func checkLog(t *testing.T, name, value, out string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if workflowCommand.MatchString(line) && !ourCommands.MatchString(line) {
			t.Errorf("%s=%.40q: the log line %.80q would be read as a workflow command", name, value, line)
		}
		if strings.HasPrefix(line, "::") && !strings.HasPrefix(line, "::add-mask::") {
			// Our own commands carry untrusted text only in their escaped data part: no raw CR or LF.
			if strings.ContainsAny(line, "\r") {
				t.Errorf("%s=%.40q: raw CR in %.80q", name, value, line)
			}
		}
	}
}
