package report

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/port-roi/port-roi-action/internal/port"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// approx compares the hours of hand-computed cases, which are decimal fractions computed in binary.
var approx = cmpopts.EquateApprox(0, 1e-9)

// generated is the fixed generation time of the golden reports.
var generated = time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC)

func category(id, title string) port.Entity { return port.Entity{Identifier: id, Title: title} }

// action is an action entity; a nil baseline is left out, like register does for a blank one.
func action(id, title, cat string, lead, cycle any) port.Entity {
	e := port.Entity{Identifier: id, Title: title, Properties: map[string]any{}, Relations: map[string]any{}}
	if cat != "" {
		e.Relations["category"] = cat
	}
	if lead != nil {
		e.Properties["lead_time_before"] = lead
	}
	if cycle != nil {
		e.Properties["cycle_time"] = cycle
	}
	return e
}

// run is an action_run entity as the guide's automation writes it: created_at is the Port run's createdAt,
// $createdAt a moment later. props adds duration, cycle_time and waiting_for_approval_duration.
func run(id, parent, status, createdAt string, props map[string]any) port.Entity {
	p := map[string]any{"status": status, "created_at": createdAt}
	for k, v := range props {
		p[k] = v
	}
	e := port.Entity{Identifier: id, Properties: p, Relations: map[string]any{}}
	if parent != "" {
		e.Relations["parent_action"] = parent
	}
	if t, err := time.Parse(time.RFC3339Nano, createdAt); err == nil {
		t = t.Add(150 * time.Millisecond)
		e.CreatedAt = &t
	}
	return e
}

// measured is what the automation records for a successful run, in seconds.
func measured(duration, cycle float64) map[string]any {
	return map[string]any{"duration": duration, "cycle_time": cycle}
}

func withWait(p map[string]any, wait float64) map[string]any {
	p["waiting_for_approval_duration"] = wait
	return p
}

type reportCase struct {
	name       string
	window     Window
	categories []port.Entity
	actions    []port.Entity
	runs       []port.Entity
	totals     Stats
	check      func(t *testing.T, r *Report)
}

