package cli

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/port-roi/port-roi-action/internal/bootstrap"
	"github.com/port-roi/port-roi-action/internal/ghaction"
	"github.com/port-roi/port-roi-action/internal/register"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

func runBootstrap(ctx context.Context, env Env, args []string) int {
	code, _ := bootstrapCommand(ctx, env, args)
	return code
}

// bootstrapCommand is the bootstrap command; it also returns what bootstrap did (the zero Result when it
// stopped before calling Port), for the demo to summarise.
func bootstrapCommand(ctx context.Context, env Env, args []string) (int, bootstrap.Result) {
	gh := ghaction.New(env.Getenv, env.Stdout)
	fs := newFlagSet("bootstrap", "set up the guide's Port data model in one go: the blueprints actions_categories, "+
		"action and action_run, the setup_new_action self-service action pointing at your workflow, the "+
		"actions_assistant AI agent, the \"Actions ROI\" dashboard and starter categories. Safe to run again: what "+
		"exists is merged, never replaced, and a run with nothing to do writes nothing", env)
	v := newValues(fs, gh, "port-client-id", "port-client-secret", "port-region", "port-base-url",
		bootstrap.InputOrg, bootstrap.InputRepo, bootstrap.InputWorkflow, bootstrap.InputCategories,
		bootstrap.InputPortContext, "dry-run", "timeout", "request-timeout", "report-status")
	if code, done := parseFlags(fs, args, env); done {
		return code, bootstrap.Result{}
	}

	// Everything is checked before the first request; all problems are reported together.
	sess, err := parseSession(env, gh, v)
	errs := []error{err}
	in, err := bootstrap.ParseInputs(bootstrap.Raw{
		Org:         v.get(bootstrap.InputOrg),
		Repo:        v.get(bootstrap.InputRepo),
		Workflow:    v.get(bootstrap.InputWorkflow),
		Categories:  v.get(bootstrap.InputCategories),
		PortContext: v.get(bootstrap.InputPortContext),
		Repository:  gh.Getenv("GITHUB_REPOSITORY"),
	})
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return reportInputErrors(gh, err), bootstrap.Result{}
	}

	ctx, client, rep, err := sess.open(ctx, in.RunID)
	if err != nil {
		gh.Error("%v", err)
		return ExitFailure, bootstrap.Result{}
	}
	res, runErr := bootstrap.Run(ctx, client, rep, in, bootstrap.Options{AppURL: sess.conn.endpoint.AppURL, DryRun: sess.dryRun})
	if res.AgentSkipped {
		gh.Notice("this Port organisation has no AI agents: the agent %s and the dashboard's AI agent widget were left "+
			"out; run bootstrap again once Port AI is enabled to add them", roimodel.AgentID)
	}
	if sess.cancelled() {
		runErr = errCancelled
	}
	sess.close(bootstrapFinalLine(res, runErr), runErr != nil)
	code := sess.exitCode(runErr)
	if err := writeBootstrapOutputs(gh, res); err != nil {
		gh.Error("write outputs: %v", err)
		code = ExitFailure
	}
	if err := gh.AppendSummary(bootstrapSummary(res, sess.conn.endpoint.AppURL)); err != nil {
		gh.Warning("write job summary: %v", err)
	}
	return code, res
}

// bootstrapFinalLine is the run's last log line: what was done (or planned), or what failed.
func bootstrapFinalLine(res bootstrap.Result, err error) string {
	counts := func(pairs ...any) string {
		var parts []string
		for i := 0; i < len(pairs); i += 2 {
			if n := res.Count(pairs[i].(register.Outcome)); n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, pairs[i+1]))
			}
		}
		return strings.Join(parts, ", ")
	}
	switch {
	case err != nil:
		return fmt.Sprintf("❌ Bootstrap of the actions ROI setup failed (%s): %v",
			counts(register.Failed, "failed", register.Created, "created", register.Updated, "updated", register.Unchanged, "unchanged"), err)
	case res.DryRun && res.Count(register.WouldCreate)+res.Count(register.WouldUpdate) == 0:
		return fmt.Sprintf("🏁 Dry run: the actions ROI setup is complete, nothing would change (%s)", counts(register.Unchanged, "unchanged", register.Skipped, "skipped"))
	case res.DryRun:
		return fmt.Sprintf("🏁 Dry run, nothing was written: %s", counts(register.WouldCreate, "would be created",
			register.WouldUpdate, "would be updated", register.Unchanged, "unchanged", register.Skipped, "skipped"))
	case res.Count(register.Created)+res.Count(register.Updated) == 0:
		return fmt.Sprintf("🏁 The actions ROI setup is complete: nothing to change (%s). Dashboard: %s",
			counts(register.Unchanged, "unchanged", register.Skipped, "skipped"), res.DashboardURL)
	}
	return fmt.Sprintf("🏁 Set up the actions ROI dashboard: %s. Dashboard: %s", counts(register.Created, "created",
		register.Updated, "updated", register.Unchanged, "unchanged", register.Skipped, "skipped"), res.DashboardURL)
}

