package cli

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/port-roi/port-roi-action/internal/ghaction"
	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/register"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// The registration every fault test runs: the identifiers it derives and the lines a clean first run logs.
const (
	faultTitle      = "Create S3 Bucket"
	faultActionID   = "create_s3_bucket"
	faultAutomation = "automation_for_runs_of_create_s3_bucket"
	faultCategory   = "infrastructure"

	pathToken      = "/v1/auth/access_token"
	pathActions    = "/v1/actions"
	pathAutomation = "/v1/actions/" + faultAutomation
	pathEntity     = "/v1/blueprints/action/entities/" + faultActionID
	pathCategory   = "/v1/blueprints/actions_categories/entities/" + faultCategory
	pathEntities   = "/v1/blueprints/action/entities"
	pathRunLogs    = "/v1/actions/runs/*"

	lineActionStep     = `▶ Self-service action "create_s3_bucket"`
	lineAutomationStep = `▶ Automation "automation_for_runs_of_create_s3_bucket"`
	lineEntityStep     = `▶ Entity "create_s3_bucket" of blueprint action`
	lineActionCreated  = `📦 Created self-service action "create_s3_bucket" (a placeholder: replace its backend with your own)`
	lineActionExists   = `✅ Self-service action "create_s3_bucket" already exists; left as is`
	lineAutoCreated    = `🚀 Created automation "automation_for_runs_of_create_s3_bucket": every run of "create_s3_bucket" is now recorded as an action_run entity`
	lineAutoUpToDate   = `✅ Automation "automation_for_runs_of_create_s3_bucket" is up to date`
	lineAutoUpdated    = `🔄 Updated automation "automation_for_runs_of_create_s3_bucket"; it differed in invocationMethod.blueprintIdentifier (missing), invocationMethod.mapping (missing), invocationMethod.type`
	lineAutoSkipped    = `⏭️ Skipped: the automation needs the self-service action`
	lineEntityCreated  = `📦 Created entity "create_s3_bucket" with its category and baselines`
	lineEntityUpToDate = `✅ Entity "create_s3_bucket" is up to date`
	lineAllCreated     = `🏁 Registered "create_s3_bucket": action created, automation created, entity created`
	lineAllUpdated     = `🏁 Registered "create_s3_bucket": action unchanged, automation updated, entity unchanged`

	hintCredentials = "Hint: Port refused the credentials: check port-client-id and port-client-secret, and that port-region (eu or us) is your organisation's region."
	hintDeadline    = "Hint: Port did not answer in time (see the timeout and request-timeout inputs); it may be slow or unreachable. Run again: every step is safe to repeat."
	hintNetwork     = "Hint: Port could not be reached: check port-region or port-base-url and the runner's network. Every step is safe to repeat."
)

// faultOrg is an emulated organisation (as newOrg builds it) behind a handler that stamps the arrival time of
// every request, so that tests can check how long the client waited between attempts.
type faultOrg struct {
	*org
	mu       sync.Mutex
	arrivals []arrival
}

type arrival struct {
	method, path string
	at           time.Time
}

