package bootstrap

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/register"
	"github.com/port-roi/port-roi-action/internal/roimodel"
	"github.com/port-roi/port-roi-action/internal/runlog"
)

// Port refuses a relation whose target blueprint does not exist, a mirror property whose path follows a
// relation that does not exist, and an aggregation over a blueprint that does not relate to this one
// (port-api.md §7.3). The guide's blueprints point at each other (action → actions_categories, action_run →
// action, action aggregating action_run), so no order of whole blueprints works. Like Port's Ocean, each
// blueprint is written in stages, every stage for all blueprints before the next:
//
//  1. bare: title, description, icon and schema (created here when missing);
//  2. relations and ownership;
//  3. mirror and calculation properties;
//  4. aggregation properties (they may aggregate a calculation property of another blueprint, added in 3).
//
// A stage writes only the groups that differ from the guide, so any partial state converges: a missing
// blueprint is created bare, an existing one gets what it lacks, and a complete one is not written at all.
var stages = []struct {
	name string
	keys []string // nil: every key that no later stage names
}{
	{"properties", nil},
	{"relations and ownership", []string{"relations", "ownership", "teamInheritance"}},
	{"mirror and calculation properties", []string{"mirrorProperties", "calculationProperties"}},
	{"aggregation properties", []string{"aggregationProperties"}},
}

// stageOf returns the stage that writes the top-level blueprint key.
func stageOf(key string) int {
	for i, s := range stages {
		if slices.Contains(s.keys, key) {
			return i
		}
	}
	return 0
}

// propertyGroups are the groups of a blueprint whose keys share one namespace.
var propertyGroups = []string{"schema.properties", "mirrorProperties", "calculationProperties", "aggregationProperties"}

// bpStep is one blueprint being converged.
type bpStep struct {
	id      string
	ours    map[string]any
	cur     map[string]any // as Port holds it now; nil while it does not exist
	deps    []string       // our blueprints it relates to or aggregates over
	step    *runlog.Step
	obj     Object
	created bool
	written bool
	done    bool // failed or finished early
}

func (b *bpStep) fail(err error) {
	b.obj = fail(b.step, b.obj, err)
	b.done = true
}

// blueprints converges the guide's blueprints and returns their outcomes, in roimodel's order.
func (r *runner) blueprints(ctx context.Context) []Object {
	var steps []*bpStep
	ours := roimodel.Blueprints()
	for _, def := range ours {
		id := def["identifier"].(string)
		steps = append(steps, &bpStep{
			id: id, ours: normalizeObject(def), deps: dependencies(def, ours),
			step: r.rep.Step(fmt.Sprintf("Blueprint %q", id)),
			obj:  Object{Kind: KindBlueprint, ID: id},
		})
	}
	defer func() {
		for _, b := range steps {
			b.step.End()
		}
	}()

	for _, b := range steps {
		got, err := r.c.GetBlueprint(ctx, b.id)
		switch {
		case err == nil:
			b.cur = normalizeObject(got)
		case port.IsNotFound(err):
		default:
			b.fail(fmt.Errorf("read blueprint %q: %w", b.id, err))
		}
	}
	for _, b := range steps {
		if !b.done {
			r.planBlueprint(b)
		}
	}
	if r.o.DryRun {
		return objects(steps)
	}

	for stage := range stages {
		for _, b := range steps {
			if b.done {
				continue
			}
			if dep := failedDependency(b, steps); dep != "" {
				what := "is incomplete"
				if b.cur == nil {
					what = "was not created"
				}
				b.fail(fmt.Errorf("blueprint %q %s: it relates to blueprint %q, which could not be set up", b.id, what, dep))
				continue
			}
			if err := r.writeStage(ctx, b, stage); err != nil {
				b.fail(err)
			}
		}
	}
	for _, b := range steps {
		if b.done {
			continue
		}
		// What Port answered should hold the guide's definition; if Port rewrote a field, say so, as the next run
		// will write it again (and the test of a second run writing nothing catches it in the emulator).
		if _, left := mergeObject(b.cur, b.ours); len(left) > 0 {
			b.step.Log("⚠️ Port did not keep %s of blueprint %q as sent", strings.Join(left, ", "), b.id)
		}
		switch {
		case b.created:
			b.step.Log("📦 Created blueprint %q", b.id)
			b.obj.Outcome = register.Created
		case b.written:
			b.step.Log("🔄 Updated blueprint %q", b.id)
			b.obj.Outcome = register.Updated
		default: // created by someone else meanwhile, as we need it
			b.step.Log("✅ Blueprint %q is up to date", b.id)
			b.obj.Outcome = register.Unchanged
		}
	}
	return objects(steps)
}

func objects(steps []*bpStep) []Object {
	var out []Object
	for _, b := range steps {
		out = append(out, b.obj)
	}
	return out
}

// planBlueprint logs what the blueprint needs and sets the planned outcome. A blueprint whose properties
// clash with the guide's in a way Port cannot change fails here, before anything is written.
func (r *runner) planBlueprint(b *bpStep) {
	if b.cur == nil {
		b.step.Log("➕ Blueprint %q %s with %s", b.id, r.would("does not exist: creating it", "would be created"), describe(b.ours))
		b.obj.Outcome = register.WouldCreate
		return
	}
	if err := clashes(b.id, b.cur, b.ours); err != nil {
		b.fail(err)
		return
	}
	_, changes := mergeObject(b.cur, b.ours)
	if len(changes) == 0 {
		b.step.Log("✅ Blueprint %q is up to date", b.id)
		b.obj.Outcome = register.Unchanged
		b.done = true
		return
	}
	b.step.Log("🔄 Blueprint %q %s:", b.id, r.would("differs from the guide; updating", "would be updated"))
	logChanges(b.step, changes)
	b.obj.Outcome, b.obj.Drift = register.WouldUpdate, changes
}

