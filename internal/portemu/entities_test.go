package portemu

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/port-roi/port-roi-action/internal/roimodel"
)

func TestEntityWriteSemantics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		query      string
		body       string
		wantStatus int
		wantProps  map[string]any
		wantRels   map[string]any
		wantTitle  string
	}{
		{"create applies defaults", "", `{"identifier": "new", "properties": {"name": "n"}}`, 201,
			map[string]any{"name": "n", "tier": "a"}, map[string]any{}, ""},
		{"upsert replaces", "?upsert=true", `{"identifier": "base", "properties": {"name": "m"}}`, 200,
			map[string]any{"name": "m", "tier": "a"}, map[string]any{}, ""},
		{"upsert merge updates only what is sent", "?upsert=true&merge=true", `{"identifier": "base", "properties": {"port": 9, "tags": null}, "relations": {"owner": "other@example.com"}}`, 200,
			map[string]any{"name": "b", "tier": "b", "port": 9.0}, map[string]any{"group": "g1", "owner": "other@example.com"}, "Base"},
		{"upsert merge keeps title when absent", "?upsert=true&merge=true", `{"identifier": "base"}`, 200,
			map[string]any{"name": "b", "tier": "b", "port": 1.0, "tags": []any{"x"}}, map[string]any{"group": "g1"}, "Base"},
		{"upsert merge creates", "?upsert=true&merge=true", `{"identifier": "fresh", "title": "F", "properties": {"name": "f"}}`, 201,
			map[string]any{"name": "f", "tier": "a"}, map[string]any{}, "F"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := modelFixture(t)
			f.mustDo(201, http.MethodPost, "/v1/blueprints/svc/entities", decode(t, `{"identifier": "base", "title": "Base",
				"properties": {"name": "b", "tier": "b", "port": 1, "tags": ["x"]}, "relations": {"group": "g1"}}`))
			out := f.mustDo(tt.wantStatus, http.MethodPost, "/v1/blueprints/svc/entities"+tt.query, decode(t, tt.body))
			e, ok := f.emu.Entity("svc", out["entity"].(map[string]any)["identifier"].(string))
			if !ok {
				t.Fatal("entity not stored")
			}
			plain := map[string]any{}
			for k, v := range e.Properties {
				if k != "owner_email" && k != "group_title" && k != "dep_names" && k != "label" && k != "broken" {
					plain[k] = v
				}
			}
			if diff := cmp.Diff(tt.wantProps, plain); diff != "" {
				t.Errorf("properties (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantRels, e.Relations); diff != "" {
				t.Errorf("relations (-want +got):\n%s", diff)
			}
			if e.Title != tt.wantTitle {
				t.Errorf("title = %q, want %q", e.Title, tt.wantTitle)
			}
		})
	}
}

