package portemu

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/itchyny/gojq"
)

// action is a stored self-service action or automation.
type action struct {
	def       map[string]any // as sent, without metadata
	createdAt time.Time
	updatedAt time.Time
	createdBy string
	updatedBy string
}

func (a *action) id() string              { return str(a.def["identifier"]) }
func (a *action) trigger() map[string]any { return obj(a.def["trigger"]) }
func (a *action) isAutomation() bool      { return str(a.trigger()["type"]) == "automation" }

// published reports whether an automation is active (publish defaults to true).
func (a *action) published() bool { return a.def["publish"] != false }

// json is the action as Port returns it: the definition plus metadata.
func (a *action) json() map[string]any {
	out := copyObject(a.def)
	out["createdAt"] = timestamp(a.createdAt)
	out["updatedAt"] = timestamp(a.updatedAt)
	out["createdBy"] = a.createdBy
	out["updatedBy"] = a.updatedBy
	return out
}

// Action returns an action or automation as the API returns it.
func (s *Server) Action(id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.actions[id]
	if !ok {
		return nil, false
	}
	return a.json(), true
}

// Actions returns every action and automation, sorted by identifier.
func (s *Server) Actions() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, 0, len(s.actions))
	for _, id := range sortedKeys(s.actions) {
		out = append(out, s.actions[id].json())
	}
	return out
}

// actionFields are the top-level keys the action schema allows (additionalProperties: false).
var actionFields = []string{"identifier", "title", "icon", "description", "trigger", "invocationMethod",
	"requiredApproval", "approvalNotification", "publish", "allowAnyoneToViewRuns"}

var (
	automationEvents = []string{"ENTITY_CREATED", "ENTITY_UPDATED", "ENTITY_DELETED", "ANY_ENTITY_CHANGE",
		"TIMER_PROPERTY_EXPIRED", "RUN_CREATED", "RUN_UPDATED", "ANY_RUN_CHANGE"}
	invocationTypes = []string{"WEBHOOK", "GITHUB", "INTEGRATION_ACTION", "GITLAB", "AZURE_DEVOPS", "KAFKA", "UPSERT_ENTITY"}
)

// invocationRequired lists the required fields of each invocation type.
func invocationRequired(typ string) []string {
	switch typ {
	case "WEBHOOK":
		return []string{"url"}
	case "GITHUB":
		return []string{"org", "repo", "workflow"}
	case "INTEGRATION_ACTION":
		return []string{"installationId", "integrationActionType", "integrationActionExecutionProperties"}
	case "GITLAB":
		return []string{"projectName", "groupName"}
	case "AZURE_DEVOPS":
		return []string{"webhook", "org"}
	case "UPSERT_ENTITY":
		return []string{"blueprintIdentifier", "mapping"}
	}
	return nil
}

