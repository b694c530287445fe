package cli

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// emptyOrg is an emulated organisation as Port creates it: system blueprints and one user, nothing else.
func emptyOrg(t *testing.T, opts ...portemu.Option) *org {
	t.Helper()
	emu := portemu.New(opts...)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &org{emu: emu, url: srv.URL}
}

// newBootstrapEnv is a GitHub Actions job in acme/platform that runs bootstrap.
func newBootstrapEnv(t *testing.T, baseURL string) *actionsEnv {
	t.Helper()
	env := newActionsEnv(t, baseURL, nil)
	env.vars["GITHUB_EVENT_NAME"] = "push"
	env.vars["INPUT_COMMAND"] = "bootstrap"
	env.vars["INPUT_CATEGORIES"] = "Infrastructure, Security"
	return env
}

func TestBootstrapInActions(t *testing.T) {
	t.Parallel()
	o := emptyOrg(t)
	env := newBootstrapEnv(t, o.url)
	if code := env.run(t); code != ExitOK {
		t.Fatalf("exit code %d:\n%s", code, env.stdout.String())
	}

	action, ok := o.emu.Action(roimodel.SetupActionID)
	if !ok {
		t.Fatal("setup_new_action was not created")
	}
	inv := action["invocationMethod"].(map[string]any)
	if inv["org"] != "acme" || inv["repo"] != "platform" || inv["workflow"] != "create-port-automation.yml" {
		t.Errorf("setup_new_action backend = %v, want GITHUB_REPOSITORY's acme/platform", inv)
	}
	want := map[string]string{
		"created":       "actions_categories,action,action_run,setup_new_action,infrastructure,security,actions_assistant,actions_roi",
		"updated":       "",
		"dashboard-url": "https://app.port.io/actions_roi",
	}
	if diff := cmp.Diff(want, pick(env.outputs(t), "created", "updated", "dashboard-url")); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	summary := readFile(t, env.summary)
	for _, line := range []string{
		"| Blueprint | [`action_run`](https://app.port.io/settings/data-model) | created |",
		"| Self-service action | [`setup_new_action`](https://app.port.io/self-serve) | created |",
		"| Category | [`security`](https://app.port.io/actions_categoriesEntity?identifier=security) | created |",
		"| AI agent | [`actions_assistant`](https://app.port.io/_ai_agents) | created |",
		"| Dashboard | [`actions_roi`](https://app.port.io/actions_roi) | created |",
		"[Open the Actions ROI dashboard](https://app.port.io/actions_roi)",
	} {
		if !strings.Contains(summary, line) {
			t.Errorf("summary lacks %q:\n%s", line, summary)
		}
	}
	for _, group := range []string{`::group::Blueprint "action"`, `::group::Self-service action "setup_new_action"`,
		`::group::Categories (entities of blueprint actions_categories)`, `::group::AI agent "actions_assistant"`, `::group::Dashboard "actions_roi"`} {
		if !strings.Contains(env.stdout.String(), group) {
			t.Errorf("GitHub log lacks %q", group)
		}
	}

	// Run again, now from a Port run: nothing is written but the run log, which says so.
	run, err := o.emu.CreateRun(roimodel.SetupActionID, map[string]any{"actionTitle": "x", "category": "security"}, portemu.DemoUser)
	if err != nil {
		t.Fatal(err)
	}
	env.vars["INPUT_PORT-CONTEXT"] = `{"runId":"` + run.ID + `"}`
	o.emu.ResetRequests()
	if code := env.run(t); code != ExitOK {
		t.Fatalf("second run: exit code %d:\n%s", code, env.stdout.String())
	}
	if w := writes(o.emu.Requests()); len(w) > 0 {
		t.Errorf("second run wrote %v", w)
	}
	want["created"] = ""
	if diff := cmp.Diff(want, pick(env.outputs(t), "created", "updated", "dashboard-url")); diff != "" {
		t.Errorf("second run outputs (-want +got):\n%s", diff)
	}
	logs := o.emu.RunLogs(run.ID)
	if len(logs) == 0 {
		t.Fatal("nothing in the Port run log")
	}
	last := logs[len(logs)-1].Message
	if !strings.Contains(last, `✅ Dashboard "actions_roi" is up to date`) ||
		!strings.Contains(last, "🏁 The actions ROI setup is complete: nothing to change (8 unchanged). Dashboard: https://app.port.io/actions_roi") {
		t.Errorf("last run-log line:\n%s", last)
	}
}

