package bootstrap

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/port-roi/port-roi-action/internal/ghaction"
	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/register"
	"github.com/port-roi/port-roi-action/internal/roimodel"
	"github.com/port-roi/port-roi-action/internal/runlog"
)

// org is an emulated Port organisation and a client for it.
type org struct {
	emu    *portemu.Server
	client *port.Client
}

func newOrg(t *testing.T, opts ...portemu.Option) *org {
	t.Helper()
	emu := portemu.New(opts...)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c, err := port.New(srv.URL, port.Credentials{ClientID: portemu.DemoClientID, ClientSecret: portemu.DemoClientSecret},
		port.WithRetries(2, time.Millisecond, 2*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	return &org{emu: emu, client: c}
}

var testInputs = Inputs{Org: "acme", Repo: "platform", Workflow: roimodel.DefaultWorkflow,
	Categories: []Category{{"infrastructure", "Infrastructure"}, {"security", "Security"}}}

// bootstrap runs bootstrap with a fresh request log and returns the result, the error, the log and the
// requests it sent.
func (o *org) bootstrap(t *testing.T, in Inputs, dryRun bool) (Result, error, string, []portemu.Request) {
	t.Helper()
	o.emu.ResetRequests()
	var out bytes.Buffer
	gh := ghaction.New(func(string) string { return "" }, &out)
	rep := runlog.New(t.Context(), gh, nil, "")
	res, err := Run(t.Context(), o.client, rep, in, Options{AppURL: "https://app.port.io", DryRun: dryRun})
	rep.Close(context.Background(), port.RunLog{})
	return res, err, out.String(), o.emu.Requests()
}

// writes lists the requests that would change Port, as "METHOD path".
func writes(reqs []portemu.Request) []string {
	var out []string
	for _, r := range reqs {
		if r.Method != http.MethodGet && r.Path != "/v1/auth/access_token" {
			out = append(out, r.Method+" "+r.Path)
		}
	}
	return out
}

// outcomes maps "kind id" to the outcome of each object.
func outcomes(res Result) map[string]register.Outcome {
	m := map[string]register.Outcome{}
	for _, o := range res.Objects {
		m[string(o.Kind)+" "+o.ID] = o.Outcome
	}
	return m
}

func allOutcomes(o register.Outcome, withAgent bool) map[string]register.Outcome {
	m := map[string]register.Outcome{
		"Blueprint actions_categories": o, "Blueprint action": o, "Blueprint action_run": o,
		"Self-service action setup_new_action": o, "Category infrastructure": o, "Category security": o,
		"AI agent actions_assistant": o, "Dashboard actions_roi": o,
	}
	if !withAgent {
		m["AI agent actions_assistant"] = register.Skipped
	}
	return m
}

// guideDrift is register.Drift (every field the guide sets reads back equal; what users added does not
// count), except that an array of strings the guide sets only needs all its items in Port's: users may add
// enum values or allowed blueprints.
func guideDrift(want, got any) []string {
	w, g := normalize(want), normalize(got)
	return register.Drift(w, widen(w, g))
}

// widen replaces, inside got, every array of scalars that holds all the items of want's array by want's.
func widen(want, got any) any {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return got
		}
		out := map[string]any{}
		for k, v := range g {
			out[k] = widen(w[k], v)
		}
		return out
	case []any:
		g, ok := got.([]any)
		if !ok || !scalars(w) || !scalars(g) {
			return got
		}
		for _, item := range w {
			if !slices.ContainsFunc(g, func(x any) bool { return equal(x, item) }) {
				return got
			}
		}
		return w
	}
	return got
}