// validateAction checks an action or automation definition against Port's schema and the organisation
// (blueprints and triggering actions must exist).
func (s *Server) validateAction(def map[string]any) error {
	if err := onlyKeys("action", def, actionFields...); err != nil {
		return err
	}
	id, err := checkIdentifier("action", def["identifier"], actionIDPattern, 0)
	if err != nil {
		return err
	}
	for _, k := range []string{"title", "icon", "description"} {
		if v, ok := def[k]; ok {
			if _, isStr := v.(string); !isStr {
				return invalidRequest("action %q: %s must be a string", id, k)
			}
		}
	}
	for _, k := range []string{"publish", "allowAnyoneToViewRuns"} {
		if v, ok := def[k]; ok {
			if _, isBool := v.(bool); !isBool {
				return invalidRequest("action %q: %s must be a boolean", id, k)
			}
		}
	}
	if v, ok := def["requiredApproval"]; ok {
		switch ra := v.(type) {
		case bool:
		case map[string]any:
			if t := str(ra["type"]); t != "ANY" && t != "ALL" {
				return invalidRequest("action %q: requiredApproval must be a boolean or {\"type\": \"ANY\" | \"ALL\"}", id)
			}
		default:
			return invalidRequest("action %q: requiredApproval must be a boolean or {\"type\": \"ANY\" | \"ALL\"}", id)
		}
	}
	if v, ok := def["approvalNotification"]; ok {
		an, isObj := v.(map[string]any)
		switch {
		case !isObj:
			return invalidRequest("action %q: approvalNotification must be an object", id)
		case an["type"] == "webhook" && str(an["url"]) == "":
			return invalidRequest("action %q: approvalNotification of type webhook needs a url", id)
		case an["type"] != "email" && an["type"] != "webhook":
			return invalidRequest("action %q: approvalNotification.type must be \"email\" or \"webhook\"", id)
		}
	}
	trig, ok := def["trigger"].(map[string]any)
	if !ok {
		return invalidRequest("action %q: must have required property 'trigger' (an object)", id)
	}
	switch trig["type"] {
	case "self-service":
		if err := s.validateSelfService(id, trig); err != nil {
			return err
		}
	case "automation":
		if err := s.validateAutomationTrigger(id, trig); err != nil {
			return err
		}
	default:
		return invalidRequest("action %q: trigger.type must be \"self-service\" or \"automation\", got %v", id, trig["type"])
	}
	im, ok := def["invocationMethod"].(map[string]any)
	if !ok {
		return invalidRequest("action %q: must have required property 'invocationMethod' (an object)", id)
	}
	typ := str(im["type"])
	if !slices.Contains(invocationTypes, typ) {
		return invalidRequest("action %q: invocationMethod.type must be one of %s, got %v", id, strings.Join(invocationTypes, ", "), im["type"])
	}
	for _, k := range invocationRequired(typ) {
		if im[k] == nil {
			return invalidRequest("action %q: invocationMethod of type %s must have required property '%s'", id, typ, k)
		}
	}
	if typ == "UPSERT_ENTITY" {
		bp, isStr := im["blueprintIdentifier"].(string)
		if !isStr {
			return invalidRequest("action %q: invocationMethod.blueprintIdentifier must be a string", id)
		}
		if _, ok := im["mapping"].(map[string]any); !ok {
			return invalidRequest("action %q: invocationMethod.mapping must be an object", id)
		}
		if !strings.Contains(bp, "{{") {
			if _, exists := s.blueprints[bp]; !exists {
				return validationError("action %q: invocationMethod.blueprintIdentifier: blueprint %q does not exist", id, bp)
			}
		}
	}
	return nil
}

