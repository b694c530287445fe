package roimodel

// Identifiers of the guide's self-service action, AI agent and dashboard.
const (
	// SetupActionID is the self-service action that dispatches the workflow registering a new action.
	SetupActionID = "setup_new_action"
	// DefaultWorkflow is the workflow file setup_new_action dispatches in the guide.
	DefaultWorkflow = "create-port-automation.yml"

	// AgentBlueprint is Port's system blueprint of AI agents; organisations without Port AI do not have it.
	AgentBlueprint = "_ai_agent"
	// AgentID is the guide's AI agent, an entity of AgentBlueprint.
	AgentID = "actions_assistant"

	// DashboardID is the identifier of the "Actions ROI" dashboard page; the page lives at <app URL>/<DashboardID>.
	DashboardID = "actions_roi"
	// AgentWidgetID is the dashboard's AI agent widget, left out when the organisation has no AI agents.
	AgentWidgetID = "actions_roi_ai_assistant"
)

// Placeholders of setup_new_action's GitHub backend, as the guide prints them.
const (
	orgPlaceholder  = "<YOUR-ORG-NAME>"
	repoPlaceholder = "<YOUR-REPO-NAME>"
)

// SetupActionFor returns setup_new_action with its GitHub backend pointing at org/repo and the workflow file
// (DefaultWorkflow when empty), the placeholders of the guide filled in.
func SetupActionFor(org, repo, workflow string) map[string]any {
	def := SetupAction()
	inv := def["invocationMethod"].(map[string]any)
	inv["org"], inv["repo"] = org, repo
	if workflow != "" {
		inv["workflow"] = workflow
	}
	return def
}

// Dashboard returns a fresh copy of the "Actions ROI" dashboard page (POST /v1/pages): one root
// dashboard-widget holding the guide's number charts (hours saved on lead time and on cycle time, time waiting
// for approval, each the sum of an aggregation property of the action blueprint) and, withAgent, the AI agent
// widget of actions_assistant. Without the agent its widget and layout row are left out; every layout row
// still sums to 12 columns.
func Dashboard(withAgent bool) map[string]any {
	page := mustLoad("defs/page_actions_roi.json")
	if withAgent {
		return page
	}
	root := page["widgets"].([]any)[0].(map[string]any)
	var widgets []any
	for _, w := range root["widgets"].([]any) {
		if w.(map[string]any)["id"] != AgentWidgetID {
			widgets = append(widgets, w)
		}
	}
	var layout []any
	for _, row := range root["layout"].([]any) {
		columns := row.(map[string]any)["columns"].([]any)
		if len(columns) == 1 && columns[0].(map[string]any)["id"] == AgentWidgetID {
			continue
		}
		layout = append(layout, row)
	}
	root["widgets"], root["layout"] = widgets, layout
	return page
}

// NumberChart is a number chart of a dashboard that aggregates one property of a blueprint's entities
// (chartType aggregateByProperty).
type NumberChart struct {
	ID, Title, Description string
	Blueprint, Property    string
	Func                   string // sum, average, min, max or median
	Unit                   string // e.g. "hours" for unit custom with unitCustom "hours"
}

// NumberCharts returns the aggregate-by-property number charts of a dashboard page (Dashboard's, or a page as
// Port returns it), in widget order, looking inside dashboard-widgets.
func NumberCharts(page map[string]any) []NumberChart {
	var out []NumberChart
	var walk func(widgets any)
	walk = func(widgets any) {
		list, _ := widgets.([]any)
		for _, w := range list {
			m, _ := w.(map[string]any)
			s := func(k string) string { v, _ := m[k].(string); return v }
			switch {
			case s("type") == "dashboard-widget":
				walk(m["widgets"])
			case s("type") == "entities-number-chart" && s("chartType") == "aggregateByProperty" && s("calculationBy") == "property":
				unit := s("unit")
				if unit == "custom" {
					unit = s("unitCustom")
				}
				out = append(out, NumberChart{ID: s("id"), Title: s("title"), Description: s("description"),
					Blueprint: s("blueprint"), Property: s("property"), Func: s("func"), Unit: unit})
			}
		}
	}
	walk(page["widgets"])
	return out
}