// pick returns the named entries of m.
func pick(m map[string]string, names ...string) map[string]string {
	out := map[string]string{}
	for _, n := range names {
		out[n] = m[n]
	}
	return out
}

// From an empty organisation, bootstrap, register and a few runs give action entities whose aggregation
// properties the dashboard's number charts sum to the hours computed by hand.
func TestBootstrapRegisterRunsDashboard(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{now: mustTime(t, "2026-03-02T09:00:00Z")}
	o := emptyOrg(t, portemu.WithClock(clock.Now))
	env := newBootstrapEnv(t, o.url)
	if code := env.run(t); code != ExitOK {
		t.Fatalf("bootstrap: exit code %d:\n%s", code, env.stdout.String())
	}

	register := func(title, category, lead, cycle string) {
		t.Helper()
		env := newActionsEnv(t, o.url, map[string]any{"actionTitle": title, "category": category,
			"lead_time_before": lead, "cycle_time": cycle, "port_context": `{"runId":"` + o.dispatch(t) + `"}`})
		if code := env.run(t); code != ExitOK {
			t.Fatalf("register %q: exit code %d:\n%s", title, code, env.stdout.String())
		}
	}
	register("Provision database", `{"identifier":"infrastructure","title":"Infrastructure"}`, "10", "3")
	register("Rotate keys", "security", "4", "1")

	c := o.client(t)
	play := func(action string, approval, work time.Duration, status string) {
		t.Helper()
		if approval > 0 {
			def, err := c.GetAction(t.Context(), action)
			if err != nil {
				t.Fatal(err)
			}
			def["requiredApproval"] = true
			if _, err := c.UpdateAction(t.Context(), action, def); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(time.Hour)
		run, err := o.emu.CreateRun(action, map[string]any{}, portemu.DemoUser)
		if err != nil {
			t.Fatal(err)
		}
		if approval > 0 {
			clock.Advance(approval)
			if _, err := o.emu.ApproveRun(run.ID, true); err != nil {
				t.Fatal(err)
			}
		}
		clock.Advance(work)
		if _, err := o.emu.FinishRun(run.ID, status); err != nil {
			t.Fatal(err)
		}
	}
	// Provision database (lead time before 10 h, cycle time before 3 h):
	play("provision_database", 0, 30*time.Minute, port.RunSuccess)             // saves 9.5 h lead, 2.5 h cycle
	play("provision_database", 2*time.Hour, time.Hour, port.RunSuccess)        // 3 h in all: 7 h lead, 2 h cycle, 2 h waiting
	play("provision_database", 10*time.Minute, 5*time.Minute, port.RunFailure) // a failure saves nothing
	// Rotate keys (4 h, 1 h):
	play("rotate_keys", 0, 15*time.Minute, port.RunSuccess) // 3.75 h lead, 0.75 h cycle

	page, ok := o.emu.Page(roimodel.DashboardID)
	if !ok {
		t.Fatal("no dashboard")
	}
	charts := roimodel.NumberCharts(page)
	got := map[string]float64{}
	for _, ch := range charts {
		if ch.Func != "sum" || ch.Unit != "hours" || ch.Blueprint != roimodel.ActionBlueprint {
			t.Errorf("chart %q sums %s %s.%s in %s", ch.Title, ch.Func, ch.Blueprint, ch.Property, ch.Unit)
		}
		for _, e := range o.emu.Entities(ch.Blueprint) {
			if v, ok := e.Properties[ch.Property].(float64); ok {
				got[ch.Title] += v
			}
		}
	}
	want := map[string]float64{
		"Total hours saved":               9.5 + 7 + 3.75,
		"Total processing time saved":     2.5 + 2 + 0.75,
		"Total time waiting for approval": 2,
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("dashboard numbers (-want +got):\n%s", diff)
	}
}

func TestBootstrapDryRun(t *testing.T) {
	t.Parallel()
	o := emptyOrg(t)
	env := newBootstrapEnv(t, o.url)
	env.vars["INPUT_DRY-RUN"] = "true"
	if code := env.run(t); code != ExitOK {
		t.Fatalf("exit code %d:\n%s", code, env.stdout.String())
	}
	for _, r := range o.emu.Requests() {
		if r.Method != http.MethodGet && r.Path != "/v1/auth/access_token" {
			t.Errorf("dry run sent %s %s", r.Method, r.Path)
		}
	}
	out := env.stdout.String()
	for _, want := range []string{
		`➕ Blueprint "action" would be created with 4 properties, 1 relation, 9 calculation properties, 15 aggregation properties`,
		`➕ Dashboard "actions_roi" would be created with the widgets`,
		"🏁 Dry run, nothing was written: 8 would be created",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if got := pick(env.outputs(t), "created", "updated"); got["created"] != "" || got["updated"] != "" {
		t.Errorf("dry run outputs = %v", got)
	}
	if s := readFile(t, env.summary); !strings.Contains(s, "(dry run: nothing was written)") || !strings.Contains(s, "| would be created |") {
		t.Errorf("summary:\n%s", s)
	}
}

func TestBootstrapWithoutAIAgents(t *testing.T) {
	t.Parallel()
	o := emptyOrg(t, portemu.WithoutAIAgents())
	env := newBootstrapEnv(t, o.url)
	if code := env.run(t); code != ExitOK {
		t.Fatalf("exit code %d:\n%s", code, env.stdout.String())
	}
	if !strings.Contains(env.stdout.String(), "::notice::this Port organisation has no AI agents: the agent actions_assistant and the dashboard's AI agent widget were left out") {
		t.Errorf("no notice:\n%s", env.stdout.String())
	}
	if got := env.outputs(t)["created"]; strings.Contains(got, roimodel.AgentID) {
		t.Errorf("created = %q", got)
	}
	page, _ := o.emu.Page(roimodel.DashboardID)
	root := page["widgets"].([]any)[0].(map[string]any)
	for _, w := range root["widgets"].([]any) {
		if w.(map[string]any)["type"] == "ai-agent" {
			t.Errorf("agent widget on the page: %v", w)
		}
	}
	if n := len(roimodel.NumberCharts(page)); n != 3 {
		t.Errorf("%d number charts", n)
	}
}

// Bad input is reported all at once, with exit code 2, and nothing reaches Port.
func TestBootstrapInputErrors(t *testing.T) {
	t.Parallel()
	o := emptyOrg(t)
	env := newBootstrapEnv(t, o.url)
	env.vars["INPUT_GITHUB-ORG"] = "acme/platform"
	env.vars["INPUT_GITHUB-REPO"] = ".."
	env.vars["INPUT_WORKFLOW"] = ".github/workflows/create-port-automation.yml"
	env.vars["INPUT_CATEGORIES"] = "Infrastructure, 🚀, infrastructure, Security\nCost::set-output name=x::y\x07"
	env.vars["INPUT_DRY-RUN"] = "maybe"
	if code := env.run(t); code != ExitInput {
		t.Fatalf("exit code %d, want %d:\n%s", code, ExitInput, env.stdout.String())
	}
	if reqs := o.emu.Requests(); len(reqs) > 0 {
		t.Errorf("bad input reached Port: %+v", reqs)
	}
	want := []string{ // in action.yml's order of the inputs
		`::error::input "dry-run" = "maybe": expected true or false`,
		`::error::input "github-org" = "acme/platform": the organisation only, without the repository: give the repository in github-repo`,
		`::error::input "github-repo" = "..": not a GitHub repository name: letters, digits, '.', '-' and '_' (at most 100 characters)`,
		`::error::input "workflow" = ".github/workflows/create-port-automation.yml": the file name only, as Port expects it (the file lives in .github/workflows), e.g. create-port-automation.yml`,
		`::error::input "categories" = "🚀": this category gives no identifier: it has no letter or digit to build an identifier from`,
		`::error::input "categories" = "infrastructure": the categories "Infrastructure" and "infrastructure" both give the identifier "infrastructure"; list each category once`,
		`::error::input "categories" = "Cost::set-output name=x::y\a": a category title is text without tabs or control characters`,
	}
	var errs []string
	for _, l := range strings.Split(env.stdout.String(), "\n") {
		if strings.HasPrefix(l, "::error::") {
			errs = append(errs, l)
		}
		if strings.HasPrefix(l, "::set-output") {
			t.Errorf("untrusted text became a workflow command: %q", l)
		}
	}
	if diff := cmp.Diff(want, errs); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
}

func TestBootstrapFromTerminal(t *testing.T) {
	t.Parallel()
	o := emptyOrg(t)
	vars := map[string]string{"PORT_CLIENT_ID": portemu.DemoClientID, "PORT_CLIENT_SECRET": portemu.DemoClientSecret}
	run := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := Run(context.Background(), append([]string{"bootstrap", "--port-base-url", o.url}, args...),
			Env{Getenv: func(k string) string { return vars[k] }, Stdout: &out, Stderr: &out})
		return code, out.String()
	}
	if code, out := run("--help"); code != ExitOK || !strings.Contains(out, "Usage:\n  port-roi-action bootstrap [flags]") ||
		!strings.Contains(out, "-github-org") || !strings.Contains(out, "-categories") {
		t.Errorf("--help: exit code %d:\n%s", code, out)
	}
	// Outside GitHub Actions there is no GITHUB_REPOSITORY to take the repository from.
	code, out := run()
	if code != ExitInput {
		t.Fatalf("exit code %d, want %d:\n%s", code, ExitInput, out)
	}
	for _, want := range []string{
		`error: input "github-org" is empty: the GitHub organisation (or user) that owns the repository of the workflow is required outside GitHub Actions, e.g. --github-org acme`,
		`error: input "github-repo" is empty: the GitHub repository that holds the workflow is required outside GitHub Actions, e.g. --github-repo platform`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if reqs := o.emu.Requests(); len(reqs) > 0 {
		t.Errorf("bad input reached Port: %d requests", len(reqs))
	}

	code, out = run("--github-org", "acme", "--github-repo", "platform", "--workflow", "port.yaml", "--dry-run")
	if code != ExitOK || !strings.Contains(out, "would be created, dispatching port.yaml in acme/platform") {
		t.Errorf("dry run: exit code %d:\n%s", code, out)
	}
	if strings.Contains(out, "::") {
		t.Errorf("workflow commands outside GitHub Actions:\n%s", out)
	}
	if code, out = run("--github-org", "acme", "--github-repo", "platform"); code != ExitOK {
		t.Fatalf("exit code %d:\n%s", code, out)
	}
	if _, ok := o.emu.Page(roimodel.DashboardID); !ok {
		t.Error("no dashboard")
	}
}

// bootstrapContractRequests runs bootstrap through its paths (empty organisation, again, dry run, partial
// states, no AI agents, an existing dashboard and setup action to merge into) and returns every request sent.
func bootstrapContractRequests(t *testing.T) []portemu.Request {
	t.Helper()
	var reqs []portemu.Request
	runIn := func(o *org, mutate func(env *actionsEnv)) {
		t.Helper()
		env := newBootstrapEnv(t, o.url)
		if mutate != nil {
			mutate(env)
		}
		o.emu.ResetRequests()
		if code := env.run(t); code != ExitOK {
			t.Fatalf("exit %d:\n%s", code, env.stdout.String())
		}
		reqs = append(reqs, o.emu.Requests()...)
	}
	dry := func(env *actionsEnv) { env.vars["INPUT_DRY-RUN"] = "true" }

	o := emptyOrg(t)
	runIn(o, dry)
	runIn(o, nil)
	runIn(o, nil)

	partial := roimodel.Blueprints()
	delete(partial[1], "aggregationProperties")
	delete(partial[2]["relations"].(map[string]any), "parent_action")
	for _, k := range []string{"category", "lead_time_before", "cycle_time_before", "action"} {
		delete(partial[2]["mirrorProperties"].(map[string]any), k)
	}
	o = emptyOrg(t, portemu.WithBlueprints(partial...), portemu.WithoutAIAgents())
	runIn(o, dry)
	runIn(o, nil)

	o = emptyOrg(t, portemu.WithBlueprints(roimodel.Blueprints()...))
	c := o.client(t)
	if err := c.CreatePage(t.Context(), roimodel.Dashboard(false)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAction(t.Context(), roimodel.SetupAction()); err != nil {
		t.Fatal(err)
	}
	runIn(o, dry)
	runIn(o, nil)
	return reqs
}
