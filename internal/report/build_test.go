package report

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/portspec"
	"github.com/port-roi/port-roi-action/internal/register"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// org is an emulated Port organisation set up the way register leaves it: the guide's blueprints, categories,
// and per action the placeholder self-service action, the automation that records its runs and the action
// entity with its baselines.
type org struct {
	emu    *portemu.Server
	client *port.Client
	clock  *fakeClock
}

func newOrg(t *testing.T) *org {
	t.Helper()
	clock := &fakeClock{now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	emu := portemu.New(portemu.WithClock(clock.Now), portemu.WithBlueprints(roimodel.Blueprints()...))
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c, err := port.New(srv.URL, port.Credentials{ClientID: portemu.DemoClientID, ClientSecret: portemu.DemoClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	return &org{emu: emu, client: c, clock: clock}
}

func (o *org) category(t *testing.T, id, title string) {
	t.Helper()
	if _, err := o.client.UpsertEntity(t.Context(), roimodel.CategoriesBlueprint, port.Entity{Identifier: id, Title: title}, port.UpsertOptions{Merge: true}); err != nil {
		t.Fatal(err)
	}
}

// register does what the register command does for an action; a nil baseline is left out.
func (o *org) register(t *testing.T, id, title, category string, lead, cycle *float64, approval any) {
	t.Helper()
	ctx := t.Context()
	def := register.PlaceholderAction(id, title)
	if approval != nil {
		def["requiredApproval"] = approval
	}
	if _, err := o.client.CreateAction(ctx, def); err != nil {
		t.Fatal(err)
	}
	if _, err := o.client.CreateAction(ctx, register.Automation(id, "https://app.port.io")); err != nil {
		t.Fatal(err)
	}
	props := map[string]any{}
	if lead != nil {
		props["lead_time_before"] = *lead
	}
	if cycle != nil {
		props["cycle_time"] = *cycle
	}
	if _, err := o.client.UpsertEntity(ctx, roimodel.ActionBlueprint, port.Entity{Identifier: id, Title: title,
		Properties: props, Relations: map[string]any{"category": category}}, port.UpsertOptions{Merge: true}); err != nil {
		t.Fatal(err)
	}
}

// play runs an action as a Port user would, with the clock moving: an approval wait (approved, or declined
// when status is DECLINED), then work, then the final status ("" leaves the run where it is).
func (o *org) play(t *testing.T, id string, wait, work time.Duration, status string) {
	t.Helper()
	o.clock.Advance(time.Hour)
	r, err := o.emu.CreateRun(id, map[string]any{}, portemu.DemoUser)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status == port.RunWaitingForApproval {
		if status == "" && wait == 0 {
			return // left waiting
		}
		o.clock.Advance(wait)
		if _, err := o.emu.ApproveRun(r.ID, status != port.RunDeclined); err != nil {
			t.Fatal(err)
		}
		if status == port.RunDeclined {
			return
		}
	}
	o.clock.Advance(work)
	if status == "" {
		return // left in progress
	}
	if _, err := o.emu.FinishRun(r.ID, status); err != nil {
		t.Fatal(err)
	}
}

// guideOrg plays a month of runs: actions with baselines (one with an approval, one slower than its
// baseline), one whose baselines were never set and one whose blank baselines the guide's workflow stored as 0.
func guideOrg(t *testing.T) *org {
	t.Helper()
	o := newOrg(t)
	o.category(t, "infra", "Infrastructure")
	o.category(t, "security", "Security")
	h := func(v float64) *float64 { return &v }
	o.register(t, "create_s3_bucket", "Create S3 bucket", "infra", h(48), h(2), nil)
	o.register(t, "grant_access", "Grant production access", "security", h(24), h(0.5), true)
	o.register(t, "rotate_keys", "Rotate keys", "security", h(0.05), h(0.01), map[string]any{"type": "ANY"})
	o.register(t, "no_baseline", "Never measured", "infra", nil, nil, nil)
	o.register(t, "zeroed", "Blank baselines stored as 0", "infra", h(0), h(0), nil)

	for day := range 5 {
		o.play(t, "create_s3_bucket", 0, time.Duration(4+day)*time.Minute+17*time.Second, port.RunSuccess)
		o.play(t, "create_s3_bucket", 0, 2*time.Minute, port.RunFailure)
		o.play(t, "grant_access", time.Duration(day+1)*time.Hour, 7*time.Minute, port.RunSuccess)
		o.play(t, "rotate_keys", 30*time.Minute, 5*time.Minute, port.RunSuccess) // 5 min against a 3 min baseline
		o.play(t, "no_baseline", 0, 10*time.Minute, port.RunSuccess)
		o.play(t, "zeroed", 0, 6*time.Minute, port.RunSuccess)
		o.clock.Advance(20 * time.Hour)
	}
	o.play(t, "grant_access", 2*time.Hour, 0, port.RunDeclined)
	o.play(t, "grant_access", 0, 0, "")                 // waiting for approval
	o.play(t, "create_s3_bucket", 0, 3*time.Minute, "") // in progress
	o.play(t, "rotate_keys", 15*time.Minute, time.Minute, port.RunFailure)
	return o
}

// TestTotalsMatchPortAggregations checks the report against Port's own arithmetic: the aggregation
// properties the emulator computes on each action entity from the guide's definitions (sums of the
// calculation properties savings_lead_time_h and savings_cycle_time_h, of waiting_for_approval_duration, and
// counts). They agree for every action with baselines and for an action whose baselines are not set (the
// guide's calculation yields null, so Port sums nothing). They differ, on purpose, for an action whose
// baselines are 0: Port counts each of its runs as negative savings, the report as "no baseline".
func TestTotalsMatchPortAggregations(t *testing.T) {
	t.Parallel()
	o := guideOrg(t)
	rep, err := Build(t.Context(), o.client, Options{PageSize: 4, Now: o.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}

	type sums struct {
		Lead, Cycle, Wait, WaitMax float64
		Runs, OK, Failed, Waited   int
	}
	var want, zeroed sums
	byAction := map[string]sums{}
	for _, e := range o.emu.Entities(roimodel.ActionBlueprint) {
		p := e.Properties
		s := sums{Lead: f(t, p, "total_lead_time_savings_h"), Cycle: f(t, p, "total_cycle_time_savings_h"),
			Wait: f(t, p, "total_waiting_time_seconds") / 3600, Runs: int(f(t, p, "total_runs")),
			OK: int(f(t, p, "successful_runs")), Failed: int(f(t, p, "failed_runs")), Waited: int(f(t, p, "runs_with_waiting_time"))}
		if m, ok := p["max_waiting_time_seconds"].(float64); ok {
			s.WaitMax = m / 3600
		}
		if got, want := f(t, p, "total_waiting_time_h"), s.Wait; !approxEqual(got, want) {
			t.Errorf("%s: total_waiting_time_h %v, want %v", e.Identifier, got, want)
		}
		byAction[e.Identifier] = s
		if e.Identifier == "zeroed" {
			zeroed = s
			// The report leaves these runs out of the savings; everything else it counts like Port.
			s.Lead, s.Cycle = 0, 0
		}
		want.Lead += s.Lead
		want.Cycle += s.Cycle
		want.Wait += s.Wait
		want.WaitMax = math.Max(want.WaitMax, s.WaitMax)
		want.Runs += s.Runs
		want.OK += s.OK
		want.Failed += s.Failed
		want.Waited += s.Waited
	}

	tot := rep.Totals
	got := sums{Lead: tot.LeadTime.Hours, Cycle: tot.CycleTime.Hours, Wait: tot.ApprovalWait.Hours, WaitMax: tot.ApprovalWait.MaxHours,
		Runs: tot.Runs, OK: tot.Successful, Failed: tot.Failed, Waited: tot.ApprovalWait.Runs}
	if diff := cmp.Diff(want, got, approx); diff != "" {
		t.Errorf("report totals differ from the sum of Port's aggregation properties (-port +report):\n%s", diff)
	}
	if want.Runs != 34 || want.OK != 25 || want.Failed != 6 || want.Waited != 10 {
		t.Errorf("the played runs are not what the test meant: %+v", want)
	}

	// The documented difference: 5 runs of "zeroed" took 6 minutes each; Port's dashboard books them as
	// 5 × −0.1 h of lead and cycle time, the report as no baseline.
	if !approxEqual(zeroed.Lead, -0.5) || !approxEqual(zeroed.Cycle, -0.5) {
		t.Errorf("Port's sums for the zeroed action: lead %v, cycle %v; want -0.5 each", zeroed.Lead, zeroed.Cycle)
	}
	if s := byAction["no_baseline"]; s.Lead != 0 || s.Cycle != 0 {
		t.Errorf("Port's sums for the action without baselines: %+v, want 0 (the calculation yields null)", s)
	}
	if tot.LeadTime.NoBaselineRuns != 10 || tot.CycleTime.NoBaselineRuns != 10 {
		t.Errorf("no-baseline runs: lead %d, cycle %d; want 10 (5 unset + 5 zeroed)", tot.LeadTime.NoBaselineRuns, tot.CycleTime.NoBaselineRuns)
	}
	if tot.LeadTime.NegativeRuns != 5 || !approxEqual(tot.LeadTime.NegativeHours, 5*(0.05*3600-(35*60+0))/3600) {
		// rotate_keys: duration = 30 min wait + 5 min work, against 3 min.
		t.Errorf("negative lead-time runs: %d, %v h", tot.LeadTime.NegativeRuns, tot.LeadTime.NegativeHours)
	}

	// Action by action, too.
	for _, g := range rep.Actions {
		p := byAction[g.Identifier]
		if g.Identifier == "zeroed" {
			p.Lead, p.Cycle = 0, 0
		}
		a := sums{Lead: g.LeadTime.Hours, Cycle: g.CycleTime.Hours, Wait: g.ApprovalWait.Hours, WaitMax: g.ApprovalWait.MaxHours,
			Runs: g.Runs, OK: g.Successful, Failed: g.Failed, Waited: g.ApprovalWait.Runs}
		if diff := cmp.Diff(p, a, approx); diff != "" {
			t.Errorf("action %s differs from Port's aggregation properties (-port +report):\n%s", g.Identifier, diff)
		}
	}
	if len(rep.Actions) != 5 {
		t.Errorf("%d actions in the report, want 5", len(rep.Actions))
	}
	if got := byCategory(rep); !cmp.Equal(got, map[string]int{"infra": 21, "security": 13}) {
		t.Errorf("runs by category = %v", got)
	}
}

func byCategory(r *Report) map[string]int {
	out := map[string]int{}
	for _, g := range r.Categories {
		out[g.Identifier] = g.Runs
	}
	return out
}

func f(t *testing.T, p map[string]any, key string) float64 {
	t.Helper()
	v, ok := p[key].(float64)
	if !ok {
		t.Fatalf("aggregation property %s = %#v, want a number", key, p[key])
	}
	return v
}

// The report pages through every blueprint with the emulator's cursor; each search is a request Port's
// OpenAPI spec accepts; a window narrows the run search on Port's side, and the exact window is applied here.
func TestBuildPagesThroughPort(t *testing.T) {
	t.Parallel()
	o := guideOrg(t)
	all, err := Build(t.Context(), o.client, Options{Now: o.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	o.emu.ResetRequests()
	paged, err := Build(t.Context(), o.client, Options{PageSize: 3, Now: o.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(all, paged, approx); diff != "" {
		t.Errorf("pages of 3 give another report than pages of 1000 (-1000 +3):\n%s", diff)
	}
	reqs := o.emu.Requests()
	pages := map[string]int{}
	cursors := 0
	for _, r := range reqs {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.Path, "/entities/search") {
			continue
		}
		pages[strings.Split(r.Path, "/")[3]]++
		var body port.SearchRequest
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		if body.Limit != 3 {
			t.Errorf("limit %d, want 3", body.Limit)
		}
		if body.From != "" {
			cursors++
		}
	}
	// 2 categories, 5 actions, 34 runs in pages of 3.
	if diff := cmp.Diff(map[string]int{"actions_categories": 1, "action": 2, "action_run": 12}, pages); diff != "" {
		t.Errorf("search requests per blueprint (-want +got):\n%s", diff)
	}
	if cursors != 12 {
		t.Errorf("%d requests carried a cursor, want 12", cursors)
	}
	validateRequests(t, reqs)

	// The last two days: Port returns a superset, the report keeps the runs created in the window.
	o.emu.ResetRequests()
	now := o.clock.Now()
	w := Window{From: now.Add(-48 * time.Hour), To: now, Since: "48h"}
	recent, err := Build(t.Context(), o.client, Options{Window: w, PageSize: 3, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, e := range o.emu.Entities(roimodel.ActionRunBlueprint) {
		if t0, _ := time.Parse(time.RFC3339Nano, e.Properties["created_at"].(string)); w.Contains(t0) {
			want++
		}
	}
	if recent.Totals.Runs != want || want == 0 || want == all.Totals.Runs {
		t.Errorf("runs in the last 48 h: %d, want %d (of %d)", recent.Totals.Runs, want, all.Totals.Runs)
	}
	var windowed bool
	for _, r := range o.emu.Requests() {
		if strings.Contains(r.Path, "/action_run/") && strings.Contains(string(r.Body), `"operator":"between"`) {
			windowed = true
		}
	}
	if !windowed {
		t.Error("the run search was not narrowed to the window on Port's side")
	}
	validateRequests(t, o.emu.Requests())
}

// validateRequests checks requests against Port's OpenAPI spec, when it is present next to the repository.
func validateRequests(t *testing.T, reqs []portemu.Request) {
	t.Helper()
	path, ok := portspec.Locate()
	if !ok {
		t.Logf("Port's OpenAPI spec is not at %s; requests not validated", path)
		return
	}
	spec, err := portspec.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		if err := spec.ValidateRequest(r.Method, r.Path, r.RawQuery, r.Body); err != nil {
			t.Errorf("%v\nbody: %s", err, r.Body)
		}
	}
}

func TestRunQuery(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)
	between := func(from, to string) port.SearchQuery {
		v := map[string]any{"from": from, "to": to}
		return port.SearchQuery{Combinator: "or", Rules: []any{
			map[string]any{"property": "created_at", "operator": "between", "value": v},
			map[string]any{"property": "$createdAt", "operator": "between", "value": v},
		}}
	}
	for _, tt := range []struct {
		name string
		w    Window
		want port.SearchQuery
	}{
		{"all time", Window{}, port.SearchQuery{Combinator: "and", Rules: []any{}}},
		{"bounded", Window{From: now.Add(-7 * 24 * time.Hour), To: now},
			between("2026-03-02T09:00:00.000Z", "2026-03-09T09:00:00.000Z")},
		{"until", Window{To: now}, between("1970-01-01T00:00:00.000Z", "2026-03-09T09:00:00.000Z")},
	} {
		if diff := cmp.Diff(tt.want, runQuery(tt.w, now)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// searcherFunc is a fake Port search.
type searcherFunc func(ctx context.Context, blueprint string, r port.SearchRequest) (port.SearchPage, error)

func (f searcherFunc) SearchEntities(ctx context.Context, blueprint string, r port.SearchRequest) (port.SearchPage, error) {
	return f(ctx, blueprint, r)
}

func TestBuildFailures(t *testing.T) {
	t.Parallel()
	boom := &port.APIError{Method: "POST", Path: "/v1/blueprints/action_run/entities/search", StatusCode: 404, Code: "not_found", Message: "blueprint not found"}
	for _, tt := range []struct {
		name  string
		s     searcherFunc
		want  string
		isErr error
	}{
		{"missing blueprint", func(_ context.Context, bp string, r port.SearchRequest) (port.SearchPage, error) {
			if bp == roimodel.ActionRunBlueprint {
				return port.SearchPage{}, boom
			}
			return port.SearchPage{Entities: []port.Entity{}}, nil
		}, "read the action_run entities (page 1): POST /v1/blueprints/action_run/entities/search: 404 Not Found: not_found: blueprint not found", boom},
		{"failure on a later page", func(_ context.Context, bp string, r port.SearchRequest) (port.SearchPage, error) {
			if bp == roimodel.ActionRunBlueprint && r.From == "c2" {
				return port.SearchPage{}, context.DeadlineExceeded
			}
			next := map[string]string{"": "c1", "c1": "c2"}[r.From]
			if bp != roimodel.ActionRunBlueprint {
				next = ""
			}
			return port.SearchPage{Entities: []port.Entity{{Identifier: "x" + r.From}}, Next: next}, nil
		}, "read the action_run entities (page 3): context deadline exceeded", context.DeadlineExceeded},
		{"a cursor that does not move", func(_ context.Context, bp string, r port.SearchRequest) (port.SearchPage, error) {
			return port.SearchPage{Entities: []port.Entity{{Identifier: "x"}}, Next: "same"}, nil
		}, "read the actions_categories entities (page 3): Port returned the same cursor again; stopping instead of looping", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Build(t.Context(), tt.s, Options{})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v, want %s", err, tt.want)
			}
			if tt.isErr != nil && !errors.Is(err, tt.isErr) {
				t.Errorf("error %v does not wrap %v", err, tt.isErr)
			}
		})
	}
}