// reportCases are computed by hand from the guide's formulas: a successful run saves
// (lead_time_before·3600 − duration)/3600 hours of lead time and (cycle_time_before·3600 − cycle_time)/3600
// of cycle time.
func reportCases() []reportCase {
	return []reportCase{
		{
			name:   "empty_org",
			totals: Stats{},
			check: func(t *testing.T, r *Report) {
				if len(r.Actions)+len(r.Categories)+len(r.Weeks)+len(r.TopActions) != 0 {
					t.Errorf("an empty organisation has rows: %+v", r)
				}
			},
		},
		{
			// lead_time_before missing on one action, 0 on the other (the guide's workflow stores 0 for a blank
			// field): no savings, and no negative savings either; the runs count as "no baseline".
			name:       "no_baselines",
			categories: []port.Entity{category("infra", "Infrastructure")},
			actions: []port.Entity{
				action("unset", "Baselines never set", "infra", nil, nil),
				action("zeroed", "Blank baselines stored as 0", "infra", 0.0, 0.0),
			},
			runs: []port.Entity{
				run("r1", "unset", "SUCCESS", "2026-03-02T10:00:00.000Z", measured(600, 300)),
				run("r2", "unset", "SUCCESS", "2026-03-03T10:00:00.000Z", measured(900, 600)),
				run("r3", "zeroed", "SUCCESS", "2026-03-04T10:00:00.000Z", measured(1200, 1200)),
				run("r4", "zeroed", "FAILURE", "2026-03-04T11:00:00.000Z", nil),
			},
			totals: Stats{Runs: 4, Successful: 3, Failed: 1, SuccessRate: 75, FailureRate: 25,
				LeadTime: Savings{NoBaselineRuns: 3}, CycleTime: Savings{NoBaselineRuns: 3}},
			check: func(t *testing.T, r *Report) {
				if len(r.TopActions) != 0 {
					t.Errorf("top actions without savings: %v", r.TopActions)
				}
				for _, g := range r.Actions {
					if g.LeadTimeBeforeHours != nil || g.CycleTimeBeforeHours != nil {
						t.Errorf("%s: baseline read as set: %v %v", g.Identifier, g.LeadTimeBeforeHours, g.CycleTimeBeforeHours)
					}
				}
			},
		},
		{
			// Failed runs carry no duration in the guide's mapping, and save nothing.
			name:       "failures_only",
			categories: []port.Entity{category("data", "Data")},
			actions:    []port.Entity{action("restore_db", "Restore database", "data", 8.0, 2.0)},
			runs: []port.Entity{
				run("r1", "restore_db", "FAILURE", "2026-03-02T10:00:00.000Z", nil),
				run("r2", "restore_db", "FAILURE", "2026-03-03T10:00:00.000Z", nil),
				run("r3", "restore_db", "FAILURE", "2026-03-10T10:00:00.000Z", nil),
			},
			totals: Stats{Runs: 3, Failed: 3, FailureRate: 100},
			check: func(t *testing.T, r *Report) {
				if got := len(r.Weeks); got != 2 {
					t.Errorf("weeks = %d, want 2 (W10, W11)", got)
				}
			},
		},
		{
			// Baselines 24 h and 1 h (86400 s, 3600 s). Savings of the three successful runs:
			//   lead  (86400−4800)/3600 + (86400−2280)/3600 + (86400−300)/3600 = 251820/3600 = 69.95 h
			//   cycle (3600−1200)/3600 + (3600−480)/3600 + (3600−300)/3600     =   8820/3600 =  2.45 h
			// Approval wait: 3600 + 1800 s = 1.5 h over 2 runs, 0.75 h on average, 1 h at most.
			name:       "approvals",
			categories: []port.Entity{category("security", "Security")},
			actions:    []port.Entity{action("grant_prod_access", "Grant production access", "security", 24.0, 1.0)},
			runs: []port.Entity{
				run("r1", "grant_prod_access", "SUCCESS", "2026-03-02T09:00:00.000Z", withWait(measured(4800, 1200), 3600)),
				run("r2", "grant_prod_access", "SUCCESS", "2026-03-03T09:00:00.000Z", withWait(measured(2280, 480), 1800)),
				run("r3", "grant_prod_access", "SUCCESS", "2026-03-04T09:00:00.000Z", measured(300, 300)),
				run("r4", "grant_prod_access", "WAITING_FOR_APPROVAL", "2026-03-05T09:00:00.000Z", nil),
				run("r5", "grant_prod_access", "DECLINED", "2026-03-06T09:00:00.000Z", nil),
			},
			totals: Stats{Runs: 5, Successful: 3, WaitingForApproval: 1, Declined: 1, SuccessRate: 60,
				LeadTime:     Savings{Hours: 69.95, HoursPerRun: 69.95 / 3, MeasuredRuns: 3},
				CycleTime:    Savings{Hours: 2.45, HoursPerRun: 2.45 / 3, MeasuredRuns: 3},
				ApprovalWait: Wait{Hours: 1.5, Runs: 2, AverageHours: 0.75, MaxHours: 1}},
		},
		{
			// The window [2026-03-02, 2026-03-09) keeps r2 (on the start), r3 (a millisecond before the end), r5
			// ($createdAt, without created_at) and r7 ($createdAt, as created_at is not a time); it drops r1 (a
			// millisecond early), r4 (on the end) and r6 (created_at wins over an in-window $createdAt).
			// Savings at 2 h lead time (7200 s): r2 (7200−3600)/3600 = 1, r3 (7200−5400)/3600 = 0.5,
			// r5 (7200−7200)/3600 = 0, r7 (7200−1800)/3600 = 1.5 → 3 h.
			name:       "window_cuts_through",
			window:     Window{From: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)},
			categories: []port.Entity{category("infra", "Infrastructure")},
			actions:    []port.Entity{action("create_s3_bucket", "Create S3 bucket", "infra", 2.0, nil)},
			runs: []port.Entity{
				run("r1", "create_s3_bucket", "SUCCESS", "2026-03-01T23:59:59.999Z", measured(60, 60)),
				run("r2", "create_s3_bucket", "SUCCESS", "2026-03-02T00:00:00.000Z", measured(3600, 60)),
				run("r3", "create_s3_bucket", "SUCCESS", "2026-03-08T23:59:59.999Z", measured(5400, 60)),
				run("r4", "create_s3_bucket", "SUCCESS", "2026-03-09T00:00:00.000Z", measured(60, 60)),
				func() port.Entity {
					e := run("r5", "create_s3_bucket", "SUCCESS", "", measured(7200, 60))
					delete(e.Properties, "created_at")
					at := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
					e.CreatedAt = &at
					return e
				}(),
				func() port.Entity {
					e := run("r6", "create_s3_bucket", "SUCCESS", "2026-02-20T12:00:00.000Z", measured(60, 60))
					at := time.Date(2026, 3, 5, 12, 0, 0, 0, time.UTC)
					e.CreatedAt = &at
					return e
				}(),
				func() port.Entity {
					e := run("r7", "create_s3_bucket", "SUCCESS", "yesterday", map[string]any{"duration": 1800.0})
					at := time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC)
					e.CreatedAt = &at
					return e
				}(),
			},
			totals: Stats{Runs: 4, Successful: 4, SuccessRate: 100,
				LeadTime:  Savings{Hours: 3, HoursPerRun: 0.75, MeasuredRuns: 4},
				CycleTime: Savings{NoBaselineRuns: 4}},
			check: func(t *testing.T, r *Report) {
				want := []Week{{Week: "2026-W10", Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), Runs: 4, Successful: 4, LeadTimeHours: 3}}
				if diff := cmp.Diff(want, r.Weeks, approx); diff != "" {
					t.Errorf("weeks (-want +got):\n%s", diff)
				}
			},
		},
		{
			// Baselines 0.5 h (1800 s) and 0.25 h (900 s); durations with fractions of a second:
			//   lead  (1800−900.36)/3600 + (1800−1619.64)/3600 = (899.64 + 180.36)/3600 = 0.3 h, 0.15 per run
			//   cycle (900−450.9)/3600 + (900−720.9)/3600      = (449.1 + 179.1)/3600   = 0.1745 h
			// Approval wait 0.5 s and 1.25 s: 1.75 s = 0.000486… h.
			name:       "fractional_durations",
			categories: []port.Entity{category("dev", "Developer experience")},
			actions:    []port.Entity{action("create_branch_env", "Create a branch environment", "dev", 0.5, 0.25)},
			runs: []port.Entity{
				run("r1", "create_branch_env", "SUCCESS", "2026-03-02T10:00:00.250Z", withWait(measured(900.36, 450.9), 0.5)),
				run("r2", "create_branch_env", "SUCCESS", "2026-03-02T11:00:00.750Z", withWait(measured(1619.64, 720.9), 1.25)),
			},
			totals: Stats{Runs: 2, Successful: 2, SuccessRate: 100,
				LeadTime:     Savings{Hours: 0.3, HoursPerRun: 0.15, MeasuredRuns: 2},
				CycleTime:    Savings{Hours: 0.1745, HoursPerRun: 0.08725, MeasuredRuns: 2},
				ApprovalWait: Wait{Hours: 1.75 / 3600, Runs: 2, AverageHours: 0.875 / 3600, MaxHours: 1.25 / 3600}},
		},
		{
			// "slow" (1 h, 0.1 h = 360 s): r1 (3600−5400)/3600 = −0.5 lead, (360−720)/3600 = −0.1 cycle;
			// r2 (3600−1800)/3600 = 0.5 lead, (360−180)/3600 = 0.05 cycle. "fast" (10 h, no cycle baseline):
			// r3 (36000−3600)/3600 = 9. Lead 9 h with −0.5 h negative; cycle −0.05 h with −0.1 h negative.
			name:       "negative_savings",
			categories: []port.Entity{category("infra", "Infrastructure")},
			actions: []port.Entity{
				action("slow", "Rotate certificates", "infra", 1.0, 0.1),
				action("fast", "Create S3 bucket", "infra", 10.0, nil),
			},
			runs: []port.Entity{
				run("r1", "slow", "SUCCESS", "2026-03-02T10:00:00.000Z", measured(5400, 720)),
				run("r2", "slow", "SUCCESS", "2026-03-03T10:00:00.000Z", measured(1800, 180)),
				run("r3", "fast", "SUCCESS", "2026-03-04T10:00:00.000Z", measured(3600, 600)),
			},
			totals: Stats{Runs: 3, Successful: 3, SuccessRate: 100,
				LeadTime:  Savings{Hours: 9, HoursPerRun: 3, MeasuredRuns: 3, NegativeRuns: 1, NegativeHours: -0.5},
				CycleTime: Savings{Hours: -0.05, HoursPerRun: -0.025, MeasuredRuns: 2, NoBaselineRuns: 1, NegativeRuns: 1, NegativeHours: -0.1}},
			check: func(t *testing.T, r *Report) {
				if diff := cmp.Diff([]string{"fast"}, r.TopActions); diff != "" {
					t.Errorf("top actions (-want +got):\n%s", diff)
				}
			},
		},
		{
			// A run of a deleted action and one without parent_action count in the totals, under "unknown
			// action", and save nothing; the known action's run saves (3600−600)/3600 = 0.8333… h.
			name:       "unknown_parent_action",
			categories: []port.Entity{category("infra", "Infrastructure")},
			actions:    []port.Entity{action("create_s3_bucket", "Create S3 bucket", "infra", 1.0, 0.5)},
			runs: []port.Entity{
				run("r1", "create_s3_bucket", "SUCCESS", "2026-03-02T10:00:00.000Z", measured(600, 600)),
				run("r2", "deleted_action", "SUCCESS", "2026-03-02T11:00:00.000Z", withWait(measured(600, 300), 120)),
				run("r3", "deleted_action", "FAILURE", "2026-03-02T12:00:00.000Z", nil),
				run("r4", "", "IN_PROGRESS", "2026-03-02T13:00:00.000Z", nil),
			},
			totals: Stats{Runs: 4, Successful: 2, Failed: 1, InProgress: 1, SuccessRate: 50, FailureRate: 25,
				LeadTime:     Savings{Hours: 3000.0 / 3600, HoursPerRun: 3000.0 / 3600, MeasuredRuns: 1, NoBaselineRuns: 1},
				CycleTime:    Savings{Hours: 1200.0 / 3600, HoursPerRun: 1200.0 / 3600, MeasuredRuns: 1, NoBaselineRuns: 1},
				ApprovalWait: Wait{Hours: 120.0 / 3600, Runs: 1, AverageHours: 120.0 / 3600, MaxHours: 120.0 / 3600}},
			check: func(t *testing.T, r *Report) {
				want := Stats{Runs: 3, Successful: 1, Failed: 1, InProgress: 1, SuccessRate: 100.0 / 3, FailureRate: 100.0 / 3,
					LeadTime: Savings{NoBaselineRuns: 1}, CycleTime: Savings{NoBaselineRuns: 1},
					ApprovalWait: Wait{Hours: 120.0 / 3600, Runs: 1, AverageHours: 120.0 / 3600, MaxHours: 120.0 / 3600}}
				if diff := cmp.Diff(want, r.UnknownAction, approx); diff != "" {
					t.Errorf("unknown action (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]string{"deleted_action", ""}, r.UnknownActionIDs); diff != "" {
					t.Errorf("unknown action ids (-want +got):\n%s", diff)
				}
			},
		},
		{
			// Grouping: two categories with runs, an action without a category, one whose category is not an
			// entity, one without runs, and a category without actions; r6 has no durations. Lead savings: s3 (4·3600−1800)/3600 =
			// 3.5, vpc (8·3600−3600)/3600 = 7, docs (1·3600−360)/3600 = 0.9, legacy (2·3600−0)/3600 = 2.
			name: "categories",
			categories: []port.Entity{
				category("infra", "Infrastructure"), category("network", "Network | <b>edge</b>"), category("empty", "No actions here"),
			},
			actions: []port.Entity{
				action("create_s3_bucket", "Create S3 bucket", "infra", 4.0, 1.0),
				action("create_vpc", "Create *VPC*", "network", 8.0, nil),
				action("write_docs", "", "", 1.0, nil),
				action("legacy", "Legacy job", "gone_category", 2.0, nil),
				action("never_used", "Never used", "infra", 1.0, nil),
			},
			runs: []port.Entity{
				run("r1", "create_s3_bucket", "SUCCESS", "2026-03-02T10:00:00.000Z", measured(1800, 900)),
				run("r2", "create_s3_bucket", "FAILURE", "2026-03-02T11:00:00.000Z", nil),
				run("r3", "create_vpc", "SUCCESS", "2026-03-03T10:00:00.000Z", measured(3600, 3600)),
				run("r4", "write_docs", "SUCCESS", "2026-03-04T10:00:00.000Z", measured(360, 360)),
				run("r5", "legacy", "SUCCESS", "2026-03-05T10:00:00.000Z", measured(0, 0)),
				run("r6", "create_s3_bucket", "SUCCESS", "2026-03-06T10:00:00.000Z", nil), // written by hand, without durations
			},
			totals: Stats{Runs: 6, Successful: 5, Failed: 1, SuccessRate: 500.0 / 6, FailureRate: 100.0 / 6,
				LeadTime:  Savings{Hours: 13.4, HoursPerRun: 3.35, MeasuredRuns: 4, NotMeasuredRuns: 1},
				CycleTime: Savings{Hours: 0.75, HoursPerRun: 0.75, MeasuredRuns: 1, NoBaselineRuns: 3, NotMeasuredRuns: 1}},
			check: func(t *testing.T, r *Report) {
				type row struct {
					ID, Title string
					Actions   int
					Lead      float64
				}
				var got []row
				for _, g := range r.Categories {
					got = append(got, row{g.Identifier, g.Title, g.Actions, g.LeadTime.Hours})
				}
				want := []row{
					{"network", "Network | <b>edge</b>", 1, 7},
					{"infra", "Infrastructure", 1, 3.5},
					{"gone_category", "gone_category", 1, 2},
					{"", "No category", 1, 0.9},
				}
				if diff := cmp.Diff(want, got, approx); diff != "" {
					t.Errorf("categories (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]string{"create_vpc", "create_s3_bucket", "legacy", "write_docs"}, r.TopActions); diff != "" {
					t.Errorf("top actions (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff([]Ref{{"never_used", "Never used"}}, r.ActionsWithoutRuns); diff != "" {
					t.Errorf("actions without runs (-want +got):\n%s", diff)
				}
			},
		},
	}
}

func aggregate(c reportCase) *Report {
	a := NewAggregator(c.window)
	for _, e := range c.categories {
		a.AddCategory(e)
	}
	for _, e := range c.actions {
		a.AddAction(e)
	}
	for _, e := range c.runs {
		a.AddRun(e)
	}
	return a.Report(generated)
}

func TestReportCases(t *testing.T) {
	t.Parallel()
	for _, c := range reportCases() {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := aggregate(c)
			if diff := cmp.Diff(c.totals, r.Totals, approx); diff != "" {
				t.Errorf("totals (-want +got):\n%s", diff)
			}
			if c.check != nil {
				c.check(t, r)
			}
			// The totals are the sum of the categories and the unknown action.
			sum := r.UnknownAction.Runs
			hours := 0.0
			for _, g := range r.Categories {
				sum += g.Runs
				hours += g.LeadTime.Hours
			}
			if sum != r.Totals.Runs || !approxEqual(hours, r.Totals.LeadTime.Hours) {
				t.Errorf("categories add up to %d runs and %v h, totals say %d and %v", sum, hours, r.Totals.Runs, r.Totals.LeadTime.Hours)
			}
			js, err := r.JSON()
			if err != nil {
				t.Fatal(err)
			}
			golden(t, c.name+".json", string(js))
			golden(t, c.name+".md", Markdown(r))
			golden(t, c.name+".txt", Text(r))
		})
	}
}

