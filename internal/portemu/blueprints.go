package portemu

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/itchyny/gojq"
)

// System blueprint identifiers.
const (
	userBlueprint    = "_user"
	teamBlueprint    = "_team"
	aiAgentBlueprint = "_ai_agent"
)

// blueprint is a stored blueprint definition.
type blueprint struct {
	def       map[string]any // as sent, without metadata
	system    bool
	freeForm  bool // accepts properties it does not declare (_ai_agent)
	createdAt time.Time
	updatedAt time.Time
	createdBy string
	updatedBy string
}

// relationDef is one declared relation.
type relationDef struct {
	target   string
	many     bool
	required bool
}

func (b *blueprint) id() string { return str(b.def["identifier"]) }

func (b *blueprint) schemaProps() map[string]any { return schemaProps(b.def) }

func schemaProps(def map[string]any) map[string]any {
	return obj(obj(def["schema"])["properties"])
}

func (b *blueprint) requiredProps() []string {
	list, _ := stringList(obj(b.def["schema"])["required"])
	return list
}

func (b *blueprint) relations() map[string]relationDef { return relationsOf(b.def) }

func relationsOf(def map[string]any) map[string]relationDef {
	out := map[string]relationDef{}
	for k, v := range obj(def["relations"]) {
		r := obj(v)
		many, _ := r["many"].(bool)
		req, _ := r["required"].(bool)
		out[k] = relationDef{target: str(r["target"]), many: many, required: req}
	}
	return out
}

func (b *blueprint) mirrors() map[string]any      { return obj(b.def["mirrorProperties"]) }
func (b *blueprint) calculations() map[string]any { return obj(b.def["calculationProperties"]) }
func (b *blueprint) aggregations() map[string]any { return obj(b.def["aggregationProperties"]) }

// isComputed reports whether key is a mirror, calculation or aggregation property.
func (b *blueprint) isComputed(key string) bool {
	_, m := b.mirrors()[key]
	_, c := b.calculations()[key]
	_, a := b.aggregations()[key]
	return m || c || a
}

// json is the blueprint as Port returns it: the definition, the property groups Port always returns, and
// metadata.
func (b *blueprint) json() map[string]any {
	out := copyObject(b.def)
	for _, k := range []string{"mirrorProperties", "calculationProperties", "aggregationProperties", "relations"} {
		if _, ok := out[k]; !ok {
			out[k] = map[string]any{}
		}
	}
	out["createdAt"] = timestamp(b.createdAt)
	out["updatedAt"] = timestamp(b.updatedAt)
	out["createdBy"] = b.createdBy
	out["updatedBy"] = b.updatedBy
	return out
}

// Blueprint returns a blueprint as the API returns it.
func (s *Server) Blueprint(id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.blueprints[id]
	if !ok {
		return nil, false
	}
	return b.json(), true
}

// systemBlueprints are the blueprints every organisation has. Only the fields the emulator needs are
// modelled.
func systemBlueprints(aiAgents bool) []*blueprint {
	prop := func(typ string, extra ...string) map[string]any {
		p := map[string]any{"type": typ}
		for i := 0; i+1 < len(extra); i += 2 {
			p[extra[i]] = extra[i+1]
		}
		return p
	}
	out := []*blueprint{
		{system: true, def: map[string]any{
			"identifier": userBlueprint, "title": "User", "icon": "User",
			"schema": map[string]any{"properties": map[string]any{
				"email":     prop("string", "format", "email", "title", "Email"),
				"status":    prop("string", "title", "Status"),
				"port_type": prop("string", "title", "User type"),
				"port_role": prop("string", "title", "Port role"),
			}, "required": []any{}},
		}},
		{system: true, def: map[string]any{
			"identifier": teamBlueprint, "title": "Team", "icon": "Team",
			"schema": map[string]any{"properties": map[string]any{
				"description": prop("string", "title", "Description"),
				"size":        prop("number", "title", "Size"),
			}, "required": []any{}},
		}},
	}
	if aiAgents {
		out = append(out, &blueprint{system: true, freeForm: true, def: map[string]any{
			"identifier": aiAgentBlueprint, "title": "AI Agent", "icon": "AI",
			"schema": map[string]any{"properties": map[string]any{
				"description":           prop("string", "title", "Description"),
				"status":                prop("string", "title", "Status"),
				"prompt":                prop("string", "title", "Prompt", "format", "markdown"),
				"execution_mode":        prop("string", "title", "Execution mode"),
				"allowed_blueprints":    prop("array", "title", "Allowed blueprints"),
				"conversation_starters": prop("array", "title", "Conversation starters"),
				"tools":                 prop("array", "title", "Tools"),
			}, "required": []any{}},
		}})
	}
	return out
}

