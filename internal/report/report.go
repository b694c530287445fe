// Package report computes the ROI of an organisation's self-service actions from the entities of Port's
// "actions ROI dashboard" guide (actions_categories, action and action_run) and renders it as Markdown, text
// or JSON.
//
// The arithmetic is the guide's: a successful run saves lead_time_before·3600 − duration seconds of lead
// time and cycle_time_before·3600 − cycle_time seconds of cycle time, where the baselines (in hours) are the
// parent action's lead_time_before and cycle_time properties; approval wait is the run's
// waiting_for_approval_duration. Where the guide's dashboard misleads, the report differs and says so:
//   - an action without a baseline (none, or 0, which the guide's workflow stores for a blank field) saves
//     nothing: its successful runs are counted as "no baseline", not as negative savings;
//   - runs slower than their baseline (negative savings) stay in the totals, as in Port's sums, but are
//     counted and their actions listed;
//   - runs whose parent action is not an action entity are counted under "unknown action".
//
// Runs are read page by page and folded into one accumulator per action and per ISO week: memory depends on
// the number of actions and weeks and on the page size, never on the number of runs.
package report

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/port-roi/port-roi-action/internal/port"
)

// The properties and relations of the guide's data model the report reads.
const (
	propStatus       = "status"
	propCreatedAt    = "created_at"
	propDuration     = "duration"
	propCycleTime    = "cycle_time"
	propWaiting      = "waiting_for_approval_duration"
	relParentAction  = "parent_action"
	propLeadBaseline = "lead_time_before" // on action, in hours
	propCycleBase    = "cycle_time"       // on action, in hours (mirrored to action_run as cycle_time_before)
	relCategory      = "category"
)

// Report is the ROI of the organisation's self-service actions over a window. Every number is exact; the
// renderers round for display only.
type Report struct {
	GeneratedAt time.Time `json:"generatedAt"`
	Window      Window    `json:"window"`
	// Totals covers every run in the window, of known and unknown actions.
	Totals Stats `json:"totals"`
	// Categories have at least one run in the window, by hours of lead time saved (most first). Actions
	// without a category relation are grouped under an empty identifier.
	Categories []Group `json:"categories"`
	// Actions have at least one run in the window, by hours of lead time saved (most first).
	Actions []Group `json:"actions"`
	// TopActions are the identifiers of up to five actions that saved the most lead time (positive only).
	TopActions []string `json:"topActions"`
	// UnknownAction covers the runs whose parent_action is missing or names no action entity.
	UnknownAction Stats `json:"unknownAction"`
	// UnknownActionIDs samples the parent_action values of those runs ("" for no relation), at most ten.
	UnknownActionIDs []string `json:"unknownActionIds"`
	// ActionsWithoutRuns are the action entities that had no run in the window.
	ActionsWithoutRuns []Ref `json:"actionsWithoutRuns"`
	// Weeks are the ISO weeks from the window's start (or the first run) to its end (or the last run).
	Weeks []Week `json:"weeks"`
	// UndatedRuns had neither a created_at property nor a $createdAt; they cannot be placed in a window.
	UndatedRuns int `json:"undatedRuns"`
}

// Ref names an entity.
type Ref struct {
	Identifier string `json:"identifier"`
	Title      string `json:"title"`
}

// Group is the statistics of one category or one action.
type Group struct {
	Identifier string `json:"identifier"`
	Title      string `json:"title"`
	// Category is an action's category identifier (empty without one); CategoryTitle its title.
	Category      string `json:"category,omitempty"`
	CategoryTitle string `json:"categoryTitle,omitempty"`
	// Actions is, for a category, the number of its actions with runs in the window.
	Actions int `json:"actions,omitempty"`
	// LeadTimeBeforeHours and CycleTimeBeforeHours are an action's baselines; nil when not set (or 0).
	LeadTimeBeforeHours  *float64 `json:"leadTimeBeforeHours,omitempty"`
	CycleTimeBeforeHours *float64 `json:"cycleTimeBeforeHours,omitempty"`
	Stats
}

// Stats are the numbers of a set of runs.
type Stats struct {
	Runs               int `json:"runs"`
	Successful         int `json:"successful"`
	Failed             int `json:"failed"`
	InProgress         int `json:"inProgress"`
	WaitingForApproval int `json:"waitingForApproval"`
	Declined           int `json:"declined"`
	OtherStatus        int `json:"otherStatus"` // no status, or one the guide does not define
	// SuccessRate and FailureRate are percentages of all runs (in-progress ones included), as the guide's
	// success_rate and overall_failure_rate; 0 without runs.
	SuccessRate  float64 `json:"successRatePercent"`
	FailureRate  float64 `json:"failureRatePercent"`
	LeadTime     Savings `json:"leadTimeSaved"`
	CycleTime    Savings `json:"cycleTimeSaved"`
	ApprovalWait Wait    `json:"approvalWait"`
}