func approxEqual(a, b float64) bool { return cmp.Equal(a, b, approx) }

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -update)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s\nrun go test ./internal/report -update if the change is intended", path, diff)
	}
}

// Every Port text is escaped in the Markdown: a title cannot break a table, open a link or inject HTML.
func TestMarkdownEscapesPortText(t *testing.T) {
	t.Parallel()
	a := NewAggregator(Window{})
	a.AddCategory(category("evil", "x | y\n## <img src=x onerror=alert(1)>"))
	a.AddAction(action("a", "[click](https://evil.example) `code` *bold* | cell\r\n::error::boom", "evil", 1.0, nil))
	a.AddRun(run("r1", "a", "SUCCESS", "2026-03-02T10:00:00.000Z", measured(60, 60)))
	a.AddRun(run("r2", "bad`id|x", "SUCCESS", "2026-03-02T10:00:00.000Z", measured(60, 60)))
	md := Markdown(a.Report(generated))
	for _, bad := range []string{"[click](", "<img", "`code`", "| cell", "\n## ", "\n::error::", "`bad`id", "*bold*"} {
		if unescaped(md, bad) {
			t.Errorf("the Markdown contains %q unescaped:\n%s", bad, md)
		}
	}
	for _, want := range []string{`\[click\]`, `\<img src=x onerror=alert(1)\>`, `x \| y<br>\#\# `, "bad\\`id\\|x"} {
		if !strings.Contains(md, want) {
			t.Errorf("the Markdown lacks %q:\n%s", want, md)
		}
	}
	txt := Text(a.Report(generated))
	if strings.Contains(txt, "\r") || strings.Contains(txt, "\n::error::") {
		t.Errorf("the text report keeps a line break from Port:\n%s", txt)
	}
}