// seed installs the system blueprints, the users and the seeded blueprints. It runs before the server is
// shared, so it needs no lock.
func (s *Server) seed() {
	now := s.now()
	user := s.user()
	for _, b := range systemBlueprints(s.aiAgents) {
		b.createdAt, b.updatedAt, b.createdBy, b.updatedBy = now, now, user, user
		s.blueprints[b.id()] = b
		s.entities[b.id()] = map[string]*entity{}
	}
	for _, email := range s.users {
		s.entities[userBlueprint][email] = &entity{
			Identifier: email, Title: email, Blueprint: userBlueprint,
			Properties: map[string]any{"email": email, "status": "Active"},
			Relations:  map[string]any{},
			CreatedAt:  now, UpdatedAt: now, CreatedBy: user, UpdatedBy: user,
		}
	}
	for _, def := range s.seedBlueprints {
		norm, err := normalizeJSON(def)
		m := obj(norm)
		if err != nil || str(m["identifier"]) == "" {
			panic(fmt.Sprintf("portemu: WithBlueprints: definition without a string identifier: %v", def))
		}
		id := str(m["identifier"])
		s.blueprints[id] = &blueprint{def: m, createdAt: now, updatedAt: now, createdBy: user, updatedBy: user}
		if s.entities[id] == nil {
			s.entities[id] = map[string]*entity{}
		}
	}
}

var propertyTypes = []string{"string", "number", "boolean", "object", "array"}

// mirrorFields are the meta fields a mirror path may end in.
var mirrorFields = []string{"$identifier", "$title", "$team", "$icon", "$blueprint", "$createdAt", "$updatedAt"}

// validateBlueprint checks a full definition; old is the stored blueprint on PUT/PATCH (property types
// cannot change after creation).
func (s *Server) validateBlueprint(def map[string]any, old *blueprint) error {
	id, err := checkIdentifier("blueprint", def["identifier"], blueprintIDPattern, 100)
	if err != nil {
		return err
	}
	title, ok := def["title"].(string)
	if !ok || title == "" || len([]rune(title)) > 100 {
		return invalidRequest("blueprint %q: title is required (a string of 1 to 100 characters)", id)
	}
	for _, k := range []string{"description", "icon"} {
		if v, ok := def[k]; ok && v != nil {
			if _, isStr := v.(string); !isStr {
				return invalidRequest("blueprint %q: %s must be a string", id, k)
			}
		}
	}
	schema, ok := def["schema"].(map[string]any)
	if !ok {
		return invalidRequest("blueprint %q: schema is required (an object with properties and required)", id)
	}
	props, ok := schema["properties"].(map[string]any)
	if !ok && schema["properties"] != nil {
		return invalidRequest("blueprint %q: schema.properties must be an object", id)
	}
	keys := map[string]string{} // property key → group, to catch duplicates across groups
	for _, k := range sortedKeys(props) {
		if err := checkKey(id, "property", k); err != nil {
			return err
		}
		p, ok := props[k].(map[string]any)
		if !ok {
			return invalidRequest("blueprint %q: property %q must be an object", id, k)
		}
		typ, _ := p["type"].(string)
		if !slices.Contains(propertyTypes, typ) {
			return invalidRequest("blueprint %q: property %q: type must be one of %s, got %v", id, k, strings.Join(propertyTypes, ", "), p["type"])
		}
		if e, ok := p["enum"]; ok {
			if _, isArr := e.([]any); !isArr {
				return invalidRequest("blueprint %q: property %q: enum must be an array", id, k)
			}
		}
		if d, ok := p["default"]; ok && d != nil {
			if err := checkValue(k, p, d); err != nil {
				return invalidRequest("blueprint %q: default of %s", id, err.(*Error).Message)
			}
		}
		keys[k] = "schema.properties"
	}
	if r, ok := schema["required"]; ok && r != nil {
		list, ok := stringList(r)
		if _, isArr := r.([]any); !ok || !isArr {
			return invalidRequest("blueprint %q: schema.required must be an array of property identifiers", id)
		}
		for _, k := range list {
			if _, ok := props[k]; !ok {
				return invalidRequest("blueprint %q: required property %q is not defined in schema.properties", id, k)
			}
		}
	}

	rels, err := s.checkRelations(id, def)
	if err != nil {
		return err
	}
	if err := s.checkMirrors(id, def, rels, keys); err != nil {
		return err
	}
	if err := checkCalculations(id, def, keys); err != nil {
		return err
	}
	if err := s.checkAggregations(id, def, keys); err != nil {
		return err
	}
	if o, ok := def["ownership"]; ok && o != nil {
		om, ok := o.(map[string]any)
		typ := str(om["type"])
		if !ok || (typ != "Direct" && typ != "Inherited") {
			return invalidRequest("blueprint %q: ownership.type must be \"Direct\" or \"Inherited\"", id)
		}
		if typ == "Inherited" && str(om["path"]) == "" {
			return invalidRequest("blueprint %q: inherited ownership needs a path", id)
		}
	}
	if old != nil {
		for k, v := range old.schemaProps() {
			if np, ok := props[k].(map[string]any); ok && str(np["type"]) != str(obj(v)["type"]) {
				return validationError("blueprint %q: the type of property %q cannot be changed (from %v to %v)", id, k, obj(v)["type"], np["type"])
			}
		}
	}
	return nil
}

