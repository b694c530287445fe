package portemu

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/port-roi/port-roi-action/internal/port"
)

// entity is a stored catalog entity. Properties hold only plain (schema) properties; mirror, aggregation and
// calculation values are computed on every read.
type entity struct {
	Identifier string
	Title      string
	Icon       string
	Team       []string
	Properties map[string]any
	Relations  map[string]any // relation → identifier (string) or identifiers ([]any of strings)
	Blueprint  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	CreatedBy  string
	UpdatedBy  string
}

func (e *entity) clone() *entity {
	c := *e
	c.Team = slices.Clone(e.Team)
	c.Properties = copyObject(e.Properties)
	c.Relations = copyObject(e.Relations)
	return &c
}

// json renders the entity as Port returns it, with props as its properties.
func (e *entity) json(props map[string]any) map[string]any {
	var title any
	if e.Title != "" {
		title = e.Title
	}
	out := map[string]any{
		"identifier": e.Identifier,
		"title":      title,
		"team":       toAnySlice(e.Team),
		"properties": props,
		"relations":  copyObject(e.Relations),
		"blueprint":  e.Blueprint,
		"createdAt":  timestamp(e.CreatedAt),
		"updatedAt":  timestamp(e.UpdatedAt),
		"createdBy":  e.CreatedBy,
		"updatedBy":  e.UpdatedBy,
	}
	if e.Icon != "" {
		out["icon"] = e.Icon
	}
	return out
}

// relationIDs returns the identifiers a relation value names.
func relationIDs(v any) []string {
	ids, _ := stringList(v)
	return ids
}

// Entity returns an entity with its mirror, aggregation and calculation properties computed.
func (s *Server) Entity(blueprint, id string) (port.Entity, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entities[blueprint][id]
	if !ok {
		return port.Entity{}, false
	}
	return s.portEntity(s.newEvaluator(context.Background()), e), true
}

// Entities returns the entities of a blueprint, sorted by identifier, with computed properties.
func (s *Server) Entities(blueprint string) []port.Entity {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := s.newEvaluator(context.Background())
	var out []port.Entity
	for _, id := range sortedKeys(s.entities[blueprint]) {
		out = append(out, s.portEntity(ev, s.entities[blueprint][id]))
	}
	return out
}

func (s *Server) portEntity(ev *evaluator, e *entity) port.Entity {
	created, updated := e.CreatedAt, e.UpdatedAt
	pe := port.Entity{
		Identifier: e.Identifier, Title: e.Title, Icon: e.Icon,
		Properties: ev.properties(e), Relations: copyObject(e.Relations),
		Blueprint: e.Blueprint, CreatedAt: &created, UpdatedAt: &updated,
	}
	if len(e.Team) > 0 {
		pe.Team = toAnySlice(e.Team)
	}
	return pe
}

// clock is the server's time, in UTC and cut to the millisecond that timestamps carry.
func (s *Server) clock() time.Time { return s.now().UTC().Truncate(time.Millisecond) }

// writeMode is how a write treats an existing entity.
type writeMode int

const (
	modeCreate writeMode = iota // POST: create; with upsert replace, with upsert and merge merge
	modePatch                   // PATCH …/entities/{id}: merge into an existing entity
	modePut                     // PUT …/entities/{id}: replace an existing entity
)

type writeOpts struct {
	mode           writeMode
	upsert         bool
	merge          bool
	validationOnly bool
	createMissing  bool
	runID          string
	user           string
	pathID         string // the identifier from the path, for PATCH and PUT
	strictKeys     bool   // bulk items reject unknown top-level fields
}

func (c *call) writeOpts(mode writeMode) writeOpts {
	return writeOpts{
		mode: mode, upsert: c.flag("upsert"), merge: c.flag("merge"), validationOnly: c.flag("validation_only"),
		createMissing: c.flag("create_missing_related_entities"), runID: c.query.Get("run_id"), user: c.user,
	}
}

var entityFields = []string{"identifier", "title", "icon", "team", "properties", "relations"}