func writeBootstrapOutputs(gh *ghaction.Env, res bootstrap.Result) error {
	outputs := []struct{ name, value string }{
		{"created", strings.Join(res.IDs(register.Created), ",")},
		{"updated", strings.Join(res.IDs(register.Updated), ",")},
		{"dashboard-url", res.DashboardURL},
	}
	var errs []error
	for _, o := range outputs {
		errs = append(errs, gh.SetOutput(o.name, o.value))
	}
	return errors.Join(errs...)
}

// bootstrapSummary renders the job summary: one row per object, linked into the Port app, with the paths
// that differed for updates.
func bootstrapSummary(res bootstrap.Result, appURL string) string {
	var b strings.Builder
	title := "Port actions ROI setup"
	if res.DryRun {
		title += " (dry run: nothing was written)"
	}
	fmt.Fprintf(&b, "### %s\n\n| Object | Identifier | Outcome |\n| --- | --- | --- |\n", title)
	var changed []bootstrap.Object
	for _, o := range res.Objects {
		outcome := string(o.Outcome)
		if n := len(o.Drift); n > 0 {
			outcome += fmt.Sprintf(" (%d %s)", n, plural(n, "change", "changes"))
			changed = append(changed, o)
		}
		fmt.Fprintf(&b, "| %s | [`%s`](%s) | %s |\n", o.Kind, o.ID, objectLink(o, appURL, res.DashboardURL), outcome)
	}
	if len(changed) > 0 {
		// The plan as a diff: "+" what is added to the object, "~" what is changed; nothing is removed.
		fmt.Fprintf(&b, "\n<details><summary>What differed from the guide</summary>\n\n")
		for _, o := range changed {
			fmt.Fprintf(&b, "%s `%s`:\n\n```diff\n", o.Kind, o.ID)
			for _, d := range o.Drift {
				fmt.Fprintf(&b, "%s\n", strings.ReplaceAll(d, "`", "'"))
			}
			fmt.Fprintf(&b, "```\n\n")
		}
		fmt.Fprintf(&b, "</details>\n")
	}
	fmt.Fprintf(&b, "\n[Open the Actions ROI dashboard](%s) · [Builder](%s/settings/data-model) · [Self-service](%s/self-serve)\n",
		res.DashboardURL, appURL, appURL)
	if res.AgentSkipped {
		fmt.Fprintf(&b, "\nThis organisation has no AI agents: the agent `%s` and its widget were left out.\n", roimodel.AgentID)
	}
	if in := res.Inputs; in.RunID != "" {
		fmt.Fprintf(&b, "\n[Port run %s](%s/organization/run?runId=%s)\n", in.RunID, appURL, url.QueryEscape(in.RunID))
	}
	return b.String()
}

// objectLink is where an object is in the Port app.
func objectLink(o bootstrap.Object, appURL, dashboardURL string) string {
	switch o.Kind {
	case bootstrap.KindBlueprint:
		return appURL + "/settings/data-model"
	case bootstrap.KindAction:
		return appURL + "/self-serve"
	case bootstrap.KindAgent:
		return appURL + "/_ai_agents"
	case bootstrap.KindCategory:
		return appURL + "/" + roimodel.CategoriesBlueprint + "Entity?identifier=" + url.QueryEscape(o.ID)
	case bootstrap.KindDashboard:
		return dashboardURL
	}
	return appURL
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