func TestEntityLifecycle(t *testing.T) {
	t.Parallel()
	f := modelFixture(t)
	const p = "/v1/blueprints/svc/entities"

	// validation_only stores nothing.
	f.mustDo(201, http.MethodPost, p+"?validation_only=true", map[string]any{"identifier": "vo", "properties": map[string]any{"name": "v"}})
	if _, ok := f.emu.Entity("svc", "vo"); ok {
		t.Error("validation_only stored the entity")
	}
	// create_missing_related_entities creates stubs.
	f.mustDo(201, http.MethodPost, "/v1/blueprints/needs/entities?create_missing_related_entities=true", decode(t, `{"identifier": "n1", "relations": {"group": "g_new"}}`))
	if g, ok := f.emu.Entity("grp", "g_new"); !ok || g.Title != "" {
		t.Errorf("stub = %+v, %v", g, ok)
	}
	// A run in progress may be tied to a write.
	mustAction(t, f, "a", nil)
	r, _ := f.emu.CreateRun("a", nil, "")
	f.mustDo(201, http.MethodPost, p+"?run_id="+r.ID, map[string]any{"identifier": "with_run", "properties": map[string]any{"name": "w"}})

	// PATCH merges, PUT replaces.
	f.clock.Advance(time.Minute)
	out := f.mustDo(200, http.MethodPatch, p+"/with_run", decode(t, `{"properties": {"port": 8}}`))
	got := out["entity"].(map[string]any)
	if props := got["properties"].(map[string]any); props["name"] != "w" || props["port"] != 8.0 {
		t.Errorf("after PATCH: %v", props)
	}
	if got["createdAt"] == got["updatedAt"] {
		t.Errorf("PATCH kept updatedAt %v", got["updatedAt"])
	}
	out = f.mustDo(200, http.MethodPut, p+"/with_run", decode(t, `{"properties": {"name": "z"}}`))
	if props := out["entity"].(map[string]any)["properties"].(map[string]any); props["port"] != nil || props["name"] != "z" {
		t.Errorf("after PUT: %v", props)
	}

	// Deleting a required target needs delete_dependents; optional references are cleared.
	f.mustDo(201, http.MethodPost, p, decode(t, `{"identifier": "s1", "properties": {"name": "s"}, "relations": {"group": "g_new", "deps": ["with_run"]}}`))
	status, body := f.do(http.MethodDelete, "/v1/blueprints/grp/entities/g_new", nil)
	if status != 422 || body["error"] != "validation_error" {
		t.Errorf("delete required target: %d %v", status, body)
	}
	f.mustDo(200, http.MethodDelete, "/v1/blueprints/grp/entities/g_new?delete_dependents=true", nil)
	if _, ok := f.emu.Entity("needs", "n1"); ok {
		t.Error("dependent n1 survived delete_dependents")
	}
	if e, _ := f.emu.Entity("svc", "s1"); e.Relations["group"] != nil {
		t.Errorf("optional relation to the deleted entity kept: %v", e.Relations)
	}
	f.mustDo(200, http.MethodDelete, p+"/with_run", nil)
	if e, _ := f.emu.Entity("svc", "s1"); len(e.Relations["deps"].([]any)) != 0 {
		t.Errorf("many relation still names the deleted entity: %v", e.Relations)
	}

	// GET options and the count route.
	out = f.mustDo(200, http.MethodGet, p+"/s1?include=identifier&include=properties.name", nil)
	if diff := cmp.Diff(map[string]any{"identifier": "s1", "properties": map[string]any{"name": "s"}}, out["entity"]); diff != "" {
		t.Errorf("include (-want +got):\n%s", diff)
	}
	out = f.mustDo(200, http.MethodGet, p+"/s1?exclude_calculated_properties=true&exclude=relations", nil)
	if e := out["entity"].(map[string]any); e["relations"] != nil || e["properties"].(map[string]any)["label"] != nil {
		t.Errorf("exclude: %v", e)
	}
	out = f.mustDo(200, http.MethodGet, "/v1/blueprints/svc/entities-count", nil)
	if out["count"] != 2.0 {
		t.Errorf("count = %v, want 2 (existing, s1)", out["count"])
	}
	list := f.mustDo(200, http.MethodGet, p, nil)["entities"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["identifier"] != "existing" {
		t.Errorf("list = %v", list)
	}
}

func TestComputedProperties(t *testing.T) {
	t.Parallel()
	f := modelFixture(t)
	const p = "/v1/blueprints/svc/entities"
	f.mustDo(200, http.MethodPost, "/v1/blueprints/_user/entities?upsert=true&merge=true", map[string]any{"identifier": DemoUser, "properties": map[string]any{"email": "demo@corp"}})
	for _, e := range []string{
		`{"identifier": "s1", "properties": {"name": "one", "port": 10}, "relations": {"group": "g1", "owner": "demo@example.com"}}`,
		`{"identifier": "s2", "properties": {"name": "two", "port": 20, "tier": "b"}, "relations": {"group": "g1", "deps": ["s1", "s3"]}}`,
		`{"identifier": "s3", "properties": {"name": "3", "port": 60, "tier": "b"}, "relations": {"group": "g1"}}`,
		`{"identifier": "s4", "properties": {"name": "four"}}`,
	} {
		if status, body := f.do(http.MethodPost, p+"?upsert=true&create_missing_related_entities=true", decode(t, e)); status != 201 && status != 200 {
			t.Fatalf("upsert: %d %v", status, body)
		}
	}
	g, _ := f.emu.Entity("grp", "g1")
	wantG := map[string]any{"svc_count": 3.0, "b_count": 2.0, "port_sum": 90.0, "port_min": 10.0, "port_max": 60.0, "port_avg": 30.0, "port_median": 20.0}
	if diff := cmp.Diff(wantG, g.Properties); diff != "" {
		t.Errorf("aggregations (-want +got):\n%s", diff)
	}
	tests := []struct {
		id   string
		want map[string]any
	}{
		{"s1", map[string]any{"owner_email": "demo@corp", "group_title": "Group one", "dep_names": nil, "label": "one/a", "broken": nil}},
		{"s2", map[string]any{"owner_email": nil, "group_title": "Group one", "dep_names": []any{"one", "3"}, "label": "two/b", "broken": nil}},
		{"s3", map[string]any{"owner_email": nil, "group_title": "Group one", "dep_names": nil, "label": "3/b", "broken": 3.0}},
	}
	for _, tt := range tests {
		e, _ := f.emu.Entity("svc", tt.id)
		got := map[string]any{}
		for k := range tt.want {
			got[k] = e.Properties[k]
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%s computed (-want +got):\n%s", tt.id, diff)
		}
	}
	// The same values over HTTP, and Entities() sorted by identifier.
	out := f.mustDo(200, http.MethodGet, "/v1/blueprints/grp/entities/g1", nil)
	if got := out["entity"].(map[string]any)["properties"].(map[string]any)["port_median"]; got != 20.0 {
		t.Errorf("port_median over HTTP = %v", got)
	}
	var ids []string
	for _, e := range f.emu.Entities("svc") {
		ids = append(ids, e.Identifier)
	}
	if !slices.Equal(ids, []string{"existing", "s1", "s2", "s3", "s4"}) {
		t.Errorf("Entities order = %v", ids)
	}
}

func TestComputedCycleIsNull(t *testing.T) {
	t.Parallel()
	// a.mirror reads b.agg, b.agg sums a.calc, a.calc reads a.mirror: the cycle is cut (the innermost read of
	// the value being computed is null) instead of recursing forever.
	f := newFixture(t, WithBlueprints(
		decode(t, `{"identifier": "b", "title": "B", "schema": {"properties": {}},
			"aggregationProperties": {"agg": {"title": "agg", "target": "a", "calculationSpec": {"func": "sum", "property": "calc", "calculationBy": "property"}}}}`),
		decode(t, `{"identifier": "a", "title": "A", "schema": {"properties": {}}, "relations": {"b": {"target": "b", "required": false, "many": false}},
			"mirrorProperties": {"m": {"path": "b.agg"}}, "calculationProperties": {"calc": {"type": "number", "calculation": ".properties.m + 1"}}}`),
	))
	f.mustDo(201, http.MethodPost, "/v1/blueprints/b/entities", map[string]any{"identifier": "b1"})
	f.mustDo(201, http.MethodPost, "/v1/blueprints/a/entities", map[string]any{"identifier": "a1", "relations": map[string]any{"b": "b1"}})
	out := f.mustDo(200, http.MethodGet, "/v1/blueprints/a/entities/a1", nil)
	props := out["entity"].(map[string]any)["properties"].(map[string]any)
	if diff := cmp.Diff(map[string]any{"m": 1.0, "calc": 1.0}, props); diff != "" {
		t.Errorf("cycle (-want +got):\n%s", diff)
	}
}

func TestSearch(t *testing.T) {
	t.Parallel()
	f := modelFixture(t)
	for i, e := range []string{
		`{"identifier": "alpha", "title": "Alpha", "properties": {"name": "a", "port": 1, "tags": ["x", "y"]}, "relations": {"group": "g1"}}`,
		`{"identifier": "beta", "title": "Beta", "properties": {"name": "b", "port": 5, "tier": "b"}}`,
		`{"identifier": "gamma", "properties": {"name": "c", "port": 9, "started": "2026-03-01T00:00:00Z"}}`,
	} {
		f.advance(time.Duration(i) * 48 * time.Hour)
		f.mustDo(201, http.MethodPost, "/v1/blueprints/svc/entities", decode(t, e))
	}
	search := func(query string) []string {
		t.Helper()
		out := f.mustDo(200, http.MethodPost, "/v1/blueprints/svc/entities/search", decode(t, `{"query": `+query+`}`))
		ids := []string{}
		for _, e := range out["entities"].([]any) {
			ids = append(ids, e.(map[string]any)["identifier"].(string))
		}
		return ids
	}
	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"all", `{"combinator": "and", "rules": []}`, []string{"alpha", "beta", "existing", "gamma"}},
		{"equals", `{"combinator": "and", "rules": [{"property": "tier", "operator": "=", "value": "b"}]}`, []string{"beta"}},
		{"not equals", `{"combinator": "and", "rules": [{"property": "tier", "operator": "!=", "value": "a"}]}`, []string{"beta"}},
		{"greater", `{"combinator": "and", "rules": [{"property": "port", "operator": ">", "value": 1}]}`, []string{"beta", "gamma"}},
		{"greater or equal", `{"combinator": "and", "rules": [{"property": "port", "operator": ">=", "value": 5}]}`, []string{"beta", "gamma"}},
		{"less", `{"combinator": "and", "rules": [{"property": "port", "operator": "<", "value": 5}]}`, []string{"alpha"}},
		{"less or equal", `{"combinator": "and", "rules": [{"property": "port", "operator": "<=", "value": 5}]}`, []string{"alpha", "beta"}},
		{"in", `{"combinator": "and", "rules": [{"property": "$identifier", "operator": "in", "value": ["alpha", "gamma", "nope"]}]}`, []string{"alpha", "gamma"}},
		{"in on array property", `{"combinator": "and", "rules": [{"property": "tags", "operator": "in", "value": ["y"]}]}`, []string{"alpha"}},
		{"notIn", `{"combinator": "and", "rules": [{"property": "name", "operator": "notIn", "value": ["a", "b"]}]}`, []string{"existing", "gamma"}},
		{"title", `{"combinator": "and", "rules": [{"property": "$title", "operator": "=", "value": "Beta"}]}`, []string{"beta"}},
		{"blueprint", `{"combinator": "and", "rules": [{"property": "$blueprint", "operator": "=", "value": "svc"}, {"property": "port", "operator": "=", "value": 9}]}`, []string{"gamma"}},
		{"or", `{"combinator": "or", "rules": [{"property": "port", "operator": "=", "value": 1}, {"property": "port", "operator": "=", "value": 9}]}`, []string{"alpha", "gamma"}},
		{"nested group", `{"combinator": "and", "rules": [{"property": "port", "operator": ">", "value": 0},
			{"combinator": "or", "rules": [{"property": "name", "operator": "=", "value": "a"}, {"property": "name", "operator": "=", "value": "b"}]}]}`, []string{"alpha", "beta"}},
		{"mirror property", `{"combinator": "and", "rules": [{"property": "group_title", "operator": "=", "value": "Group one"}]}`, []string{"alpha"}},
		{"calculation property", `{"combinator": "and", "rules": [{"property": "label", "operator": "=", "value": "b/b"}]}`, []string{"beta"}},
		{"created today", `{"combinator": "and", "rules": [{"property": "$createdAt", "operator": "between", "value": {"preset": "today"}}]}`, []string{"gamma"}},
		{"created last week", `{"combinator": "and", "rules": [{"property": "$createdAt", "operator": "between", "value": {"preset": "lastWeek"}}]}`, []string{"alpha", "beta", "existing", "gamma"}},
		{"updated between dates", `{"combinator": "and", "rules": [{"property": "$updatedAt", "operator": "between", "value": {"from": "2026-03-04T00:00:00Z", "to": "2026-03-05T00:00:00Z"}}]}`, []string{"beta"}},
		{"date property after", `{"combinator": "and", "rules": [{"property": "started", "operator": ">", "value": "2026-02-28T00:00:00.000Z"}]}`, []string{"gamma"}},
		{"isEmpty", `{"combinator": "and", "rules": [{"property": "tags", "operator": "isEmpty"}]}`, []string{"beta", "existing", "gamma"}},
		{"contains", `{"combinator": "and", "rules": [{"property": "tags", "operator": "contains", "value": "x"}]}`, []string{"alpha"}},
		{"relatedTo", `{"combinator": "and", "rules": [{"operator": "relatedTo", "blueprint": "grp", "value": "g1"}]}`, []string{"alpha"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tt.want, search(tt.query)); diff != "" {
				t.Errorf("search (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("pages with a cursor", func(t *testing.T) {
		t.Parallel()
		var ids []string
		body := decode(t, `{"query": {"combinator": "and", "rules": []}, "limit": 3, "include": ["identifier"]}`)
		for range 3 {
			out := f.mustDo(200, http.MethodPost, "/v1/blueprints/svc/entities/search", body)
			for _, e := range out["entities"].([]any) {
				if len(e.(map[string]any)) != 1 {
					t.Errorf("include: %v", e)
				}
				ids = append(ids, e.(map[string]any)["identifier"].(string))
			}
			next, ok := out["next"].(string)
			if !ok {
				break
			}
			body["from"] = next
		}
		if diff := cmp.Diff([]string{"alpha", "beta", "existing", "gamma"}, ids); diff != "" {
			t.Errorf("paged ids (-want +got):\n%s", diff)
		}
	})
}

func TestBulkEntities(t *testing.T) {
	t.Parallel()
	f := modelFixture(t)
	out := f.mustDo(200, http.MethodPost, "/v1/blueprints/svc/entities/bulk?upsert=true", decode(t, `{"entities": [
		{"identifier": "b1", "properties": {"name": "1"}}, {"identifier": "existing", "properties": {"name": "2"}}]}`))
	want := decode(t, `{"ok": true, "errors": [], "entities": [
		{"created": true, "identifier": "b1", "index": 0, "additionalData": {}},
		{"created": false, "identifier": "existing", "index": 1, "additionalData": {}}]}`)
	if diff := cmp.Diff(want, out); diff != "" {
		t.Errorf("bulk 200 (-want +got):\n%s", diff)
	}
	out = f.mustDo(207, http.MethodPost, "/v1/blueprints/svc/entities/bulk", decode(t, `{"entities": [
		{"identifier": "b2", "properties": {"name": "1"}},
		{"identifier": "b1", "properties": {"name": "1"}},
		{"identifier": "b3", "properties": {"name": 3}},
		{"identifier": "b4", "properties": {"name": "4"}, "relations": {"group": "ghost"}},
		{"identifier": "b5", "properties": {"name": "5"}, "blueprint": "svc"},
		"not an object"]}`))
	errs := out["errors"].([]any)
	got := []any{}
	for _, e := range errs {
		got = append(got, withoutMessage(e.(map[string]any)))
	}
	wantErrs := []any{
		map[string]any{"identifier": "b1", "index": 1.0, "statusCode": 409.0, "error": "conflict"},
		map[string]any{"identifier": "b3", "index": 2.0, "statusCode": 422.0, "error": "validation_error"},
		map[string]any{"identifier": "b4", "index": 3.0, "statusCode": 404.0, "error": "not_found"},
		map[string]any{"identifier": "b5", "index": 4.0, "statusCode": 422.0, "error": "invalid_request"},
		map[string]any{"identifier": "", "index": 5.0, "statusCode": 422.0, "error": "invalid_request"},
	}
	if diff := cmp.Diff(wantErrs, got); diff != "" {
		t.Errorf("bulk errors (-want +got):\n%s", diff)
	}
	if len(out["entities"].([]any)) != 1 {
		t.Errorf("bulk entities = %v, want only b2", out["entities"])
	}
}

func TestSystemBlueprintsAndAgents(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithBlueprints(roimodel.Blueprints()...))
	ids := func(f *fixture) []string {
		var out []string
		for _, b := range f.mustDo(200, http.MethodGet, "/v1/blueprints", nil)["blueprints"].([]any) {
			out = append(out, b.(map[string]any)["identifier"].(string))
		}
		return out
	}
	if diff := cmp.Diff([]string{"_ai_agent", "_team", "_user", "action", "action_run", "actions_categories"}, ids(f)); diff != "" {
		t.Errorf("blueprints (-want +got):\n%s", diff)
	}
	agent := roimodel.Agent()
	out := f.mustDo(201, http.MethodPost, "/v1/blueprints/_ai_agent/entities?upsert=true", agent)
	if got := out["entity"].(map[string]any)["properties"].(map[string]any)["conversation_starters"]; len(got.([]any)) != 3 {
		t.Errorf("agent properties = %v", out["entity"])
	}
	users := f.emu.Entities("_user")
	if len(users) != 1 || users[0].Identifier != DemoUser {
		t.Errorf("users = %+v", users)
	}

	g := newFixture(t, WithoutAIAgents(), WithUsers("a@x.io", "b@x.io"))
	if diff := cmp.Diff([]string{"_team", "_user"}, ids(g)); diff != "" {
		t.Errorf("blueprints without AI (-want +got):\n%s", diff)
	}
	g.mustDo(404, http.MethodPost, "/v1/blueprints/_ai_agent/entities", agent)
	if n := len(g.emu.Entities("_user")); n != 2 {
		t.Errorf("users = %d, want 2", n)
	}
}

