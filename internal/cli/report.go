package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/port-roi/port-roi-action/internal/ghaction"
	"github.com/port-roi/port-roi-action/internal/input"
	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/report"
)

// inputOutput is the report's --output flag and action input.
const inputOutput = "output"

func runReport(ctx context.Context, env Env, args []string) int {
	gh := ghaction.New(env.Getenv, env.Stdout)
	fs := newFlagSet("report", "report the ROI of every self-service action: hours saved, success rates and approval "+
		"waits per category, per action and per ISO week, read from the action_run entities in Port", env)
	v := newValues(fs, gh, "port-client-id", "port-client-secret", "port-region", "port-base-url",
		report.InputSince, report.InputFrom, report.InputTo, report.InputFormat, inputOutput, "timeout", "request-timeout")
	if code, done := parseFlags(fs, args, env); done {
		return code
	}

	// Everything is checked before the first request; all problems are reported together.
	now := env.Now().UTC()
	var errs []error
	conn, err := parseConnection(gh, v)
	errs = append(errs, err)
	window, err := report.ParseWindow(v.get(report.InputSince), v.get(report.InputFrom), v.get(report.InputTo), now)
	errs = append(errs, err)
	format, err := report.ParseFormat(v.get(report.InputFormat))
	errs = append(errs, err)
	output := strings.TrimSpace(v.get(inputOutput))
	if fi, err := os.Stat(output); output != "" && err == nil && fi.IsDir() {
		errs = append(errs, &input.Error{Name: inputOutput, Value: output, Expected: "is a directory; expected a file path for the JSON report"})
	}
	limits, err := parseLimits(v)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return reportInputErrors(gh, err)
	}

	// One request per 1000 runs: an all-time report of a large organisation may need a longer timeout.
	ctx, cancel := context.WithTimeout(ctx, limits.run)
	defer cancel()
	client, err := conn.client(gh, append([]port.Option{port.WithTimeout(limits.request)}, env.PortOptions...)...)
	if err != nil {
		gh.Error("%v", err)
		return ExitFailure
	}
	if gh.InActions() { // outside Actions, stdout is the report alone (--format json | jq)
		gh.Group("Read the action runs from Port (" + window.String() + ")")
	}
	rep, err := report.Build(ctx, client, report.Options{Window: window, Now: now,
		Progress: func(blueprint string, pages, entities int) {
			gh.Debug("%s: %d entities read in %d pages", blueprint, entities, pages)
		}})
	gh.EndGroup()
	if err != nil {
		reportFailure(gh, err)
		if port.IsNotFound(err) {
			gh.Info("Hint: the report reads the blueprints actions_categories, action and action_run of Port's actions ROI guide; create them first (README, \"Quick start\").")
		}
		return ExitFailure
	}

	code := ExitOK
	path, err := writeReportFile(gh, rep, output)
	if err != nil {
		gh.Error("write the JSON report: %v", err)
		code = ExitFailure
	}
	if err := writeReportOutputs(gh, rep, path); err != nil {
		gh.Error("write outputs: %v", err)
		code = ExitFailure
	}
	if err := gh.AppendSummary(report.Markdown(rep)); err != nil {
		gh.Warning("write job summary: %v", err)
	}

	switch {
	case gh.InActions() && format == "":
		// The Markdown report is in the job summary; the log gets the headline.
		t := rep.Totals
		gh.Info("%s: %s of lead time and %s of cycle time saved; %d runs (%d succeeded, %d failed); %s waiting for approval.",
			window, hoursOutput(t.LeadTime.Hours)+" h", hoursOutput(t.CycleTime.Hours)+" h", t.Runs, t.Successful, t.Failed,
			hoursOutput(t.ApprovalWait.Hours)+" h")
		gh.Info("The full report is in the job summary; every number, exact, is in %s (output report-path).", path)
	case gh.InActions():
		// Port's titles are untrusted: each line goes through the log's sanitiser.
		var b bytes.Buffer
		if err := report.Render(&b, rep, format); err != nil {
			gh.Error("render the report: %v", err)
			return ExitFailure
		}
		for _, l := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
			gh.Info("%s", l)
		}
	default:
		if format == "" {
			format = report.FormatText
		}
		if err := report.Render(env.Stdout, rep, format); err != nil {
			fmt.Fprintf(env.Stderr, "port-roi-action report: %v\n", err)
			return ExitFailure
		}
		if path != "" {
			fmt.Fprintf(env.Stderr, "JSON report: %s\n", path)
		}
	}
	return code
}

// writeReportFile writes the JSON report to output or, when it is empty, to a new file in reportDir, and
// returns its path.
func writeReportFile(gh *ghaction.Env, rep *report.Report, output string) (string, error) {
	b, err := rep.JSON()
	if err != nil {
		return "", err
	}
	// Like everything the action writes: no masked secret, even one a user typed into a title.
	b = []byte(gh.Redact(string(b)))
	if output != "" {
		return output, os.WriteFile(output, b, 0o644)
	}
	f, err := os.CreateTemp(reportDir(gh), "port-roi-report-*.json")
	if err != nil {
		return "", err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return "", err
	}
	return f.Name(), f.Close()
}

// containerWorkspace is GITHUB_WORKSPACE inside a Docker action's container, where the runner mounts the
// workspace and makes it the working directory.
const containerWorkspace = "/github/workspace"

// reportDir is where the JSON report goes without an output. Inside the action's container the runner does
// not mount its temp directory (actions/runner#1984; #4011 maps it to another path, behind a flag) and the
// image has no /tmp: the working directory, the workspace, is the one place later steps see, at the same
// relative path. Elsewhere (the binary on a runner, a terminal) it is $RUNNER_TEMP or the temp directory.
func reportDir(gh *ghaction.Env) string {
	if gh.InActions() && gh.Getenv("GITHUB_WORKSPACE") == containerWorkspace {
		return "."
	}
	for _, dir := range []string{gh.Getenv("RUNNER_TEMP"), os.TempDir()} {
		if fi, err := os.Stat(dir); dir != "" && err == nil && fi.IsDir() {
			return dir
		}
	}
	return "."
}

func writeReportOutputs(gh *ghaction.Env, rep *report.Report, path string) error {
	t := rep.Totals
	outputs := []struct{ name, value string }{
		{"total-hours-saved", hoursOutput(t.LeadTime.Hours)},
		{"total-processing-hours-saved", hoursOutput(t.CycleTime.Hours)},
		{"total-approval-wait-hours", hoursOutput(t.ApprovalWait.Hours)},
		{"runs", strconv.Itoa(t.Runs)},
		{"successful-runs", strconv.Itoa(t.Successful)},
		{"failed-runs", strconv.Itoa(t.Failed)},
		{"report-path", path},
	}
	var errs []error
	for _, o := range outputs {
		errs = append(errs, gh.SetOutput(o.name, o.value))
	}
	return errors.Join(errs...)
}

// hoursOutput rounds hours to 2 decimals for an output or a log line; the JSON report keeps them exact.
func hoursOutput(h float64) string {
	r := math.Round(h*100) / 100
	if r == 0 {
		r = 0 // never "-0.00"
	}
	return strconv.FormatFloat(r, 'f', 2, 64)
}
