package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/port-roi/port-roi-action/internal/ghaction"
	"github.com/port-roi/port-roi-action/internal/register"
)

func runRegister(ctx context.Context, env Env, args []string) int {
	gh := ghaction.New(env.Getenv, env.Stdout)
	fs := newFlagSet("register", "register a self-service action for ROI tracking: make sure the action exists, "+
		"create the automation that records its runs, and upsert its action entity with the baselines", env)
	v := newValues(fs, gh, "port-client-id", "port-client-secret", "port-region", "port-base-url",
		register.InputTitle, register.InputCategory, register.InputLeadTime, register.InputCycleTime,
		register.InputPortContext, "dry-run", "timeout", "request-timeout", "report-status", inputManifest, inputConcurrency)
	if code, done := parseFlags(fs, args, env); done {
		return code
	}
	if v.get(inputManifest) != "" {
		return runManifest(ctx, env, gh, v) // many actions at once: manifest.go
	}

	// Everything is checked before the first request; all problems are reported together.
	sess, err := parseSession(env, gh, v)
	errs := []error{err}
	in, err := register.ParseInputs(register.Raw{
		Title:           v.get(register.InputTitle),
		Category:        v.get(register.InputCategory),
		LeadTimeBefore:  v.get(register.InputLeadTime),
		CycleTimeBefore: v.get(register.InputCycleTime),
		PortContext:     v.get(register.InputPortContext),
	}, gh.InActions())
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return reportInputErrors(gh, err)
	}

	ctx, client, rep, err := sess.open(ctx, in.RunID)
	if err != nil {
		gh.Error("%v", err)
		return ExitFailure
	}
	res, runErr := register.Run(ctx, client, rep, in, register.Options{AppURL: sess.conn.endpoint.AppURL, DryRun: sess.dryRun})
	if sess.cancelled() {
		runErr = errCancelled
	}
	sess.close(finalLine(res, runErr), runErr != nil)
	code := sess.exitCode(runErr)
	if err := writeRegisterOutputs(gh, res); err != nil {
		gh.Error("write outputs: %v", err)
		code = ExitFailure
	}
	if err := gh.AppendSummary(registerSummary(res, sess.conn.endpoint.AppURL)); err != nil {
		gh.Warning("write job summary: %v", err)
	}
	return code
}

// finalLine is the run's last log line: what was done, or what failed.
func finalLine(res register.Result, err error) string {
	id := res.Inputs.ActionID
	if errors.Is(err, errCancelled) {
		return fmt.Sprintf("⏹️ Registering %q was %v", id, err)
	}
	if err != nil {
		return fmt.Sprintf("❌ Registering %q failed: %v", id, err)
	}
	verb := "Registered"
	if res.DryRun {
		verb = "Dry run for"
	}
	return fmt.Sprintf("🏁 %s %q: action %s, automation %s, entity %s", verb, id,
		res.Action.Outcome, res.Automation.Outcome, res.Entity.Outcome)
}

func writeRegisterOutputs(gh *ghaction.Env, res register.Result) error {
	outputs := []struct{ name, value string }{
		{"action-identifier", res.Inputs.ActionID},
		{"automation-identifier", res.AutomationID},
		{"action-created", strconv.FormatBool(res.Action.Outcome == register.Created)},
		{"automation-created", strconv.FormatBool(res.Automation.Outcome == register.Created)},
		{"automation-updated", strconv.FormatBool(res.Automation.Outcome == register.Updated)},
	}
	var errs []error
	for _, o := range outputs {
		errs = append(errs, gh.SetOutput(o.name, o.value))
	}
	return errors.Join(errs...)
}

// registerSummary renders the job summary: one row per object, linked into the Port app.
func registerSummary(res register.Result, appURL string) string {
	in := res.Inputs
	var b strings.Builder
	title := "Port ROI tracking for " + ghaction.EscapeMarkdown(in.Title)
	if res.DryRun {
		title += " (dry run: nothing was written)"
	}
	fmt.Fprintf(&b, "### %s\n\n| Object | Identifier | Outcome |\n| --- | --- | --- |\n", title)
	row := func(kind, id, link string, ch register.Change) {
		outcome := string(ch.Outcome)
		if len(ch.Drift) > 0 {
			outcome += " (" + ghaction.EscapeMarkdown(strings.Join(ch.Drift, ", ")) + ")"
		}
		fmt.Fprintf(&b, "| %s | [`%s`](%s) | %s |\n", kind, id, link, outcome)
	}
	row("Self-service action", in.ActionID, appURL+"/self-serve", res.Action)
	row("Automation", res.AutomationID, appURL+"/settings/automations", res.Automation)
	row("Entity of blueprint `action`", in.ActionID, appURL+"/actionEntity?identifier="+url.QueryEscape(in.ActionID), res.Entity)
	fmt.Fprintf(&b, "\nCategory `%s` · lead time before %s · cycle time before %s\n",
		in.Category, hoursText(in.LeadTimeBefore), hoursText(in.CycleTimeBefore))
	if in.RunID != "" {
		fmt.Fprintf(&b, "\n[Port run %s](%s/organization/run?runId=%s)\n", ghaction.EscapeMarkdown(in.RunID), appURL, url.QueryEscape(in.RunID))
	}
	return b.String()
}

func hoursText(h *float64) string {
	if h == nil {
		return "not set"
	}
	return strconv.FormatFloat(*h, 'f', -1, 64) + " h"
}
