// Package ghaction is the only package that knows the GitHub Actions runtime:
// INPUT_* variables, GITHUB_* variables, the event payload, workflow commands,
// the outputs file, masks, log groups and the job summary.
//
// It is built on github.com/sethvargo/go-githubactions but does not inherit
// that library's gaps: outputs use a random heredoc delimiter, file-command
// errors are returned instead of panicking, log writes never panic, and
// untrusted text logged with Info can never be read as a workflow command.
//
// Workflow commands: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands
package ghaction

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/sethvargo/go-githubactions"
)

// Env is a view of the GitHub Actions runtime built from an injected getenv
// and an injected log writer. It is safe for concurrent use.
type Env struct {
	getenv    func(string) string
	out       *lineWriter
	gha       *githubactions.Action
	inActions bool
	verbose   bool
	rand      io.Reader

	mu      sync.Mutex
	outputs map[string]string
}

// Option configures an Env.
type Option func(*Env)

// WithVerbose makes Debug print its messages outside GitHub Actions. In
// Actions, debug messages are always sent as ::debug:: commands and the runner
// shows them only when step debug logging is enabled.
func WithVerbose(verbose bool) Option {
	return func(e *Env) { e.verbose = verbose }
}

// withRand replaces crypto/rand as the source of heredoc delimiters (tests).
func withRand(r io.Reader) Option {
	return func(e *Env) { e.rand = r }
}

// New returns an Env that reads the environment through getenv and writes log
// lines and workflow commands to stdout. A write error on stdout is ignored
// (there is nowhere left to report it); it never panics.
func New(getenv func(string) string, stdout io.Writer, opts ...Option) *Env {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	if stdout == nil {
		stdout = io.Discard
	}
	out := &lineWriter{w: stdout}
	e := &Env{
		getenv:    getenv,
		out:       out,
		gha:       githubactions.New(githubactions.WithGetenv(getenv), githubactions.WithWriter(out)),
		inActions: getenv("GITHUB_ACTIONS") == "true",
		rand:      rand.Reader,
		outputs:   map[string]string{},
	}
	for _, opt := range opts {
		if opt != nil {
			opt(e)
		}
	}
	return e
}

// InActions reports whether the process runs inside GitHub Actions
// (GITHUB_ACTIONS is "true").
func (e *Env) InActions() bool { return e.inActions }

// Input returns the action input name, read from INPUT_<NAME> with the name
// uppercased, spaces replaced by underscores and hyphens kept (as the runner
// does: Input("port-client-id") reads INPUT_PORT-CLIENT-ID), trimmed of
// surrounding white space. A missing input is "".
func (e *Env) Input(name string) string { return e.gha.GetInput(name) }

// Getenv returns the environment variable name through the injected getenv.
func (e *Env) Getenv(name string) string { return e.getenv(name) }

// Outputs returns a copy of the outputs SetOutput recorded during this run,
// including those recorded outside Actions where no outputs file exists.
func (e *Env) Outputs() map[string]string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.outputs)
}

// Mask asks the runner to redact secret from the log. Each line of a
// multi-line value is masked on its own, because the runner matches masks
// within a log line; blank lines are skipped (masking white space would redact
// every space of the log). Independently of the runner, every later line this
// Env writes, the job summary and the outputs have the secret replaced by ***,
// also outside Actions (see Redact).
func (e *Env) Mask(secret string) {
	seen := map[string]bool{}
	for _, line := range strings.FieldsFunc(secret, func(r rune) bool { return r == '\n' || r == '\r' }) {
		if strings.TrimSpace(line) == "" || seen[line] {
			continue
		}
		seen[line] = true
		e.out.addSecret(line)
		if e.inActions {
			e.gha.AddMask(line)
		}
	}
}

// Redact replaces every masked secret in s by ***.
func (e *Env) Redact(s string) string { return e.out.redact(s) }

// Group starts a collapsible log group (::group::) in Actions; outside Actions
// it prints a header line "▶ title".
func (e *Env) Group(title string) {
	if e.inActions {
		e.gha.Group(title)
		return
	}
	e.out.line("▶ " + SanitizeLine(title))
}

// EndGroup ends the current log group in Actions; outside Actions it prints
// nothing.
func (e *Env) EndGroup() {
	if e.inActions {
		e.gha.EndGroup()
	}
}

// Info writes one log line. The text is treated as untrusted: CR and LF are
// shown as the two characters \r and \n, other control characters as \xNN,
// and the line is neutralised so the runner never reads it as a workflow
// command (see SanitizeLine). The same text is printed outside Actions.
func (e *Env) Info(format string, args ...any) {
	e.out.line(SanitizeLine(fmt.Sprintf(format, args...)))
}

// Debug sends a ::debug:: message in Actions; outside Actions it prints
// "debug: …" only when WithVerbose(true) was given.
func (e *Env) Debug(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	switch {
	case e.inActions:
		e.gha.Debugf("%s", msg)
	case e.verbose:
		e.out.line("debug: " + SanitizeLine(msg))
	}
}

// Notice sends a ::notice:: annotation in Actions (the message escaped by the
// runner's rules: %, CR and LF); outside Actions it prints "notice: …".
func (e *Env) Notice(format string, args ...any) {
	e.annotate("notice", fmt.Sprintf(format, args...), e.gha.Noticef)
}

// Warning sends a ::warning:: annotation in Actions; outside Actions it prints
// "warning: …".
func (e *Env) Warning(format string, args ...any) {
	e.annotate("warning", fmt.Sprintf(format, args...), e.gha.Warningf)
}

// Error sends an ::error:: annotation in Actions; outside Actions it prints
// "error: …".
func (e *Env) Error(format string, args ...any) {
	e.annotate("error", fmt.Sprintf(format, args...), e.gha.Errorf)
}

func (e *Env) annotate(level, msg string, issue func(string, ...any)) {
	if e.inActions {
		issue("%s", msg)
		return
	}
	e.out.line(level + ": " + SanitizeLine(msg))
}

// lineWriter serialises writes to the log, redacts masked secrets from them
// and swallows write errors, so that neither go-githubactions (which panics on
// them) nor we ever panic because stdout is closed.
type lineWriter struct {
	mu      sync.Mutex
	w       io.Writer
	secrets []string
}

// minSecret is the shortest value redacted by us; shorter ones would turn
// ordinary words into *** (the runner still masks them in Actions).
const minSecret = 4

func (l *lineWriter) addSecret(s string) {
	if len(s) < minSecret {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !slices.Contains(l.secrets, s) {
		l.secrets = append(l.secrets, s)
	}
}

func (l *lineWriter) redact(s string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.redactLocked(s)
}

func (l *lineWriter) redactLocked(s string) string {
	for _, secret := range l.secrets {
		s = strings.ReplaceAll(s, secret, "***")
	}
	return s
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if bytes.HasPrefix(p, []byte("::add-mask::")) {
		_, _ = l.w.Write(p) // the runner must see the value it is asked to mask
	} else {
		_, _ = io.WriteString(l.w, l.redactLocked(string(p)))
	}
	return len(p), nil
}

func (l *lineWriter) line(s string) {
	_, _ = l.Write([]byte(s + "\n"))
}