// writeEntity validates and stores one entity write; it is the single path for the entity routes, bulk
// items and UPSERT_ENTITY invocations. created reports whether the entity did not exist before.
func (s *Server) writeEntity(bpID string, body map[string]any, o writeOpts) (*entity, bool, error) {
	b, ok := s.blueprints[bpID]
	if !ok {
		return nil, false, notFound("blueprint %q not found", bpID)
	}
	if o.strictKeys {
		if err := onlyKeys("entity", body, entityFields...); err != nil {
			return nil, false, err
		}
	}
	var id string
	if o.mode == modeCreate {
		var err error
		if id, err = checkIdentifier("entity", body["identifier"], entityIDPattern, 1000); err != nil {
			return nil, false, err
		}
	} else {
		id = o.pathID
		if v, ok := body["identifier"]; ok && v != id {
			return nil, false, invalidRequest("entity identifier %v in the body does not match %q in the path", v, id)
		}
	}
	if o.runID != "" {
		r, ok := s.runs[o.runID]
		if !ok {
			return nil, false, validationError("run_id %q does not name an action run", o.runID)
		}
		if r.status != port.RunInProgress {
			return nil, false, validationError("run %q is %s; entities can be tied only to a run that is IN_PROGRESS", o.runID, r.status)
		}
	}

	title, hasTitle, err := optionalString(body, "title")
	if err != nil {
		return nil, false, err
	}
	icon, hasIcon, err := optionalString(body, "icon")
	if err != nil {
		return nil, false, err
	}
	teamRaw, hasTeam := body["team"]
	team, ok := stringList(teamRaw)
	if !ok {
		return nil, false, invalidRequest("entity %q: team must be a string or an array of strings", id)
	}
	props, err := optionalObject(body, "properties", id)
	if err != nil {
		return nil, false, err
	}
	rels, err := optionalObject(body, "relations", id)
	if err != nil {
		return nil, false, err
	}

	existing := s.entities[bpID][id]
	merge := false
	switch o.mode {
	case modeCreate:
		if existing != nil && !o.upsert {
			return nil, false, conflict("entity %q already exists in blueprint %q; use upsert=true to update it", id, bpID)
		}
		merge = existing != nil && o.merge
	case modePatch:
		if existing == nil {
			return nil, false, notFound("entity %q not found in blueprint %q", id, bpID)
		}
		merge = true
	case modePut:
		if existing == nil {
			return nil, false, notFound("entity %q not found in blueprint %q", id, bpID)
		}
	}

	var e *entity
	if merge {
		e = existing.clone()
		if hasTitle {
			e.Title = title
		}
		if hasIcon {
			e.Icon = icon
		}
		if hasTeam {
			e.Team = team
		}
		for k, v := range props {
			if v == nil {
				delete(e.Properties, k)
			} else {
				e.Properties[k] = deepCopy(v)
			}
		}
		for k, v := range rels {
			if v == nil {
				delete(e.Relations, k)
			} else {
				e.Relations[k] = deepCopy(v)
			}
		}
	} else {
		e = &entity{Identifier: id, Blueprint: bpID, Title: title, Icon: icon, Team: team,
			Properties: map[string]any{}, Relations: map[string]any{}}
		for k, v := range props {
			if v != nil {
				e.Properties[k] = deepCopy(v)
			}
		}
		for k, v := range rels {
			if v != nil {
				e.Relations[k] = deepCopy(v)
			}
		}
		applyDefaults(b, e)
	}

	// Validate what was sent (on merge, the stored rest was validated when it was written).
	for _, k := range sortedKeys(props) {
		if err := checkProperty(b, id, k, props[k]); err != nil {
			return nil, false, err
		}
	}
	for _, k := range b.requiredProps() {
		if e.Properties[k] == nil {
			return nil, false, validationError("entity %q: required property %q of blueprint %q is missing", id, k, bpID)
		}
	}
	declared := b.relations()
	for _, k := range sortedKeys(rels) {
		r, ok := declared[k]
		if !ok {
			return nil, false, validationError("entity %q: relation %q is not defined in blueprint %q", id, k, bpID)
		}
		switch v := rels[k].(type) {
		case nil:
		case string:
			if r.many {
				return nil, false, validationError("entity %q: relation %q is a many relation and takes an array of identifiers", id, k)
			}
		case []any:
			if !r.many {
				return nil, false, validationError("entity %q: relation %q takes a single identifier, not an array", id, k)
			}
			if _, ok := stringList(v); !ok {
				return nil, false, validationError("entity %q: relation %q must hold identifiers (strings)", id, k)
			}
		default:
			return nil, false, validationError("entity %q: relation %q must be an identifier, an array of identifiers or null", id, k)
		}
	}
	for _, k := range sortedKeys(declared) {
		if declared[k].required && len(relationIDs(e.Relations[k])) == 0 {
			return nil, false, validationError("entity %q: required relation %q of blueprint %q is missing", id, k, bpID)
		}
	}
	for _, t := range e.Team {
		if _, ok := s.entities[teamBlueprint][t]; !ok {
			return nil, false, validationError("entity %q: team %q does not exist", id, t)
		}
	}
	type ref struct{ bp, id string }
	var missing []ref
	for _, k := range sortedKeys(e.Relations) {
		r, ok := declared[k]
		if !ok {
			continue // a relation the blueprint no longer declares: kept, not checked
		}
		for _, rid := range relationIDs(e.Relations[k]) {
			if r.target == bpID && rid == id {
				continue // a relation to itself
			}
			if _, ok := s.entities[r.target][rid]; ok {
				continue
			}
			if !o.createMissing {
				return nil, false, notFound("related entity %q of blueprint %q (relation %q of entity %q) was not found", rid, r.target, k, id)
			}
			if rid == "" || rid == "." || rid == ".." || !entityIDPattern.MatchString(rid) {
				return nil, false, validationError("entity %q: relation %q: %q is not a valid entity identifier", id, k, rid)
			}
			missing = append(missing, ref{r.target, rid})
		}
	}

	if o.validationOnly {
		now := s.clock()
		if existing == nil {
			e.CreatedAt, e.CreatedBy = now, o.user
		}
		e.UpdatedAt, e.UpdatedBy = now, o.user
		return e, existing == nil, nil
	}
	now := s.clock()
	for _, m := range missing {
		if _, ok := s.entities[m.bp][m.id]; ok {
			continue
		}
		stub := &entity{Identifier: m.id, Blueprint: m.bp, Properties: map[string]any{}, Relations: map[string]any{},
			CreatedAt: now, UpdatedAt: now, CreatedBy: o.user, UpdatedBy: o.user}
		applyDefaults(s.blueprints[m.bp], stub)
		s.entities[m.bp][m.id] = stub
	}
	if existing != nil {
		e.CreatedAt, e.CreatedBy = existing.CreatedAt, existing.CreatedBy
	} else {
		e.CreatedAt, e.CreatedBy = now, o.user
	}
	e.UpdatedAt, e.UpdatedBy = now, o.user
	s.entities[bpID][id] = e
	return e, existing == nil, nil
}

