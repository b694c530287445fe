package cli

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/register"
	"github.com/port-roi/port-roi-action/internal/report"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// reportOrg is an emulated organisation with a week of runs of two registered actions, played with a fake
// clock: "Create S3 bucket" (48 h and 2 h before self-service) and an action with a hostile title and an
// approval step (24 h, no cycle-time baseline).
type reportOrg struct {
	emu   *portemu.Server
	url   string
	clock *fakeClock
}

const hostileTitle = "Deploy `prod` | <b>now</b> [x](https://evil.example) ::warning::pwned"

func newReportOrg(t *testing.T) *reportOrg {
	t.Helper()
	clock := &fakeClock{now: mustTime(t, "2026-03-02T08:00:00Z")}
	emu := portemu.New(portemu.WithClock(clock.Now), portemu.WithBlueprints(roimodel.Blueprints()...))
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	o := &reportOrg{emu: emu, url: srv.URL, clock: clock}
	c, err := port.New(srv.URL, port.Credentials{ClientID: portemu.DemoClientID, ClientSecret: portemu.DemoClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := c.UpsertEntity(ctx, roimodel.CategoriesBlueprint, port.Entity{Identifier: "infrastructure", Title: "Infrastructure"}, port.UpsertOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []struct {
		id, title string
		props     map[string]any
		approval  bool
	}{
		{"create_s3_bucket", "Create S3 bucket", map[string]any{"lead_time_before": 48, "cycle_time": 2}, false},
		{"deploy_prod", hostileTitle, map[string]any{"lead_time_before": 24}, true},
	} {
		def := register.PlaceholderAction(a.id, a.title)
		if a.approval {
			def["requiredApproval"] = true
		}
		for _, d := range []port.Object{def, register.Automation(a.id, "https://app.port.io")} {
			if _, err := c.CreateAction(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.UpsertEntity(ctx, roimodel.ActionBlueprint, port.Entity{Identifier: a.id, Title: a.title, Properties: a.props,
			Relations: map[string]any{"category": "infrastructure"}}, port.UpsertOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// Day 1 to 5: a 10-minute S3 run each day (the third one fails), and a deployment approved after 2 h that
	// runs 30 minutes on days 2 and 4.
	for day := range 5 {
		clock.Advance(24 * time.Hour)
		o.play(t, "create_s3_bucket", 0, 10*time.Minute, map[bool]string{true: port.RunFailure, false: port.RunSuccess}[day == 2])
		if day%2 == 1 {
			o.play(t, "deploy_prod", 2*time.Hour, 30*time.Minute, port.RunSuccess)
		}
	}
	emu.ResetRequests()
	return o
}

func (o *reportOrg) play(t *testing.T, id string, wait, work time.Duration, status string) {
	t.Helper()
	r, err := o.emu.CreateRun(id, map[string]any{}, portemu.DemoUser)
	if err != nil {
		t.Fatal(err)
	}
	if wait > 0 {
		o.clock.Advance(wait)
		if _, err := o.emu.ApproveRun(r.ID, true); err != nil {
			t.Fatal(err)
		}
	}
	o.clock.Advance(work)
	if _, err := o.emu.FinishRun(r.ID, status); err != nil {
		t.Fatal(err)
	}
}

// reportEnv is the environment of a scheduled workflow step running the action with command: report.
func reportEnv(t *testing.T, o *reportOrg) *actionsEnv {
	t.Helper()
	e := newActionsEnv(t, o.url, nil)
	e.vars["INPUT_COMMAND"] = "report"
	e.vars["GITHUB_EVENT_NAME"] = "schedule"
	e.vars["RUNNER_TEMP"] = t.TempDir()
	return e
}

func (e *actionsEnv) runAt(t *testing.T, now func() time.Time, args ...string) int {
	t.Helper()
	e.stdout.Reset()
	return Run(t.Context(), args, Env{Getenv: func(k string) string { return e.vars[k] }, Stdout: &e.stdout, Stderr: &e.stdout, Now: now})
}

// The week's numbers, by hand. S3 (48 h, 2 h): 4 successful runs of 600 s save 4·(172800−600)/3600 =
// 191.33… h of lead time and 4·(7200−600)/3600 = 7.33… h of cycle time. Deploy (24 h): 2 runs of
// 2 h 30 min (the wait counts in the duration, as in the guide) save 2·(86400−9000)/3600 = 43 h; their
// approval waits are 2·7200 s = 4 h.
const (
	weekLeadHours  = 4*(172800-600)/3600.0 + 2*(86400-9000)/3600.0
	weekCycleHours = 4 * (7200 - 600) / 3600.0
)

func TestReportEndToEnd(t *testing.T) {
	t.Parallel()
	o := newReportOrg(t)
	env := reportEnv(t, o)
	env.vars["INPUT_SINCE"] = "7d"

	if code := env.runAt(t, o.clock.Now); code != ExitOK {
		t.Fatalf("exit code %d, want 0; output:\n%s", code, env.stdout.String())
	}

	outputs := env.outputs(t)
	path := outputs["report-path"]
	if filepath.Dir(path) != env.vars["RUNNER_TEMP"] {
		t.Errorf("report-path %q is not under RUNNER_TEMP %q", path, env.vars["RUNNER_TEMP"])
	}
	delete(outputs, "report-path")
	want := map[string]string{
		"total-hours-saved":            "234.33",
		"total-processing-hours-saved": "7.33",
		"total-approval-wait-hours":    "4.00",
		"runs":                         "7",
		"successful-runs":              "6",
		"failed-runs":                  "1",
	}
	if diff := cmp.Diff(want, outputs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}

	// The JSON report has the exact numbers.
	var rep report.Report
	if err := json.Unmarshal([]byte(readFile(t, path)), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Totals.LeadTime.Hours != weekLeadHours || rep.Totals.CycleTime.Hours != weekCycleHours || rep.Totals.ApprovalWait.Hours != 4 {
		t.Errorf("JSON totals: lead %v, cycle %v, wait %v; want %v, %v, 4", rep.Totals.LeadTime.Hours, rep.Totals.CycleTime.Hours,
			rep.Totals.ApprovalWait.Hours, weekLeadHours, weekCycleHours)
	}

	summary := readFile(t, env.summary)
	for _, want := range []string{
		"## Port actions ROI: last 7d\n",
		"| **234.33 h** | **7.33 h** | **4.00 h** | **7** | **85.71 %** |",
		"### By category\n",
		"| Infrastructure | 2 | 7 | 6 | 1 | 85.71 % | 234.33 | 7.33 | 4.00 |",
		"### By action\n",
		"| Create S3 bucket (`create_s3_bucket`) | Infrastructure | 5 | 4 | 1 | 0 | 80.00 % | 191.33 | 47.83 | 7.33 | 1.83 | – |",
		"| Deploy \\`prod\\` \\| \\<b\\>now\\</b\\> \\[x\\](https://evil.example) ::warning::pwned (`deploy_prod`) | Infrastructure | 2 | 2 | 0 | 0 | 100.00 % | 43.00 | 21.50 | no baseline | – | 4.00 · 2.00 · 2.00 |",
		"```mermaid\nxychart-beta\n",
		`x-axis ["2026-W09", "2026-W10"]`,
		"### Notes\n",
	} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, summary)
		}
	}

	log := env.stdout.String()
	if !strings.Contains(log, "last 7d: 234.33 h of lead time and 7.33 h of cycle time saved; 7 runs (6 succeeded, 1 failed); 4.00 h waiting for approval.") {
		t.Errorf("the log lacks the headline:\n%s", log)
	}
	for _, l := range strings.Split(log, "\n") {
		if workflowCommand.MatchString(l) && !ourCommands.MatchString(l) {
			t.Errorf("a workflow command reached the log: %q", l)
		}
	}

	// Every request was a search, with pages of 1000, narrowed to the window on Port's side.
	searches := 0
	for _, r := range o.emu.Requests() {
		if r.Path == "/v1/auth/access_token" {
			continue
		}
		searches++
		if !strings.HasSuffix(r.Path, "/entities/search") || !strings.Contains(string(r.Body), `"limit":1000`) {
			t.Errorf("unexpected request %s %s %s", r.Method, r.Path, r.Body)
		}
	}
	if searches != 3 {
		t.Errorf("%d searches, want 3 (categories, actions, runs)", searches)
	}
}

// --format inside Actions prints the report to the log, every line sanitised.
func TestReportFormatInActions(t *testing.T) {
	t.Parallel()
	o := newReportOrg(t)
	env := reportEnv(t, o)
	env.vars["INPUT_FORMAT"] = "text"
	if code := env.runAt(t, o.clock.Now); code != ExitOK {
		t.Fatalf("exit code %d:\n%s", code, env.stdout.String())
	}
	log := env.stdout.String()
	for _, want := range []string{"Port actions ROI: all time", "By action", "2026-W10"} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %q:\n%s", want, log)
		}
	}
	for _, l := range strings.Split(log, "\n") {
		if workflowCommand.MatchString(l) && !ourCommands.MatchString(l) {
			t.Errorf("a workflow command reached the log: %q", l)
		}
	}
}

// From a terminal, stdout is the report alone: json pipes into jq; the file path goes to stderr.
func TestReportFromTerminal(t *testing.T) {
	t.Parallel()
	o := newReportOrg(t)
	vars := map[string]string{"PORT_CLIENT_ID": portemu.DemoClientID, "PORT_CLIENT_SECRET": portemu.DemoClientSecret}
	out := filepath.Join(t.TempDir(), "roi.json")
	var stdout, stderr bytes.Buffer
	code := Run(t.Context(), []string{"report", "--port-base-url", o.url, "--from", "2026-03-03", "--to", "2026-03-05", "--format", "json", "--output", out},
		Env{Getenv: func(k string) string { return vars[k] }, Stdout: &stdout, Stderr: &stderr, Now: o.clock.Now})
	if code != ExitOK {
		t.Fatalf("exit code %d:\n%s\n%s", code, stdout.String(), stderr.String())
	}
	var rep report.Report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout.String())
	}
	// 2026-03-03 to 2026-03-05, whole days: the S3 runs of days 1 to 3 (one failed) and the deployment of day 2.
	if rep.Totals.Runs != 4 || rep.Totals.Failed != 1 || rep.Window.String() != "2026-03-03 → 2026-03-05" {
		t.Errorf("runs %d, failed %d, window %s", rep.Totals.Runs, rep.Totals.Failed, rep.Window)
	}
	if got := readFile(t, out); got != stdout.String() {
		t.Errorf("--output holds another report than stdout")
	}
	if stderr.String() != "JSON report: "+out+"\n" {
		t.Errorf("stderr = %q", stderr.String())
	}

	stdout.Reset()
	stderr.Reset()
	code = Run(t.Context(), []string{"report", "--port-base-url", o.url, "--output", out},
		Env{Getenv: func(k string) string { return vars[k] }, Stdout: &stdout, Stderr: &stderr, Now: o.clock.Now})
	if code != ExitOK || !strings.HasPrefix(stdout.String(), "Port actions ROI: all time") {
		t.Errorf("text report: exit %d:\n%s", code, stdout.String())
	}
	for _, l := range strings.Split(stdout.String(), "\n") {
		if workflowCommand.MatchString(l) {
			t.Errorf("a title starts a line as a workflow command: %q", l)
		}
	}
}

// Bad input is reported all at once, with exit code 2, and nothing reaches Port.
func TestReportInputErrors(t *testing.T) {
	t.Parallel()
	o := newReportOrg(t)
	tests := []struct {
		name string
		vars map[string]string
		want []string
	}{
		{"since in words", map[string]string{"INPUT_SINCE": "30 days"},
			[]string{`::error::input "since" = "30 days": expected a whole number followed by h (hours), d (days) or w (weeks), e.g. 24h, 30d or 12w`}},
		{"from after to, bad format", map[string]string{"INPUT_FROM": "2026-03-10", "INPUT_TO": "2026-03-01", "INPUT_FORMAT": "html"},
			[]string{
				`::error::input "from" = "2026-03-10": is not before to ("2026-03-01"); the window would be empty`,
				`::error::input "format" = "html": expected markdown, json or text`,
			}},
		{"since with from, output a directory, no secret", map[string]string{"INPUT_SINCE": "7d", "INPUT_FROM": "2026-03-01",
			"INPUT_OUTPUT": os.TempDir(), "INPUT_PORT-CLIENT-SECRET": ""},
			[]string{
				`::error::input "port-client-secret": is required: pass secrets.PORT_CLIENT_SECRET, or set the PORT_CLIENT_SECRET environment variable`,
				`::error::input "since" = "7d": cannot be combined with from or to: give either since, or from and/or to`,
				`::error::input "output" = "` + os.TempDir() + `": is a directory; expected a file path for the JSON report`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := reportEnv(t, o)
			for k, v := range tt.vars {
				env.vars[k] = v
			}
			if code := env.runAt(t, o.clock.Now); code != ExitInput {
				t.Fatalf("exit code %d, want %d:\n%s", code, ExitInput, env.stdout.String())
			}
			var errs []string
			for _, l := range strings.Split(env.stdout.String(), "\n") {
				if strings.HasPrefix(l, "::error::") {
					errs = append(errs, l)
				}
			}
			if diff := cmp.Diff(tt.want, errs); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
			if out := readFile(t, env.output); out != "" {
				t.Errorf("outputs written on bad input: %q", out)
			}
			if s := readFile(t, env.summary); s != "" {
				t.Errorf("job summary written on bad input: %q", s)
			}
		})
	}
	if reqs := o.emu.Requests(); len(reqs) > 0 {
		t.Errorf("bad input reached Port: %+v", reqs)
	}
}

// Every hostile value in every input of report ends in a report (exit 0) or in input errors naming the input
// (exit 2, nothing sent), never in another failure or a workflow command in the log.
func TestReportHostileInputs(t *testing.T) {
	t.Parallel()
	o := newReportOrg(t)
	for _, name := range []string{"since", "from", "to", "format"} {
		for _, value := range hostileValues {
			env := reportEnv(t, o)
			env.vars["INPUT_"+strings.ToUpper(name)] = value
			o.emu.ResetRequests()
			code := env.runAt(t, o.clock.Now)
			switch code {
			case ExitOK:
			case ExitInput:
				if !strings.Contains(env.stdout.String(), `::error::input "`+name+`"`) {
					t.Errorf("%s=%q: exit 2 without an error naming the input:\n%s", name, value, env.stdout.String())
				}
				if len(o.emu.Requests()) > 0 {
					t.Errorf("%s=%q: bad input reached Port", name, value)
				}
			default:
				t.Errorf("%s=%q: exit %d:\n%s", name, value, code, env.stdout.String())
			}
			for _, l := range strings.Split(env.stdout.String(), "\n") {
				if workflowCommand.MatchString(l) && !ourCommands.MatchString(l) {
					t.Errorf("%s=%q: a workflow command reached the log: %q", name, value, l)
				}
			}
		}
	}
}

// Without the guide's blueprints Port answers 404; the report fails with exit 1 and says what to create.
func TestReportWithoutDataModel(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(portemu.New())
	t.Cleanup(srv.Close)
	env := newActionsEnv(t, srv.URL, nil)
	env.vars["INPUT_COMMAND"] = "report"
	if code := env.run(t); code != ExitFailure {
		t.Fatalf("exit code %d, want %d:\n%s", code, ExitFailure, env.stdout.String())
	}
	for _, want := range []string{
		`::error::read the actions_categories entities (page 1): POST /v1/blueprints/actions_categories/entities/search: 404 Not Found`,
		"Hint: the report reads the blueprints actions_categories, action and action_run",
	} {
		if !strings.Contains(env.stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, env.stdout.String())
		}
	}
	if out := readFile(t, env.output); out != "" {
		t.Errorf("outputs written after a failure: %q", out)
	}
}

