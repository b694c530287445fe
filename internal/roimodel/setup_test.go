package roimodel

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The dashboard follows Port's layout rules for a dashboard page (port-api.md §8.1), with and without the
// AI agent widget: one root dashboard-widget; rows at least 400 high, of 1 to 4 columns sized 3 to 12 that sum
// to 12; every column a widget and every widget in a column.
func TestDashboardLayout(t *testing.T) {
	t.Parallel()
	for _, withAgent := range []bool{true, false} {
		page := Dashboard(withAgent)
		if page["identifier"] != DashboardID || page["type"] != "dashboard" || page["title"] != "Actions ROI" {
			t.Errorf("page = %v", page)
		}
		roots := page["widgets"].([]any)
		if len(roots) != 1 || roots[0].(map[string]any)["type"] != "dashboard-widget" {
			t.Fatalf("widgets = %v, want one dashboard-widget", roots)
		}
		root := roots[0].(map[string]any)
		widgets := map[string]string{}
		for _, w := range root["widgets"].([]any) {
			m := w.(map[string]any)
			if _, dup := widgets[m["id"].(string)]; dup {
				t.Errorf("duplicate widget id %v", m["id"])
			}
			widgets[m["id"].(string)] = m["type"].(string)
		}
		placed := map[string]bool{}
		for i, r := range root["layout"].([]any) {
			row := r.(map[string]any)
			if row["height"].(float64) < 400 {
				t.Errorf("row %d: height %v", i, row["height"])
			}
			cols := row["columns"].([]any)
			if len(cols) < 1 || len(cols) > 4 {
				t.Errorf("row %d: %d columns", i, len(cols))
			}
			sum := 0.0
			for _, c := range cols {
				col := c.(map[string]any)
				size := col["size"].(float64)
				if size < 3 || size > 12 {
					t.Errorf("row %d: size %v", i, size)
				}
				sum += size
				id := col["id"].(string)
				if _, ok := widgets[id]; !ok {
					t.Errorf("row %d: column %q names no widget", i, id)
				}
				placed[id] = true
			}
			if sum != 12 {
				t.Errorf("row %d: sizes sum to %v", i, sum)
			}
		}
		for id := range widgets {
			if !placed[id] {
				t.Errorf("widget %q is in no row", id)
			}
		}
		_, hasAgent := widgets[AgentWidgetID]
		if hasAgent != withAgent {
			t.Errorf("withAgent %v: agent widget present %v", withAgent, hasAgent)
		}
	}
}

// The number charts are the guide's: each sums, over the action entities, an aggregation property that the
// action blueprint defines, in hours.
func TestDashboardNumberCharts(t *testing.T) {
	t.Parallel()
	want := []NumberChart{
		{ID: "actions_roi_hours_saved", Title: "Total hours saved", Description: "Lead time", Blueprint: "action", Property: "total_lead_time_savings_h", Func: "sum", Unit: "hours"},
		{ID: "actions_roi_processing_time_saved", Title: "Total processing time saved", Description: "Cycle time", Blueprint: "action", Property: "total_cycle_time_savings_h", Func: "sum", Unit: "hours"},
		{ID: "actions_roi_waiting_for_approval", Title: "Total time waiting for approval", Blueprint: "action", Property: "total_waiting_time_h", Func: "sum", Unit: "hours"},
	}
	if diff := cmp.Diff(want, NumberCharts(Dashboard(true))); diff != "" {
		t.Errorf("charts (-want +got):\n%s", diff)
	}
	var action map[string]any
	for _, bp := range Blueprints() {
		if bp["identifier"] == ActionBlueprint {
			action = bp
		}
	}
	for _, c := range want {
		_, agg := action["aggregationProperties"].(map[string]any)[c.Property]
		_, calc := action["calculationProperties"].(map[string]any)[c.Property]
		if !agg && !calc {
			t.Errorf("chart %q sums %q, which blueprint action does not define", c.Title, c.Property)
		}
	}
	for _, w := range Dashboard(true)["widgets"].([]any)[0].(map[string]any)["widgets"].([]any) {
		if m := w.(map[string]any); m["type"] == "ai-agent" && m["agentIdentifier"] != Agent()["identifier"] {
			t.Errorf("agent widget names %v", m["agentIdentifier"])
		}
	}
}

func TestSetupActionFor(t *testing.T) {
	t.Parallel()
	def := SetupActionFor("acme", "platform", "")
	inv := def["invocationMethod"].(map[string]any)
	if inv["org"] != "acme" || inv["repo"] != "platform" || inv["workflow"] != DefaultWorkflow || inv["type"] != "GITHUB" {
		t.Errorf("invocationMethod = %v", inv)
	}
	b, err := json.Marshal(def)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "<YOUR-") {
		t.Errorf("placeholder left: %s", b)
	}
	if got := SetupActionFor("a", "b", "x.yaml")["invocationMethod"].(map[string]any)["workflow"]; got != "x.yaml" {
		t.Errorf("workflow = %v", got)
	}
	// Fresh copies: changing one leaves the next alone.
	inv["org"] = "changed"
	if SetupAction()["invocationMethod"].(map[string]any)["org"] != orgPlaceholder || def["identifier"] != SetupActionID {
		t.Error("definitions are shared between calls")
	}
}