// Savings is the time saved against one baseline, in hours.
type Savings struct {
	// Hours is the sum of the savings of the measured runs, negative ones included.
	Hours float64 `json:"hours"`
	// HoursPerRun is Hours divided by MeasuredRuns (0 without any).
	HoursPerRun float64 `json:"hoursPerRun"`
	// MeasuredRuns are the successful runs with a baseline and a measured time.
	MeasuredRuns int `json:"measuredRuns"`
	// NoBaselineRuns are the successful runs of actions without this baseline (or of unknown actions).
	NoBaselineRuns int `json:"noBaselineRuns"`
	// NotMeasuredRuns are the successful runs with a baseline but without the run's duration or cycle_time.
	NotMeasuredRuns int `json:"notMeasuredRuns"`
	// NegativeRuns took longer than the baseline; NegativeHours (≤ 0) is their part of Hours.
	NegativeRuns  int     `json:"negativeRuns"`
	NegativeHours float64 `json:"negativeHours"`
}

// Wait is the time runs spent waiting for approval, in hours.
type Wait struct {
	Hours        float64 `json:"hours"`
	Runs         int     `json:"runs"` // runs that waited (a waiting_for_approval_duration above 0)
	AverageHours float64 `json:"averageHours"`
	MaxHours     float64 `json:"maxHours"`
}

// Week is one ISO week of runs, by the week of their creation (UTC).
type Week struct {
	Week       string    `json:"week"`  // "2026-W09"
	Start      time.Time `json:"start"` // its Monday, 00:00 UTC
	Runs       int       `json:"runs"`
	Successful int       `json:"successful"`
	// LeadTimeHours and CycleTimeHours are the savings of the week's measured runs.
	LeadTimeHours  float64 `json:"leadTimeHours"`
	CycleTimeHours float64 `json:"cycleTimeHours"`
}

// JSON returns the report as indented JSON.
func (r *Report) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// maxUnknownIDs bounds the sample of unknown parent actions, so that memory stays bounded.
const maxUnknownIDs = 10

// Aggregator folds categories, actions and runs into a Report. Add every category and every action first,
// then the runs, in any order and a page at a time; it keeps one accumulator per action and per ISO week,
// never the runs. It is not safe for concurrent use.
type Aggregator struct {
	window     Window
	categories map[string]string // identifier → title
	actions    map[string]*actionAcc
	unknown    acc
	unknownIDs []string
	weeks      map[int]*Week // year*100 + ISO week
	first      time.Time     // the earliest and latest run times in the window
	last       time.Time
	undated    int
}

type actionAcc struct {
	ref      Ref
	category string
	lead     *float64 // baselines in hours; nil when not set
	cycle    *float64
	acc      acc
}

// acc accumulates the runs of one action; Stats are derived from it at the end.
type acc struct {
	runs, successful, failed, inProgress, waiting, declined, other int
	lead, cycle                                                    saving
	waitSeconds, waitMaxSeconds                                    float64
	waitRuns                                                       int
}

type saving struct {
	hours                                   float64
	measured, noBaseline, notMeasured, negs int
	negHours                                float64
}

// NewAggregator returns an aggregator of the runs in w.
func NewAggregator(w Window) *Aggregator {
	return &Aggregator{window: w, categories: map[string]string{}, actions: map[string]*actionAcc{}, weeks: map[int]*Week{}}
}

// AddCategory records an actions_categories entity.
func (a *Aggregator) AddCategory(e port.Entity) { a.categories[e.Identifier] = e.Title }

// AddAction records an action entity: its title, category and baselines.
func (a *Aggregator) AddAction(e port.Entity) {
	a.actions[e.Identifier] = &actionAcc{
		ref:      Ref{Identifier: e.Identifier, Title: e.Title},
		category: relationID(e.Relations[relCategory]),
		lead:     baseline(e.Properties[propLeadBaseline]),
		cycle:    baseline(e.Properties[propCycleBase]),
	}
}

