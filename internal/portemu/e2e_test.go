package portemu

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// placeholderAction is the action create_port_action_if_missing.sh creates, for ACTION_IDENTIFIER
// create_s3_bucket and ACTION_TITLE "Create S3 Bucket".
func placeholderAction() map[string]any {
	return map[string]any{
		"identifier":  "create_s3_bucket",
		"title":       "Create S3 Bucket",
		"description": "Auto-created placeholder action",
		"trigger": map[string]any{
			"type":      "self-service",
			"operation": "CREATE",
			"userInputs": map[string]any{
				"properties": map[string]any{
					"user": map[string]any{
						"type": "string", "format": "user", "title": "User",
						"default": map[string]any{"jqQuery": ".user.email"},
						"visible": false,
					},
				},
				"required": []any{},
				"order":    []any{},
			},
		},
		"invocationMethod": map[string]any{
			"type":    "WEBHOOK",
			"url":     "https://example.com",
			"method":  "POST",
			"headers": map[string]any{"RUN_ID": "{{ .run.id }}", "Content-Type": "application/json"},
			"body": map[string]any{
				"{{ spreadValue() }}": "{{ .inputs }}",
				"port_context":        map[string]any{"runId": "{{ .run.id }}"},
			},
			"agent":        false,
			"synchronized": true,
		},
	}
}

// guideProperties is PROPERTIES_JSON of create_port_automation.sh, verbatim.
const guideProperties = `{
"run_id": "{{.event.diff.after.id}}",
"run_url": "https://app.port.io/organization/run?runId={{.event.diff.after.id}}",
"status": "{{.event.diff.after.status}}",
"created_at": "{{.event.diff.after.createdAt}}",
"updated_at": "{{.event.diff.after.updatedAt}}",
"{{if (.event.diff.after.status == \"SUCCESS\") then \"duration\" else null end}}": "{{ (.event.diff.after.createdAt | gsub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdateiso8601) as $created | (.event.diff.after.updatedAt | gsub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdateiso8601) as $updated | $updated - $created }}",
"{{if (.event.diff.after.status == \"SUCCESS\" and .event.diff.before.requiredApproval == true) then \"waiting_for_approval_duration\" else null end}}": "{{ (.event.diff.before.createdAt | gsub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdateiso8601) as $created | (.event.diff.before.updatedAt | gsub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdateiso8601) as $updated | $updated - $created }}",
"{{if (.event.diff.after.status == \"SUCCESS\") then \"cycle_time\" else null end}}": "{{ (.event.diff.before.updatedAt | gsub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdateiso8601) as $created | (.event.diff.after.updatedAt | gsub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdateiso8601) as $updated | $updated - $created }}"
}`

// guideAutomation is the automation create_port_automation.sh creates for create_s3_bucket.
func guideAutomation(t testing.TB) map[string]any {
	return map[string]any{
		"identifier":  "automation_for_runs_of_create_s3_bucket",
		"title":       "Automation for runs of create_s3_bucket",
		"description": "Update action run data in Port after creation",
		"trigger": map[string]any{
			"type":  "automation",
			"event": map[string]any{"type": "ANY_RUN_CHANGE", "actionIdentifier": "create_s3_bucket"},
		},
		"invocationMethod": map[string]any{
			"type":                "UPSERT_ENTITY",
			"blueprintIdentifier": "action_run",
			"mapping": map[string]any{
				"identifier": "{{.event.diff.after.id}}",
				"title":      "{{.event.diff.after.id}}",
				"properties": decode(t, guideProperties),
				"relations": map[string]any{
					"parent_action":      "{{.event.diff.after.action.identifier}}",
					"ran_by_actual_user": "{{.event.diff.after.properties.user}}",
				},
			},
		},
		"publish": true,
	}
}