// unescaped reports whether s occurs in md other than right after a backslash.
func unescaped(md, s string) bool {
	for i := 0; ; {
		j := strings.Index(md[i:], s)
		if j < 0 {
			return false
		}
		if at := i + j; at == 0 || md[at-1] != '\\' {
			return true
		}
		i += j + 1
	}
}

func TestMermaidChart(t *testing.T) {
	t.Parallel()
	weeks := []Week{{Week: "2026-W09", LeadTimeHours: 1.005}, {Week: "2026-W10", LeadTimeHours: -2.5}, {Week: "2026-W11"}}
	want := "```mermaid\nxychart-beta\n" +
		"    title \"Hours saved per ISO week (lead time)\"\n" +
		"    x-axis [\"2026-W09\", \"2026-W10\", \"2026-W11\"]\n" +
		"    y-axis \"Hours saved\" -3 --> 1\n" +
		"    bar [1, -2.5, 0]\n" +
		"```\n"
	if diff := cmp.Diff(want, mermaidChart(weeks)); diff != "" {
		t.Errorf("chart (-want +got):\n%s", diff)
	}
	if got := mermaidChart([]Week{{Week: "2026-W09"}}); !strings.Contains(got, `"Hours saved" 0 --> 1`) {
		t.Errorf("an all-zero chart needs a non-empty axis:\n%s", got)
	}
}

