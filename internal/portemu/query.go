package portemu

import (
	"cmp"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ruleOperators are the search rule operators the emulator understands.
var ruleOperators = []string{"=", "!=", ">", "<", ">=", "<=", "in", "notIn", "between", "contains", "isEmpty", "isNotEmpty", "relatedTo"}

// datePresets are the "between" presets, in order.
var datePresets = []string{"today", "lastWeek", "last2Weeks", "lastMonth", "last3Months", "last6Months", "last12Months"}

// presetWindow is the length of a "between" preset, as a window ending now. The guide describes "today" as
// "the last 24 hours"; the emulator uses rolling windows for every preset.
func presetWindow(preset string) (time.Duration, bool) {
	const day = 24 * time.Hour
	switch preset {
	case "today":
		return day, true
	case "lastWeek":
		return 7 * day, true
	case "last2Weeks":
		return 14 * day, true
	case "lastMonth":
		return 30 * day, true
	case "last3Months":
		return 90 * day, true
	case "last6Months":
		return 180 * day, true
	case "last12Months":
		return 365 * day, true
	}
	return 0, false
}

// validateQuery checks a {combinator, rules} query and its nested groups.
func validateQuery(q any) error { return validateGroup("query", q) }

func validateGroup(where string, q any) error {
	m, ok := q.(map[string]any)
	if !ok {
		return invalidRequest("%q must be object", where)
	}
	comb, ok := m["combinator"]
	if !ok {
		return invalidRequest("%q must have required property 'combinator'", where)
	}
	if comb != "and" && comb != "or" {
		return invalidRequest("%s/combinator must be equal to one of the allowed values \"and\", \"or\"", where)
	}
	rules, ok := m["rules"].([]any)
	if !ok {
		return invalidRequest("%q must have required property 'rules' (an array)", where)
	}
	for i, r := range rules {
		at := where + "/rules/" + strconv.Itoa(i)
		rm, ok := r.(map[string]any)
		if !ok {
			return invalidRequest("%s must be object", at)
		}
		if _, group := rm["combinator"]; group {
			if err := validateGroup(at, rm); err != nil {
				return err
			}
			continue
		}
		if err := validateRule(at, rm); err != nil {
			return err
		}
	}
	return nil
}

func validateRule(at string, r map[string]any) error {
	op, ok := r["operator"].(string)
	if !ok {
		return invalidRequest("%s must have required property 'operator'", at)
	}
	if !slices.Contains(ruleOperators, op) {
		return invalidRequest("%s/operator must be one of %s, got %q", at, strings.Join(ruleOperators, " "), op)
	}
	if op == "relatedTo" {
		if str(r["blueprint"]) == "" {
			return invalidRequest("%s must have required property 'blueprint'", at)
		}
		if _, ok := stringList(r["value"]); !ok || r["value"] == nil {
			return invalidRequest("%s/value must be an identifier or an array of identifiers", at)
		}
		return nil
	}
	if str(r["property"]) == "" {
		return invalidRequest("%s must have required property 'property'", at)
	}
	v, hasValue := r["value"]
	switch op {
	case "isEmpty", "isNotEmpty":
		return nil
	case "in", "notIn":
		if _, ok := v.([]any); !ok {
			return invalidRequest("%s/value must be array", at)
		}
	case "between":
		vm, ok := v.(map[string]any)
		if !ok {
			return invalidRequest("%s/value must be object ({from, to} or {preset})", at)
		}
		if p, ok := vm["preset"]; ok {
			if _, known := presetWindow(str(p)); !known {
				return invalidRequest("%s/value/preset must be one of %s, got %v", at, strings.Join(datePresets, " "), p)
			}
			return nil
		}
		for _, k := range []string{"from", "to"} {
			if _, ok := asTime(vm[k]); !ok {
				return invalidRequest("%s/value/%s must be a date-time string", at, k)
			}
		}
	default:
		if !hasValue {
			return invalidRequest("%s must have required property 'value'", at)
		}
	}
	return nil
}

// match evaluates a validated query against an entity.
func (ev *evaluator) match(e *entity, q map[string]any) bool {
	rules, _ := q["rules"].([]any)
	or := q["combinator"] == "or"
	if len(rules) == 0 {
		return true
	}
	for _, r := range rules {
		rm := obj(r)
		var ok bool
		if _, group := rm["combinator"]; group {
			ok = ev.match(e, rm)
		} else {
			ok = ev.rule(e, rm)
		}
		if or && ok {
			return true
		}
		if !or && !ok {
			return false
		}
	}
	return !or
}

func (ev *evaluator) rule(e *entity, r map[string]any) bool {
	op := str(r["operator"])
	if op == "relatedTo" {
		ids, _ := stringList(r["value"])
		return ev.relatedTo(e, str(r["blueprint"]), ids)
	}
	v := ev.field(e, str(r["property"]))
	want := r["value"]
	switch op {
	case "=":
		return jsonEqual(v, want)
	case "!=":
		return !jsonEqual(v, want)
	case ">", "<", ">=", "<=":
		c, ok := compareValues(v, want)
		if !ok {
			return false
		}
		switch op {
		case ">":
			return c > 0
		case "<":
			return c < 0
		case ">=":
			return c >= 0
		default:
			return c <= 0
		}
	case "in", "notIn":
		list, _ := want.([]any)
		in := false
		if arr, isArr := v.([]any); isArr {
			for _, x := range arr {
				in = in || slices.ContainsFunc(list, func(y any) bool { return jsonEqual(x, y) })
			}
		} else {
			in = slices.ContainsFunc(list, func(y any) bool { return jsonEqual(v, y) })
		}
		return in == (op == "in")
	case "between":
		t, ok := asTime(v)
		if !ok {
			return false
		}
		from, to := ev.dateRange(obj(want))
		return !t.Before(from) && !t.After(to)
	case "contains":
		switch x := v.(type) {
		case string:
			w, ok := want.(string)
			return ok && strings.Contains(x, w)
		case []any:
			return slices.ContainsFunc(x, func(y any) bool { return jsonEqual(y, want) })
		}
		return false
	case "isEmpty", "isNotEmpty":
		return isEmpty(v) == (op == "isEmpty")
	}
	return false
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// relatedTo reports whether e relates directly, in either direction, to one of the given entities of bp.
func (ev *evaluator) relatedTo(e *entity, bp string, ids []string) bool {
	if b := ev.s.blueprints[e.Blueprint]; b != nil {
		for k, r := range b.relations() {
			if r.target == bp && slices.ContainsFunc(relationIDs(e.Relations[k]), func(id string) bool { return slices.Contains(ids, id) }) {
				return true
			}
		}
	}
	if ob := ev.s.blueprints[bp]; ob != nil {
		for k, r := range ob.relations() {
			if r.target != e.Blueprint {
				continue
			}
			for _, id := range ids {
				if o, ok := ev.s.entities[bp][id]; ok && slices.Contains(relationIDs(o.Relations[k]), e.Identifier) {
					return true
				}
			}
		}
	}
	return false
}

// compareValues orders two numbers, two date-times or two strings.
func compareValues(a, b any) (int, bool) {
	if x, ok := num(a); ok {
		y, ok := num(b)
		return cmp.Compare(x, y), ok
	}
	as, aok := a.(string)
	bs, bok := b.(string)
	if !aok || !bok {
		return 0, false
	}
	if at, ok := asTime(as); ok {
		if bt, ok := asTime(bs); ok {
			return at.Compare(bt), true
		}
	}
	return strings.Compare(as, bs), true
}

func asTime(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// dateRange resolves a "between" value: a preset window ending now, or explicit from and to.
func (ev *evaluator) dateRange(v map[string]any) (time.Time, time.Time) {
	now := ev.s.clock()
	if p, ok := v["preset"]; ok {
		w, _ := presetWindow(str(p))
		return now.Add(-w), now
	}
	from, _ := asTime(v["from"])
	to, _ := asTime(v["to"])
	return from, to
}

// handleSearchEntities is POST /v1/blueprints/{bp}/entities/search: a rule query with cursor paging.
func (s *Server) handleSearchEntities(c *call) (int, any, error) {
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	if err := onlyKeys("body", body, "query", "include", "exclude", "limit", "from"); err != nil {
		return 0, nil, err
	}
	q, ok := body["query"]
	if !ok {
		return 0, nil, invalidRequest("body must have required property 'query'")
	}
	if err := validateQuery(q); err != nil {
		return 0, nil, err
	}
	include, ok1 := stringList(body["include"])
	exclude, ok2 := stringList(body["exclude"])
	if !ok1 || !ok2 {
		return 0, nil, invalidRequest("body/include and body/exclude must be arrays of strings")
	}
	limit := 200
	if l, ok := body["limit"]; ok {
		n, isNum := num(l)
		if !isNum || n != float64(int(n)) || n < 1 || n > 1000 {
			return 0, nil, invalidRequest("body/limit must be an integer from 1 to 1000")
		}
		limit = int(n)
	}
	offset := 0
	if f, ok := body["from"]; ok {
		fs, isStr := f.(string)
		if !isStr {
			return 0, nil, invalidRequest("body/from must be a string cursor")
		}
		if offset, ok = decodeCursor(fs); !ok {
			return 0, nil, invalidRequest("body/from %q is not a cursor returned by this search", fs)
		}
	}
	bp := c.params[0]
	b, ok := s.blueprints[bp]
	if !ok {
		return 0, nil, notFound("blueprint %q not found", bp)
	}
	include, exclude = searchFields(b, include), searchFields(b, exclude)
	ev := s.newEvaluator(c.ctx)
	var hits []*entity
	for _, id := range sortedKeys(s.entities[bp]) {
		if e := s.entities[bp][id]; ev.match(e, obj(q)) {
			hits = append(hits, e)
		}
	}
	out := []any{}
	for i := offset; i < len(hits) && i < offset+limit; i++ {
		out = append(out, project(hits[i].json(ev.properties(hits[i])), include, exclude))
	}
	resp := map[string]any{"ok": true, "entities": out}
	if offset+limit < len(hits) {
		resp["next"] = encodeCursor(offset + limit)
	}
	return http.StatusOK, resp, nil
}

// searchFields translates the include and exclude of a blueprint search into the entity paths project
// understands. The search names properties and relations by identifier and meta-properties with a "$"
// ("$identifier", "$createdAt", "status", "parent_action"), unlike the entity routes' query parameters
// ("identifier", "properties.status"); a name in that form passes through unchanged.
func searchFields(b *blueprint, names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		_, isRelation := b.relations()[n]
		switch {
		case strings.HasPrefix(n, "$"):
			out = append(out, strings.TrimPrefix(n, "$"))
		case isPropertyOf(b, n):
			out = append(out, "properties."+n)
		case isRelation:
			out = append(out, "relations."+n)
		default:
			out = append(out, n)
		}
	}
	return out
}

func encodeCursor(offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("emu-cursor:" + strconv.Itoa(offset)))
}

func decodeCursor(s string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(string(b), "emu-cursor:"))
	if err != nil || n < 0 || !strings.HasPrefix(string(b), "emu-cursor:") {
		return 0, false
	}
	return n, true
}