func (s *Server) validateSelfService(id string, trig map[string]any) error {
	if err := onlyKeys("trigger", trig, "type", "operation", "userInputs", "blueprintIdentifier",
		"actionCardButtonText", "executeActionButtonText", "condition"); err != nil {
		return err
	}
	op := str(trig["operation"])
	if op != "CREATE" && op != "DAY-2" && op != "DELETE" {
		return invalidRequest("action %q: trigger.operation must be CREATE, DAY-2 or DELETE, got %v", id, trig["operation"])
	}
	if _, has := trig["condition"]; has && op == "CREATE" {
		return invalidRequest("action %q: trigger must NOT have additional properties: a CREATE action has no condition", id)
	}
	if v, ok := trig["blueprintIdentifier"]; ok {
		bp, isStr := v.(string)
		if !isStr {
			return invalidRequest("action %q: trigger.blueprintIdentifier must be a string", id)
		}
		if _, exists := s.blueprints[bp]; !exists {
			return validationError("action %q: trigger.blueprintIdentifier: blueprint %q does not exist", id, bp)
		}
	}
	for _, k := range []string{"actionCardButtonText", "executeActionButtonText"} {
		if v, ok := trig[k]; ok {
			t, isStr := v.(string)
			if !isStr || len([]rune(t)) < 1 || len([]rune(t)) > 15 || strings.TrimSpace(t) != t {
				return invalidRequest("action %q: trigger.%s must be 1 to 15 characters without surrounding spaces", id, k)
			}
		}
	}
	ui, ok := trig["userInputs"].(map[string]any)
	if !ok {
		return invalidRequest("action %q: trigger must have required property 'userInputs' (an object)", id)
	}
	props, ok := ui["properties"].(map[string]any)
	if !ok {
		return invalidRequest("action %q: trigger.userInputs must have required property 'properties' (an object)", id)
	}
	for _, k := range sortedKeys(props) {
		if !keyPattern.MatchString(k) || len(k) > 100 {
			return invalidRequest("action %q: user input identifier %q must match pattern %q", id, k, keyPattern.String())
		}
		p, ok := props[k].(map[string]any)
		if !ok || !slices.Contains(propertyTypes, str(p["type"])) {
			return invalidRequest("action %q: user input %q must have a type (one of %s)", id, k, strings.Join(propertyTypes, ", "))
		}
	}
	if r, ok := ui["required"]; ok {
		switch rv := r.(type) {
		case []any:
			list, ok := stringList(rv)
			if !ok {
				return invalidRequest("action %q: trigger.userInputs.required must list input identifiers", id)
			}
			for _, k := range list {
				if _, ok := props[k]; !ok {
					return invalidRequest("action %q: required user input %q is not defined", id, k)
				}
			}
		case map[string]any:
			if str(rv["jqQuery"]) == "" {
				return invalidRequest("action %q: trigger.userInputs.required must be an array or {\"jqQuery\": …}", id)
			}
		default:
			return invalidRequest("action %q: trigger.userInputs.required must be an array or {\"jqQuery\": …}", id)
		}
	}
	return nil
}

func (s *Server) validateAutomationTrigger(id string, trig map[string]any) error {
	if err := onlyKeys("trigger", trig, "type", "event", "condition"); err != nil {
		return err
	}
	ev, ok := trig["event"].(map[string]any)
	if !ok {
		return invalidRequest("action %q: an automation trigger must have required property 'event' (an object)", id)
	}
	typ := str(ev["type"])
	if !slices.Contains(automationEvents, typ) {
		return invalidRequest("action %q: trigger.event.type must be one of %s, got %v", id, strings.Join(automationEvents, ", "), ev["type"])
	}
	switch typ {
	case "RUN_CREATED", "RUN_UPDATED", "ANY_RUN_CHANGE":
		target := str(ev["actionIdentifier"])
		if target == "" {
			return invalidRequest("action %q: trigger.event of type %s must have required property 'actionIdentifier'", id, typ)
		}
		if _, exists := s.actions[target]; !exists {
			return validationError("action %q: trigger.event.actionIdentifier: action %q does not exist", id, target)
		}
	default:
		bp := str(ev["blueprintIdentifier"])
		if bp == "" {
			return invalidRequest("action %q: trigger.event of type %s must have required property 'blueprintIdentifier'", id, typ)
		}
		if _, exists := s.blueprints[bp]; !exists {
			return validationError("action %q: trigger.event.blueprintIdentifier: blueprint %q does not exist", id, bp)
		}
		if typ == "TIMER_PROPERTY_EXPIRED" && str(ev["propertyIdentifier"]) == "" {
			return invalidRequest("action %q: trigger.event of type TIMER_PROPERTY_EXPIRED must have required property 'propertyIdentifier'", id)
		}
	}
	if c, ok := trig["condition"]; ok {
		cm, isObj := c.(map[string]any)
		if !isObj || cm["type"] != "JQ" {
			return invalidRequest("action %q: an automation condition must be {\"type\": \"JQ\", \"expressions\": [...], \"combinator\": \"and\" | \"or\"}", id)
		}
		exprs, ok := stringList(cm["expressions"])
		if _, isArr := cm["expressions"].([]any); !ok || !isArr {
			return invalidRequest("action %q: trigger.condition.expressions must be an array of jq expressions", id)
		}
		if comb, ok := cm["combinator"]; ok && comb != "and" && comb != "or" {
			return invalidRequest("action %q: trigger.condition.combinator must be \"and\" or \"or\"", id)
		}
		for _, e := range exprs {
			q, err := gojq.Parse(e)
			if err == nil {
				_, err = gojq.Compile(q)
			}
			if err != nil {
				return invalidRequest("action %q: trigger.condition expression %q is not valid jq: %v", id, e, err)
			}
		}
	}
	return nil
}

