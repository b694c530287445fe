// Package cli is the port-roi-action command line: the same commands run as a GitHub Action (values from
// action inputs and the workflow_dispatch payload) and from a terminal (values from flags).
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/port-roi/port-roi-action/internal/ghaction"
	"github.com/port-roi/port-roi-action/internal/input"
	"github.com/port-roi/port-roi-action/internal/port"
)

// Exit codes. They are part of the action's interface and documented in the README.
const (
	ExitOK      = 0 // everything asked for is done (or, in a dry run, planned)
	ExitFailure = 1 // Port refused or could not be reached; what was done is reported
	ExitInput   = 2 // bad input or usage; nothing was sent to Port
)

// Version is the binary's version, set at build time with -ldflags "-X …/internal/cli.Version=v1.2.3".
var Version = "dev"

// Env is everything a command reads from and writes to the outside world.
type Env struct {
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
	// Now is the clock (time.Now in production).
	Now func() time.Time
	// PortOptions are applied to every Port client after the defaults: tests and benchmarks use them to
	// shorten retry waits or to swap the HTTP transport.
	PortOptions []port.Option
}

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) int
}

func commands() []command {
	return []command{
		{"register", "register a self-service action for ROI tracking (the default)", runRegister},
		{"bootstrap", "set up the guide's blueprints, setup action, AI agent and dashboard in Port", runBootstrap},
		{"report", "report the hours saved per category, action and week, from the action_run entities", runReport},
		{"demo", "try everything against the embedded Port emulator, no account needed", runDemo},
		{"emulator", "serve the embedded Port emulator for local runs and act", runEmulator},
		{"version", "print the version", runVersion},
	}
}

// Run runs the command line args (without the program name) and returns the exit code. Inside GitHub
// Actions, with no arguments, the command comes from the "command" input (default register).
func Run(ctx context.Context, args []string, env Env) int {
	if env.Now == nil {
		env.Now = time.Now
	}
	name := "register"
	switch {
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
		name, args = args[0], args[1:]
	case len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help"):
		usage(env.Stdout)
		return ExitOK
	default:
		if c := ghaction.New(env.Getenv, env.Stdout).Input("command"); c != "" {
			name = c
		}
	}
	if name == "help" {
		usage(env.Stdout)
		return ExitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, env, args)
		}
	}
	gh := ghaction.New(env.Getenv, env.Stdout)
	gh.Error("%v", &input.Error{Name: "command", Value: name, Expected: "expected one of " + commandNames()})
	return ExitInput
}

func commandNames() string {
	var names []string
	for _, c := range commands() {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "port-roi-action %s: track the ROI of Port self-service actions\n\nUsage:\n  port-roi-action <command> [flags]\n\nCommands:\n", Version)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun port-roi-action <command> --help for a command's flags.\n"+
		"Exit codes: 0 done, 1 Port failure, 2 bad input (nothing sent).\n")
}

func runVersion(_ context.Context, env Env, args []string) int {
	fs := newFlagSet("version", "print the version", env)
	if code, done := parseFlags(fs, args, env); done {
		return code
	}
	fmt.Fprintf(env.Stdout, "port-roi-action %s\n", Version)
	return ExitOK
}

// newFlagSet returns a flag set that reports errors itself instead of exiting.
func newFlagSet(name, summary string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprintf(env.Stdout, "port-roi-action %s: %s\n\nUsage:\n  port-roi-action %s [flags]\n", name, summary, name)
		printFlags(env.Stdout, fs)
		if fs.Lookup("port-client-secret") != nil {
			fmt.Fprintf(env.Stdout, "\nCredentials are best given as the environment variables PORT_CLIENT_ID and PORT_CLIENT_SECRET\n"+
				"(a flag shows in the process list). Exit codes: 0 done, 1 Port failure, 2 bad input.\n")
		}
	}
	return fs
}

// printFlags lists a command's flags, sorted by name, in the style users type them (--name value), each
// with its description and default.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	n := 0
	fs.VisitAll(func(f *flag.Flag) {
		if n == 0 {
			fmt.Fprintf(w, "\nFlags:\n")
		}
		n++
		arg := " value"
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			arg = ""
		}
		fmt.Fprintf(w, "  --%s%s\n", f.Name, arg)
		usage := f.Usage
		if f.DefValue != "" && f.DefValue != "false" && !strings.Contains(usage, "(default") {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "        %s\n", usage)
	})
}

// parseFlags parses args; done is true when the command must stop with code (help or a usage error).
func parseFlags(fs *flag.FlagSet, args []string, env Env) (code int, done bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp): // flag has printed the usage already
		return ExitOK, true
	case err != nil:
		fmt.Fprintf(env.Stderr, "port-roi-action %s: %v (see --help)\n", fs.Name(), err)
		return ExitInput, true
	case fs.NArg() > 0:
		fmt.Fprintf(env.Stderr, "port-roi-action %s: unexpected argument %s (see --help)\n", fs.Name(), input.Quote(fs.Arg(0)))
		return ExitInput, true
	}
	return ExitOK, false
}