func optionalString(body map[string]any, key string) (string, bool, error) {
	v, ok := body[key]
	if !ok || v == nil {
		return "", ok, nil
	}
	sv, isStr := v.(string)
	if !isStr {
		return "", true, invalidRequest("entity %s must be a string, got %s", key, typeName(v))
	}
	return sv, true, nil
}

func optionalObject(body map[string]any, key, id string) (map[string]any, error) {
	v, ok := body[key]
	if !ok || v == nil {
		return nil, nil
	}
	m, isObj := v.(map[string]any)
	if !isObj {
		return nil, invalidRequest("entity %q: %s must be an object, got %s", id, key, typeName(v))
	}
	return m, nil
}

// applyDefaults fills the schema defaults of properties the entity does not set.
func applyDefaults(b *blueprint, e *entity) {
	for k, p := range b.schemaProps() {
		if d, ok := obj(p)["default"]; ok && d != nil && e.Properties[k] == nil {
			e.Properties[k] = deepCopy(d)
		}
	}
}

// checkProperty validates one property value sent for an entity.
func checkProperty(b *blueprint, id, key string, v any) error {
	def, ok := b.schemaProps()[key].(map[string]any)
	if !ok {
		if b.freeForm {
			return nil
		}
		if b.isComputed(key) {
			return validationError("entity %q: property %q of blueprint %q is computed (mirror, calculation or aggregation) and cannot be set", id, key, b.id())
		}
		return validationError("entity %q: property %q is not defined in blueprint %q", id, key, b.id())
	}
	if v == nil {
		return nil
	}
	if err := checkValue(key, def, v); err != nil {
		return validationError("entity %q: %s", id, asError(err).Message)
	}
	return nil
}

