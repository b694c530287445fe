package portemu

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// modelFixture is an organisation with a small data model for validation and behaviour tests:
//
//	grp                        (plain)
//	svc  name* tier(enum, default a) port tags started url meta on; owner→_user, deps→svc (many), group→grp
//	     mirrors owner_email, group_title; calculation label; grp aggregates svc (svc_count, port_sum…)
//	needs                      required relation grp
func modelFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t, WithUsers(DemoUser, "other@example.com"))
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/blueprints", decode(t, `{
		"identifier": "grp", "title": "Group", "schema": {"properties": {"kind": {"type": "string"}}, "required": []}}`))
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/blueprints", decode(t, `{
		"identifier": "svc", "title": "Service",
		"schema": {"properties": {
			"name": {"type": "string"},
			"tier": {"type": "string", "enum": ["a", "b"], "default": "a"},
			"port": {"type": "number"},
			"tags": {"type": "array", "items": {"type": "string"}},
			"started": {"type": "string", "format": "date-time"},
			"url": {"type": "string", "format": "url"},
			"meta": {"type": "object"},
			"on": {"type": "boolean"}
		}, "required": ["name"]},
		"relations": {
			"owner": {"target": "_user", "required": false, "many": false},
			"deps": {"target": "svc", "required": false, "many": true},
			"group": {"target": "grp", "required": false, "many": false}
		},
		"mirrorProperties": {
			"owner_email": {"path": "owner.email"},
			"group_title": {"path": "group.$title"},
			"dep_names": {"path": "deps.name"}
		},
		"calculationProperties": {
			"label": {"type": "string", "calculation": ".properties.name + \"/\" + .properties.tier"},
			"broken": {"type": "number", "calculation": ".properties.name | tonumber"}
		}}`))
	f.mustDo(http.StatusOK, http.MethodPatch, "/v1/blueprints/grp", decode(t, `{"aggregationProperties": {
		"svc_count": {"title": "n", "target": "svc", "calculationSpec": {"func": "count", "calculationBy": "entities"}},
		"b_count": {"title": "n", "target": "svc", "query": {"combinator": "and", "rules": [{"property": "tier", "operator": "=", "value": "b"}]},
			"calculationSpec": {"func": "count", "calculationBy": "entities"}},
		"port_sum": {"title": "s", "target": "svc", "calculationSpec": {"func": "sum", "property": "port", "calculationBy": "property"}},
		"port_min": {"title": "s", "target": "svc", "calculationSpec": {"func": "min", "property": "port", "calculationBy": "property"}},
		"port_max": {"title": "s", "target": "svc", "calculationSpec": {"func": "max", "property": "port", "calculationBy": "property"}},
		"port_avg": {"title": "s", "target": "svc", "calculationSpec": {"func": "average", "property": "port", "calculationBy": "property"}},
		"port_median": {"title": "s", "target": "svc", "calculationSpec": {"func": "median", "property": "port", "calculationBy": "property"}}
	}}`))
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/blueprints", decode(t, `{
		"identifier": "needs", "title": "Needs", "schema": {"properties": {}},
		"relations": {"group": {"target": "grp", "required": true, "many": false}}}`))
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/blueprints/grp/entities", map[string]any{"identifier": "g1", "title": "Group one"})
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/blueprints/svc/entities", map[string]any{"identifier": "existing", "properties": map[string]any{"name": "x"}})
	return f
}

type errCase struct {
	name       string
	method     string
	path       string
	body       any
	wantStatus int
	wantCode   string
	wantMsg    string // a substring of the message, when set
}

func runErrCases(t *testing.T, f *fixture, tests []errCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body, h := f.send(tt.method, tt.path, tt.body, f.token)
			if status != tt.wantStatus {
				t.Fatalf("%s %s = %d %v, want %d", tt.method, tt.path, status, body, tt.wantStatus)
			}
			if diff := cmp.Diff(errBody(tt.wantCode), withoutMessage(body)); diff != "" {
				t.Errorf("error body (-want +got):\n%s", diff)
			}
			msg, _ := body["message"].(string)
			if msg == "" || !strings.Contains(msg, tt.wantMsg) {
				t.Errorf("message %q does not contain %q", msg, tt.wantMsg)
			}
			if h.Get("X-Trace-Id") == "" {
				t.Error("no X-Trace-Id")
			}
		})
	}
}

func TestEntityValidation(t *testing.T) {
	t.Parallel()
	f := modelFixture(t)
	done, err := f.emu.CreateRun(mustAction(t, f, "noop", nil), nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.emu.FinishRun(done.ID, "SUCCESS"); err != nil {
		t.Fatal(err)
	}
	const p = "/v1/blueprints/svc/entities"
	ok := map[string]any{"name": "n"}
	ent := func(extra map[string]any) map[string]any {
		m := map[string]any{"identifier": "e1", "properties": ok}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	props := func(p map[string]any) map[string]any { return ent(map[string]any{"properties": p}) }
	rels := func(r map[string]any) map[string]any { return ent(map[string]any{"relations": r}) }
	runErrCases(t, f, []errCase{
		{"missing identifier", http.MethodPost, p, map[string]any{"properties": ok}, 422, "invalid_request", "identifier is required"},
		{"identifier dot", http.MethodPost, p, ent(map[string]any{"identifier": "."}), 422, "invalid_request", "pattern"},
		{"identifier dotdot", http.MethodPost, p, ent(map[string]any{"identifier": ".."}), 422, "invalid_request", "pattern"},
		{"identifier with space", http.MethodPost, p, ent(map[string]any{"identifier": "a b"}), 422, "invalid_request", "pattern"},
		{"identifier too long", http.MethodPost, p, ent(map[string]any{"identifier": strings.Repeat("a", 1001)}), 422, "invalid_request", "1000"},
		{"identifier not a string", http.MethodPost, p, ent(map[string]any{"identifier": 7}), 422, "invalid_request", "string"},
		{"unknown blueprint", http.MethodPost, "/v1/blueprints/nope/entities", ent(nil), 404, "not_found", "nope"},
		{"title not a string", http.MethodPost, p, ent(map[string]any{"title": 3}), 422, "invalid_request", "title"},
		{"properties not an object", http.MethodPost, p, ent(map[string]any{"properties": []any{}}), 422, "invalid_request", "properties"},
		{"unknown property", http.MethodPost, p, props(map[string]any{"name": "n", "nope": 1}), 422, "validation_error", `"nope"`},
		{"computed property", http.MethodPost, p, props(map[string]any{"name": "n", "label": "x"}), 422, "validation_error", "computed"},
		{"string for number", http.MethodPost, p, props(map[string]any{"name": "n", "port": "80"}), 422, "validation_error", "must be number"},
		{"number for string", http.MethodPost, p, props(map[string]any{"name": 1}), 422, "validation_error", "must be string"},
		{"string for boolean", http.MethodPost, p, props(map[string]any{"name": "n", "on": "true"}), 422, "validation_error", "must be boolean"},
		{"array for object", http.MethodPost, p, props(map[string]any{"name": "n", "meta": []any{}}), 422, "validation_error", "must be object"},
		{"object for array", http.MethodPost, p, props(map[string]any{"name": "n", "tags": map[string]any{}}), 422, "validation_error", "must be array"},
		{"array item type", http.MethodPost, p, props(map[string]any{"name": "n", "tags": []any{"a", 1}}), 422, "validation_error", "item 1"},
		{"enum", http.MethodPost, p, props(map[string]any{"name": "n", "tier": "c"}), 422, "validation_error", "allowed values"},
		{"date-time format", http.MethodPost, p, props(map[string]any{"name": "n", "started": "yesterday"}), 422, "validation_error", "date-time"},
		{"url format", http.MethodPost, p, props(map[string]any{"name": "n", "url": "not a url"}), 422, "validation_error", "url"},
		{"required property", http.MethodPost, p, props(map[string]any{"port": 1}), 422, "validation_error", `"name"`},
		{"unknown relation", http.MethodPost, p, rels(map[string]any{"nope": "x"}), 422, "validation_error", `"nope"`},
		{"string for many relation", http.MethodPost, p, rels(map[string]any{"deps": "existing"}), 422, "validation_error", "array"},
		{"array for single relation", http.MethodPost, p, rels(map[string]any{"group": []any{"g1"}}), 422, "validation_error", "single"},
		{"number relation", http.MethodPost, p, rels(map[string]any{"group": 1}), 422, "validation_error", "identifier"},
		{"missing related entity", http.MethodPost, p, rels(map[string]any{"group": "g9"}), 404, "not_found", `"g9"`},
		{"missing related entity in many", http.MethodPost, p, rels(map[string]any{"deps": []any{"existing", "ghost"}}), 404, "not_found", `"ghost"`},
		{"missing team", http.MethodPost, p, ent(map[string]any{"team": "ghosts"}), 422, "validation_error", "team"},
		{"team not strings", http.MethodPost, p, ent(map[string]any{"team": []any{1}}), 422, "invalid_request", "team"},
		{"required relation missing", http.MethodPost, "/v1/blueprints/needs/entities", map[string]any{"identifier": "n1"}, 422, "validation_error", `"group"`},
		{"duplicate without upsert", http.MethodPost, p, ent(map[string]any{"identifier": "existing"}), 409, "conflict", "existing"},
		{"unknown run_id", http.MethodPost, p + "?run_id=r_nope", ent(nil), 422, "validation_error", "r_nope"},
		{"finished run_id", http.MethodPost, p + "?run_id=" + done.ID, ent(nil), 422, "validation_error", "IN_PROGRESS"},
		{"get missing entity", http.MethodGet, p + "/ghost", nil, 404, "not_found", "ghost"},
		{"get in missing blueprint", http.MethodGet, "/v1/blueprints/nope/entities/x", nil, 404, "not_found", "nope"},
		{"list missing blueprint", http.MethodGet, "/v1/blueprints/nope/entities", nil, 404, "not_found", "nope"},
		{"delete missing entity", http.MethodDelete, p + "/ghost", nil, 404, "not_found", "ghost"},
		{"patch missing entity", http.MethodPatch, p + "/ghost", map[string]any{}, 404, "not_found", "ghost"},
		{"put missing entity", http.MethodPut, p + "/ghost", map[string]any{}, 404, "not_found", "ghost"},
		{"patch identifier mismatch", http.MethodPatch, p + "/existing", map[string]any{"identifier": "other"}, 422, "invalid_request", "does not match"},
		{"bulk empty", http.MethodPost, p + "/bulk", map[string]any{"entities": []any{}}, 422, "invalid_request", "1 to 20"},
		{"bulk too many", http.MethodPost, p + "/bulk", map[string]any{"entities": make([]any, 21)}, 422, "invalid_request", "1 to 20"},
		{"bulk extra field", http.MethodPost, p + "/bulk", map[string]any{"entities": []any{ent(nil)}, "x": 1}, 422, "invalid_request", `"x"`},
		{"search without query", http.MethodPost, p + "/search", map[string]any{}, 422, "invalid_request", "query"},
		{"search without combinator", http.MethodPost, p + "/search", map[string]any{"query": map[string]any{"rules": []any{}}}, 422, "invalid_request", "'combinator'"},
		{"search bad operator", http.MethodPost, p + "/search", decode(t, `{"query": {"combinator": "and", "rules": [{"property": "a", "operator": "~", "value": 1}]}}`), 422, "invalid_request", "operator"},
		{"search rule without property", http.MethodPost, p + "/search", decode(t, `{"query": {"combinator": "and", "rules": [{"operator": "=", "value": 1}]}}`), 422, "invalid_request", "'property'"},
		{"search nested bad group", http.MethodPost, p + "/search", decode(t, `{"query": {"combinator": "and", "rules": [{"combinator": "xor", "rules": []}]}}`), 422, "invalid_request", "combinator"},
		{"search in without array", http.MethodPost, p + "/search", decode(t, `{"query": {"combinator": "and", "rules": [{"property": "a", "operator": "in", "value": 1}]}}`), 422, "invalid_request", "array"},
		{"search bad preset", http.MethodPost, p + "/search", decode(t, `{"query": {"combinator": "and", "rules": [{"property": "$createdAt", "operator": "between", "value": {"preset": "someday"}}]}}`), 422, "invalid_request", "preset"},
		{"search limit", http.MethodPost, p + "/search", decode(t, `{"query": {"combinator": "and", "rules": []}, "limit": 1001}`), 422, "invalid_request", "limit"},
		{"search bad cursor", http.MethodPost, p + "/search", decode(t, `{"query": {"combinator": "and", "rules": []}, "from": "zzz"}`), 422, "invalid_request", "cursor"},
		{"search extra field", http.MethodPost, p + "/search", decode(t, `{"query": {"combinator": "and", "rules": []}, "sort": 1}`), 422, "invalid_request", `"sort"`},
		{"search missing blueprint", http.MethodPost, "/v1/blueprints/nope/entities/search", decode(t, `{"query": {"combinator": "and", "rules": []}}`), 404, "not_found", "nope"},
	})
}

func TestBlueprintValidation(t *testing.T) {
	t.Parallel()
	f := modelFixture(t)
	bp := func(extra string) map[string]any {
		m := decode(t, `{"identifier": "new_bp", "title": "New", "schema": {"properties": {}}}`)
		for k, v := range decode(t, extra) {
			m[k] = v
		}
		return m
	}
	runErrCases(t, f, []errCase{
		{"missing identifier", http.MethodPost, "/v1/blueprints", decode(t, `{"title": "x", "schema": {}}`), 422, "invalid_request", "identifier"},
		{"identifier with =", http.MethodPost, "/v1/blueprints", bp(`{"identifier": "a=b"}`), 422, "invalid_request", "pattern"},
		{"identifier dot", http.MethodPost, "/v1/blueprints", bp(`{"identifier": "."}`), 422, "invalid_request", "pattern"},
		{"identifier too long", http.MethodPost, "/v1/blueprints", bp(`{"identifier": "` + strings.Repeat("b", 101) + `"}`), 422, "invalid_request", "100"},
		{"missing title", http.MethodPost, "/v1/blueprints", decode(t, `{"identifier": "x", "schema": {}}`), 422, "invalid_request", "title"},
		{"missing schema", http.MethodPost, "/v1/blueprints", decode(t, `{"identifier": "x", "title": "x"}`), 422, "invalid_request", "schema"},
		{"bad property type", http.MethodPost, "/v1/blueprints", bp(`{"schema": {"properties": {"a": {"type": "int"}}}}`), 422, "invalid_request", "type"},
		{"bad property key", http.MethodPost, "/v1/blueprints", bp(`{"schema": {"properties": {"a.b": {"type": "string"}}}}`), 422, "invalid_request", "a.b"},
		{"bad default", http.MethodPost, "/v1/blueprints", bp(`{"schema": {"properties": {"a": {"type": "number", "default": "x"}}}}`), 422, "invalid_request", "default"},
		{"required not defined", http.MethodPost, "/v1/blueprints", bp(`{"schema": {"properties": {}, "required": ["a"]}}`), 422, "invalid_request", `"a"`},
		{"relation target missing", http.MethodPost, "/v1/blueprints", bp(`{"relations": {"r": {"target": "ghost_bp", "required": false, "many": false}}}`), 422, "validation_error", `"ghost_bp"`},
		{"relation many and required", http.MethodPost, "/v1/blueprints", bp(`{"relations": {"r": {"target": "grp", "required": true, "many": true}}}`), 422, "invalid_request", "many and required"},
		{"aggregation target missing", http.MethodPost, "/v1/blueprints", bp(`{"aggregationProperties": {"n": {"title": "n", "target": "ghost_bp", "calculationSpec": {"func": "count", "calculationBy": "entities"}}}}`), 422, "validation_error", `"ghost_bp"`},
		{"aggregation bad func", http.MethodPost, "/v1/blueprints", bp(`{"aggregationProperties": {"n": {"title": "n", "target": "svc", "calculationSpec": {"func": "mode", "calculationBy": "entities"}}}}`), 422, "invalid_request", "func"},
		{"aggregation without property", http.MethodPost, "/v1/blueprints", bp(`{"aggregationProperties": {"n": {"title": "n", "target": "svc", "calculationSpec": {"func": "sum", "calculationBy": "property"}}}}`), 422, "invalid_request", "property"},
		{"aggregation bad query", http.MethodPost, "/v1/blueprints", bp(`{"aggregationProperties": {"n": {"title": "n", "target": "svc", "query": {"rules": []}, "calculationSpec": {"func": "count", "calculationBy": "entities"}}}}`), 422, "invalid_request", "combinator"},
		{"mirror relation missing", http.MethodPost, "/v1/blueprints", bp(`{"mirrorProperties": {"m": {"path": "ghost_rel.$title"}}}`), 422, "validation_error", `"ghost_rel"`},
		{"mirror property missing", http.MethodPost, "/v1/blueprints", bp(`{"relations": {"s": {"target": "svc"}}, "mirrorProperties": {"m": {"path": "s.ghost_prop"}}}`), 422, "validation_error", `"ghost_prop"`},
		{"mirror deep relation missing", http.MethodPost, "/v1/blueprints", bp(`{"relations": {"s": {"target": "svc"}}, "mirrorProperties": {"m": {"path": "s.ghost_rel.$title"}}}`), 422, "validation_error", `"ghost_rel"`},
		{"mirror path too short", http.MethodPost, "/v1/blueprints", bp(`{"mirrorProperties": {"m": {"path": "name"}}}`), 422, "invalid_request", "path"},
		{"calculation invalid jq", http.MethodPost, "/v1/blueprints", bp(`{"calculationProperties": {"c": {"type": "number", "calculation": ".a +"}}}`), 422, "invalid_request", "jq"},
		{"calculation without type", http.MethodPost, "/v1/blueprints", bp(`{"calculationProperties": {"c": {"calculation": ".a"}}}`), 422, "invalid_request", "type"},
		{"duplicate key across groups", http.MethodPost, "/v1/blueprints", bp(`{"schema": {"properties": {"c": {"type": "string"}}}, "calculationProperties": {"c": {"type": "number", "calculation": "1"}}}`), 422, "invalid_request", `"c"`},
		{"bad ownership", http.MethodPost, "/v1/blueprints", bp(`{"ownership": {"type": "Shared"}}`), 422, "invalid_request", "ownership"},
		{"duplicate", http.MethodPost, "/v1/blueprints", bp(`{"identifier": "svc"}`), 409, "conflict", "svc"},
		{"get missing", http.MethodGet, "/v1/blueprints/ghost", nil, 404, "not_found", "ghost"},
		{"put missing", http.MethodPut, "/v1/blueprints/ghost", bp(`{"identifier": "ghost"}`), 404, "not_found", "ghost"},
		{"patch missing", http.MethodPatch, "/v1/blueprints/ghost", map[string]any{}, 404, "not_found", "ghost"},
		{"delete missing", http.MethodDelete, "/v1/blueprints/ghost", nil, 404, "not_found", "ghost"},
		{"put identifier mismatch", http.MethodPut, "/v1/blueprints/grp", bp(`{"identifier": "other"}`), 422, "invalid_request", "does not match"},
		{"put without schema", http.MethodPut, "/v1/blueprints/grp", decode(t, `{"title": "x"}`), 422, "invalid_request", "schema"},
		{"patch changes a property type", http.MethodPatch, "/v1/blueprints/svc", decode(t, `{"schema": {"properties": {"name": {"type": "number"}}, "required": []}}`), 422, "validation_error", "type"},
		{"delete with entities", http.MethodDelete, "/v1/blueprints/grp", nil, 422, "validation_error", "target of relation"},
		{"delete system", http.MethodDelete, "/v1/blueprints/_user", nil, 422, "validation_error", "system"},
		{"change ai agent blueprint", http.MethodPatch, "/v1/blueprints/_ai_agent", map[string]any{"title": "x"}, 422, "validation_error", "system"},
	})
}

func TestActionValidation(t *testing.T) {
	t.Parallel()
	f := modelFixture(t)
	mustAction(t, f, "existing_action", nil)
	act := func(extra string) map[string]any {
		m := decode(t, `{"identifier": "new_action", "trigger": {"type": "self-service", "operation": "CREATE", "userInputs": {"properties": {}}},
			"invocationMethod": {"type": "WEBHOOK", "url": "https://example.com"}}`)
		for k, v := range decode(t, extra) {
			m[k] = v
		}
		return m
	}
	auto := func(event, invocation string) map[string]any {
		return act(`{"trigger": {"type": "automation", "event": ` + event + `}, "invocationMethod": ` + invocation + `}`)
	}
	upsert := `{"type": "UPSERT_ENTITY", "blueprintIdentifier": "grp", "mapping": {"identifier": "x"}}`
	runErrCases(t, f, []errCase{
		{"missing identifier", http.MethodPost, "/v1/actions", decode(t, `{"trigger": {}, "invocationMethod": {}}`), 422, "invalid_request", "identifier"},
		{"identifier with slash", http.MethodPost, "/v1/actions", act(`{"identifier": "a/b"}`), 422, "invalid_request", "pattern"},
		{"identifier dotdot", http.MethodPost, "/v1/actions", act(`{"identifier": ".."}`), 422, "invalid_request", "pattern"},
		{"metadata sent back", http.MethodPost, "/v1/actions", act(`{"createdAt": "2026-01-01T00:00:00Z"}`), 422, "invalid_request", "createdAt"},
		{"missing trigger", http.MethodPost, "/v1/actions", decode(t, `{"identifier": "a", "invocationMethod": {"type": "WEBHOOK", "url": "u"}}`), 422, "invalid_request", "trigger"},
		{"missing invocationMethod", http.MethodPost, "/v1/actions", decode(t, `{"identifier": "a", "trigger": {"type": "self-service", "operation": "CREATE", "userInputs": {"properties": {}}}}`), 422, "invalid_request", "invocationMethod"},
		{"bad trigger type", http.MethodPost, "/v1/actions", act(`{"trigger": {"type": "cron"}}`), 422, "invalid_request", "trigger.type"},
		{"bad operation", http.MethodPost, "/v1/actions", act(`{"trigger": {"type": "self-service", "operation": "UPDATE", "userInputs": {"properties": {}}}}`), 422, "invalid_request", "operation"},
		{"missing userInputs", http.MethodPost, "/v1/actions", act(`{"trigger": {"type": "self-service", "operation": "CREATE"}}`), 422, "invalid_request", "userInputs"},
		{"create with condition", http.MethodPost, "/v1/actions", act(`{"trigger": {"type": "self-service", "operation": "CREATE", "userInputs": {"properties": {}}, "condition": {}}}`), 422, "invalid_request", "condition"},
		{"self-service unknown blueprint", http.MethodPost, "/v1/actions", act(`{"trigger": {"type": "self-service", "operation": "CREATE", "blueprintIdentifier": "ghost", "userInputs": {"properties": {}}}}`), 422, "validation_error", `"ghost"`},
		{"input without type", http.MethodPost, "/v1/actions", act(`{"trigger": {"type": "self-service", "operation": "CREATE", "userInputs": {"properties": {"a": {}}}}}`), 422, "invalid_request", `"a"`},
		{"required input undefined", http.MethodPost, "/v1/actions", act(`{"trigger": {"type": "self-service", "operation": "CREATE", "userInputs": {"properties": {}, "required": ["a"]}}}`), 422, "invalid_request", `"a"`},
		{"long button text", http.MethodPost, "/v1/actions", act(`{"trigger": {"type": "self-service", "operation": "CREATE", "userInputs": {"properties": {}}, "actionCardButtonText": "a very long button text"}}`), 422, "invalid_request", "actionCardButtonText"},
		{"bad requiredApproval", http.MethodPost, "/v1/actions", act(`{"requiredApproval": {"type": "SOME"}}`), 422, "invalid_request", "requiredApproval"},
		{"bad publish", http.MethodPost, "/v1/actions", act(`{"publish": "yes"}`), 422, "invalid_request", "publish"},
		{"unknown invocation type", http.MethodPost, "/v1/actions", act(`{"invocationMethod": {"type": "FTP"}}`), 422, "invalid_request", "invocationMethod.type"},
		{"webhook without url", http.MethodPost, "/v1/actions", act(`{"invocationMethod": {"type": "WEBHOOK"}}`), 422, "invalid_request", "url"},
		{"github without workflow", http.MethodPost, "/v1/actions", act(`{"invocationMethod": {"type": "GITHUB", "org": "o", "repo": "r"}}`), 422, "invalid_request", "workflow"},
		{"bad event type", http.MethodPost, "/v1/actions", auto(`{"type": "RUN_DELETED", "actionIdentifier": "existing_action"}`, upsert), 422, "invalid_request", "event.type"},
		{"run event without action", http.MethodPost, "/v1/actions", auto(`{"type": "ANY_RUN_CHANGE"}`, upsert), 422, "invalid_request", "actionIdentifier"},
		{"run event unknown action", http.MethodPost, "/v1/actions", auto(`{"type": "RUN_CREATED", "actionIdentifier": "ghost"}`, upsert), 422, "validation_error", `"ghost"`},
		{"entity event unknown blueprint", http.MethodPost, "/v1/actions", auto(`{"type": "ENTITY_CREATED", "blueprintIdentifier": "ghost"}`, upsert), 422, "validation_error", `"ghost"`},
		{"timer without property", http.MethodPost, "/v1/actions", auto(`{"type": "TIMER_PROPERTY_EXPIRED", "blueprintIdentifier": "svc"}`, upsert), 422, "invalid_request", "propertyIdentifier"},
		{"upsert unknown blueprint", http.MethodPost, "/v1/actions", auto(`{"type": "ANY_RUN_CHANGE", "actionIdentifier": "existing_action"}`, `{"type": "UPSERT_ENTITY", "blueprintIdentifier": "ghost", "mapping": {}}`), 422, "validation_error", `"ghost"`},
		{"upsert without mapping", http.MethodPost, "/v1/actions", auto(`{"type": "ANY_RUN_CHANGE", "actionIdentifier": "existing_action"}`, `{"type": "UPSERT_ENTITY", "blueprintIdentifier": "grp"}`), 422, "invalid_request", "mapping"},
		{"bad condition", http.MethodPost, "/v1/actions", act(`{"trigger": {"type": "automation", "event": {"type": "ANY_RUN_CHANGE", "actionIdentifier": "existing_action"}, "condition": {"type": "JQ", "expressions": [".a |"]}}}`), 422, "invalid_request", "jq"},
		{"duplicate", http.MethodPost, "/v1/actions", act(`{"identifier": "existing_action"}`), 409, "conflict", "existing_action"},
		{"get missing", http.MethodGet, "/v1/actions/ghost", nil, 404, "not_found", "ghost"},
		{"put missing", http.MethodPut, "/v1/actions/ghost", act(`{"identifier": "ghost"}`), 404, "not_found", "ghost"},
		{"put identifier mismatch", http.MethodPut, "/v1/actions/existing_action", act(`{}`), 422, "invalid_request", "does not match"},
		{"delete missing", http.MethodDelete, "/v1/actions/ghost", nil, 404, "not_found", "ghost"},
		{"list with unknown filter", http.MethodGet, "/v1/actions?kind=x", nil, 422, "invalid_request", "kind"},
	})
}

// mustAction creates a self-service action with the given user inputs and a WEBHOOK backend.
func mustAction(t *testing.T, f *fixture, id string, inputs map[string]any) string {
	t.Helper()
	if inputs == nil {
		inputs = map[string]any{"properties": map[string]any{}}
	}
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/actions", map[string]any{
		"identifier": id, "title": id,
		"trigger":          map[string]any{"type": "self-service", "operation": "CREATE", "userInputs": inputs},
		"invocationMethod": map[string]any{"type": "WEBHOOK", "url": "https://example.com", "body": map[string]any{"runId": "{{ .run.id }}"}},
	})
	return id
}

func TestRunValidation(t *testing.T) {
	t.Parallel()
	f := modelFixture(t)
	mustAction(t, f, "act", decode(t, `{"properties": {"title": {"type": "string"}, "count": {"type": "number"}, "target": {"type": "string", "format": "entity", "blueprint": "svc"}}, "required": ["title"]}`))
	mustAction(t, f, "approve_me", nil)
	def, _ := f.emu.Action("approve_me")
	def["requiredApproval"] = true
	for _, k := range []string{"createdAt", "createdBy", "updatedAt", "updatedBy"} {
		delete(def, k)
	}
	f.mustDo(http.StatusOK, http.MethodPut, "/v1/actions/approve_me", def)
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/actions", decode(t, `{"identifier": "auto", "trigger": {"type": "automation",
		"event": {"type": "RUN_CREATED", "actionIdentifier": "act"}}, "invocationMethod": {"type": "WEBHOOK", "url": "https://example.com"}}`))
	running, err := f.emu.CreateRun("act", map[string]any{"title": "t"}, "")
	if err != nil {
		t.Fatal(err)
	}
	finished, _ := f.emu.CreateRun("act", map[string]any{"title": "t"}, "")
	if _, err := f.emu.FinishRun(finished.ID, "FAILURE"); err != nil {
		t.Fatal(err)
	}
	waiting, _ := f.emu.CreateRun("approve_me", nil, "")
	runs := "/v1/actions/runs/"
	runErrCases(t, f, []errCase{
		{"missing action", http.MethodPost, "/v1/actions/ghost/runs", map[string]any{"properties": map[string]any{}}, 404, "not_found", "ghost"},
		{"run an automation", http.MethodPost, "/v1/actions/auto/runs", map[string]any{"properties": map[string]any{}}, 422, "validation_error", "automation"},
		{"missing properties", http.MethodPost, "/v1/actions/act/runs", map[string]any{}, 422, "invalid_request", "properties"},
		{"extra body field", http.MethodPost, "/v1/actions/act/runs", map[string]any{"properties": map[string]any{"title": "t"}, "inputs": 1}, 422, "invalid_request", `"inputs"`},
		{"unknown input", http.MethodPost, "/v1/actions/act/runs", map[string]any{"properties": map[string]any{"title": "t", "nope": 1}}, 422, "validation_error", `"nope"`},
		{"wrong input type", http.MethodPost, "/v1/actions/act/runs", map[string]any{"properties": map[string]any{"title": "t", "count": "3"}}, 422, "validation_error", "number"},
		{"required input missing", http.MethodPost, "/v1/actions/act/runs", map[string]any{"properties": map[string]any{"count": 3}}, 422, "validation_error", `"title"`},
		{"entity on a blueprint-less action", http.MethodPost, "/v1/actions/act/runs", map[string]any{"properties": map[string]any{"title": "t"}, "entity": "existing"}, 422, "validation_error", "blueprint"},
		{"run_as unknown user", http.MethodPost, "/v1/actions/act/runs?run_as=ghost@example.com", map[string]any{"properties": map[string]any{"title": "t"}}, 422, "validation_error", "ghost@example.com"},
		{"get missing run", http.MethodGet, runs + "r_ghost", nil, 404, "not_found", "r_ghost"},
		{"get with bad query", http.MethodGet, runs + running.ID + "?v=2", nil, 422, "invalid_request", `"v"`},
		{"patch missing run", http.MethodPatch, runs + "r_ghost", map[string]any{"status": "SUCCESS"}, 404, "not_found", "r_ghost"},
		{"patch bad status", http.MethodPatch, runs + running.ID, map[string]any{"status": "DONE"}, 422, "invalid_request", "status"},
		{"patch unknown field", http.MethodPatch, runs + running.ID, map[string]any{"message": map[string]any{}}, 422, "invalid_request", `"message"`},
		{"patch bad link", http.MethodPatch, runs + running.ID, map[string]any{"link": 3}, 422, "invalid_request", "link"},
		{"patch finished run", http.MethodPatch, runs + finished.ID, map[string]any{"statusLabel": "late"}, 422, "validation_error", "already ended"},
		{"status on waiting run", http.MethodPatch, runs + waiting.ID, map[string]any{"status": "SUCCESS"}, 422, "validation_error", "WAITING_FOR_APPROVAL"},
		{"approve missing run", http.MethodPatch, runs + "r_ghost/approval", map[string]any{"status": "APPROVE"}, 404, "not_found", "r_ghost"},
		{"approve running run", http.MethodPatch, runs + running.ID + "/approval", map[string]any{"status": "APPROVE"}, 422, "validation_error", "not WAITING_FOR_APPROVAL"},
		{"approve bad status", http.MethodPatch, runs + waiting.ID + "/approval", map[string]any{"status": "YES"}, 422, "invalid_request", "status"},
		{"approve extra field", http.MethodPatch, runs + waiting.ID + "/approval", map[string]any{"status": "APPROVE", "by": "me"}, 422, "invalid_request", `"by"`},
		{"log missing run", http.MethodPost, runs + "r_ghost/logs", map[string]any{"message": "m"}, 404, "not_found", "r_ghost"},
		{"log without message", http.MethodPost, runs + running.ID + "/logs", map[string]any{"terminationStatus": "SUCCESS"}, 422, "invalid_request", "message"},
		{"log extra field", http.MethodPost, runs + running.ID + "/logs", map[string]any{"message": "m", "level": "info"}, 422, "invalid_request", `"level"`},
		{"log bad termination", http.MethodPost, runs + running.ID + "/logs", map[string]any{"message": "m", "terminationStatus": "DONE"}, 422, "invalid_request", "terminationStatus"},
		{"terminate finished run", http.MethodPost, runs + finished.ID + "/logs", map[string]any{"message": "m", "terminationStatus": "SUCCESS"}, 422, "validation_error", "already ended"},
		{"terminate waiting run", http.MethodPost, runs + waiting.ID + "/logs", map[string]any{"message": "m", "terminationStatus": "SUCCESS"}, 422, "validation_error", "IN_PROGRESS"},
		{"logs limit", http.MethodGet, runs + running.ID + "/logs?limit=51", nil, 422, "invalid_request", "limit"},
		{"logs of missing run", http.MethodGet, runs + "r_ghost/logs", nil, 404, "not_found", "r_ghost"},
		{"list runs limit", http.MethodGet, "/v1/actions/runs?limit=0", nil, 422, "invalid_request", "limit"},
	})
	// Plain log lines are accepted on a finished run and change nothing.
	f.mustDo(http.StatusCreated, http.MethodPost, runs+finished.ID+"/logs", map[string]any{"message": "after the end"})
}

func TestPageValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/pages", map[string]any{"identifier": "roi", "type": "dashboard", "widgets": []any{}})
	runErrCases(t, f, []errCase{
		{"missing identifier", http.MethodPost, "/v1/pages", map[string]any{"type": "dashboard"}, 422, "invalid_request", "identifier"},
		{"missing type", http.MethodPost, "/v1/pages", map[string]any{"identifier": "p"}, 422, "invalid_request", "type"},
		{"bad type", http.MethodPost, "/v1/pages", map[string]any{"identifier": "p", "type": "wiki"}, 422, "invalid_request", "type"},
		{"widgets not an array", http.MethodPost, "/v1/pages", map[string]any{"identifier": "p", "type": "dashboard", "widgets": map[string]any{}}, 422, "invalid_request", "widgets"},
		{"duplicate", http.MethodPost, "/v1/pages", map[string]any{"identifier": "roi", "type": "dashboard"}, 409, "conflict", "roi"},
		{"get missing", http.MethodGet, "/v1/pages/ghost", nil, 404, "not_found", "ghost"},
		{"patch missing", http.MethodPatch, "/v1/pages/ghost", map[string]any{}, 404, "not_found", "ghost"},
		{"put missing", http.MethodPut, "/v1/pages/ghost", map[string]any{"type": "dashboard"}, 404, "not_found", "ghost"},
		{"delete missing", http.MethodDelete, "/v1/pages/ghost", nil, 404, "not_found", "ghost"},
		{"patch bad type", http.MethodPatch, "/v1/pages/roi", map[string]any{"type": "x"}, 422, "invalid_request", "type"},
	})
}