// AddRun folds one action_run entity into its action's accumulator, if it was created in the window.
func (a *Aggregator) AddRun(e port.Entity) {
	t, dated := runTime(e)
	if !dated {
		if a.window.Bounded() {
			return // cannot be in a bounded window
		}
		a.undated++
	} else if !a.window.Contains(t) {
		return
	}

	parent := relationID(e.Relations[relParentAction])
	target := &a.unknown
	var lead, cycle *float64
	if act, ok := a.actions[parent]; ok {
		target, lead, cycle = &act.acc, act.lead, act.cycle
	} else if len(a.unknownIDs) < maxUnknownIDs && !slices.Contains(a.unknownIDs, parent) {
		a.unknownIDs = append(a.unknownIDs, parent)
	}

	p := e.Properties
	status, _ := p[propStatus].(string)
	saved, measured := target.add(status, p, lead, cycle)
	if !dated {
		return
	}
	if a.first.IsZero() || t.Before(a.first) {
		a.first = t
	}
	if t.After(a.last) {
		a.last = t
	}
	y, wk := t.ISOWeek()
	w := a.weeks[y*100+wk]
	if w == nil {
		w = &Week{Week: weekLabel(y, wk), Start: weekStart(t)}
		a.weeks[y*100+wk] = w
	}
	w.Runs++
	if status == port.RunSuccess {
		w.Successful++
	}
	if measured {
		w.LeadTimeHours += saved.lead
		w.CycleTimeHours += saved.cycle
	}
}

// runSavings is what one run saved, in hours.
type runSavings struct{ lead, cycle float64 }

// add counts one run and returns its savings (ok when it saved anything measurable).
func (c *acc) add(status string, p map[string]any, lead, cycle *float64) (runSavings, bool) {
	c.runs++
	switch status {
	case port.RunSuccess:
		c.successful++
	case port.RunFailure:
		c.failed++
	case port.RunInProgress:
		c.inProgress++
	case port.RunWaitingForApproval:
		c.waiting++
	case port.RunDeclined:
		c.declined++
	default:
		c.other++
	}
	// The guide's aggregation sums waiting_for_approval_duration over every run that has it.
	if w, ok := number(p[propWaiting]); ok {
		c.waitSeconds += w
		if w > 0 {
			c.waitRuns++
		}
		if w > c.waitMaxSeconds {
			c.waitMaxSeconds = w
		}
	}
	if status != port.RunSuccess {
		return runSavings{}, false
	}
	l, lok := c.lead.add(lead, p[propDuration])
	cy, cok := c.cycle.add(cycle, p[propCycleTime])
	return runSavings{lead: l, cycle: cy}, lok || cok
}

// add applies the guide's calculation property to one successful run: (before·3600 − measured) / 3600.
func (s *saving) add(before *float64, measured any) (float64, bool) {
	if before == nil {
		s.noBaseline++
		return 0, false
	}
	m, ok := number(measured)
	if !ok {
		s.notMeasured++
		return 0, false
	}
	h := (*before*3600 - m) / 3600
	s.measured++
	s.hours += h
	if h < 0 {
		s.negs++
		s.negHours += h
	}
	return h, true
}

func (c *acc) merge(o acc) {
	c.runs += o.runs
	c.successful += o.successful
	c.failed += o.failed
	c.inProgress += o.inProgress
	c.waiting += o.waiting
	c.declined += o.declined
	c.other += o.other
	c.lead.merge(o.lead)
	c.cycle.merge(o.cycle)
	c.waitSeconds += o.waitSeconds
	c.waitRuns += o.waitRuns
	c.waitMaxSeconds = math.Max(c.waitMaxSeconds, o.waitMaxSeconds)
}

func (s *saving) merge(o saving) {
	s.hours += o.hours
	s.measured += o.measured
	s.noBaseline += o.noBaseline
	s.notMeasured += o.notMeasured
	s.negs += o.negs
	s.negHours += o.negHours
}

func (c acc) stats() Stats {
	st := Stats{
		Runs: c.runs, Successful: c.successful, Failed: c.failed, InProgress: c.inProgress,
		WaitingForApproval: c.waiting, Declined: c.declined, OtherStatus: c.other,
		LeadTime: c.lead.savings(), CycleTime: c.cycle.savings(),
		ApprovalWait: Wait{Hours: c.waitSeconds / 3600, Runs: c.waitRuns, MaxHours: c.waitMaxSeconds / 3600},
	}
	if c.runs > 0 {
		st.SuccessRate = float64(c.successful) / float64(c.runs) * 100
		st.FailureRate = float64(c.failed) / float64(c.runs) * 100
	}
	if c.waitRuns > 0 {
		st.ApprovalWait.AverageHours = c.waitSeconds / float64(c.waitRuns) / 3600
	}
	return st
}

func (s saving) savings() Savings {
	out := Savings{Hours: s.hours, MeasuredRuns: s.measured, NoBaselineRuns: s.noBaseline,
		NotMeasuredRuns: s.notMeasured, NegativeRuns: s.negs, NegativeHours: s.negHours}
	if s.measured > 0 {
		out.HoursPerRun = s.hours / float64(s.measured)
	}
	return out
}