// checkValue validates a value against a property definition (type, format, enum, array item type).
func checkValue(key string, def map[string]any, v any) error {
	typ := str(def["type"])
	bad := func(format string, a ...any) error {
		return validationError("property %q "+format, append([]any{key}, a...)...)
	}
	switch typ {
	case "string":
		sv, ok := v.(string)
		if !ok {
			return bad("must be string, got %s", typeName(v))
		}
		switch str(def["format"]) {
		case "date-time":
			if _, err := time.Parse(time.RFC3339Nano, sv); err != nil {
				return bad("must match format \"date-time\", got %q", sv)
			}
		case "url":
			if u, err := url.Parse(sv); err != nil || u.Scheme == "" || u.Host == "" {
				return bad("must match format \"url\", got %q", sv)
			}
		case "email":
			if at := strings.Index(sv, "@"); at <= 0 || at == len(sv)-1 {
				return bad("must match format \"email\", got %q", sv)
			}
		}
	case "number":
		if _, ok := num(v); !ok {
			return bad("must be number, got %s", typeName(v))
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return bad("must be boolean, got %s", typeName(v))
		}
	case "object":
		if _, ok := v.(map[string]any); !ok {
			return bad("must be object, got %s", typeName(v))
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			return bad("must be array, got %s", typeName(v))
		}
		if items := obj(def["items"]); items != nil && str(items["type"]) != "" {
			for i, e := range arr {
				if err := checkValue(key, items, e); err != nil {
					return bad("item %d: %s", i, asError(err).Message)
				}
			}
		}
	}
	if enum, ok := def["enum"].([]any); ok && typ != "array" {
		if !slices.ContainsFunc(enum, func(x any) bool { return jsonEqual(x, v) }) {
			return bad("must be equal to one of the allowed values %v, got %v", enum, v)
		}
	}
	return nil
}

func (s *Server) handleUpsertEntity(c *call) (int, any, error) {
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	e, created, err := s.writeEntity(c.params[0], body, c.writeOpts(modeCreate))
	if err != nil {
		return 0, nil, err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return status, map[string]any{"ok": true, "entity": s.readEntity(c, s.newEvaluator(c.ctx), e)}, nil
}

func (s *Server) handlePatchEntity(c *call) (int, any, error) { return s.replaceEntity(c, modePatch) }
func (s *Server) handlePutEntity(c *call) (int, any, error)   { return s.replaceEntity(c, modePut) }

func (s *Server) replaceEntity(c *call, mode writeMode) (int, any, error) {
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	o := c.writeOpts(mode)
	o.pathID = c.params[1]
	e, _, err := s.writeEntity(c.params[0], body, o)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"ok": true, "entity": s.readEntity(c, s.newEvaluator(c.ctx), e)}, nil
}

// readEntity renders an entity for a read route, honouring include, exclude and
// exclude_calculated_properties when the route has them.
func (s *Server) readEntity(c *call, ev *evaluator, e *entity) map[string]any {
	var props map[string]any
	if c.flag("exclude_calculated_properties") {
		props = copyObject(e.Properties)
	} else {
		props = ev.properties(e)
	}
	return project(e.json(props), c.query["include"], c.query["exclude"])
}

// project keeps the included fields ("identifier", "properties.status", …) and drops the excluded ones.
func project(m map[string]any, include, exclude []string) map[string]any {
	if len(include) > 0 {
		out := map[string]any{}
		for _, f := range include {
			top, sub, nested := strings.Cut(f, ".")
			v, ok := m[top]
			if !ok {
				continue
			}
			if !nested {
				out[top] = v
				continue
			}
			inner, isObj := v.(map[string]any)
			if !isObj {
				continue
			}
			dst, _ := out[top].(map[string]any)
			if dst == nil {
				dst = map[string]any{}
				out[top] = dst
			}
			if iv, ok := inner[sub]; ok {
				dst[sub] = iv
			}
		}
		m = out
	}
	for _, f := range exclude {
		top, sub, nested := strings.Cut(f, ".")
		if !nested {
			delete(m, top)
		} else if inner, ok := m[top].(map[string]any); ok {
			delete(inner, sub)
		}
	}
	return m
}

func (s *Server) handleGetEntity(c *call) (int, any, error) {
	bp, id := c.params[0], c.params[1]
	if _, ok := s.blueprints[bp]; !ok {
		return 0, nil, notFound("blueprint %q not found", bp)
	}
	e, ok := s.entities[bp][id]
	if !ok {
		return 0, nil, notFound("entity %q not found in blueprint %q", id, bp)
	}
	return http.StatusOK, map[string]any{"ok": true, "entity": s.readEntity(c, s.newEvaluator(c.ctx), e)}, nil
}

func (s *Server) handleListEntities(c *call) (int, any, error) {
	bp := c.params[0]
	if _, ok := s.blueprints[bp]; !ok {
		return 0, nil, notFound("blueprint %q not found", bp)
	}
	ev := s.newEvaluator(c.ctx)
	out := make([]any, 0, len(s.entities[bp]))
	for _, id := range sortedKeys(s.entities[bp]) {
		out = append(out, s.readEntity(c, ev, s.entities[bp][id]))
	}
	return http.StatusOK, map[string]any{"ok": true, "entities": out}, nil
}

