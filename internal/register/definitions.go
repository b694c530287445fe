package register

import (
	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// PlaceholderAction is the self-service action the guide's create_port_action_if_missing.sh creates for a new
// title: a CREATE action with a hidden "user" input that defaults to the runner's e-mail (it feeds the
// automation's ran_by_actual_user relation) and a placeholder webhook backend the user replaces later.
func PlaceholderAction(id, title string) port.Object {
	return port.Object{
		"identifier":  id,
		"title":       title,
		"description": "Auto-created placeholder action",
		"trigger": map[string]any{
			"type":      "self-service",
			"operation": "CREATE",
			"userInputs": map[string]any{
				"properties": map[string]any{
					"user": map[string]any{
						"type":    "string",
						"format":  "user",
						"title":   "User",
						"default": map[string]any{"jqQuery": ".user.email"},
						"visible": false,
					},
				},
				"required": []any{},
				"order":    []any{},
			},
		},
		"invocationMethod": map[string]any{
			"type":   "WEBHOOK",
			"url":    "https://example.com",
			"method": "POST",
			"headers": map[string]any{
				"RUN_ID":       "{{ .run.id }}",
				"Content-Type": "application/json",
			},
			"body": map[string]any{
				"{{ spreadValue() }}": "{{ .inputs }}",
				"port_context": map[string]any{
					"runId": "{{ .run.id }}",
				},
			},
			"agent":        false,
			"synchronized": true,
		},
	}
}

// The jq of the automation's mapping. Each timestamp loses its fractional seconds before fromdateiso8601,
// exactly as in the guide, so that durations match what existing users already record.
const (
	isSuccess = `.event.diff.after.status == "SUCCESS"`

	// approvalWasRequired also counts a requiredApproval given as an object ({"type": "ANY"|"ALL"}); the
	// guide tests only `== true` and so records no approval wait for such actions.
	approvalWasRequired = `(.event.diff.before.requiredApproval | (. == true) or (type == "object"))`

	durationExpr = `{{ (.event.diff.after.createdAt | gsub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) as $created | ` +
		`(.event.diff.after.updatedAt | gsub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) as $updated | $updated - $created }}`
	waitingExpr = `{{ (.event.diff.before.createdAt | gsub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) as $created | ` +
		`(.event.diff.before.updatedAt | gsub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) as $updated | $updated - $created }}`
	cycleTimeExpr = `{{ (.event.diff.before.updatedAt | gsub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) as $created | ` +
		`(.event.diff.after.updatedAt | gsub("\\.[0-9]+Z$"; "Z") | fromdateiso8601) as $updated | $updated - $created }}`
)

// Automation is the guide's automation for action id: on any change of one of its runs, upsert an
// action_run entity with the run's status, timestamps and, for successful runs, its duration, approval wait
// and cycle time (in seconds), related to the action and to the user who ran it. appURL is the Port app of
// the organisation's region (https://app.port.io in the EU, as in the guide), used for the run link.
func Automation(actionID, appURL string) port.Object {
	return port.Object{
		"identifier":  AutomationIdentifier(actionID),
		"title":       AutomationTitle(actionID),
		"description": "Update action run data in Port after creation",
		"trigger": map[string]any{
			"type": "automation",
			"event": map[string]any{
				"type":             "ANY_RUN_CHANGE",
				"actionIdentifier": actionID,
			},
		},
		"invocationMethod": map[string]any{
			"type":                "UPSERT_ENTITY",
			"blueprintIdentifier": roimodel.ActionRunBlueprint,
			"mapping": map[string]any{
				"identifier": "{{.event.diff.after.id}}",
				"title":      "{{.event.diff.after.id}}",
				"properties": map[string]any{
					"run_id":     "{{.event.diff.after.id}}",
					"run_url":    appURL + "/organization/run?runId={{.event.diff.after.id}}",
					"status":     "{{.event.diff.after.status}}",
					"created_at": "{{.event.diff.after.createdAt}}",
					"updated_at": "{{.event.diff.after.updatedAt}}",
					`{{if (` + isSuccess + `) then "duration" else null end}}`:                                                      durationExpr,
					`{{if (` + isSuccess + ` and ` + approvalWasRequired + `) then "waiting_for_approval_duration" else null end}}`: waitingExpr,
					`{{if (` + isSuccess + `) then "cycle_time" else null end}}`:                                                    cycleTimeExpr,
				},
				"relations": map[string]any{
					"parent_action":      "{{.event.diff.after.action.identifier}}",
					"ran_by_actual_user": "{{.event.diff.after.properties.user}}",
				},
			},
		},
		"publish": true,
	}
}