func checkKey(bp, kind, k string) error {
	if !keyPattern.MatchString(k) || len(k) > 100 {
		return invalidRequest("blueprint %q: %s identifier %q must match pattern %q (at most 100 characters)", bp, kind, k, keyPattern.String())
	}
	return nil
}

func addKey(bp string, keys map[string]string, k, group string) error {
	if prev, dup := keys[k]; dup {
		return invalidRequest("blueprint %q: %q is defined both in %s and in %s", bp, k, prev, group)
	}
	keys[k] = group
	return nil
}

func (s *Server) checkRelations(id string, def map[string]any) (map[string]relationDef, error) {
	raw, ok := def["relations"]
	if !ok || raw == nil {
		return map[string]relationDef{}, nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, invalidRequest("blueprint %q: relations must be an object", id)
	}
	for _, k := range sortedKeys(m) {
		if err := checkKey(id, "relation", k); err != nil {
			return nil, err
		}
		r, ok := m[k].(map[string]any)
		if !ok {
			return nil, invalidRequest("blueprint %q: relation %q must be an object", id, k)
		}
		target, _ := r["target"].(string)
		if target == "" {
			return nil, invalidRequest("blueprint %q: relation %q: target is required", id, k)
		}
		if _, exists := s.blueprints[target]; !exists && target != id {
			return nil, validationError("blueprint %q: relation %q: target blueprint %q does not exist; create it first", id, k, target)
		}
		for _, f := range []string{"required", "many"} {
			if v, ok := r[f]; ok {
				if _, isBool := v.(bool); !isBool {
					return nil, invalidRequest("blueprint %q: relation %q: %s must be a boolean", id, k, f)
				}
			}
		}
		if r["many"] == true && r["required"] == true {
			return nil, invalidRequest("blueprint %q: relation %q cannot be both many and required", id, k)
		}
	}
	return relationsOf(def), nil
}

// checkMirrors validates mirror paths hop by hop as far as the blueprints are known. Past a system blueprint
// (_user, _team) the path is not checked: organisations extend those with relations the emulator does not
// model (the guide mirrors "ran_by_actual_user.$team.group.$title").
func (s *Server) checkMirrors(id string, def map[string]any, rels map[string]relationDef, keys map[string]string) error {
	raw, ok := def["mirrorProperties"]
	if !ok || raw == nil {
		return nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return invalidRequest("blueprint %q: mirrorProperties must be an object", id)
	}
	for _, k := range sortedKeys(m) {
		if err := checkKey(id, "mirror property", k); err != nil {
			return err
		}
		if err := addKey(id, keys, k, "mirrorProperties"); err != nil {
			return err
		}
		path := str(obj(m[k])["path"])
		hops := strings.Split(path, ".")
		if path == "" || len(hops) < 2 || slices.Contains(hops, "") {
			return invalidRequest("blueprint %q: mirror property %q: path must be relation identifiers and a property joined by dots, got %q", id, k, path)
		}
		curID, curDef, curRels := id, def, rels
		for i, hop := range hops {
			last := i == len(hops)-1
			if strings.HasPrefix(hop, "$") {
				if !slices.Contains(mirrorFields, hop) {
					return invalidRequest("blueprint %q: mirror property %q: unknown field %q in path %q", id, k, hop, path)
				}
				if hop == "$team" && !last {
					curID, curDef = teamBlueprint, nil
					continue
				}
				if !last {
					return invalidRequest("blueprint %q: mirror property %q: %q can only end the path %q", id, k, hop, path)
				}
				break
			}
			if curDef == nil {
				break // past a system blueprint: not checked
			}
			if last {
				if _, isProp := schemaProps(curDef)[hop]; !isProp && !defines(curDef, hop) {
					return validationError("blueprint %q: mirror property %q: blueprint %q has no property %q (path %q)", id, k, curID, hop, path)
				}
				break
			}
			rel, ok := curRels[hop]
			if !ok {
				return validationError("blueprint %q: mirror property %q: blueprint %q has no relation %q (path %q)", id, k, curID, hop, path)
			}
			curID = rel.target
			switch target := s.blueprints[rel.target]; {
			case rel.target == id:
				curDef, curRels = def, rels
			case target == nil:
				return validationError("blueprint %q: mirror property %q: target blueprint %q does not exist (path %q)", id, k, rel.target, path)
			case target.system:
				curDef = nil
			default:
				curDef, curRels = target.def, target.relations()
			}
		}
	}
	return nil
}