func (s *Server) handleCountEntities(c *call) (int, any, error) {
	bp := c.params[0]
	if _, ok := s.blueprints[bp]; !ok {
		return 0, nil, notFound("blueprint %q not found", bp)
	}
	return http.StatusOK, map[string]any{"ok": true, "count": len(s.entities[bp])}, nil
}

// handleDeleteEntity deletes an entity. Entities that require it through a required relation block the
// deletion unless delete_dependents=true deletes them too; optional relations to it are cleared.
func (s *Server) handleDeleteEntity(c *call) (int, any, error) {
	bp, id := c.params[0], c.params[1]
	if _, ok := s.blueprints[bp]; !ok {
		return 0, nil, notFound("blueprint %q not found", bp)
	}
	if _, ok := s.entities[bp][id]; !ok {
		return 0, nil, notFound("entity %q not found in blueprint %q", id, bp)
	}
	if runID := c.query.Get("run_id"); runID != "" {
		if r, ok := s.runs[runID]; !ok || r.status != port.RunInProgress {
			return 0, nil, validationError("run_id %q does not name an action run that is IN_PROGRESS", runID)
		}
	}
	if err := s.deleteEntity(bp, id, c.flag("delete_dependents"), 0); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"ok": true}, nil
}

func (s *Server) deleteEntity(bp, id string, dependents bool, depth int) error {
	if depth > 32 {
		return validationError("entity %q: too many levels of dependents", id)
	}
	type ref struct{ bp, id, rel string }
	var required []ref
	for _, obp := range sortedKeys(s.blueprints) {
		for rk, r := range s.blueprints[obp].relations() {
			if r.target != bp {
				continue
			}
			for _, oid := range sortedKeys(s.entities[obp]) {
				if obp == bp && oid == id {
					continue
				}
				if slices.Contains(relationIDs(s.entities[obp][oid].Relations[rk]), id) && r.required {
					required = append(required, ref{obp, oid, rk})
				}
			}
		}
	}
	if len(required) > 0 && !dependents {
		return validationError("entity %q of blueprint %q is required by entity %q of blueprint %q (relation %q); delete it first or use delete_dependents=true",
			id, bp, required[0].id, required[0].bp, required[0].rel)
	}
	delete(s.entities[bp], id)
	for _, d := range required {
		if _, still := s.entities[d.bp][d.id]; still {
			if err := s.deleteEntity(d.bp, d.id, true, depth+1); err != nil {
				return err
			}
		}
	}
	// Clear optional relations that named the deleted entity.
	for _, obp := range sortedKeys(s.blueprints) {
		for rk, r := range s.blueprints[obp].relations() {
			if r.target != bp {
				continue
			}
			for _, e := range s.entities[obp] {
				switch v := e.Relations[rk].(type) {
				case string:
					if v == id {
						delete(e.Relations, rk)
					}
				case []any:
					e.Relations[rk] = slices.DeleteFunc(v, func(x any) bool { return x == id })
				}
			}
		}
	}
	return nil
}

func (s *Server) handleBulkEntities(c *call) (int, any, error) {
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	if err := onlyKeys("body", body, "entities"); err != nil {
		return 0, nil, err
	}
	items, ok := body["entities"].([]any)
	if !ok || len(items) < 1 || len(items) > 20 {
		return 0, nil, invalidRequest("body/entities must be an array of 1 to 20 entities")
	}
	bp := c.params[0]
	if _, ok := s.blueprints[bp]; !ok {
		return 0, nil, notFound("blueprint %q not found", bp)
	}
	o := c.writeOpts(modeCreate)
	o.strictKeys = true
	entities, errs := []any{}, []any{}
	for i, item := range items {
		m, ok := item.(map[string]any)
		var e *entity
		var created bool
		var werr error
		if !ok {
			werr = invalidRequest("body/entities/%d must be an object", i)
		} else {
			e, created, werr = s.writeEntity(bp, m, o)
		}
		if werr != nil {
			ae := asError(werr)
			id := ""
			if m != nil {
				id = str(m["identifier"])
			}
			errs = append(errs, map[string]any{"identifier": id, "index": i, "statusCode": ae.Status, "error": ae.Code, "message": ae.Message})
			continue
		}
		entities = append(entities, map[string]any{"created": created, "identifier": e.Identifier, "index": i, "additionalData": map[string]any{}})
	}
	status := http.StatusOK
	if len(errs) > 0 {
		status = http.StatusMultiStatus
	}
	return status, map[string]any{"ok": true, "entities": entities, "errors": errs}, nil
}