func TestBlueprintUpdates(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// The guide's blueprints through the API, in Ocean's order: bare, then relations, then the rest.
	full := roimodel.Blueprints()
	for _, def := range full {
		bare := map[string]any{}
		for _, k := range []string{"identifier", "title", "icon", "description", "schema"} {
			if v, ok := def[k]; ok {
				bare[k] = v
			}
		}
		f.mustDo(201, http.MethodPost, "/v1/blueprints?create_catalog_page=false", bare)
	}
	for _, def := range full {
		f.mustDo(200, http.MethodPatch, "/v1/blueprints/"+def["identifier"].(string), map[string]any{"relations": def["relations"]})
	}
	for _, def := range full {
		out := f.mustDo(200, http.MethodPut, "/v1/blueprints/"+def["identifier"].(string), def)
		got := out["blueprint"].(map[string]any)
		for k, v := range def {
			if diff := cmp.Diff(v, got[k]); diff != "" {
				t.Errorf("%s.%s read back (-sent +got):\n%s", def["identifier"], k, diff)
			}
		}
		if got["createdAt"] == nil || got["updatedBy"] != DemoUser {
			t.Errorf("metadata missing: %v", got)
		}
	}
	bp, _ := f.emu.Blueprint("action_run")
	if len(bp["mirrorProperties"].(map[string]any)) != 7 {
		t.Errorf("action_run mirrors = %v", bp["mirrorProperties"])
	}
	// Delete in dependency order: action_run relates to action, action aggregates over action_run.
	f.mustDo(422, http.MethodDelete, "/v1/blueprints/action", nil)
	f.mustDo(422, http.MethodDelete, "/v1/blueprints/action_run", nil)
	f.mustDo(200, http.MethodPatch, "/v1/blueprints/action", map[string]any{"aggregationProperties": map[string]any{}})
	f.mustDo(200, http.MethodDelete, "/v1/blueprints/action_run", nil)
	f.mustDo(200, http.MethodDelete, "/v1/blueprints/action", nil)
	f.mustDo(404, http.MethodGet, "/v1/blueprints/action", nil)
}

