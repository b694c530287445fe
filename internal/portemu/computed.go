package portemu

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"
)

// maxComputeDepth bounds how deeply computed properties may depend on other computed properties (a mirror
// of an aggregation over calculations of mirrors…). Deeper values, and values that depend on themselves,
// read as null.
const maxComputeDepth = 16

// evaluator computes mirror, aggregation and calculation properties for one read. It memoises every value
// it computes, so a listing whose entities aggregate over each other stays linear.
type evaluator struct {
	s      *Server
	ctx    context.Context
	memo   map[propKey]any
	active map[propKey]bool
	depth  int
}

type propKey struct{ bp, id, key string }

func (s *Server) newEvaluator(ctx context.Context) *evaluator {
	return &evaluator{s: s, ctx: ctx, memo: map[propKey]any{}, active: map[propKey]bool{}}
}

// properties returns the entity's plain properties plus every computed one. Computed properties are
// present even when null, like in Port.
func (ev *evaluator) properties(e *entity) map[string]any {
	out := copyObject(e.Properties)
	b := ev.s.blueprints[e.Blueprint]
	if b == nil {
		return out
	}
	for _, group := range []map[string]any{b.mirrors(), b.aggregations(), b.calculations()} {
		for k := range group {
			out[k] = ev.value(e, k)
		}
	}
	return out
}

// value returns one property of an entity, computing it when it is a mirror, aggregation or calculation.
func (ev *evaluator) value(e *entity, key string) any {
	b := ev.s.blueprints[e.Blueprint]
	if b == nil {
		return deepCopy(e.Properties[key])
	}
	if m, ok := b.mirrors()[key]; ok {
		return ev.memoized(e, key, func() any { return ev.mirror(e, str(obj(m)["path"])) })
	}
	if a, ok := b.aggregations()[key]; ok {
		return ev.memoized(e, key, func() any { return ev.aggregate(e, obj(a)) })
	}
	if c, ok := b.calculations()[key]; ok {
		return ev.memoized(e, key, func() any { return ev.calculate(e, str(obj(c)["calculation"])) })
	}
	return deepCopy(e.Properties[key])
}

func (ev *evaluator) memoized(e *entity, key string, compute func() any) any {
	k := propKey{e.Blueprint, e.Identifier, key}
	if v, ok := ev.memo[k]; ok {
		return deepCopy(v)
	}
	if ev.active[k] || ev.depth >= maxComputeDepth {
		return nil // a cycle, or too deep
	}
	ev.active[k] = true
	ev.depth++
	v := compute()
	ev.depth--
	delete(ev.active, k)
	ev.memo[k] = v
	return deepCopy(v)
}

// related returns the entities a relation of e names (those that exist).
func (ev *evaluator) related(e *entity, rel string) ([]*entity, bool) {
	b := ev.s.blueprints[e.Blueprint]
	if b == nil {
		return nil, false
	}
	r, ok := b.relations()[rel]
	if !ok {
		return nil, false
	}
	var out []*entity
	for _, id := range relationIDs(e.Relations[rel]) {
		if t, ok := ev.s.entities[r.target][id]; ok {
			out = append(out, t)
		}
	}
	return out, r.many
}

// mirror follows a path of relations ("parent_action.category.$title") and reads the last field. A path
// that crosses a many relation or $team yields an array (null when empty).
func (ev *evaluator) mirror(e *entity, path string) any {
	hops := strings.Split(path, ".")
	cur := []*entity{e}
	multi := false
	for _, hop := range hops[:len(hops)-1] {
		var next []*entity
		for _, c := range cur {
			if hop == "$team" {
				multi = true
				for _, t := range c.Team {
					if te, ok := ev.s.entities[teamBlueprint][t]; ok {
						next = append(next, te)
					}
				}
				continue
			}
			rel, many := ev.related(c, hop)
			multi = multi || many
			next = append(next, rel...)
		}
		cur = next
	}
	last := hops[len(hops)-1]
	var values []any
	for _, c := range cur {
		v := ev.field(c, last)
		if last == "$team" {
			multi = true
			if arr, ok := v.([]any); ok {
				values = append(values, arr...)
			}
			continue
		}
		values = append(values, v)
	}
	if !multi {
		if len(values) == 0 {
			return nil
		}
		return values[0]
	}
	values = slices.DeleteFunc(values, func(v any) bool { return v == nil })
	if len(values) == 0 {
		return nil
	}
	return values
}

// field reads a meta field ($identifier, $title, …), a relation, or a (possibly computed) property.
func (ev *evaluator) field(e *entity, name string) any {
	switch name {
	case "$identifier":
		return e.Identifier
	case "$title":
		if e.Title == "" {
			return nil
		}
		return e.Title
	case "$icon":
		if e.Icon == "" {
			return nil
		}
		return e.Icon
	case "$team":
		return toAnySlice(e.Team)
	case "$blueprint":
		return e.Blueprint
	case "$createdAt":
		return timestamp(e.CreatedAt)
	case "$updatedAt":
		return timestamp(e.UpdatedAt)
	}
	if b := ev.s.blueprints[e.Blueprint]; b != nil {
		if _, isRel := b.relations()[name]; isRel && !isPropertyOf(b, name) {
			return deepCopy(e.Relations[name])
		}
	}
	return ev.value(e, name)
}