// checkGuideSetup checks that Port holds the guide's definitions (guideDrift) and the categories of in.
func checkGuideSetup(t *testing.T, emu *portemu.Server, in Inputs, withAgent bool) {
	t.Helper()
	for _, def := range roimodel.Blueprints() {
		id := def["identifier"].(string)
		got, ok := emu.Blueprint(id)
		if !ok {
			t.Errorf("blueprint %s missing", id)
			continue
		}
		if d := guideDrift(def, got); len(d) > 0 {
			t.Errorf("blueprint %s differs from the guide in %v", id, d)
		}
	}
	action, ok := emu.Action(roimodel.SetupActionID)
	if !ok {
		t.Fatal("setup_new_action missing")
	}
	if d := guideDrift(roimodel.SetupActionFor(in.Org, in.Repo, in.Workflow), action); len(d) > 0 {
		t.Errorf("setup_new_action differs in %v", d)
	}
	checkDashboard(t, emu, withAgent)
	agent, ok := emu.Entity(roimodel.AgentBlueprint, roimodel.AgentID)
	if ok != withAgent {
		t.Fatalf("agent present = %v, want %v", ok, withAgent)
	}
	if withAgent {
		want := roimodel.Agent()
		if d := guideDrift(map[string]any{"title": want["title"], "icon": want["icon"], "properties": want["properties"]},
			map[string]any{"title": agent.Title, "icon": agent.Icon, "properties": agent.Properties}); len(d) > 0 {
			t.Errorf("agent differs in %v", d)
		}
	}
	for _, c := range in.Categories {
		if e, ok := emu.Entity(roimodel.CategoriesBlueprint, c.Identifier); !ok || e.Title != c.Title {
			t.Errorf("category %s = %+v, %v", c.Identifier, e, ok)
		}
	}
}

// checkDashboard checks that the dashboard's root dashboard-widget holds each of the guide's widgets (found by
// id, with the guide's fields) and places each in a layout row.
func checkDashboard(t *testing.T, emu *portemu.Server, withAgent bool) {
	t.Helper()
	page, ok := emu.Page(roimodel.DashboardID)
	if !ok {
		t.Fatal("dashboard missing")
	}
	want := roimodel.Dashboard(withAgent)
	if d := guideDrift(map[string]any{"title": want["title"], "type": want["type"]}, page); len(d) > 0 {
		t.Errorf("dashboard differs in %v", d)
	}
	root := page["widgets"].([]any)[0].(map[string]any)
	placed := map[string]bool{}
	for _, row := range root["layout"].([]any) {
		for _, id := range columnIDs(row) {
			placed[id] = true
		}
	}
	for _, w := range want["widgets"].([]any)[0].(map[string]any)["widgets"].([]any) {
		id := widgetID(w)
		i := slices.IndexFunc(root["widgets"].([]any), func(g any) bool { return widgetID(g) == id })
		if i < 0 {
			t.Errorf("dashboard lacks widget %s", id)
			continue
		}
		if d := guideDrift(w, root["widgets"].([]any)[i]); len(d) > 0 {
			t.Errorf("widget %s differs in %v", id, d)
		}
		if !placed[id] {
			t.Errorf("widget %s is in no layout row", id)
		}
	}
}

func TestFromEmptyOrganisationThenNothingToDo(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	res, err, log, reqs := o.bootstrap(t, testInputs, false)
	if err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, log)
	}
	if diff := cmp.Diff(allOutcomes(register.Created, true), outcomes(res)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s\n%s", diff, log)
	}
	checkGuideSetup(t, o.emu, testInputs, true)
	// Four stages: bare blueprints, relations, mirrors and calculations, aggregations; then the rest.
	wantWrites := []string{
		"POST /v1/blueprints", "POST /v1/blueprints", "POST /v1/blueprints",
		"PATCH /v1/blueprints/action", "PATCH /v1/blueprints/action_run",
		"PATCH /v1/blueprints/action", "PATCH /v1/blueprints/action_run",
		"PATCH /v1/blueprints/action",
		"POST /v1/actions",
		"POST /v1/blueprints/actions_categories/entities", "POST /v1/blueprints/actions_categories/entities",
		"POST /v1/blueprints/_ai_agent/entities",
		"POST /v1/pages",
	}
	if diff := cmp.Diff(wantWrites, writes(reqs)); diff != "" {
		t.Errorf("writes (-want +got):\n%s", diff)
	}
	if res.DashboardURL != "https://app.port.io/actions_roi" || res.AgentSkipped {
		t.Errorf("result = %+v", res)
	}

	res, err, log, reqs = o.bootstrap(t, testInputs, false)
	if err != nil {
		t.Fatalf("second bootstrap: %v\n%s", err, log)
	}
	if w := writes(reqs); len(w) > 0 {
		t.Errorf("second run wrote %v", w)
	}
	if diff := cmp.Diff(allOutcomes(register.Unchanged, true), outcomes(res)); diff != "" {
		t.Errorf("second run outcomes (-want +got):\n%s", diff)
	}
	for _, want := range []string{`✅ Blueprint "action" is up to date`, `✅ Dashboard "actions_roi" is up to date`,
		`✅ Category "security" (Security) is up to date`} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

