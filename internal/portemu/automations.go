package portemu

import (
	"context"
	"fmt"

	"github.com/port-roi/port-roi-action/internal/port"
)

// maxAutomationChain bounds automations fired by the runs of other automations (an automation may trigger
// on another automation's runs, so a loop is possible).
const maxAutomationChain = 8

// fireRunAutomations runs, synchronously and in identifier order, the published automations that listen to
// this change of r: ANY_RUN_CHANGE on every change, RUN_CREATED on creation, RUN_UPDATED on the others.
// change is "CREATE" or "UPDATE"; before and after are the run before and after the change.
func (s *Server) fireRunAutomations(ctx context.Context, r *run, change string, before, after map[string]any, user string) {
	if s.chain >= maxAutomationChain {
		return
	}
	s.chain++
	defer func() { s.chain-- }()
	for _, id := range sortedKeys(s.actions) {
		a, ok := s.actions[id]
		if !ok || !a.isAutomation() || !a.published() {
			continue
		}
		ev := obj(a.trigger()["event"])
		if str(ev["actionIdentifier"]) != r.actionID {
			continue
		}
		switch str(ev["type"]) {
		case "ANY_RUN_CHANGE":
		case "RUN_CREATED":
			if change != "CREATE" {
				continue
			}
		case "RUN_UPDATED":
			if change != "UPDATE" {
				continue
			}
		default:
			continue
		}
		s.runAutomation(ctx, a, r, change, before, after, user)
	}
}

// runAutomation builds the trigger data of port-api.md §5.3, checks the automation's condition, records the
// automation's own run and executes its invocation method.
func (s *Server) runAutomation(ctx context.Context, a *action, r *run, change string, before, after map[string]any, user string) {
	now := s.clock()
	origin := "API"
	if r.source == "AUTOMATION" {
		origin = "AUTOMATION"
	}
	var triggering any
	if ta, ok := s.actions[r.actionID]; ok {
		triggering = ta.json()
	}
	event := map[string]any{
		"id":           newID("event_"),
		"resourceType": "run",
		"action":       change,
		"trigger":      map[string]any{"by": map[string]any{"orgId": orgID, "userId": user}, "origin": origin, "at": timestamp(now)},
		"context":      map[string]any{"action": triggering},
		"diff":         map[string]any{"before": before, "after": after},
	}
	if cond := obj(a.trigger()["condition"]); cond != nil && !s.conditionHolds(ctx, cond, event) {
		return
	}

	s.seq++
	ar := &run{
		id: newID("r_"), status: port.RunInProgress, actionID: a.id(), actionTitle: str(a.def["title"]), actionIcon: str(a.def["icon"]),
		properties: map[string]any{}, source: "AUTOMATION", requiredApproval: false, createdBy: user, updatedBy: user,
		createdAt: now, updatedAt: now, seq: s.seq,
	}
	s.runs[ar.id] = ar
	data := map[string]any{
		"inputs": nil,
		"trigger": map[string]any{
			"by":     map[string]any{"orgId": orgID, "userId": user, "user": map[string]any{"email": user}},
			"origin": "AUTOMATION",
			"at":     timestamp(now),
		},
		"event":  event,
		"entity": nil,
		"action": map[string]any{"identifier": a.id()},
		"run":    map[string]any{"id": ar.id},
	}
	s.fireRunAutomations(ctx, ar, "CREATE", nil, s.runJSON(ar), user)
	s.execute(ctx, ar, a, data, user)
}

// conditionHolds evaluates a JQ condition with the event as root. An expression that fails counts as
// false.
func (s *Server) conditionHolds(ctx context.Context, cond map[string]any, event map[string]any) bool {
	exprs, _ := stringList(cond["expressions"])
	or := cond["combinator"] == "or"
	for _, e := range exprs {
		v, err := s.jq.Eval(ctx, e, event)
		ok := err == nil && v != nil && v != false
		if or && ok {
			return true
		}
		if !or && !ok {
			return false
		}
	}
	return !or || len(exprs) == 0
}

// selfServiceData is the template input of a self-service run's invocation method.
func (s *Server) selfServiceData(r *run, a *action, entJSON any, user string) map[string]any {
	return map[string]any{
		"inputs": copyObject(r.properties),
		"trigger": map[string]any{
			"by":     map[string]any{"orgId": orgID, "userId": user, "user": map[string]any{"email": user}},
			"origin": "API",
			"at":     timestamp(s.clock()),
		},
		"action": map[string]any{"identifier": a.id(), "title": nilIfEmpty(str(a.def["title"])), "blueprint": nilIfEmpty(r.blueprintID)},
		"entity": entJSON,
		"run":    map[string]any{"id": r.id},
	}
}

// execute renders a run's invocation method into its payload. An UPSERT_ENTITY backend is carried out on
// the spot and ends the run; every other backend (WEBHOOK, GITHUB, …) leaves the run IN_PROGRESS for the
// outside world to finish.
func (s *Server) execute(ctx context.Context, r *run, a *action, data map[string]any, user string) {
	rendered, err := s.jq.Render(ctx, a.def["invocationMethod"], data)
	if err != nil {
		s.addLog(r, fmt.Sprintf("Failed to render the invocation method: %v", err), port.RunFailure, "", user)
		s.finishRun(ctx, r, port.RunFailure, "", user)
		return
	}
	r.payload = rendered
	im := obj(rendered)
	if str(im["type"]) != "UPSERT_ENTITY" {
		return
	}
	bp := str(im["blueprintIdentifier"])
	mapping, ok := im["mapping"].(map[string]any)
	if !ok {
		s.addLog(r, "Failed to upsert entity: the rendered mapping is not an object", port.RunFailure, "", user)
		s.finishRun(ctx, r, port.RunFailure, "", user)
		return
	}
	e, created, err := s.writeEntity(bp, mapping, writeOpts{mode: modeCreate, upsert: true, merge: true, user: user})
	if err != nil {
		ae := asError(err)
		s.addLog(r, fmt.Sprintf("Failed to upsert entity %q in blueprint %q: %d %s: %s", str(mapping["identifier"]), bp, ae.Status, ae.Code, ae.Message), port.RunFailure, "", user)
		s.finishRun(ctx, r, port.RunFailure, "", user)
		return
	}
	verb := "updated"
	if created {
		verb = "created"
	}
	s.addLog(r, fmt.Sprintf("Entity %q %s in blueprint %q", e.Identifier, verb, bp), port.RunSuccess, "", user)
	s.finishRun(ctx, r, port.RunSuccess, "", user)
}