func isPropertyOf(b *blueprint, key string) bool {
	_, ok := b.schemaProps()[key]
	return ok || b.isComputed(key)
}

// aggregate computes an aggregation property over the entities of its target blueprint that relate to e.
func (ev *evaluator) aggregate(e *entity, def map[string]any) any {
	target := str(def["target"])
	tb := ev.s.blueprints[target]
	if tb == nil {
		return nil
	}
	var path []string
	if pf, ok := def["pathFilter"].([]any); ok && len(pf) > 0 {
		path, _ = stringList(obj(pf[0])["path"])
	}
	var rels []string
	for k, r := range tb.relations() {
		if r.target == e.Blueprint {
			rels = append(rels, k)
		}
	}
	query := obj(def["query"])
	var matched []*entity
	for _, id := range sortedKeys(ev.s.entities[target]) {
		t := ev.s.entities[target][id]
		if !ev.relatesTo(t, e, rels, path) {
			continue
		}
		if query != nil && !ev.match(t, query) {
			continue
		}
		matched = append(matched, t)
	}

	spec := obj(def["calculationSpec"])
	fn := str(spec["func"])
	if str(spec["calculationBy"]) != "property" {
		count := float64(len(matched))
		if fn != "average" || count == 0 {
			return count
		}
		return ev.averagePerPeriod(matched, spec, count)
	}
	var nums []float64
	for _, t := range matched {
		if n, ok := num(ev.field(t, str(spec["property"]))); ok {
			nums = append(nums, n)
		}
	}
	if len(nums) == 0 {
		if fn == "sum" {
			return 0.0
		}
		return nil
	}
	switch fn {
	case "sum":
		return sum(nums)
	case "min":
		return slices.Min(nums)
	case "max":
		return slices.Max(nums)
	case "average":
		return sum(nums) / float64(len(nums))
	case "median":
		slices.Sort(nums)
		mid := len(nums) / 2
		if len(nums)%2 == 1 {
			return nums[mid]
		}
		return (nums[mid-1] + nums[mid]) / 2
	}
	return nil
}

func sum(nums []float64) float64 {
	total := 0.0
	for _, n := range nums {
		total += n
	}
	return total
}

// averagePerPeriod is func "average" by entities: the count divided by the number of periods (hour, day,
// week, month) between the earliest entity's measureTimeBy time and now, at least one.
func (ev *evaluator) averagePerPeriod(matched []*entity, spec map[string]any, count float64) any {
	period := map[string]time.Duration{"hour": time.Hour, "day": 24 * time.Hour, "week": 7 * 24 * time.Hour, "month": 30 * 24 * time.Hour}[str(spec["averageOf"])]
	if period == 0 {
		return count
	}
	by := str(spec["measureTimeBy"])
	if by == "" {
		by = "$createdAt"
	}
	var earliest time.Time
	for _, t := range matched {
		if ts, ok := asTime(ev.field(t, by)); ok && (earliest.IsZero() || ts.Before(earliest)) {
			earliest = ts
		}
	}
	periods := 1.0
	if !earliest.IsZero() {
		periods = math.Max(1, math.Ceil(float64(ev.s.clock().Sub(earliest))/float64(period)))
	}
	return count / periods
}

// relatesTo reports whether t points at e: along path when given, else through any relation of t whose
// target is e's blueprint.
func (ev *evaluator) relatesTo(t, e *entity, rels, path []string) bool {
	if len(path) > 0 {
		cur := []*entity{t}
		for _, hop := range path {
			var next []*entity
			for _, c := range cur {
				r, _ := ev.related(c, hop)
				next = append(next, r...)
			}
			cur = next
		}
		return slices.ContainsFunc(cur, func(c *entity) bool { return c.Blueprint == e.Blueprint && c.Identifier == e.Identifier })
	}
	for _, rel := range rels {
		if slices.Contains(relationIDs(t.Relations[rel]), e.Identifier) {
			return true
		}
	}
	return false
}

// calculate runs a calculation property's jq over the entity whose properties hold the plain, mirror and
// aggregation values. A failing calculation yields null.
func (ev *evaluator) calculate(e *entity, expr string) any {
	b := ev.s.blueprints[e.Blueprint]
	props := copyObject(e.Properties)
	for _, group := range []map[string]any{b.mirrors(), b.aggregations()} {
		for k := range group {
			props[k] = ev.value(e, k)
		}
	}
	v, err := ev.s.jq.Eval(ev.ctx, expr, e.json(props))
	if err != nil {
		return nil
	}
	return v
}
