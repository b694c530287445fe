package portemu

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/port-roi/port-roi-action/internal/port"
)

// traceFixture is an organisation with an action "act" and a blueprint "trace" into which automations
// record what they saw.
func traceFixture(t *testing.T) *fixture {
	t.Helper()
	f := newFixture(t)
	f.mustDo(201, http.MethodPost, "/v1/blueprints", decode(t, `{"identifier": "trace", "title": "Trace", "schema": {"properties": {
		"event_action": {"type": "string"}, "before": {"type": "string"}, "after": {"type": "string"},
		"context_action": {"type": "string"}, "own_run": {"type": "string"}, "count": {"type": "number"}}}}`))
	mustAction(t, f, "act", nil)
	return f
}

// traceAutomation records each firing as a trace entity named after the automation's own run.
func traceAutomation(t *testing.T, id, event, target string, extra map[string]any) map[string]any {
	def := decode(t, `{"identifier": "`+id+`", "title": "`+id+`",
		"trigger": {"type": "automation", "event": {"type": "`+event+`", "actionIdentifier": "`+target+`"}},
		"invocationMethod": {"type": "UPSERT_ENTITY", "blueprintIdentifier": "trace", "mapping": {
			"identifier": "{{ .run.id }}",
			"title": "`+id+`",
			"properties": {
				"event_action": "{{ .event.action }}",
				"before": "{{ .event.diff.before.status }}",
				"after": "{{ .event.diff.after.status }}",
				"context_action": "{{ .event.context.action.identifier }}",
				"own_run": "{{ .run.id }}"
			}}}}`)
	for k, v := range extra {
		def[k] = v
	}
	return def
}

// traces returns the trace entities an automation wrote, oldest first.
func traces(f *fixture, automation string) []map[string]any {
	var out []map[string]any
	for _, r := range f.mustDo(200, http.MethodGet, "/v1/actions/runs?action="+automation, nil)["runs"].([]any) {
		id := r.(map[string]any)["id"].(string)
		if e, ok := f.emu.Entity("trace", id); ok {
			out = append([]map[string]any{e.Properties}, out...)
		}
	}
	return out
}

func TestAutomationTriggers(t *testing.T) {
	t.Parallel()
	f := traceFixture(t)
	f.mustDo(201, http.MethodPost, "/v1/actions", traceAutomation(t, "any", "ANY_RUN_CHANGE", "act", nil))
	f.mustDo(201, http.MethodPost, "/v1/actions", traceAutomation(t, "created", "RUN_CREATED", "act", nil))
	f.mustDo(201, http.MethodPost, "/v1/actions", traceAutomation(t, "updated", "RUN_UPDATED", "act", nil))
	f.mustDo(201, http.MethodPost, "/v1/actions", traceAutomation(t, "unpublished", "ANY_RUN_CHANGE", "act", map[string]any{"publish": false}))
	f.mustDo(201, http.MethodPost, "/v1/actions", traceAutomation(t, "on_success", "RUN_UPDATED", "act", map[string]any{
		"trigger": decode(t, `{"type": "automation", "event": {"type": "RUN_UPDATED", "actionIdentifier": "act"},
			"condition": {"type": "JQ", "expressions": [".diff.after.status == \"SUCCESS\"", ".action == \"UPDATE\""], "combinator": "and"}}`),
	}))
	// chained fires on the runs of "created" (an automation), which end SUCCESS.
	f.mustDo(201, http.MethodPost, "/v1/actions", traceAutomation(t, "chained", "RUN_UPDATED", "created", nil))

	run := f.mustDo(202, http.MethodPost, "/v1/actions/act/runs", map[string]any{"properties": map[string]any{}})["run"].(map[string]any)
	id := run["id"].(string)
	f.mustDo(200, http.MethodPatch, "/v1/actions/runs/"+id, map[string]any{"statusLabel": "working", "link": "https://ci/1"})
	f.mustDo(201, http.MethodPost, "/v1/actions/runs/"+id+"/logs", map[string]any{"message": "plain line"})
	f.mustDo(201, http.MethodPost, "/v1/actions/runs/"+id+"/logs", map[string]any{"message": "done", "terminationStatus": "SUCCESS"})

	sel := func(keys ...string) cmp.Option {
		return cmpopts.IgnoreMapEntries(func(k string, _ any) bool {
			for _, want := range keys {
				if k == want {
					return false
				}
			}
			return true
		})
	}
	tests := []struct {
		automation string
		want       []map[string]any
	}{
		{"any", []map[string]any{
			{"event_action": "CREATE", "after": "IN_PROGRESS", "context_action": "act"},
			{"event_action": "UPDATE", "before": "IN_PROGRESS", "after": "IN_PROGRESS", "context_action": "act"},
			{"event_action": "UPDATE", "before": "IN_PROGRESS", "after": "SUCCESS", "context_action": "act"},
		}},
		{"created", []map[string]any{{"event_action": "CREATE", "after": "IN_PROGRESS", "context_action": "act"}}},
		{"updated", []map[string]any{
			{"event_action": "UPDATE", "before": "IN_PROGRESS", "after": "IN_PROGRESS", "context_action": "act"},
			{"event_action": "UPDATE", "before": "IN_PROGRESS", "after": "SUCCESS", "context_action": "act"},
		}},
		{"unpublished", nil},
		{"on_success", []map[string]any{{"event_action": "UPDATE", "before": "IN_PROGRESS", "after": "SUCCESS", "context_action": "act"}}},
		{"chained", []map[string]any{{"event_action": "UPDATE", "before": "IN_PROGRESS", "after": "SUCCESS", "context_action": "created"}}},
	}
	for _, tt := range tests {
		t.Run(tt.automation, func(t *testing.T) {
			t.Parallel()
			got := traces(f, tt.automation)
			if diff := cmp.Diff(tt.want, got, sel("event_action", "before", "after", "context_action")); diff != "" {
				t.Errorf("%s fired (-want +got):\n%s", tt.automation, diff)
			}
			for _, p := range got {
				if r, ok := f.emu.Run(p["own_run"].(string)); !ok || r.Action.Identifier != tt.automation {
					t.Errorf(".run.id %v is not the automation's own run: %+v", p["own_run"], r)
				}
			}
		})
	}
}