// The chart shows the last 52 weeks; the JSON keeps every week from the first run to the last.
func TestLongWindows(t *testing.T) {
	t.Parallel()
	a := NewAggregator(Window{})
	a.AddAction(action("a", "A", "", 1.0, nil))
	a.AddRun(run("old", "a", "SUCCESS", "2024-01-03T10:00:00Z", measured(60, 0)))
	a.AddRun(run("new", "a", "SUCCESS", "2026-03-04T10:00:00Z", measured(60, 0)))
	r := a.Report(generated)
	if got, want := len(r.Weeks), 114; got != want { // 2024-W01 … 2026-W10
		t.Errorf("weeks = %d, want %d", got, want)
	}
	if r.Weeks[0].Week != "2024-W01" || r.Weeks[len(r.Weeks)-1].Week != "2026-W10" {
		t.Errorf("weeks run from %s to %s", r.Weeks[0].Week, r.Weeks[len(r.Weeks)-1].Week)
	}
	md := Markdown(r)
	if !strings.Contains(md, "The last 52 of 114 weeks") || strings.Contains(md, `"2024-W01"`) {
		t.Errorf("the chart is not cut to the last 52 weeks:\n%s", md)
	}
}

// A run without any time counts in an all-time report, and in no bounded window.
func TestUndatedRuns(t *testing.T) {
	t.Parallel()
	e := run("r", "a", "SUCCESS", "", nil)
	delete(e.Properties, "created_at")
	all := NewAggregator(Window{})
	all.AddRun(e)
	if r := all.Report(generated); r.Totals.Runs != 1 || r.UndatedRuns != 1 || len(r.Weeks) != 0 {
		t.Errorf("all time: runs %d, undated %d, weeks %d", r.Totals.Runs, r.UndatedRuns, len(r.Weeks))
	}
	bounded := NewAggregator(Window{From: generated.Add(-time.Hour), To: generated})
	bounded.AddRun(e)
	if r := bounded.Report(generated); r.Totals.Runs != 0 {
		t.Errorf("a bounded window counted an undated run")
	}
}

// Relations and numbers come in the shapes Port and encoding/json produce.
func TestValueShapes(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		v    any
		want string
	}{{"a", "a"}, {[]any{"a"}, "a"}, {[]any{"a", "b"}, ""}, {map[string]any{"identifier": "a", "title": "A"}, "a"}, {nil, ""}, {3.0, ""}} {
		if got := relationID(tt.v); got != tt.want {
			t.Errorf("relationID(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
	for _, tt := range []struct {
		v    any
		want *float64
	}{{2.5, ptr(2.5)}, {"2.5", nil}, {0.0, nil}, {-1.0, nil}, {nil, nil}, {3, ptr(3)}} {
		if diff := cmp.Diff(tt.want, baseline(tt.v)); diff != "" {
			t.Errorf("baseline(%#v) (-want +got):\n%s", tt.v, diff)
		}
	}
}

func ptr(f float64) *float64 { return &f }