// defines reports whether def declares key as a mirror, calculation or aggregation property.
func defines(def map[string]any, key string) bool {
	for _, g := range []string{"mirrorProperties", "calculationProperties", "aggregationProperties"} {
		if _, ok := obj(def[g])[key]; ok {
			return true
		}
	}
	return false
}

func checkCalculations(id string, def map[string]any, keys map[string]string) error {
	raw, ok := def["calculationProperties"]
	if !ok || raw == nil {
		return nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return invalidRequest("blueprint %q: calculationProperties must be an object", id)
	}
	for _, k := range sortedKeys(m) {
		if err := checkKey(id, "calculation property", k); err != nil {
			return err
		}
		if err := addKey(id, keys, k, "calculationProperties"); err != nil {
			return err
		}
		c := obj(m[k])
		expr, ok := c["calculation"].(string)
		if !ok || expr == "" {
			return invalidRequest("blueprint %q: calculation property %q: calculation (a jq expression) is required", id, k)
		}
		if !slices.Contains(propertyTypes, str(c["type"])) {
			return invalidRequest("blueprint %q: calculation property %q: type must be one of %s", id, k, strings.Join(propertyTypes, ", "))
		}
		q, err := gojq.Parse(expr)
		if err == nil {
			_, err = gojq.Compile(q)
		}
		if err != nil {
			return invalidRequest("blueprint %q: calculation property %q: invalid jq %q: %v", id, k, expr, err)
		}
	}
	return nil
}

var aggregationFuncs = []string{"count", "sum", "min", "max", "average", "median"}

func (s *Server) checkAggregations(id string, def map[string]any, keys map[string]string) error {
	raw, ok := def["aggregationProperties"]
	if !ok || raw == nil {
		return nil
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return invalidRequest("blueprint %q: aggregationProperties must be an object", id)
	}
	for _, k := range sortedKeys(m) {
		if err := checkKey(id, "aggregation property", k); err != nil {
			return err
		}
		if err := addKey(id, keys, k, "aggregationProperties"); err != nil {
			return err
		}
		a := obj(m[k])
		target := str(a["target"])
		if target == "" {
			return invalidRequest("blueprint %q: aggregation property %q: target is required", id, k)
		}
		if _, exists := s.blueprints[target]; !exists && target != id {
			return validationError("blueprint %q: aggregation property %q: target blueprint %q does not exist; create it first", id, k, target)
		}
		spec, ok := a["calculationSpec"].(map[string]any)
		if !ok {
			return invalidRequest("blueprint %q: aggregation property %q: calculationSpec is required", id, k)
		}
		fn := str(spec["func"])
		if !slices.Contains(aggregationFuncs, fn) {
			return invalidRequest("blueprint %q: aggregation property %q: calculationSpec.func must be one of %s", id, k, strings.Join(aggregationFuncs, ", "))
		}
		by := str(spec["calculationBy"])
		switch {
		case by == "entities" && (fn == "count" || fn == "average"):
		case by == "property" && fn != "count":
			if str(spec["property"]) == "" {
				return invalidRequest("blueprint %q: aggregation property %q: calculationSpec.property is required with calculationBy \"property\"", id, k)
			}
		default:
			return invalidRequest("blueprint %q: aggregation property %q: func %q cannot be combined with calculationBy %q", id, k, fn, by)
		}
		if q, ok := a["query"]; ok && q != nil {
			if err := validateQuery(q); err != nil {
				return invalidRequest("blueprint %q: aggregation property %q: query: %s", id, k, asError(err).Message)
			}
		}
		if err := s.checkAggregationSource(id, def, k, a); err != nil { // aggregations.go
			return err
		}
	}
	return nil
}