func TestRunObjectAndLifecycle(t *testing.T) {
	t.Parallel()
	f := traceFixture(t)
	f.mustDo(201, http.MethodPost, "/v1/actions", decode(t, `{"identifier": "approve", "title": "Approve", "icon": "Lock",
		"trigger": {"type": "self-service", "operation": "CREATE", "userInputs": {"properties": {"n": {"type": "number", "default": 3}}}},
		"invocationMethod": {"type": "WEBHOOK", "url": "https://example.com/{{ .run.id }}"}, "requiredApproval": {"type": "ANY"}}`))
	run := f.mustDo(202, http.MethodPost, "/v1/actions/approve/runs?run_as=demo@example.com", map[string]any{"properties": map[string]any{}})["run"].(map[string]any)
	id := run["id"].(string)
	if !regexp.MustCompile(`^r_[0-9a-f]{16}$`).MatchString(id) {
		t.Errorf("run id %q", id)
	}
	want := map[string]any{
		"id": id, "status": "WAITING_FOR_APPROVAL", "statusLabel": nil,
		"action":    map[string]any{"identifier": "approve", "title": "Approve", "icon": "Lock", "deleted": false},
		"blueprint": nil, "entity": nil, "properties": map[string]any{"n": 3.0}, "source": "API",
		"requiredApproval": map[string]any{"type": "ANY"}, "approval": nil, "link": nil, "summary": nil,
		"externalRunId": nil, "endedAt": nil, "payload": nil, "response": nil,
		"createdBy": DemoUser, "updatedBy": DemoUser, "createdAt": "2026-03-02T10:00:00.123Z", "updatedAt": "2026-03-02T10:00:00.123Z",
	}
	if diff := cmp.Diff(want, run); diff != "" {
		t.Errorf("run (-want +got):\n%s", diff)
	}

	f.clock.Advance(90 * time.Second)
	run = f.mustDo(201, http.MethodPatch, "/v1/actions/runs/"+id+"/approval", map[string]any{"status": "DECLINE", "description": "no"})["run"].(map[string]any)
	if run["status"] != "DECLINED" || run["endedAt"] != "2026-03-02T10:01:30.123Z" || run["updatedAt"] != "2026-03-02T10:01:30.123Z" ||
		cmp.Diff(map[string]any{"description": "no", "userId": DemoUser, "state": "DECLINED"}, run["approval"]) != "" {
		t.Errorf("declined run = %v", run)
	}
	f.mustDo(422, http.MethodPatch, "/v1/actions/runs/"+id+"/approval", map[string]any{"status": "APPROVE"})

	// An approved run renders its payload; PATCH fields; plain logs leave updatedAt alone.
	r2, err := f.emu.CreateRun("approve", map[string]any{"n": 7}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.emu.ApproveRun(r2.ID, true); err != nil {
		t.Fatal(err)
	}
	got := f.mustDo(200, http.MethodGet, "/v1/actions/runs/"+r2.ID+"?version=v2", nil)["run"].(map[string]any)
	if p := got["payload"].(map[string]any); p["url"] != "https://example.com/"+r2.ID || got["status"] != "IN_PROGRESS" {
		t.Errorf("approved run = %v", got)
	}
	f.clock.Advance(time.Minute)
	f.mustDo(201, http.MethodPost, "/v1/actions/runs/"+r2.ID+"/logs", map[string]any{"message": "one"})
	if r, _ := f.emu.Run(r2.ID); r.UpdatedAt != got["updatedAt"] {
		t.Errorf("a plain log changed updatedAt to %s", r.UpdatedAt)
	}
	got = f.mustDo(200, http.MethodPatch, "/v1/actions/runs/"+r2.ID, map[string]any{"link": []any{"a", "b"}, "summary": "s", "externalRunId": "gh-1"})["run"].(map[string]any)
	if got["summary"] != "s" || got["externalRunId"] != "gh-1" || len(got["link"].([]any)) != 2 || got["status"] != "IN_PROGRESS" {
		t.Errorf("patched = %v", got)
	}
	f.mustDo(200, http.MethodPatch, "/v1/actions/runs/"+r2.ID, map[string]any{}) // accepted, changes nothing
	f.mustDo(201, http.MethodPost, "/v1/actions/runs/"+r2.ID+"/logs", map[string]any{"message": "label", "statusLabel": "halfway"})
	f.mustDo(201, http.MethodPost, "/v1/actions/runs/"+r2.ID+"/logs", map[string]any{"message": "end", "terminationStatus": "FAILURE", "statusLabel": "broken"})
	r, _ := f.emu.Run(r2.ID)
	if r.Status != port.RunFailure || r.StatusLabel != "broken" {
		t.Errorf("run = %+v", r)
	}
	wantLogs := []port.RunLog{{Message: "one"}, {Message: "label", StatusLabel: "halfway"}, {Message: "end", TerminationStatus: "FAILURE", StatusLabel: "broken"}}
	if diff := cmp.Diff(wantLogs, f.emu.RunLogs(r2.ID)); diff != "" {
		t.Errorf("RunLogs (-want +got):\n%s", diff)
	}
	logs := f.mustDo(200, http.MethodGet, "/v1/actions/runs/"+r2.ID+"/logs?limit=1&offset=1", nil)["runLogs"].([]any)
	if len(logs) != 1 || logs[0].(map[string]any)["message"] != "label" || logs[0].(map[string]any)["runId"] != r2.ID {
		t.Errorf("logs page = %v", logs)
	}

	// Filters of the run list.
	for q, want := range map[string]int{"external_run_id=gh-1": 1, "action=approve": 2, "active=true": 0, "source=AUTOMATION": 0, "limit=1": 1} {
		if n := len(f.mustDo(200, http.MethodGet, "/v1/actions/runs?"+q, nil)["runs"].([]any)); n != want {
			t.Errorf("runs?%s: %d, want %d", q, n, want)
		}
	}

	// Runs outlive their action.
	f.mustDo(200, http.MethodDelete, "/v1/actions/approve", nil)
	got = f.mustDo(200, http.MethodGet, "/v1/actions/runs/"+id, nil)["run"].(map[string]any)
	if got["action"].(map[string]any)["deleted"] != true {
		t.Errorf("action of a deleted action's run: %v", got["action"])
	}
}

func TestSelfServiceUpsertEntityAndDay2(t *testing.T) {
	t.Parallel()
	f := traceFixture(t)
	f.mustDo(201, http.MethodPost, "/v1/actions", decode(t, `{"identifier": "count_up", "title": "Count up",
		"trigger": {"type": "self-service", "operation": "DAY-2", "blueprintIdentifier": "trace",
			"userInputs": {"properties": {"by": {"type": "number"}}, "required": ["by"]}},
		"invocationMethod": {"type": "UPSERT_ENTITY", "blueprintIdentifier": "trace",
			"mapping": {"identifier": "{{ .entity.identifier }}", "properties": {"count": "{{ (.entity.properties.count // 0) + .inputs.by }}"}}}}`))
	f.mustDo(201, http.MethodPost, "/v1/blueprints/trace/entities", map[string]any{"identifier": "t1", "properties": map[string]any{"count": 1}})
	f.mustDo(422, http.MethodPost, "/v1/actions/count_up/runs", map[string]any{"properties": map[string]any{"by": 1}})
	f.mustDo(404, http.MethodPost, "/v1/actions/count_up/runs", map[string]any{"properties": map[string]any{"by": 1}, "entity": "ghost"})
	run := f.mustDo(202, http.MethodPost, "/v1/actions/count_up/runs", map[string]any{"properties": map[string]any{"by": 4}, "entity": "t1"})["run"].(map[string]any)
	if run["status"] != "SUCCESS" || run["entity"].(map[string]any)["identifier"] != "t1" || run["blueprint"].(map[string]any)["identifier"] != "trace" {
		t.Errorf("run = %v", run)
	}
	if e, _ := f.emu.Entity("trace", "t1"); e.Properties["count"] != 5.0 {
		t.Errorf("count = %v, want 5", e.Properties["count"])
	}
}

func TestActionsCRUD(t *testing.T) {
	t.Parallel()
	f := traceFixture(t)
	f.mustDo(201, http.MethodPost, "/v1/actions", traceAutomation(t, "auto", "ANY_RUN_CHANGE", "act", nil))
	f.mustDo(201, http.MethodPost, "/v1/actions", traceAutomation(t, "off", "RUN_CREATED", "act", map[string]any{"publish": false}))
	list := func(q string) []string {
		var ids []string
		for _, a := range f.mustDo(200, http.MethodGet, "/v1/actions"+q, nil)["actions"].([]any) {
			ids = append(ids, a.(map[string]any)["identifier"].(string))
		}
		return ids
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{"act", "auto", "off"}},
		{"?trigger_type=automation", []string{"auto", "off"}},
		{"?trigger_type=self-service", []string{"act"}},
		{"?action_identifier=act&action_identifier=off", []string{"act", "off"}},
		{"?published=true", []string{"auto"}},
		{"?trigger_event=RUN_CREATED", []string{"off"}},
		{"?trigger_event_action_identifier=act", []string{"auto", "off"}},
		{"?operation=CREATE&version=v2", []string{"act"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, list(tt.query)); diff != "" {
			t.Errorf("GET /v1/actions%s (-want +got):\n%s", tt.query, diff)
		}
	}
	got := f.mustDo(200, http.MethodGet, "/v1/actions/auto", nil)["action"].(map[string]any)
	sent := traceAutomation(t, "auto", "ANY_RUN_CHANGE", "act", nil)
	for k, v := range sent {
		if diff := cmp.Diff(v, got[k]); diff != "" {
			t.Errorf("read back %s (-sent +got):\n%s", k, diff)
		}
	}
	for _, k := range []string{"createdAt", "createdBy", "updatedAt", "updatedBy"} {
		if got[k] == nil {
			t.Errorf("no %s in %v", k, got)
		}
	}
	sent["title"] = "Renamed"
	f.clock.Advance(time.Second)
	got = f.mustDo(200, http.MethodPut, "/v1/actions/auto", sent)["action"].(map[string]any)
	if got["title"] != "Renamed" || got["createdAt"] == got["updatedAt"] {
		t.Errorf("after PUT: %v", got)
	}
	if a, _ := f.emu.Action("auto"); a["title"] != "Renamed" || len(f.emu.Actions()) != 3 {
		t.Errorf("Action() = %v", a)
	}
	f.mustDo(200, http.MethodDelete, "/v1/actions/auto", nil)
	f.mustDo(404, http.MethodGet, "/v1/actions/auto", nil)
}