func TestPages(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	page := decode(t, `{"identifier": "actions_roi", "title": "Actions ROI", "type": "dashboard", "widgets": [{"id": "w", "type": "dashboard-widget", "layout": [], "widgets": []}]}`)
	out := f.mustDo(201, http.MethodPost, "/v1/pages", page)
	if diff := cmp.Diff(map[string]any{"ok": true, "identifier": "actions_roi"}, out); diff != "" {
		t.Errorf("create (-want +got):\n%s", diff)
	}
	got := f.mustDo(200, http.MethodGet, "/v1/pages/actions_roi", nil)["page"].(map[string]any)
	if got["title"] != "Actions ROI" || got["createdAt"] == nil {
		t.Errorf("page = %v", got)
	}
	f.mustDo(200, http.MethodPatch, "/v1/pages/actions_roi", map[string]any{"title": "ROI"})
	got, _ = f.emu.Page("actions_roi")
	if got["title"] != "ROI" || got["type"] != "dashboard" || len(got["widgets"].([]any)) != 1 {
		t.Errorf("after PATCH: %v", got)
	}
	f.mustDo(200, http.MethodPut, "/v1/pages/actions_roi", map[string]any{"type": "dashboard", "title": "New"})
	got, _ = f.emu.Page("actions_roi")
	if got["widgets"] != nil || got["title"] != "New" {
		t.Errorf("after PUT: %v", got)
	}
	if n := len(f.mustDo(200, http.MethodGet, "/v1/pages", nil)["pages"].([]any)); n != 1 {
		t.Errorf("pages = %d", n)
	}
	f.mustDo(200, http.MethodDelete, "/v1/pages/actions_roi", nil)
	f.mustDo(404, http.MethodGet, "/v1/pages/actions_roi", nil)
}