// writeStage writes one stage of a blueprint: the create of a missing blueprint, or a PATCH of the groups of
// the stage that differ.
func (r *runner) writeStage(ctx context.Context, b *bpStep, stage int) error {
	if b.cur == nil {
		body := port.Object{}
		for k, v := range b.ours {
			if stageOf(k) == 0 {
				body[k] = v
			}
		}
		got, err := r.c.CreateBlueprint(ctx, body)
		if err != nil {
			if !isCreateConflict(err) {
				return fmt.Errorf("create blueprint %q: %w", b.id, err)
			}
			// Created meanwhile (or our response was lost): carry on from what is there.
			if got, err = r.c.GetBlueprint(ctx, b.id); err != nil {
				return fmt.Errorf("create blueprint %q: %w", b.id, err)
			}
		} else {
			b.created = true
			b.step.Detail("stage 1/%d: created with its properties", len(stages))
		}
		b.cur = normalizeObject(got)
		return nil
	}
	merged, _ := mergeObject(b.cur, b.ours)
	patch := port.Object{}
	var changed []string
	for _, k := range sortedKeys(b.ours) {
		if stageOf(k) != stage || k == "identifier" {
			continue
		}
		if _, ch := mergePath(b.cur[k], b.ours[k], k); len(ch) > 0 {
			patch[k] = merged[k]
			changed = append(changed, k)
		}
	}
	if len(patch) == 0 {
		return nil
	}
	got, err := r.c.PatchBlueprint(ctx, b.id, patch)
	if err != nil {
		return fmt.Errorf("update the %s of blueprint %q: %w", stages[stage].name, b.id, err)
	}
	b.cur = normalizeObject(got)
	b.written = true
	b.step.Detail("stage %d/%d: wrote %s", stage+1, len(stages), strings.Join(changed, ", "))
	return nil
}

// dependencies lists the blueprints of defs that def relates to or aggregates over.
func dependencies(def map[string]any, defs []map[string]any) []string {
	var targets []string
	for _, g := range []string{"relations", "aggregationProperties"} {
		m, _ := def[g].(map[string]any)
		for _, k := range sortedKeys(m) {
			t, _ := m[k].(map[string]any)["target"].(string)
			targets = append(targets, t)
		}
	}
	var out []string
	for _, d := range defs {
		id := d["identifier"].(string)
		if id != def["identifier"] && slices.Contains(targets, id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// failedDependency returns the first blueprint b needs whose step failed.
func failedDependency(b *bpStep, steps []*bpStep) string {
	for _, other := range steps {
		if slices.Contains(b.deps, other.id) && other.obj.Outcome == register.Failed {
			return other.id
		}
	}
	return ""
}

// clashes reports what in an existing blueprint Port would refuse to turn into the guide's definition: a
// property whose type differs (a property's type cannot change after creation), or one of our keys defined
// in another group (schema, mirror, calculation and aggregation properties share one namespace).
func clashes(id string, cur, ours map[string]any) error {
	var problems []string
	curProps := group(cur, "schema.properties")
	for _, k := range sortedKeys(group(ours, "schema.properties")) {
		want, _ := group(ours, "schema.properties")[k].(map[string]any)
		have, ok := curProps[k].(map[string]any)
		if ok && have["type"] != nil && !equal(have["type"], want["type"]) {
			problems = append(problems, fmt.Sprintf("property %q is of type %v in Port, the guide needs %v (Port cannot change "+
				"a property's type: rename or delete yours first)", k, have["type"], want["type"]))
		}
	}
	for _, g := range propertyGroups {
		for _, k := range sortedKeys(group(ours, g)) {
			for _, other := range propertyGroups {
				if other == g {
					continue
				}
				if _, ok := group(cur, other)[k]; ok {
					problems = append(problems, fmt.Sprintf("%q is one of its %s in Port, the guide defines it in %s "+
						"(rename or delete yours first)", k, other, g))
				}
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("blueprint %q cannot take the guide's definition: %s", id, strings.Join(problems, "; "))
}

// group returns a group of a blueprint by its dotted path ("schema.properties").
func group(def map[string]any, path string) map[string]any {
	cur := def
	for _, k := range strings.Split(path, ".") {
		cur, _ = cur[k].(map[string]any)
	}
	return cur
}

// describe counts what a blueprint definition holds, for a log line.
func describe(def map[string]any) string {
	var parts []string
	for _, g := range []struct{ path, one, many string }{
		{"schema.properties", "property", "properties"},
		{"relations", "relation", "relations"},
		{"mirrorProperties", "mirror property", "mirror properties"},
		{"calculationProperties", "calculation property", "calculation properties"},
		{"aggregationProperties", "aggregation property", "aggregation properties"},
	} {
		switch n := len(group(def, g.path)); n {
		case 0:
		case 1:
			parts = append(parts, "1 "+g.one)
		default:
			parts = append(parts, fmt.Sprintf("%d %s", n, g.many))
		}
	}
	if len(parts) == 0 {
		return "no properties"
	}
	return strings.Join(parts, ", ")
}