// without returns a copy of def without the listed keys; "group.key" removes one entry of a group.
func without(def map[string]any, keys ...string) map[string]any {
	out := normalizeObject(def)
	for _, k := range keys {
		if g, entry, ok := strings.Cut(k, "."); ok {
			delete(out[g].(map[string]any), entry)
			continue
		}
		delete(out, k)
	}
	return out
}

func guideBlueprint(id string) map[string]any {
	for _, def := range roimodel.Blueprints() {
		if def["identifier"] == id {
			return def
		}
	}
	panic(id)
}

// userAction is an action blueprint a team made by hand before adopting the guide: other title, some
// properties of its own and one of the guide's, a relation to users, a calculation.
func userAction() map[string]any {
	return decodeJSON(`{
		"identifier": "action", "title": "Our actions", "icon": "Rocket",
		"schema": {"properties": {
			"runbook": {"type": "string", "format": "url", "title": "Runbook"},
			"lead_time_before": {"type": "number", "title": "Lead time (h)"},
			"criticality": {"type": "string", "enum": ["Tier 1", "Tier 2", "Tier 3", "Tier 0"]}
		}, "required": []},
		"relations": {"maintainer": {"title": "Maintainer", "target": "_user", "required": false, "many": false}},
		"calculationProperties": {"runbook_set": {"type": "boolean", "calculation": ".properties.runbook != null"}}
	}`)
}