func newFaultOrg(t *testing.T, opts ...portemu.Option) *faultOrg {
	t.Helper()
	emu := portemu.New(append([]portemu.Option{portemu.WithBlueprints(roimodel.Blueprints()...)}, opts...)...)
	o := &faultOrg{org: &org{emu: emu}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.arrivals = append(o.arrivals, arrival{r.Method, r.URL.EscapedPath(), time.Now()})
		o.mu.Unlock()
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	o.url = srv.URL
	c := o.client(t)
	if _, err := c.UpsertEntity(t.Context(), roimodel.CategoriesBlueprint,
		port.Entity{Identifier: faultCategory, Title: "Infrastructure"}, port.UpsertOptions{Merge: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateAction(t.Context(), roimodel.SetupAction()); err != nil {
		t.Fatal(err)
	}
	emu.ResetRequests()
	o.mu.Lock()
	o.arrivals = nil
	o.mu.Unlock()
	return o
}

// arrivalsOf returns the arrival times of the requests to method and path, in order.
func (o *faultOrg) arrivalsOf(method, path string) []time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []time.Time
	for _, a := range o.arrivals {
		if a.method == method && a.path == path {
			out = append(out, a.at)
		}
	}
	return out
}

// outcome is what one register run left behind.
type outcome struct {
	code   int
	stdout string
	runLog []string // the Port run log, one entry per line
	runID  string

	outputs    map[string]string // the step outputs
	outputsErr error
}

// fastRetries keeps the client's backoff short; Retry-After and x-ratelimit-reset waits are capped at 2s.
func fastRetries() port.Option { return port.WithRetries(3, time.Millisecond, 2*time.Second) }

// noKeepAlive makes every attempt open its own connection. Go's transport repeats an idempotent request
// whose reused connection was closed before the answer, which would make a dropped GET use up a fault twice.
func noKeepAlive() port.Option {
	hc := loopbackOnly()
	tr := hc.Transport.(*http.Transport).Clone()
	tr.DisableKeepAlives = true
	hc.Transport = tr
	return port.WithHTTPClient(hc)
}

// env is the environment of the docker action dispatched by Port run runID, registering faultTitle, after
// tweak has adjusted it.
func (o *faultOrg) env(t *testing.T, runID string, tweak func(vars map[string]string)) *actionsEnv {
	t.Helper()
	env := newActionsEnv(t, o.url, map[string]any{
		"actionTitle":      faultTitle,
		"category":         faultCategory,
		"lead_time_before": "48",
		"cycle_time":       "2",
		"port_context":     `{"runId":"` + runID + `"}`,
	})
	if tweak != nil {
		tweak(env.vars)
	}
	return env
}

// run runs the real command in env; it may run on any goroutine. Without opts the Port client retries three
// times with short waits (server-requested waits up to 2s) and opens a connection per attempt.
func (o *faultOrg) run(ctx context.Context, env *actionsEnv, runID string, opts ...port.Option) outcome {
	if opts == nil {
		opts = []port.Option{fastRetries(), noKeepAlive()}
	}
	code := Run(ctx, nil, Env{Getenv: func(k string) string { return env.vars[k] }, Stdout: &env.stdout,
		Stderr: &env.stdout, PortOptions: opts})
	out := outcome{code: code, stdout: env.stdout.String(), runID: runID}
	if b, err := os.ReadFile(env.output); err != nil {
		out.outputsErr = err
	} else {
		out.outputs, out.outputsErr = ghaction.ParseOutputs(b)
	}
	for _, l := range o.emu.RunLogs(runID) {
		out.runLog = append(out.runLog, strings.Split(l.Message, "\n")...)
	}
	return out
}

// register runs the command for Port run runID.
func (o *faultOrg) register(t *testing.T, runID string, tweak func(vars map[string]string), opts ...port.Option) outcome {
	t.Helper()
	return o.run(t.Context(), o.env(t, runID, tweak), runID, opts...)
}

var traceIDs = regexp.MustCompile(`\(trace id [^)]*\)`)

// annotations lists the GitHub log lines a user acts on: errors, warnings, notices and hints, with Port's
// trace ids replaced by "(trace id …)".
func (out outcome) annotations() []string {
	var got []string
	for _, l := range strings.Split(out.stdout, "\n") {
		if strings.HasPrefix(l, "::error::") || strings.HasPrefix(l, "::warning::") || strings.HasPrefix(l, "::notice::") || strings.HasPrefix(l, "Hint: ") {
			got = append(got, out.normalize(l))
		}
	}
	return got
}

// normalize replaces what changes from run to run: Port's trace ids and the run id.
func (out outcome) normalize(l string) string {
	l = traceIDs.ReplaceAllString(l, "(trace id …)")
	if out.runID != "" {
		l = strings.ReplaceAll(l, out.runID, "RUN")
	}
	return l
}

// sortedLog is the Port run log without trace ids, sorted: the automation and the entity steps run side by
// side, so their lines arrive in either order.
func (out outcome) sortedLog() []string {
	if len(out.runLog) == 0 {
		return nil
	}
	got := make([]string, len(out.runLog))
	for i, l := range out.runLog {
		got[i] = out.normalize(l)
	}
	slices.Sort(got)
	return got
}

func (out outcome) lastLine() string {
	if len(out.runLog) == 0 {
		return ""
	}
	return out.normalize(out.runLog[len(out.runLog)-1])
}

// wantState is which of the three objects a run must leave in Port; each one present must be whole. drifted
// says the automation must still be the hand-edited one of driftAutomation (a repair that failed changed
// nothing).
type wantState struct{ action, automation, entity, drifted bool }

var whole = wantState{action: true, automation: true, entity: true}

// checkState compares the organisation with want: exactly the expected actions and automations (no
// duplicate, nothing half-written), each present one equal to its intended definition.
func checkState(t *testing.T, emu *portemu.Server, want wantState) {
	t.Helper()
	wantIDs := []string{"setup_new_action"}
	if want.action {
		wantIDs = append(wantIDs, faultActionID)
	}
	if want.automation {
		wantIDs = append(wantIDs, faultAutomation)
	}
	slices.Sort(wantIDs)
	var gotIDs []string
	for _, a := range emu.Actions() {
		id, _ := a["identifier"].(string)
		gotIDs = append(gotIDs, id)
	}
	if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
		t.Errorf("actions and automations in Port (-want +got):\n%s", diff)
	}
	if a, ok := emu.Action(faultActionID); ok {
		if drift := register.Drift(register.PlaceholderAction(faultActionID, faultTitle), a); len(drift) > 0 {
			t.Errorf("self-service action differs from the placeholder in %v", drift)
		}
	}
	if a, ok := emu.Action(faultAutomation); ok {
		var wantDrift []string
		if want.drifted {
			wantDrift = []string{"invocationMethod.blueprintIdentifier (missing)", "invocationMethod.mapping (missing)", "invocationMethod.type"}
		}
		if diff := cmp.Diff(wantDrift, register.Drift(register.Automation(faultActionID, "https://app.port.io"), a)); diff != "" {
			t.Errorf("automation's drift from its definition (-want +got):\n%s", diff)
		}
	}
	e, ok := emu.Entity(roimodel.ActionBlueprint, faultActionID)
	if ok != want.entity {
		t.Errorf("action entity present = %v, want %v", ok, want.entity)
	}
	if ok {
		got := map[string]any{"title": e.Title, "lead_time_before": e.Properties["lead_time_before"],
			"cycle_time": e.Properties["cycle_time"], "category": e.Relations["category"]}
		wantEntity := map[string]any{"title": faultTitle, "lead_time_before": 48.0, "cycle_time": 2.0, "category": faultCategory}
		if diff := cmp.Diff(wantEntity, got); diff != "" {
			t.Errorf("action entity (-want +got):\n%s", diff)
		}
	}
}

// countRequests counts the requests to method and path (a "*" suffix matches a prefix).
func countRequests(reqs []portemu.Request, method, path string) int {
	n := 0
	for _, r := range reqs {
		prefix, isPrefix := strings.CutSuffix(path, "*")
		if r.Method == method && (r.Path == path || isPrefix && strings.HasPrefix(r.Path, prefix)) {
			n++
		}
	}
	return n
}

// faultCase is a registration with faults injected, and everything the run must end with.
type faultCase struct {
	name   string
	setup  func(t *testing.T, o *faultOrg) // runs before the dispatch and the faults
	faults []portemu.Fault
	tweak  func(vars map[string]string)
	opts   []port.Option // the Port client's options (default: fastRetries and noKeepAlive)

	wantCode        int
	wantState       wantState
	wantAnnotations []string          // GitHub ::error::, ::warning::, ::notice:: and Hint lines, in order; RUN is the run id
	wantLog         []string          // the Port run log, in any order; RUN is the run id
	wantLast        string            // the last Port run-log line; "" when the log must stay empty
	atLeastOnce     bool              // wantLog may have lines twice (a batch whose answer was lost is sent again)
	wantCalls       map[string]int    // requests per "METHOD path" ("*" suffix: a prefix)
	wantOutputs     map[string]string // step outputs (only those named)
	check           func(t *testing.T, o *faultOrg, out outcome)
}

func (tc faultCase) run(t *testing.T) {
	t.Helper()
	o := newFaultOrg(t)
	if tc.setup != nil {
		tc.setup(t, o)
	}
	runID := o.dispatch(t)
	for _, f := range tc.faults {
		o.emu.InjectFault(f)
	}
	out := o.register(t, runID, tc.tweak, tc.opts...)
	tc.verify(t, o, out)
}

func (tc faultCase) verify(t *testing.T, o *faultOrg, out outcome) {
	t.Helper()
	if out.code != tc.wantCode {
		t.Errorf("exit code %d, want %d", out.code, tc.wantCode)
	}
	checkState(t, o.emu, tc.wantState)
	if diff := cmp.Diff(tc.wantAnnotations, out.annotations()); diff != "" {
		t.Errorf("GitHub annotations (-want +got):\n%s", diff)
	}
	wantLog, gotLog := slices.Clone(tc.wantLog), out.sortedLog()
	slices.Sort(wantLog)
	if tc.atLeastOnce {
		if len(gotLog) <= len(wantLog) {
			t.Errorf("Port run log has %d lines, want the %d lines and a batch again", len(gotLog), len(wantLog))
		}
		gotLog = slices.Compact(gotLog)
	}
	if diff := cmp.Diff(wantLog, gotLog); diff != "" {
		t.Errorf("Port run log, sorted (-want +got):\n%s", diff)
	}
	if got := out.lastLine(); got != tc.wantLast {
		t.Errorf("last Port run-log line:\n got %q\nwant %q", got, tc.wantLast)
	}
	reqs := o.emu.Requests()
	for call, want := range tc.wantCalls {
		method, path, _ := strings.Cut(call, " ")
		if got := countRequests(reqs, method, path); got != want {
			t.Errorf("%d requests %s, want %d", got, call, want)
		}
	}
	if out.outputsErr != nil {
		t.Errorf("outputs: %v", out.outputsErr)
	}
	for name, want := range tc.wantOutputs {
		if got := out.outputs[name]; got != want {
			t.Errorf("output %s = %q, want %q", name, got, want)
		}
	}
	if tc.check != nil {
		tc.check(t, o, out)
	}
	if t.Failed() {
		t.Logf("GitHub log:\n%s", out.stdout)
	}
}

// The Port run logs of runs that went through.
var (
	createdLog = stepLines(lineActionCreated, lineAutoCreated, lineEntityCreated, lineAllCreated)
	repairLog  = stepLines(lineActionExists, lineAutoUpdated, lineEntityUpToDate, lineAllUpdated)
)

// The outputs of the runs that went through.
var (
	createdOutputs  = map[string]string{"action-created": "true", "automation-created": "true", "automation-updated": "false"}
	repairedOutputs = map[string]string{"action-created": "false", "automation-created": "false", "automation-updated": "true"}
)

func stepLines(more ...string) []string {
	return append([]string{lineActionStep, lineAutomationStep, lineEntityStep}, more...)
}

func failedLine(err string) string { return `❌ Registering "create_s3_bucket" failed: ` + err }

// driftAutomation registers cleanly, then edits the automation by hand, so that the next run repairs it with
// PUT /v1/actions/{id}.
func driftAutomation(t *testing.T, o *faultOrg) {
	t.Helper()
	if out := o.register(t, o.dispatch(t), nil); out.code != ExitOK {
		t.Fatalf("first registration: exit code %d:\n%s", out.code, out.stdout)
	}
	auto, _ := o.emu.Action(faultAutomation)
	auto["invocationMethod"] = map[string]any{"type": "WEBHOOK", "url": "https://example.com/hook"}
	if _, err := o.client(t).UpdateAction(t.Context(), faultAutomation, auto); err != nil {
		t.Fatal(err)
	}
}

// faultKind is a way for a request to fail: an error Port's gateway answers when it is in trouble, or no
// answer at all.
type faultKind struct {
	name    string
	fault   portemu.Fault // Status or Drop
	times   int           // how often the transient fault strikes before the route works again
	problem string        // how the final error describes it, after "METHOD path: "
	hint    []string      // the hint after the errors of a failed run
}

var faultKinds = []faultKind{
	{"500", portemu.Fault{Status: http.StatusInternalServerError}, 1,
		"500 Internal Server Error: internal_error: injected fault: Internal Server Error (trace id …) (gave up after 4 attempts)", nil},
	{"502", portemu.Fault{Status: http.StatusBadGateway}, 2,
		"502 Bad Gateway: internal_error: injected fault: Bad Gateway (trace id …) (gave up after 4 attempts)", nil},
	{"503", portemu.Fault{Status: http.StatusServiceUnavailable}, 1,
		"503 Service Unavailable: internal_error: injected fault: Service Unavailable (trace id …) (gave up after 4 attempts)", nil},
	{"504", portemu.Fault{Status: http.StatusGatewayTimeout}, 2,
		"504 Gateway Timeout: internal_error: injected fault: Gateway Timeout (trace id …) (gave up after 4 attempts)", nil},
	{"dropped", portemu.Fault{Drop: true}, 2,
		"the connection was closed before Port answered (EOF) (gave up after 4 attempts)", []string{hintNetwork}},
}

// endpoint is one route that register calls, and how a run ends when that route fails for good.
type endpoint struct {
	name         string
	method, path string // the route, as a fault matches it
	setup        func(t *testing.T, o *faultOrg)
	before       []portemu.Fault // lets earlier requests to the same route through
	delay        time.Duration   // slows the failing answers down (see the token route)

	okLog   []string // the run log when the fault was transient
	okCalls int      // requests to the route in a clean run (0: not counted)

	failCode  int
	failState wantState
	// fail returns, for a final error "METHOD path: problem", the GitHub warnings and errors and the run log.
	fail func(cause string) (annotations, log []string)
}

// stepFailure is how a run ends when one step fails for good: its error is annotated and logged, and the
// last log line repeats it.
func stepFailure(err func(cause string) string, others ...string) func(cause string) ([]string, []string) {
	return func(cause string) ([]string, []string) {
		e := err(cause)
		return []string{"::error::" + e}, append(stepLines(append(others, "❌ "+e)...), failedLine(e))
	}
}

// stepErr is the error of a step: what it was doing, then the request's failure.
func stepErr(prefix string) func(string) string {
	return func(cause string) string { return prefix + cause }
}

var (
	createActionErr = stepErr(`create self-service action "create_s3_bucket": `)
	readCategoryErr = stepErr(`read category "infrastructure" of blueprint actions_categories: `)
)

// endpoints are the routes a registration calls.
func endpoints() []endpoint {
	return []endpoint{{
		// Without a token nothing works, the run log included. The callers waiting for the token share the
		// failure of its request: the slow answers make sure they all wait for it.
		name: "token", method: http.MethodPost, path: pathToken, delay: 50 * time.Millisecond,
		okLog: createdLog, okCalls: 1,
		failCode: ExitFailure, failState: wantState{},
		fail: func(cause string) ([]string, []string) {
			return []string{
				`::warning::could not write to the Port run log of run "RUN", continuing without it: ` + cause,
				"::error::" + createActionErr(cause),
				"::error::" + readCategoryErr(cause),
			}, nil
		},
	}, {
		name: "create action", method: http.MethodPost, path: pathActions,
		okLog: createdLog, okCalls: 2,
		failCode: ExitFailure, failState: wantState{entity: true},
		fail: stepFailure(createActionErr, lineAutoSkipped, lineEntityCreated),
	}, {
		name: "read automation", method: http.MethodGet, path: pathAutomation,
		okLog: createdLog, okCalls: 1,
		failCode: ExitFailure, failState: wantState{action: true, entity: true},
		fail: stepFailure(stepErr(`read automation "automation_for_runs_of_create_s3_bucket": `), lineActionCreated, lineEntityCreated),
	}, {
		name: "create automation", method: http.MethodPost, path: pathActions,
		before: []portemu.Fault{{Method: http.MethodPost, Path: pathActions, Times: 1}}, // the action's create
		okLog:  createdLog, okCalls: 2,
		failCode: ExitFailure, failState: wantState{action: true, entity: true},
		fail: stepFailure(stepErr(`create automation "automation_for_runs_of_create_s3_bucket": `), lineActionCreated, lineEntityCreated),
	}, {
		name: "repair automation", method: http.MethodPut, path: pathAutomation, setup: driftAutomation,
		okLog: repairLog, okCalls: 1,
		failCode: ExitFailure, failState: wantState{action: true, automation: true, entity: true, drifted: true},
		fail: stepFailure(stepErr(`update automation "automation_for_runs_of_create_s3_bucket": `), lineActionExists, lineEntityUpToDate),
	}, {
		name: "read entity", method: http.MethodGet, path: pathEntity,
		okLog: createdLog, okCalls: 1,
		failCode: ExitFailure, failState: wantState{action: true, automation: true},
		fail: stepFailure(stepErr(`read entity "create_s3_bucket" of blueprint action: `), lineActionCreated, lineAutoCreated),
	}, {
		name: "read category", method: http.MethodGet, path: pathCategory,
		okLog: createdLog, okCalls: 1,
		failCode: ExitFailure, failState: wantState{action: true, automation: true},
		fail: stepFailure(readCategoryErr, lineActionCreated, lineAutoCreated),
	}, {
		name: "upsert entity", method: http.MethodPost, path: pathEntities,
		okLog: createdLog, okCalls: 1,
		failCode: ExitFailure, failState: wantState{action: true, automation: true},
		fail: stepFailure(stepErr(`upsert entity "create_s3_bucket" of blueprint action: `), lineActionCreated, lineAutoCreated),
	}, {
		// The run log is a courtesy: without it the registration still succeeds, with one warning.
		name: "run log", method: http.MethodPost, path: pathRunLogs,
		okLog:    createdLog,
		failCode: ExitOK, failState: whole,
		fail: func(cause string) ([]string, []string) {
			return []string{`::warning::could not write to the Port run log of run "RUN", continuing without it: ` + cause}, nil
		},
	}}
}

// cause is how the final error names a failed request to e.
func (e endpoint) cause(problem string) string {
	path := e.path
	if e.path == pathRunLogs {
		path = "/v1/actions/runs/RUN/logs"
	}
	return e.method + " " + path + ": " + problem
}

// fault is k on the route, for times requests (0: for good). A fault that outlasts the retries of a request
// gets the route's delay.
func (e endpoint) fault(k faultKind, times int) portemu.Fault {
	f := k.fault
	f.Method, f.Path, f.Times = e.method, e.path, times
	if times == 0 || times > 3 {
		f.Delay = e.delay
	}
	return f
}

// transient is a case where the route fails k.times, then works: the run must not notice.
func (e endpoint) transient(k faultKind) faultCase {
	tc := faultCase{
		name: e.name + "/" + k.name + "/transient", setup: e.setup,
		faults:   append(slices.Clone(e.before), e.fault(k, k.times)),
		wantCode: ExitOK, wantState: whole,
		wantLog: e.okLog, wantLast: e.okLog[len(e.okLog)-1],
	}
	if e.okCalls > 0 {
		tc.wantCalls = map[string]int{e.method + " " + e.path: e.okCalls + k.times}
	}
	tc.wantOutputs = createdOutputs
	if e.setup != nil {
		tc.wantOutputs = repairedOutputs
	}
	return tc
}

// persistent is a case where the route never works: exactly one request and its 3 retries, a clear error,
// and nothing half-written.
func (e endpoint) persistent(k faultKind) faultCase {
	annotations, log := e.fail(e.cause(k.problem))
	if e.failCode != ExitOK {
		annotations = append(annotations, k.hint...)
	}
	tc := faultCase{
		name: e.name + "/" + k.name + "/persistent", setup: e.setup,
		faults:   append(slices.Clone(e.before), e.fault(k, 0)),
		wantCode: e.failCode, wantState: e.failState,
		wantAnnotations: annotations, wantLog: log,
		wantCalls: map[string]int{e.method + " " + e.path: len(e.before) + 4},
	}
	if len(log) > 0 {
		tc.wantLast = log[len(log)-1]
	}
	return tc
}

// Every route register calls fails with 500, 502, 503, 504 or a dropped connection, for a moment (the run
// succeeds as if nothing happened) or for good (exit 1, a clear error naming the step and the problem, every
// definition in Port either absent or whole, and the last run-log line saying what failed).
func TestRegisterSurvivesServerErrors(t *testing.T) {
	t.Parallel()
	var cases []faultCase
	for _, e := range endpoints() {
		for _, k := range faultKinds {
			cases = append(cases, e.transient(k), e.persistent(k))
		}
	}
	// With connections kept alive, Go's transport may itself repeat a GET whose reused connection was closed,
	// so that one attempt uses the fault up twice: the requests are not counted, the outcome is the same.
	for _, e := range endpoints() {
		if e.method == http.MethodGet {
			tc := e.transient(faultKinds[4])
			tc.name = e.name + "/dropped/transient with keep-alive"
			tc.opts, tc.wantCalls = []port.Option{fastRetries(), port.WithHTTPClient(loopbackOnly())}, nil
			cases = append(cases, tc)
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}

// A 429 is waited out as Port asks, with Retry-After (seconds or an HTTP date) or with x-ratelimit-remaining 0
// and x-ratelimit-reset (seconds, or a UTC epoch second as Port's docs say): exactly one retry, and not
// before the advertised time.
func TestRegisterWaitsOutRateLimits(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		method, path string
		// header is the 429's; at is a whole second 1 to 2 seconds from now, for the HTTP date and the epoch
		// (both have second resolution).
		header func(at time.Time) http.Header
		// notBefore is the earliest the retry may arrive, given when the limited request arrived.
		notBefore func(limited, at time.Time) time.Time
		calls     int // requests to the route: the limited one, its retry and the others of a run
	}{{
		name: "Retry-After seconds on the action's create", method: http.MethodPost, path: pathActions,
		header:    func(time.Time) http.Header { return http.Header{"Retry-After": {"1"}} },
		notBefore: func(limited, _ time.Time) time.Time { return limited.Add(time.Second) },
		calls:     3, // and the automation's create
	}, {
		name: "Retry-After HTTP date on the category read", method: http.MethodGet, path: pathCategory,
		header:    func(at time.Time) http.Header { return http.Header{"Retry-After": {at.UTC().Format(http.TimeFormat)}} },
		notBefore: func(_, at time.Time) time.Time { return at },
		calls:     2,
	}, {
		name: "x-ratelimit-reset seconds on the entity upsert", method: http.MethodPost, path: pathEntities,
		header: func(time.Time) http.Header {
			return http.Header{"X-Ratelimit-Limit": {"100"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {"1"}, "X-Ratelimit-Period": {"300"}}
		},
		notBefore: func(limited, _ time.Time) time.Time { return limited.Add(time.Second) },
		calls:     2,
	}, {
		name: "x-ratelimit-reset epoch on the token", method: http.MethodPost, path: pathToken,
		header: func(at time.Time) http.Header {
			return http.Header{"X-Ratelimit-Limit": {"100"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {strconv.FormatInt(at.Unix(), 10)}}
		},
		notBefore: func(_, at time.Time) time.Time { return at },
		calls:     2,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			at := time.Now().Truncate(time.Second).Add(2 * time.Second)
			faultCase{
				faults:    []portemu.Fault{{Method: tc.method, Path: tc.path, Times: 1, Status: http.StatusTooManyRequests, Header: tc.header(at)}},
				wantCode:  ExitOK,
				wantState: whole,
				wantLog:   createdLog, wantLast: lineAllCreated,
				wantCalls:   map[string]int{tc.method + " " + tc.path: tc.calls},
				wantOutputs: createdOutputs,
				check: func(t *testing.T, o *faultOrg, _ outcome) {
					arrived := o.arrivalsOf(tc.method, tc.path)
					if len(arrived) < 2 {
						t.Fatalf("%d requests %s %s, want the limited one and its retry", len(arrived), tc.method, tc.path)
					}
					if earliest := tc.notBefore(arrived[0], at); arrived[1].Before(earliest) {
						t.Errorf("the retry came %s after the 429, before the advertised time (%s after it)",
							arrived[1].Sub(arrived[0]), earliest.Sub(arrived[0]))
					}
				},
			}.run(t)
		})
	}
}

// An access token that Port stops accepting mid-run is replaced once, and the run goes on; a route that keeps
// answering 401 after the refresh fails the run with the credentials hint.
func TestRegisterRefreshesAnExpiredToken(t *testing.T) {
	t.Parallel()
	readAutoErr := `read automation "automation_for_runs_of_create_s3_bucket": GET /v1/actions/automation_for_runs_of_create_s3_bucket: ` +
		"401 Unauthorized: unauthorized: injected fault: Unauthorized (trace id …)"
	for _, tc := range []faultCase{{
		// Every token expires while the category is read, next to three other requests with the same token.
		name:     "expires during the first reads",
		faults:   []portemu.Fault{{Method: http.MethodGet, Path: pathCategory, Times: 1, ExpireToken: true}},
		wantCode: ExitOK, wantState: whole,
		wantLog: createdLog, wantLast: lineAllCreated, wantOutputs: createdOutputs,
		wantCalls: map[string]int{"POST " + pathToken: 2, "GET " + pathCategory: 2},
	}, {
		name:     "expires during the entity upsert",
		faults:   []portemu.Fault{{Method: http.MethodPost, Path: pathEntities, Times: 1, ExpireToken: true}},
		wantCode: ExitOK, wantState: whole,
		wantLog: createdLog, wantLast: lineAllCreated, wantOutputs: createdOutputs,
		wantCalls: map[string]int{"POST " + pathToken: 2, "POST " + pathEntities: 2},
	}, {
		name:     "refused after the refresh",
		faults:   []portemu.Fault{{Method: http.MethodGet, Path: pathAutomation, Status: http.StatusUnauthorized}},
		wantCode: ExitFailure, wantState: wantState{action: true, entity: true},
		wantAnnotations: []string{"::error::" + readAutoErr, hintCredentials},
		wantLog:         stepLines(lineActionCreated, "❌ "+readAutoErr, lineEntityCreated, failedLine(readAutoErr)),
		wantLast:        failedLine(readAutoErr),
		wantCalls:       map[string]int{"POST " + pathToken: 2, "GET " + pathAutomation: 2},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}

// An answer slower than request-timeout is given up on and the request repeated; a Port slower than the
// run's timeout fails the run with the deadline hint, leaving nothing half-written.
func TestRegisterSlowPort(t *testing.T) {
	t.Parallel()
	readCategory := readCategoryErr("GET " + pathCategory + ": context deadline exceeded")
	createAuto := `create automation "automation_for_runs_of_create_s3_bucket": POST /v1/actions: context deadline exceeded`
	for _, tc := range []faultCase{{
		name:     "one slow read",
		faults:   []portemu.Fault{{Method: http.MethodGet, Path: pathCategory, Times: 1, Delay: time.Minute}},
		tweak:    func(v map[string]string) { v["INPUT_REQUEST-TIMEOUT"] = "200ms" },
		wantCode: ExitOK, wantState: whole,
		wantLog: createdLog, wantLast: lineAllCreated, wantOutputs: createdOutputs,
		wantCalls: map[string]int{"GET " + pathCategory: 2},
	}, {
		name:     "one slow create",
		faults:   []portemu.Fault{{Method: http.MethodPost, Path: pathActions, Times: 1, Delay: time.Minute}},
		tweak:    func(v map[string]string) { v["INPUT_REQUEST-TIMEOUT"] = "200ms" },
		wantCode: ExitOK, wantState: whole,
		wantLog: createdLog, wantLast: lineAllCreated, wantOutputs: createdOutputs,
		wantCalls: map[string]int{"POST " + pathActions: 3},
	}, {
		name:     "slower than the run's timeout",
		faults:   []portemu.Fault{{Method: http.MethodGet, Path: pathCategory, Delay: time.Minute}},
		tweak:    func(v map[string]string) { v["INPUT_TIMEOUT"] = "1s" },
		wantCode: ExitFailure, wantState: wantState{action: true},
		wantAnnotations: []string{"::error::" + createAuto, "::error::" + readCategory, hintDeadline},
		wantLog:         stepLines(lineActionCreated, "❌ "+createAuto, "❌ "+readCategory, failedLine(createAuto), readCategory),
		wantLast:        readCategory,
		wantCalls:       map[string]int{"GET " + pathCategory: 1},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}

// A Port run log that cannot be written costs one warning and one request with its retries: later lines are
// not tried again (except the one that ends the run with report-status), and the registration succeeds.
func TestRegisterWithoutRunLog(t *testing.T) {
	t.Parallel()
	warning := `::warning::could not write to the Port run log of run "RUN", continuing without it: POST /v1/actions/runs/RUN/logs: ` +
		"503 Service Unavailable: internal_error: injected fault: Service Unavailable (trace id …) (gave up after 4 attempts)"
	for _, tc := range []faultCase{{
		name:     "report-status false",
		faults:   []portemu.Fault{{Method: http.MethodPost, Path: pathRunLogs, Status: http.StatusServiceUnavailable}},
		wantCode: ExitOK, wantState: whole, wantOutputs: createdOutputs,
		wantAnnotations: []string{warning},
		wantCalls:       map[string]int{"POST " + pathRunLogs: 4},
	}, {
		name:     "report-status true",
		faults:   []portemu.Fault{{Method: http.MethodPost, Path: pathRunLogs, Status: http.StatusServiceUnavailable}},
		tweak:    func(v map[string]string) { v["INPUT_REPORT-STATUS"] = "true" },
		wantCode: ExitOK, wantState: whole, wantOutputs: createdOutputs,
		wantAnnotations: []string{warning},
		// No request count: the first lines go out on their own (4 attempts) or, when the run is over within
		// the sender's linger, together with the final line; the final line is tried in both cases.
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}

// A create that Port carried out but whose answer was lost (the connection dropped, or a gateway answered 502
// after the fact) is retried: the retry meets the object, and the run converges to one of each. The action
// and the automation are then reported as existing: the run cannot tell its own lost create from another
// run's, and "exists" is true either way.
func TestRegisterLostResponses(t *testing.T) {
	t.Parallel()
	const (
		actionExistsLast = `🏁 Registered "create_s3_bucket": action unchanged, automation created, entity created`
		autoExistsLast   = `🏁 Registered "create_s3_bucket": action created, automation unchanged, entity created`
	)
	actionOutputs := map[string]string{"action-created": "false", "automation-created": "true", "automation-updated": "false"}
	autoOutputs := map[string]string{"action-created": "true", "automation-created": "false", "automation-updated": "false"}
	letActionThrough := portemu.Fault{Method: http.MethodPost, Path: pathActions, Times: 1}
	lost := func(method, path string, status int) portemu.Fault {
		return portemu.Fault{Method: method, Path: path, Times: 1, AfterHandling: true, Drop: status == 0, Status: status}
	}
	var cases []faultCase
	for _, k := range []struct {
		name   string
		status int
	}{{"dropped", 0}, {"502", http.StatusBadGateway}} {
		cases = append(cases, faultCase{
			name:     "action create " + k.name,
			faults:   []portemu.Fault{lost(http.MethodPost, pathActions, k.status)},
			wantCode: ExitOK, wantState: whole,
			wantLog: stepLines(lineActionExists, lineAutoCreated, lineEntityCreated, actionExistsLast), wantLast: actionExistsLast,
			wantCalls:   map[string]int{"POST " + pathActions: 3},
			wantOutputs: actionOutputs,
		}, faultCase{
			name:     "automation create " + k.name,
			faults:   []portemu.Fault{letActionThrough, lost(http.MethodPost, pathActions, k.status)},
			wantCode: ExitOK, wantState: whole,
			wantLog: stepLines(lineActionCreated, lineAutoUpToDate, lineEntityCreated, autoExistsLast), wantLast: autoExistsLast,
			wantCalls:   map[string]int{"POST " + pathActions: 3, "GET " + pathAutomation: 2},
			wantOutputs: autoOutputs,
		}, faultCase{
			name:     "entity upsert " + k.name,
			faults:   []portemu.Fault{lost(http.MethodPost, pathEntities, k.status)},
			wantCode: ExitOK, wantState: whole,
			wantLog: createdLog, wantLast: lineAllCreated,
			wantCalls:   map[string]int{"POST " + pathEntities: 2},
			wantOutputs: createdOutputs,
			check: func(t *testing.T, o *faultOrg, _ outcome) {
				if n := len(o.emu.Entities(roimodel.ActionBlueprint)); n != 1 {
					t.Errorf("%d action entities, want 1", n)
				}
			},
		}, faultCase{
			name:     "automation repair " + k.name,
			setup:    driftAutomation,
			faults:   []portemu.Fault{lost(http.MethodPut, pathAutomation, k.status)},
			wantCode: ExitOK, wantState: whole,
			wantLog: repairLog, wantLast: lineAllUpdated,
			wantCalls:   map[string]int{"PUT " + pathAutomation: 2},
			wantOutputs: repairedOutputs,
		})
	}
	// Run-log lines are not idempotent: a batch whose answer was lost is sent again and shows twice. Sending
	// it at least once is the point; the duplicate is the price.
	cases = append(cases, faultCase{
		name:     "run log dropped",
		faults:   []portemu.Fault{lost(http.MethodPost, pathRunLogs, 0)},
		wantCode: ExitOK, wantState: whole,
		wantLog: createdLog, wantLast: lineAllCreated, atLeastOnce: true,
		wantOutputs: createdOutputs,
	})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t)
		})
	}
}
