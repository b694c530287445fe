package register

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/port-roi/port-roi-action/internal/jqtemplate"
)

// readGuide loads a definition transcribed from the guide's scripts (testdata/guide_*.json).
func readGuide(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// The placeholder action is the guide's, byte for byte once encoded.
func TestPlaceholderActionIsTheGuides(t *testing.T) {
	t.Parallel()
	want := readGuide(t, "guide_placeholder_action.json")
	if diff := cmp.Diff(want, normalize(PlaceholderAction("create_s3_bucket", "Create S3 Bucket"))); diff != "" {
		t.Errorf("placeholder action (-guide +ours):\n%s", diff)
	}
}

// The automation is the guide's except for the approval condition, which also counts requiredApproval
// objects.
func TestAutomationIsTheGuidesButForApprovalObjects(t *testing.T) {
	t.Parallel()
	guide := readGuide(t, "guide_automation.json")
	ours := normalize(Automation("create_s3_bucket", "https://app.port.io")).(map[string]any)

	guideProps := guide["invocationMethod"].(map[string]any)["mapping"].(map[string]any)["properties"].(map[string]any)
	ourProps := ours["invocationMethod"].(map[string]any)["mapping"].(map[string]any)["properties"].(map[string]any)
	var guideKey, ourKey string
	for k := range guideProps {
		if strings.Contains(k, "waiting_for_approval_duration") {
			guideKey = k
		}
	}
	for k := range ourProps {
		if strings.Contains(k, "waiting_for_approval_duration") {
			ourKey = k
		}
	}
	if guideKey == "" || ourKey == "" || guideKey == ourKey {
		t.Fatalf("waiting key: guide %q, ours %q; want both, different", guideKey, ourKey)
	}
	if guideProps[guideKey] != ourProps[ourKey] {
		t.Errorf("waiting value differs:\nguide %v\nours  %v", guideProps[guideKey], ourProps[ourKey])
	}
	delete(guideProps, guideKey)
	delete(ourProps, ourKey)
	if diff := cmp.Diff(guide, ours); diff != "" {
		t.Errorf("automation (-guide +ours):\n%s", diff)
	}
}

// run is an action run as ANY_RUN_CHANGE shows it in event.diff.
func run(status string, approval any, created, updated string) map[string]any {
	return map[string]any{
		"id": "r_1", "status": status, "requiredApproval": approval,
		"createdAt": created, "updatedAt": updated,
		"action":     map[string]any{"identifier": "create_s3_bucket", "title": "Create S3 Bucket"},
		"properties": map[string]any{"user": "dev@example.com"},
	}
}

// TestAutomationMapping evaluates the automation's UPSERT_ENTITY mapping with gojq, as Port does, over sample
// ANY_RUN_CHANGE events.
func TestAutomationMapping(t *testing.T) {
	t.Parallel()
	mapping := normalize(Automation("create_s3_bucket", "https://app.port.io")).(map[string]any)["invocationMethod"].(map[string]any)["mapping"]
	base := func(status, created, updated string, extra map[string]any) map[string]any {
		props := map[string]any{
			"run_id": "r_1", "run_url": "https://app.port.io/organization/run?runId=r_1", "status": status,
			"created_at": created, "updated_at": updated,
		}
		for k, v := range extra {
			props[k] = v
		}
		return map[string]any{
			"identifier": "r_1", "title": "r_1", "properties": props,
			"relations": map[string]any{"parent_action": "create_s3_bucket", "ran_by_actual_user": "dev@example.com"},
		}
	}
	tests := []struct {
		name          string
		before, after map[string]any
		want          map[string]any
	}{
		{
			name:   "created, no approval",
			before: nil,
			after:  run("IN_PROGRESS", false, "2026-03-02T10:00:00.123Z", "2026-03-02T10:00:00.123Z"),
			want:   base("IN_PROGRESS", "2026-03-02T10:00:00.123Z", "2026-03-02T10:00:00.123Z", nil),
		},
		{
			name:   "success without approval, fractional seconds dropped as the guide does",
			before: run("IN_PROGRESS", false, "2026-03-02T10:00:00.123Z", "2026-03-02T10:00:00.123Z"),
			after:  run("SUCCESS", false, "2026-03-02T10:00:00.123Z", "2026-03-02T10:04:30.999Z"),
			want:   base("SUCCESS", "2026-03-02T10:00:00.123Z", "2026-03-02T10:04:30.999Z", map[string]any{"duration": 270.0, "cycle_time": 270.0}),
		},
		{
			name:   "success after approval given as true",
			before: run("IN_PROGRESS", true, "2026-03-02T10:00:00.500Z", "2026-03-02T13:00:00.250Z"),
			after:  run("SUCCESS", true, "2026-03-02T10:00:00.500Z", "2026-03-02T13:20:00.000Z"),
			want: base("SUCCESS", "2026-03-02T10:00:00.500Z", "2026-03-02T13:20:00.000Z",
				map[string]any{"duration": 12000.0, "waiting_for_approval_duration": 10800.0, "cycle_time": 1200.0}),
		},
		{
			name:   "success after approval given as an object (the guide records no wait here)",
			before: run("IN_PROGRESS", map[string]any{"type": "ANY"}, "2026-03-02T10:00:00Z", "2026-03-02T10:30:00Z"),
			after:  run("SUCCESS", map[string]any{"type": "ANY"}, "2026-03-02T10:00:00Z", "2026-03-02T10:38:00Z"),
			want: base("SUCCESS", "2026-03-02T10:00:00Z", "2026-03-02T10:38:00Z",
				map[string]any{"duration": 2280.0, "waiting_for_approval_duration": 1800.0, "cycle_time": 480.0}),
		},
		{
			name:   "approval object of type ALL",
			before: run("IN_PROGRESS", map[string]any{"type": "ALL"}, "2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z"),
			after:  run("SUCCESS", map[string]any{"type": "ALL"}, "2026-03-02T10:00:00Z", "2026-03-02T11:00:01Z"),
			want: base("SUCCESS", "2026-03-02T10:00:00Z", "2026-03-02T11:00:01Z",
				map[string]any{"duration": 3601.0, "waiting_for_approval_duration": 3600.0, "cycle_time": 1.0}),
		},
		{
			name:   "failure records no durations",
			before: run("IN_PROGRESS", true, "2026-03-02T10:00:00Z", "2026-03-02T11:00:00Z"),
			after:  run("FAILURE", true, "2026-03-02T10:00:00Z", "2026-03-02T11:05:00Z"),
			want:   base("FAILURE", "2026-03-02T10:00:00Z", "2026-03-02T11:05:00Z", nil),
		},
		{
			name:   "waiting for approval",
			before: nil,
			after:  run("WAITING_FOR_APPROVAL", true, "2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z"),
			want:   base("WAITING_FOR_APPROVAL", "2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z", nil),
		},
	}
	r := jqtemplate.NewRenderer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data := normalize(map[string]any{
				"event":  map[string]any{"resourceType": "run", "diff": map[string]any{"before": tt.before, "after": tt.after}},
				"run":    map[string]any{"id": "r_automation"},
				"inputs": nil,
			})
			got, err := r.Render(context.Background(), mapping, data)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if diff := cmp.Diff(normalize(tt.want), got); diff != "" {
				t.Errorf("mapping (-want +got):\n%s", diff)
			}
		})
	}
}