// reportContractRequests runs report for all time and for windows of each kind (since, from alone, to alone)
// and returns the requests it sent, for TestRequestsMatchPortOpenAPI.
func reportContractRequests(t *testing.T) []portemu.Request {
	t.Helper()
	o := newReportOrg(t)
	env := reportEnv(t, o)
	var reqs []portemu.Request
	for _, w := range []map[string]string{{}, {"INPUT_SINCE": "7d"}, {"INPUT_FROM": "2026-03-03"}, {"INPUT_TO": "2026-03-05"}} {
		for _, k := range []string{"INPUT_SINCE", "INPUT_FROM", "INPUT_TO"} {
			env.vars[k] = w[k]
		}
		if code := env.runAt(t, o.clock.Now); code != ExitOK {
			t.Fatalf("%v: exit %d:\n%s", w, code, env.stdout.String())
		}
		reqs = append(reqs, o.emu.Requests()...)
		o.emu.ResetRequests()
	}
	return reqs
}

// Inside the action's container the report goes to the workspace, the working directory, under a relative
// path that the next steps resolve to the same file; a RUNNER_TEMP that is not mounted there is not used.
func TestReportPathInTheActionContainer(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir) // the container's working directory is the workspace
	o := newReportOrg(t)
	env := reportEnv(t, o)
	env.vars["GITHUB_WORKSPACE"] = containerWorkspace
	env.vars["RUNNER_TEMP"] = "/home/runner/work/_temp" // the host's path, passed as is
	if code := env.runAt(t, o.clock.Now); code != ExitOK {
		t.Fatalf("exit code %d:\n%s", code, env.stdout.String())
	}
	path := env.outputs(t)["report-path"]
	if filepath.IsAbs(path) || filepath.Dir(path) != "." {
		t.Errorf("report-path %q, want a file name relative to the workspace", path)
	}
	if _, err := os.Stat(filepath.Join(dir, path)); err != nil {
		t.Errorf("the report is not in the workspace: %v", err)
	}
}