// Whatever partial state the organisation is in, bootstrap converges it to the guide's setup, keeps what
// users added, and a second run writes nothing. The emulator refuses relations, mirrors and aggregations
// whose targets do not exist yet, so these runs also prove the order of the writes.
func TestConvergesFromPartialStates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		seed  []map[string]any
		check func(t *testing.T, emu *portemu.Server)
	}{
		{
			name: "only actions_categories exists",
			seed: []map[string]any{guideBlueprint(roimodel.CategoriesBlueprint)},
		},
		{
			name: "action without aggregations, action_run without parent_action and the mirrors through it",
			seed: []map[string]any{
				guideBlueprint(roimodel.CategoriesBlueprint),
				without(guideBlueprint(roimodel.ActionBlueprint), "aggregationProperties"),
				without(guideBlueprint(roimodel.ActionRunBlueprint), "relations.parent_action", "mirrorProperties.category",
					"mirrorProperties.lead_time_before", "mirrorProperties.cycle_time_before", "mirrorProperties.action",
					"calculationProperties.savings_lead_time_h"),
			},
		},
		{
			name: "a user-made action blueprint, nothing else",
			seed: []map[string]any{userAction()},
			check: func(t *testing.T, emu *portemu.Server) {
				bp, _ := emu.Blueprint(roimodel.ActionBlueprint)
				props := group(bp, "schema.properties")
				if props["runbook"] == nil || group(bp, "relations")["maintainer"] == nil || group(bp, "calculationProperties")["runbook_set"] == nil {
					t.Errorf("user additions lost: %v", bp)
				}
				enum := props["criticality"].(map[string]any)["enum"]
				if diff := cmp.Diff([]any{"Tier 1", "Tier 2", "Tier 3", "Tier 0"}, enum); diff != "" {
					t.Errorf("criticality enum (-want +got):\n%s", diff)
				}
				if bp["title"] != "Action" || props["lead_time_before"].(map[string]any)["title"] != "Lead time before(h)" {
					t.Errorf("the guide's titles were not set: %v", bp)
				}
			},
		},
		{
			name: "all three blueprints bare, as if the first stage of an earlier run was all that got through",
			seed: []map[string]any{
				without(guideBlueprint(roimodel.CategoriesBlueprint), "relations", "mirrorProperties", "calculationProperties", "aggregationProperties"),
				without(guideBlueprint(roimodel.ActionBlueprint), "relations", "ownership", "mirrorProperties", "calculationProperties", "aggregationProperties"),
				without(guideBlueprint(roimodel.ActionRunBlueprint), "relations", "mirrorProperties", "calculationProperties", "aggregationProperties"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := newOrg(t, portemu.WithBlueprints(tt.seed...))
			res, err, log, _ := o.bootstrap(t, testInputs, false)
			if err != nil {
				t.Fatalf("bootstrap: %v\n%s", err, log)
			}
			for _, obj := range res.Objects {
				if obj.Outcome == register.Failed || obj.Outcome == register.Skipped {
					t.Errorf("%s %s: %s", obj.Kind, obj.ID, obj.Outcome)
				}
			}
			checkGuideSetup(t, o.emu, testInputs, true)
			if tt.check != nil {
				tt.check(t, o.emu)
			}
			res, err, log, reqs := o.bootstrap(t, testInputs, false)
			if err != nil {
				t.Fatalf("second bootstrap: %v\n%s", err, log)
			}
			if w := writes(reqs); len(w) > 0 {
				t.Errorf("second run wrote %v\n%s", w, log)
			}
			if n := res.Count(register.Unchanged); n != len(res.Objects) {
				t.Errorf("second run: %d of %d unchanged", n, len(res.Objects))
			}
		})
	}
}

func decodeJSON(s string) map[string]any {
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		panic(err)
	}
	return v
}