func (s *Server) handleListActions(c *call) (int, any, error) {
	q := c.query
	out := []any{}
	for _, id := range sortedKeys(s.actions) {
		a := s.actions[id]
		trig := a.trigger()
		ev := obj(trig["event"])
		if t := q.Get("trigger_type"); t != "" && str(trig["type"]) != t {
			continue
		}
		if ids := q["action_identifier"]; len(ids) > 0 && !slices.Contains(ids, id) {
			continue
		}
		if bps := q["blueprint_identifier"]; len(bps) > 0 && !slices.Contains(bps, str(trig["blueprintIdentifier"])) && !slices.Contains(bps, str(ev["blueprintIdentifier"])) {
			continue
		}
		if ops := q["operation"]; len(ops) > 0 && !slices.Contains(ops, str(trig["operation"])) {
			continue
		}
		if p := q.Get("published"); p != "" && (a.isAutomation() && a.published()) != (p == "true") {
			continue
		}
		if evs := q["trigger_event"]; len(evs) > 0 && !slices.Contains(evs, str(ev["type"])) {
			continue
		}
		if ids := q["trigger_event_action_identifier"]; len(ids) > 0 && !slices.Contains(ids, str(ev["actionIdentifier"])) {
			continue
		}
		out = append(out, a.json())
	}
	return http.StatusOK, map[string]any{"ok": true, "actions": out}, nil
}

func (s *Server) handleCreateAction(c *call) (int, any, error) {
	def, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	if err := s.validateAction(def); err != nil {
		return 0, nil, err
	}
	id := str(def["identifier"])
	if _, exists := s.actions[id]; exists {
		return 0, nil, conflict("action %q already exists", id)
	}
	now := s.clock()
	a := &action{def: def, createdAt: now, updatedAt: now, createdBy: c.user, updatedBy: c.user}
	s.actions[id] = a
	return http.StatusCreated, map[string]any{"ok": true, "action": a.json()}, nil
}

func (s *Server) handleGetAction(c *call) (int, any, error) {
	a, ok := s.actions[c.params[0]]
	if !ok {
		return 0, nil, notFound("action %q not found", c.params[0])
	}
	return http.StatusOK, map[string]any{"ok": true, "action": a.json()}, nil
}

func (s *Server) handlePutAction(c *call) (int, any, error) {
	id := c.params[0]
	old, ok := s.actions[id]
	if !ok {
		return 0, nil, notFound("action %q not found", id)
	}
	def, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	if err := s.validateAction(def); err != nil {
		return 0, nil, err
	}
	if def["identifier"] != id {
		return 0, nil, invalidRequest("action identifier %v in the body does not match %q in the path", def["identifier"], id)
	}
	a := &action{def: def, createdAt: old.createdAt, createdBy: old.createdBy, updatedAt: s.clock(), updatedBy: c.user}
	s.actions[id] = a
	return http.StatusOK, map[string]any{"ok": true, "action": a.json()}, nil
}

func (s *Server) handleDeleteAction(c *call) (int, any, error) {
	id := c.params[0]
	if _, ok := s.actions[id]; !ok {
		return 0, nil, notFound("action %q not found", id)
	}
	delete(s.actions, id)
	return http.StatusOK, map[string]any{"ok": true}, nil
}