func TestGuideEndToEnd(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithBlueprints(roimodel.Blueprints()...))

	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/blueprints/actions_categories/entities",
		map[string]any{"identifier": "infra", "title": "Infrastructure"})
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/blueprints/action/entities?upsert=true", map[string]any{
		"identifier": "create_s3_bucket", "title": "Create S3 Bucket",
		"properties": map[string]any{"lead_time_before": 2, "cycle_time": 1},
		"relations":  map[string]any{"category": "infra"},
	})
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/actions", placeholderAction())
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/actions", guideAutomation(t))

	// Run 1: no approval, succeeds after 30 minutes.
	out := f.mustDo(http.StatusAccepted, http.MethodPost, "/v1/actions/create_s3_bucket/runs", map[string]any{"properties": map[string]any{}})
	run1 := out["run"].(map[string]any)
	if diff := cmp.Diff(map[string]any{"user": DemoUser}, run1["properties"]); diff != "" {
		t.Errorf("run properties (the jqQuery default) (-want +got):\n%s", diff)
	}
	id1 := run1["id"].(string)
	if e, ok := f.emu.Entity("action_run", id1); !ok || e.Properties["status"] != "IN_PROGRESS" {
		t.Fatalf("action_run after creation = %+v, %v; want status IN_PROGRESS", e, ok)
	}
	f.mustDo(http.StatusOK, http.MethodGet, "/v1/blueprints/action/entities/create_s3_bucket", nil)
	if e, _ := f.emu.Entity("action", "create_s3_bucket"); e.Properties["in_progress_runs"] != 1.0 {
		t.Errorf("in_progress_runs during run 1 = %v, want 1", e.Properties["in_progress_runs"])
	}
	f.advance(30 * time.Minute)
	f.mustDo(http.StatusOK, http.MethodPatch, "/v1/actions/runs/"+id1, map[string]any{"status": "SUCCESS"})

	// Run 2: needs approval, approved after an hour, succeeds 15 minutes later (through a terminating log).
	def := placeholderAction()
	def["requiredApproval"] = true
	f.mustDo(http.StatusOK, http.MethodPut, "/v1/actions/create_s3_bucket", def)
	f.advance(time.Hour)
	out = f.mustDo(http.StatusAccepted, http.MethodPost, "/v1/actions/create_s3_bucket/runs", map[string]any{"properties": map[string]any{}})
	id2 := out["run"].(map[string]any)["id"].(string)
	if got := out["run"].(map[string]any)["status"]; got != "WAITING_FOR_APPROVAL" {
		t.Errorf("run 2 status = %v, want WAITING_FOR_APPROVAL", got)
	}
	f.advance(time.Hour)
	f.mustDo(http.StatusCreated, http.MethodPatch, "/v1/actions/runs/"+id2+"/approval", map[string]any{"status": "APPROVE", "description": "ok"})
	f.advance(15 * time.Minute)
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/actions/runs/"+id2+"/logs", map[string]any{"message": "done"})
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/actions/runs/"+id2+"/logs", map[string]any{"message": "bye", "terminationStatus": "SUCCESS"})

	// Run 3: approved, then fails (through the Go API).
	f.advance(time.Hour)
	r3, err := f.emu.CreateRun("create_s3_bucket", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	f.advance(10 * time.Minute)
	if _, err := f.emu.ApproveRun(r3.ID, true); err != nil {
		t.Fatal(err)
	}
	f.advance(5 * time.Minute)
	if _, err := f.emu.FinishRun(r3.ID, port.RunFailure); err != nil {
		t.Fatal(err)
	}

	runsWant := map[string]map[string]any{
		id1: {"status": "SUCCESS", "duration": 1800.0, "cycle_time": 1800.0,
			"savings_lead_time_h": 1.5, "savings_cycle_time_h": 0.5},
		id2: {"status": "SUCCESS", "duration": 4500.0, "cycle_time": 900.0, "waiting_for_approval_duration": 3600.0,
			"savings_lead_time_h": 0.75, "savings_cycle_time_h": 0.75},
		r3.ID: {"status": "FAILURE", "savings_lead_time_h": nil, "savings_cycle_time_h": nil},
	}
	common := map[string]any{"lead_time_before": 2.0, "cycle_time_before": 1.0, "category": "Infrastructure",
		"action": "Create S3 Bucket", "ran_by": DemoUser, "team_2": nil, "user_group": nil,
		"primary_team": "No Team", "primary_user_group": "No Group"}
	for id, want := range runsWant {
		e, ok := f.emu.Entity("action_run", id)
		if !ok {
			t.Fatalf("no action_run entity %s", id)
		}
		for k, v := range common {
			want[k] = v
		}
		got := map[string]any{}
		for k := range want {
			got[k] = e.Properties[k]
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
			t.Errorf("action_run %s (-want +got):\n%s", id, diff)
		}
		if e.Properties["run_url"] != "https://app.port.io/organization/run?runId="+id || e.Title != id ||
			e.Relations["parent_action"] != "create_s3_bucket" || e.Relations["ran_by_actual_user"] != DemoUser {
			t.Errorf("action_run %s = %+v", id, e)
		}
	}
	// Failure runs get no duration, cycle_time or waiting time: the mapping leaves the keys out.
	if e, _ := f.emu.Entity("action_run", r3.ID); e.Properties["duration"] != nil || e.Properties["cycle_time"] != nil {
		t.Errorf("failed run has timings: %v", e.Properties)
	}

	body := f.mustDo(http.StatusOK, http.MethodGet, "/v1/blueprints/action/entities/create_s3_bucket", nil)
	props := body["entity"].(map[string]any)["properties"].(map[string]any)
	wantAction := map[string]any{
		"lead_time_before": 2.0, "cycle_time": 1.0, "criticality": "Tier 3",
		"total_runs": 3.0, "successful_runs": 2.0, "failed_runs": 1.0, "in_progress_runs": 0.0,
		"total_lead_time_savings_h": 2.25, "total_cycle_time_savings_h": 1.25,
		"total_waiting_time_seconds": 3600.0, "max_waiting_time_seconds": 3600.0, "runs_with_waiting_time": 1.0,
		"daily_total_runs": 3.0, "weekly_total_runs": 3.0, "monthly_failed_runs": 1.0,
		"success_rate": 200 / 3.0, "overall_failure_rate": 100 / 3.0, "total_runs_with_status": 3.0,
		"total_waiting_time_h": 1.0, "average_waiting_time_h": 1.0, "max_waiting_time_h": 1.0,
	}
	got := map[string]any{}
	for k := range wantAction {
		got[k] = props[k]
	}
	if diff := cmp.Diff(wantAction, got, cmpopts.EquateApprox(0, 1e-9)); diff != "" {
		t.Errorf("action entity over HTTP (-want +got):\n%s", diff)
	}

	// A day later the daily window is empty; the weekly one is not.
	f.advance(25 * time.Hour)
	e, _ := f.emu.Entity("action", "create_s3_bucket")
	if e.Properties["daily_total_runs"] != 0.0 || e.Properties["weekly_total_runs"] != 3.0 {
		t.Errorf("after a day: daily %v weekly %v, want 0 and 3", e.Properties["daily_total_runs"], e.Properties["weekly_total_runs"])
	}

	// Every run change ran the automation once: 2 changes for run 1 (created, success), 3 for run 2
	// (created, approved, success; the plain log line is not a change) and 3 for run 3.
	var autoRuns []port.Run
	_, list := f.do(http.MethodGet, "/v1/actions/runs?action=automation_for_runs_of_create_s3_bucket&source=AUTOMATION", nil)
	for _, r := range list["runs"].([]any) {
		run, _ := f.emu.Run(r.(map[string]any)["id"].(string))
		autoRuns = append(autoRuns, run)
	}
	if len(autoRuns) != 8 {
		t.Fatalf("automation runs = %d, want 8", len(autoRuns))
	}
	for _, r := range autoRuns {
		logs := f.emu.RunLogs(r.ID)
		if r.Status != port.RunSuccess || len(logs) != 1 || !strings.Contains(logs[0].Message, "in blueprint \"action_run\"") {
			t.Errorf("automation run %s: status %s, logs %v", r.ID, r.Status, logs)
		}
	}
}

func TestAutomationFailureIsRecorded(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithBlueprints(roimodel.Blueprints()...))
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/actions", placeholderAction())
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/actions", guideAutomation(t))
	// No "action" entity create_s3_bucket: the parent_action relation names a missing entity.
	r, err := f.emu.CreateRun("create_s3_bucket", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := f.emu.Entity("action_run", r.ID); ok {
		t.Errorf("action_run %s was written despite the missing parent action", r.ID)
	}
	_, list := f.do(http.MethodGet, "/v1/actions/runs?source=AUTOMATION", nil)
	runs := list["runs"].([]any)
	if len(runs) != 1 {
		t.Fatalf("automation runs = %v, want 1", runs)
	}
	id := runs[0].(map[string]any)["id"].(string)
	ar, _ := f.emu.Run(id)
	logs := f.emu.RunLogs(id)
	if ar.Status != port.RunFailure || len(logs) != 1 || !strings.Contains(logs[0].Message, "404 not_found") ||
		!strings.Contains(logs[0].Message, "create_s3_bucket") {
		t.Errorf("automation run = %s, logs %+v; want FAILURE with a not_found log", ar.Status, logs)
	}
}