// Objects users extended keep their additions: a hand-made dashboard with a widget of its own, a
// setup_new_action with an extra input pointing at another repository, an agent allowed more blueprints.
func TestKeepsUserAdditions(t *testing.T) {
	t.Parallel()
	o := newOrg(t, portemu.WithBlueprints(roimodel.Blueprints()...))
	ctx := t.Context()
	if err := o.client.CreatePage(ctx, decodeJSON(`{"identifier": "actions_roi", "title": "Our ROI", "type": "dashboard",
		"widgets": [{"id": "root", "type": "dashboard-widget", "layout": [
			{"height": 400, "columns": [{"id": "mine", "size": 6}, {"id": "actions_roi_hours_saved", "size": 6}]}],
		"widgets": [
			{"id": "mine", "type": "markdown", "title": "Read me", "markdown": "hello"},
			{"id": "actions_roi_hours_saved", "type": "entities-number-chart", "title": "Hours", "blueprint": "action",
			 "chartType": "aggregateByProperty", "calculationBy": "property", "func": "sum", "property": "total_lead_time_savings_h",
			 "unit": "custom", "unitCustom": "hours", "dataset": {"combinator": "and", "rules": []}, "icon": "Metric", "description": "Lead time"}
		]}]}`)); err != nil {
		t.Fatal(err)
	}
	setup := roimodel.SetupActionFor("someone-else", "old-repo", "")
	setup["trigger"].(map[string]any)["userInputs"].(map[string]any)["properties"].(map[string]any)["ticket"] = map[string]any{"type": "string", "title": "Ticket"}
	if _, err := o.client.CreateAction(ctx, setup); err != nil {
		t.Fatal(err)
	}
	agent := roimodel.Agent()
	agent["properties"].(map[string]any)["allowed_blueprints"] = []any{"service", "action"}
	if _, err := o.client.UpsertEntity(ctx, roimodel.AgentBlueprint, port.Entity{Identifier: roimodel.AgentID, Title: "Our assistant",
		Properties: agent["properties"].(map[string]any)}, port.UpsertOptions{}); err != nil {
		t.Fatal(err)
	}

	in := Inputs{Org: "acme", Repo: "platform", Workflow: roimodel.DefaultWorkflow}
	res, err, log, _ := o.bootstrap(t, in, false)
	if err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, log)
	}
	wantDrift := map[string][]string{
		"setup_new_action":  {`~ invocationMethod.org: "someone-else" → "acme"`, `~ invocationMethod.repo: "old-repo" → "platform"`},
		"actions_assistant": {"+ icon", "~ properties.allowed_blueprints", `~ title: "Our assistant" → "Actions assistant"`},
		"actions_roi": {
			"+ description", "+ icon", `~ title: "Our ROI" → "Actions ROI"`,
			`~ widgets.actions_roi_hours_saved.title: "Hours" → "Total hours saved"`,
			"+ widgets.actions_roi_processing_time_saved (Total processing time saved)",
			"+ widgets.actions_roi_waiting_for_approval (Total time waiting for approval)",
			"+ widgets.actions_roi_ai_assistant (Actions AI assistant)",
			"+ layout row: actions_roi_processing_time_saved, actions_roi_waiting_for_approval",
			"+ layout row: actions_roi_ai_assistant",
		},
	}
	for _, obj := range res.Objects {
		want, ok := wantDrift[obj.ID]
		if !ok {
			continue
		}
		if diff := cmp.Diff(want, obj.Drift); diff != "" || obj.Outcome != register.Updated {
			t.Errorf("%s: %s, drift (-want +got):\n%s", obj.ID, obj.Outcome, diff)
		}
	}
	checkGuideSetup(t, o.emu, in, true)

	page, _ := o.emu.Page(roimodel.DashboardID)
	root := page["widgets"].([]any)[0].(map[string]any)
	var ids []string
	for _, w := range root["widgets"].([]any) {
		ids = append(ids, w.(map[string]any)["id"].(string))
	}
	if diff := cmp.Diff([]string{"mine", "actions_roi_hours_saved", "actions_roi_processing_time_saved",
		"actions_roi_waiting_for_approval", "actions_roi_ai_assistant"}, ids); diff != "" {
		t.Errorf("widgets (-want +got):\n%s", diff)
	}
	wantLayout := decodeJSON(`{"layout": [
		{"height": 400, "columns": [{"id": "mine", "size": 6}, {"id": "actions_roi_hours_saved", "size": 6}]},
		{"height": 400, "columns": [{"id": "actions_roi_processing_time_saved", "size": 6}, {"id": "actions_roi_waiting_for_approval", "size": 6}]},
		{"height": 600, "columns": [{"id": "actions_roi_ai_assistant", "size": 12}]}]}`)["layout"]
	if diff := cmp.Diff(wantLayout, root["layout"]); diff != "" {
		t.Errorf("layout (-want +got):\n%s", diff)
	}
	if root["id"] != "root" {
		t.Errorf("their root widget was replaced: %v", root["id"])
	}
	action, _ := o.emu.Action(roimodel.SetupActionID)
	if group(action, "trigger.userInputs.properties")["ticket"] == nil {
		t.Errorf("the user's input was dropped: %v", action["trigger"])
	}
	e, _ := o.emu.Entity(roimodel.AgentBlueprint, roimodel.AgentID)
	if diff := cmp.Diff([]any{"service", "action", "action_run", "actions_categories", "_user", "_team"}, e.Properties["allowed_blueprints"]); diff != "" {
		t.Errorf("allowed_blueprints (-want +got):\n%s", diff)
	}
}

