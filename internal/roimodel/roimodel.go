// Package roimodel holds the Port data model of the "actions ROI dashboard" guide: the three blueprints, the
// setup_new_action self-service action, the actions_assistant AI agent and the "Actions ROI" dashboard page
// (setup.go), exactly as the guide defines them (with its "connect the blueprints" additions folded into
// action_run). It is the one place those definitions live; the emulator, the bootstrap command and the
// copy-paste JSON under examples/ all read them from here.
package roimodel

import (
	"embed"
	"encoding/json"
	"fmt"
)

//go:embed defs/*.json
var defs embed.FS

// Blueprint identifiers of the guide's data model.
const (
	CategoriesBlueprint = "actions_categories"
	ActionBlueprint     = "action"
	ActionRunBlueprint  = "action_run"
)

// BlueprintOrder lists the guide's blueprints so that every relation target precedes its first use once
// relations are added in a second pass (action → actions_categories, action_run → action).
var blueprintOrder = []string{CategoriesBlueprint, ActionBlueprint, ActionRunBlueprint}

// Blueprints returns fresh copies of the guide's blueprint definitions, in creation order.
func Blueprints() []map[string]any {
	out := make([]map[string]any, 0, len(blueprintOrder))
	for _, id := range blueprintOrder {
		out = append(out, mustLoad("defs/blueprint_"+id+".json"))
	}
	return out
}

// SetupAction returns a fresh copy of the guide's setup_new_action self-service action, with the
// <YOUR-ORG-NAME> and <YOUR-REPO-NAME> placeholders still in place.
func SetupAction() map[string]any { return mustLoad("defs/action_setup_new_action.json") }

// Agent returns a fresh copy of the guide's actions_assistant AI agent entity.
func Agent() map[string]any { return mustLoad("defs/agent_actions_assistant.json") }

// mustLoad decodes an embedded definition. The files are part of the binary and covered by tests, so a
// decoding failure is a build defect, not a runtime condition.
func mustLoad(name string) map[string]any {
	b, err := defs.ReadFile(name)
	if err != nil {
		panic(fmt.Sprintf("roimodel: %v", err))
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		panic(fmt.Sprintf("roimodel: decode %s: %v", name, err))
	}
	return v
}