// Report returns the report of everything added so far, generated at now.
func (a *Aggregator) Report(now time.Time) *Report {
	r := &Report{
		GeneratedAt: now.UTC(), Window: a.window, UndatedRuns: a.undated,
		Categories: []Group{}, Actions: []Group{}, TopActions: []string{},
		UnknownActionIDs: slices.Clone(a.unknownIDs), ActionsWithoutRuns: []Ref{}, Weeks: []Week{},
	}
	if r.UnknownActionIDs == nil {
		r.UnknownActionIDs = []string{}
	}
	var total acc
	type catAcc struct {
		acc     acc
		actions int
	}
	cats := map[string]*catAcc{}
	for _, id := range sortedKeys(a.actions) {
		act := a.actions[id]
		if act.acc.runs == 0 {
			r.ActionsWithoutRuns = append(r.ActionsWithoutRuns, act.ref)
			continue
		}
		total.merge(act.acc)
		c := cats[act.category]
		if c == nil {
			c = &catAcc{}
			cats[act.category] = c
		}
		c.acc.merge(act.acc)
		c.actions++
		r.Actions = append(r.Actions, Group{
			Identifier: id, Title: act.ref.Title, Category: act.category, CategoryTitle: a.categoryTitle(act.category),
			LeadTimeBeforeHours: act.lead, CycleTimeBeforeHours: act.cycle, Stats: act.acc.stats(),
		})
	}
	total.merge(a.unknown)
	r.Totals = total.stats()
	r.UnknownAction = a.unknown.stats()
	for _, id := range sortedKeys(cats) {
		r.Categories = append(r.Categories, Group{Identifier: id, Title: a.categoryTitle(id), Actions: cats[id].actions, Stats: cats[id].acc.stats()})
	}
	byHoursSaved := func(x, y Group) int {
		return cmp.Or(
			cmp.Compare(y.LeadTime.Hours, x.LeadTime.Hours),
			cmp.Compare(y.CycleTime.Hours, x.CycleTime.Hours),
			cmp.Compare(y.Runs, x.Runs),
			cmp.Compare(x.Identifier, y.Identifier))
	}
	slices.SortStableFunc(r.Actions, byHoursSaved)
	slices.SortStableFunc(r.Categories, byHoursSaved)
	for _, g := range r.Actions {
		if len(r.TopActions) == 5 || g.LeadTime.Hours <= 0 {
			break
		}
		r.TopActions = append(r.TopActions, g.Identifier)
	}
	r.Weeks = a.weekSeries()
	return r
}

// categoryTitle is a category's title, its identifier when it has none or is not an entity, and
// "No category" for actions without one.
func (a *Aggregator) categoryTitle(id string) string {
	if id == "" {
		return "No category"
	}
	if t := a.categories[id]; t != "" {
		return t
	}
	return id
}

// weekSeries lists every ISO week from the window's start (or the first run) to its end (or the last run),
// with zeros for the weeks without runs.
func (a *Aggregator) weekSeries() []Week {
	if a.first.IsZero() {
		return []Week{}
	}
	from, to := a.first, a.last
	if !a.window.From.IsZero() {
		from = a.window.From
	}
	if !a.window.To.IsZero() {
		to = a.window.To.Add(-time.Nanosecond)
	}
	var out []Week
	for s := weekStart(from); !s.After(to); s = s.AddDate(0, 0, 7) {
		y, wk := s.ISOWeek()
		if w := a.weeks[y*100+wk]; w != nil {
			out = append(out, *w)
		} else {
			out = append(out, Week{Week: weekLabel(y, wk), Start: s})
		}
	}
	return out
}

func weekLabel(year, week int) string { return fmt.Sprintf("%04d-W%02d", year, week) }

// weekStart is the Monday 00:00 UTC of t's ISO week.
func weekStart(t time.Time) time.Time {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
}

// runTime is when a run was created: its created_at property (the Port run's createdAt, written by the
// automation), else the entity's $createdAt.
func runTime(e port.Entity) (time.Time, bool) {
	if s, ok := e.Properties[propCreatedAt].(string); ok {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC(), true
		}
	}
	if e.CreatedAt != nil && !e.CreatedAt.IsZero() {
		return e.CreatedAt.UTC(), true
	}
	return time.Time{}, false
}

// baseline reads a baseline in hours. Missing, null, 0 and negative values are "not set": the guide's
// workflow stores 0 for a field left blank, and no request ever took no time before self-service.
func baseline(v any) *float64 {
	f, ok := number(v)
	if !ok || f <= 0 {
		return nil
	}
	return &f
}

// number reads a finite JSON number.
func number(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return 0, false
		}
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// relationID reads a single relation: an identifier, a one-element array, or an {"identifier": …} object.
func relationID(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		if len(x) == 1 {
			return relationID(x[0])
		}
	case map[string]any:
		if id, ok := x["identifier"].(string); ok {
			return id
		}
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