func TestDryRunWritesNothingAndPrintsThePlan(t *testing.T) {
	t.Parallel()
	o := newOrg(t, portemu.WithBlueprints(guideBlueprint(roimodel.CategoriesBlueprint),
		without(guideBlueprint(roimodel.ActionBlueprint), "aggregationProperties.total_runs", "calculationProperties.success_rate")))
	res, err, log, reqs := o.bootstrap(t, testInputs, true)
	if err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, log)
	}
	if w := writes(reqs); len(w) > 0 {
		t.Errorf("dry run wrote %v", w)
	}
	want := allOutcomes(register.WouldCreate, true)
	want["Blueprint actions_categories"] = register.Unchanged
	want["Blueprint action"] = register.WouldUpdate
	if diff := cmp.Diff(want, outcomes(res)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	for _, line := range []string{
		`✅ Blueprint "actions_categories" is up to date`,
		`🔄 Blueprint "action" would be updated:`,
		`    + aggregationProperties.total_runs`,
		`    + calculationProperties.success_rate`,
		`➕ Blueprint "action_run" would be created with 8 properties, 2 relations, 7 mirror properties, 4 calculation properties`,
		`➕ Self-service action "setup_new_action" would be created, dispatching create-port-automation.yml in acme/platform`,
		`➕ Category "infrastructure" would be created with title "Infrastructure"`,
		`➕ AI agent "actions_assistant" would be created`,
		`➕ Dashboard "actions_roi" would be created with the widgets "Total hours saved", "Total processing time saved", "Total time waiting for approval", "Actions AI assistant"`,
	} {
		if !slices.Contains(strings.Split(log, "\n"), line) {
			t.Errorf("plan lacks %q:\n%s", line, log)
		}
	}
	if res.IDs(register.Created, register.Updated) != nil {
		t.Errorf("dry run reports changes as done: %v", res.IDs(register.Created, register.Updated))
	}
}

func TestWithoutAIAgents(t *testing.T) {
	t.Parallel()
	o := newOrg(t, portemu.WithoutAIAgents())
	res, err, log, reqs := o.bootstrap(t, testInputs, false)
	if err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, log)
	}
	if !res.AgentSkipped {
		t.Error("AgentSkipped not set")
	}
	if diff := cmp.Diff(allOutcomes(register.Created, false), outcomes(res)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	checkGuideSetup(t, o.emu, testInputs, false)
	if !strings.Contains(log, "⏭️ Skipped: this organisation has no AI agents (no _ai_agent blueprint)") {
		t.Errorf("no notice about the agent:\n%s", log)
	}
	for _, r := range reqs {
		if strings.Contains(r.Path, "_ai_agent/entities") {
			t.Errorf("sent %s %s", r.Method, r.Path)
		}
	}
	page, _ := o.emu.Page(roimodel.DashboardID)
	if strings.Contains(string(encode(page)), "ai-agent") {
		t.Errorf("the page has an AI agent widget: %v", page)
	}
	// Once Port AI is there, a run adds the agent and its widget (simulated here by a new organisation
	// holding the same page).
	o2 := newOrg(t, portemu.WithBlueprints(roimodel.Blueprints()...))
	if err := o2.client.CreatePage(t.Context(), page); err != nil {
		t.Fatal(err)
	}
	res, err, log, _ = o2.bootstrap(t, testInputs, false)
	if err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, log)
	}
	checkGuideSetup(t, o2.emu, testInputs, true)
}

// A blueprint whose property Port could not change to the guide's type fails before anything is written to
// it, with what to do; what does not depend on it is still set up.
func TestClashingPropertyType(t *testing.T) {
	t.Parallel()
	bad := userAction()
	group(bad, "schema.properties")["lead_time_before"] = map[string]any{"type": "string", "title": "Lead time"}
	o := newOrg(t, portemu.WithBlueprints(bad))
	res, err, log, reqs := o.bootstrap(t, testInputs, false)
	if err == nil {
		t.Fatalf("no error\n%s", log)
	}
	want := `blueprint "action" cannot take the guide's definition: property "lead_time_before" is of type string in Port, ` +
		`the guide needs number (Port cannot change a property's type: rename or delete yours first)`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error = %v\nwant %s", err, want)
	}
	for _, w := range writes(reqs) {
		if strings.HasSuffix(w, "/v1/blueprints/action") || strings.Contains(w, "/v1/pages") || w == "POST /v1/actions" {
			t.Errorf("wrote %s", w)
		}
	}
	got := outcomes(res)
	for k, want := range map[string]register.Outcome{
		"Blueprint action": register.Failed, "Blueprint action_run": register.Failed, "Blueprint actions_categories": register.Created,
		"Self-service action setup_new_action": register.Skipped, "Dashboard actions_roi": register.Skipped,
		"Category security": register.Created, "AI agent actions_assistant": register.Created,
	} {
		if got[k] != want {
			t.Errorf("%s: %s, want %s", k, got[k], want)
		}
	}
}