func (s *Server) handleListBlueprints(c *call) (int, any, error) {
	out := make([]any, 0, len(s.blueprints))
	for _, id := range sortedKeys(s.blueprints) {
		out = append(out, s.blueprints[id].json())
	}
	return http.StatusOK, map[string]any{"ok": true, "blueprints": out}, nil
}

func (s *Server) handleCreateBlueprint(c *call) (int, any, error) {
	def, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	id, err := checkIdentifier("blueprint", def["identifier"], blueprintIDPattern, 100)
	if err != nil {
		return 0, nil, err
	}
	if _, exists := s.blueprints[id]; exists {
		return 0, nil, conflict("blueprint %q already exists", id)
	}
	stripMeta(def)
	if err := s.validateBlueprint(def, nil); err != nil {
		return 0, nil, err
	}
	now := s.now()
	b := &blueprint{def: def, createdAt: now, updatedAt: now, createdBy: c.user, updatedBy: c.user}
	s.blueprints[id] = b
	s.entities[id] = map[string]*entity{}
	return http.StatusCreated, map[string]any{"ok": true, "blueprint": b.json()}, nil
}

func (s *Server) handleGetBlueprint(c *call) (int, any, error) {
	b, ok := s.blueprints[c.params[0]]
	if !ok {
		return 0, nil, notFound("blueprint %q not found", c.params[0])
	}
	out := b.json()
	if c.flag("exclude_calculated_properties") {
		delete(out, "calculationProperties")
	}
	return http.StatusOK, map[string]any{"ok": true, "blueprint": out}, nil
}

func (s *Server) handlePutBlueprint(c *call) (int, any, error) {
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	return s.replaceBlueprint(c, func(old map[string]any) (map[string]any, error) { return body, nil })
}

func (s *Server) handlePatchBlueprint(c *call) (int, any, error) {
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	return s.replaceBlueprint(c, func(old map[string]any) (map[string]any, error) {
		merged := copyObject(old)
		for k, v := range body {
			merged[k] = v
		}
		return merged, nil
	})
}

// replaceBlueprint is PUT and PATCH: build the new definition from the old one, validate, store.
func (s *Server) replaceBlueprint(c *call, build func(old map[string]any) (map[string]any, error)) (int, any, error) {
	id := c.params[0]
	old, ok := s.blueprints[id]
	if !ok {
		return 0, nil, notFound("blueprint %q not found", id)
	}
	if old.id() == aiAgentBlueprint {
		return 0, nil, validationError("blueprint %q is a system blueprint and cannot be changed", id)
	}
	def, err := build(old.def)
	if err != nil {
		return 0, nil, err
	}
	if v, ok := def["identifier"]; ok && v != id {
		return 0, nil, invalidRequest("blueprint identifier %v in the body does not match %q in the path", v, id)
	}
	def["identifier"] = id
	stripMeta(def)
	if err := s.validateBlueprint(def, old); err != nil {
		return 0, nil, err
	}
	nb := &blueprint{def: def, system: old.system, freeForm: old.freeForm, createdAt: old.createdAt, createdBy: old.createdBy,
		updatedAt: s.now(), updatedBy: c.user}
	s.blueprints[id] = nb
	return http.StatusOK, map[string]any{"ok": true, "blueprint": nb.json()}, nil
}

func (s *Server) handleDeleteBlueprint(c *call) (int, any, error) {
	id := c.params[0]
	b, ok := s.blueprints[id]
	if !ok {
		return 0, nil, notFound("blueprint %q not found", id)
	}
	if b.system {
		return 0, nil, validationError("blueprint %q is a system blueprint and cannot be deleted", id)
	}
	for _, oid := range sortedKeys(s.blueprints) {
		if oid == id {
			continue
		}
		other := s.blueprints[oid]
		for rk, r := range other.relations() {
			if r.target == id {
				return 0, nil, validationError("blueprint %q is the target of relation %q of blueprint %q; remove the relation first", id, rk, oid)
			}
		}
		for ak, a := range other.aggregations() {
			if str(obj(a)["target"]) == id {
				return 0, nil, validationError("blueprint %q is the target of aggregation property %q of blueprint %q; remove it first", id, ak, oid)
			}
		}
	}
	if n := len(s.entities[id]); n > 0 {
		return 0, nil, validationError("blueprint %q still has %d entities; delete them first", id, n)
	}
	delete(s.blueprints, id)
	delete(s.entities, id)
	return http.StatusOK, map[string]any{"ok": true}, nil
}

// stripMeta removes server metadata a client may send back from a GET.
func stripMeta(def map[string]any) {
	for _, k := range []string{"createdAt", "createdBy", "updatedAt", "updatedBy"} {
		delete(def, k)
	}
}
