package portemu

import (
	"net/http"
	"strings"
	"testing"
)

// A dashboard page follows Port's layout rules (port-api.md §8.1), on create and on update.
func TestDashboardLayoutRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	page := func(layout string) map[string]any {
		return decode(t, `{"identifier": "d", "type": "dashboard", "widgets": [{"id": "root", "type": "dashboard-widget",
			"widgets": [{"id": "a", "type": "markdown"}, {"id": "b", "type": "markdown"}, {"id": "c", "type": "markdown"},
				{"id": "d", "type": "markdown"}, {"id": "e", "type": "markdown"}],
			"layout": `+layout+`}]}`)
	}
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/pages", page(`[{"height": 400, "columns": [{"id": "a", "size": 4}, {"id": "b", "size": 8}]},
		{"height": 600, "columns": [{"id": "c", "size": 3}, {"id": "d", "size": 3}, {"id": "e", "size": 3}, {"id": "a", "size": 3}]}]`))
	cases := []errCase{
		{"sizes sum to 11", http.MethodPost, "/v1/pages", page(`[{"height": 400, "columns": [{"id": "a", "size": 4}, {"id": "b", "size": 7}]}]`), 422, "invalid_request", "sum to 12"},
		{"five columns", http.MethodPost, "/v1/pages", page(`[{"height": 400, "columns": [{"id": "a", "size": 3}, {"id": "b", "size": 3}, {"id": "c", "size": 3}, {"id": "d", "size": 3}, {"id": "e", "size": 0}]}]`), 422, "invalid_request", "1 to 4 columns"},
		{"too narrow", http.MethodPost, "/v1/pages", page(`[{"height": 400, "columns": [{"id": "a", "size": 2}, {"id": "b", "size": 10}]}]`), 422, "invalid_request", "size"},
		{"too low", http.MethodPost, "/v1/pages", page(`[{"height": 300, "columns": [{"id": "a", "size": 12}]}]`), 422, "invalid_request", "height"},
		{"unknown widget", http.MethodPost, "/v1/pages", page(`[{"height": 400, "columns": [{"id": "ghost", "size": 12}]}]`), 422, "invalid_request", `"ghost"`},
		{"no columns", http.MethodPost, "/v1/pages", page(`[{"height": 400, "columns": []}]`), 422, "invalid_request", "columns"},
		{"patch breaks the layout", http.MethodPatch, "/v1/pages/d", map[string]any{"widgets": page(`[{"height": 400, "columns": [{"id": "a", "size": 6}]}]`)["widgets"]}, 422, "invalid_request", "sum to 12"},
		{"widget without a type", http.MethodPost, "/v1/pages", decode(t, `{"identifier": "x", "type": "dashboard", "widgets": [{"id": "r", "type": "dashboard-widget", "layout": [], "widgets": [{"id": "a"}]}]}`), 422, "invalid_request", "type"},
		{"duplicate widget ids", http.MethodPost, "/v1/pages", decode(t, `{"identifier": "x", "type": "dashboard", "widgets": [{"id": "r", "type": "dashboard-widget", "layout": [], "widgets": [{"id": "a", "type": "markdown"}, {"id": "a", "type": "markdown"}]}]}`), 422, "invalid_request", `"a"`},
	}
	runErrCases(t, f, cases)
}

// An aggregation property follows a relation from its target to its blueprint, so the relation comes first.
func TestAggregationNeedsARelation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/blueprints", decode(t, `{"identifier": "parent", "title": "P", "schema": {"properties": {}}}`))
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/blueprints", decode(t, `{"identifier": "child", "title": "C", "schema": {"properties": {"n": {"type": "number"}}}}`))
	agg := decode(t, `{"aggregationProperties": {"total": {"title": "Total", "target": "child", "calculationSpec": {"func": "sum", "property": "n", "calculationBy": "property"}}}}`)
	status, body := f.do(http.MethodPatch, "/v1/blueprints/parent", agg)
	if msg, _ := body["message"].(string); status != http.StatusUnprocessableEntity || body["error"] != "validation_error" ||
		!strings.Contains(msg, `blueprint "child" has no relation to "parent"`) {
		t.Errorf("aggregation before its relation = %d %v", status, body)
	}
	f.mustDo(http.StatusOK, http.MethodPatch, "/v1/blueprints/child", decode(t, `{"relations": {"up": {"target": "parent", "required": false, "many": false}}}`))
	f.mustDo(http.StatusOK, http.MethodPatch, "/v1/blueprints/parent", agg)
	// A pathFilter names the path itself.
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/blueprints", decode(t, `{"identifier": "other", "title": "O", "schema": {"properties": {}},
		"aggregationProperties": {"n": {"title": "n", "target": "child", "pathFilter": [{"path": ["up"]}], "calculationSpec": {"func": "count", "calculationBy": "entities"}}}}`))
}