// A run that Port stops half-way leaves a partial state that the next run completes; what depends on a
// blueprint that failed is skipped, not attempted.
func TestFailureHalfWayThenConverges(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	o.emu.InjectFault(portemu.Fault{Method: http.MethodPatch, Path: "/v1/blueprints/action_run", Times: 1, Status: http.StatusUnprocessableEntity})
	res, err, log, _ := o.bootstrap(t, testInputs, false)
	if err == nil || !strings.Contains(err.Error(), `update the relations and ownership of blueprint "action_run": PATCH /v1/blueprints/action_run: 422`) {
		t.Fatalf("error = %v\n%s", err, log)
	}
	want := map[string]register.Outcome{
		"Blueprint actions_categories": register.Created, "Blueprint action": register.Failed, "Blueprint action_run": register.Failed,
		"Self-service action setup_new_action": register.Skipped, "Category infrastructure": register.Created,
		"Category security": register.Created, "AI agent actions_assistant": register.Created, "Dashboard actions_roi": register.Skipped,
	}
	if diff := cmp.Diff(want, outcomes(res)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	if !strings.Contains(log, `blueprint "action" is incomplete: it relates to blueprint "action_run", which could not be set up`) {
		t.Errorf("log:\n%s", log)
	}

	res, err, log, _ = o.bootstrap(t, testInputs, false)
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, log)
	}
	got := outcomes(res)
	for k, want := range map[string]register.Outcome{"Blueprint action": register.Updated, "Blueprint action_run": register.Updated,
		"Self-service action setup_new_action": register.Created, "Dashboard actions_roi": register.Created, "Category security": register.Unchanged} {
		if got[k] != want {
			t.Errorf("second run: %s %s, want %s", k, got[k], want)
		}
	}
	checkGuideSetup(t, o.emu, testInputs, true)
	if _, _, _, reqs := o.bootstrap(t, testInputs, false); len(writes(reqs)) > 0 {
		t.Errorf("third run wrote %v", writes(reqs))
	}
}

// A category whose title was changed in Port gets the title given again, and the change is listed.
func TestCategoryTitle(t *testing.T) {
	t.Parallel()
	o := newOrg(t, portemu.WithBlueprints(roimodel.Blueprints()...))
	if _, err := o.client.UpsertEntity(t.Context(), roimodel.CategoriesBlueprint, port.Entity{Identifier: "security", Title: "Sec"}, port.UpsertOptions{}); err != nil {
		t.Fatal(err)
	}
	res, err, log, _ := o.bootstrap(t, Inputs{Org: "acme", Repo: "platform", Workflow: "w.yml", Categories: []Category{{"security", "Security"}}}, false)
	if err != nil {
		t.Fatalf("bootstrap: %v\n%s", err, log)
	}
	for _, obj := range res.Objects {
		if obj.Kind == KindCategory {
			if diff := cmp.Diff([]string{`~ title: "Sec" → "Security"`}, obj.Drift); diff != "" || obj.Outcome != register.Updated {
				t.Errorf("%s, drift (-want +got):\n%s", obj.Outcome, diff)
			}
		}
	}
	if e, _ := o.emu.Entity(roimodel.CategoriesBlueprint, "security"); e.Title != "Security" {
		t.Errorf("title = %q", e.Title)
	}
	if !strings.Contains(log, `🔄 Category "security" renamed: title "Sec" → "Security"`) {
		t.Errorf("log:\n%s", log)
	}
}
