package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/register"
	"github.com/port-roi/port-roi-action/internal/roimodel"
	"github.com/port-roi/port-roi-action/internal/runlog"
)

// setupAction converges setup_new_action, the self-service action whose GitHub backend dispatches the
// workflow that runs register. Inputs, titles and backend fields users added are kept; what differs from the
// guide (typically the org, repo and workflow) is replaced. blocked names a blueprint it needs that failed.
func (r *runner) setupAction(ctx context.Context, blocked string) Object {
	id := roimodel.SetupActionID
	obj := Object{Kind: KindAction, ID: id}
	step := r.rep.Step(fmt.Sprintf("Self-service action %q", id))
	defer step.End()
	step.Detail("GitHub backend: workflow %s of %s/%s", r.in.Workflow, r.in.Org, r.in.Repo)
	if blocked != "" {
		return skip(step, obj, blocked)
	}
	want := normalizeObject(roimodel.SetupActionFor(r.in.Org, r.in.Repo, r.in.Workflow))

	got, err := r.c.GetAction(ctx, id)
	switch {
	case port.IsNotFound(err):
		if r.o.DryRun {
			step.Log("➕ Self-service action %q would be created, dispatching %s in %s/%s", id, r.in.Workflow, r.in.Org, r.in.Repo)
			obj.Outcome = register.WouldCreate
			return obj
		}
		_, err := r.c.CreateAction(ctx, want)
		if err == nil {
			step.Log("📦 Created self-service action %q, dispatching %s in %s/%s", id, r.in.Workflow, r.in.Org, r.in.Repo)
			obj.Outcome = register.Created
			return obj
		}
		if !isCreateConflict(err) {
			return fail(step, obj, fmt.Errorf("create self-service action %q: %w", id, err))
		}
		// Port may answer a duplicate with 409 or with a validation error: only a read tells which.
		if got, err = r.c.GetAction(ctx, id); err != nil {
			return fail(step, obj, fmt.Errorf("create self-service action %q: %w", id, err))
		}
	case err != nil:
		return fail(step, obj, fmt.Errorf("read self-service action %q: %w", id, err))
	}

	merged, changes := mergeObject(port.ActionBody(got), want)
	if len(changes) == 0 {
		step.Log("✅ Self-service action %q is up to date", id)
		obj.Outcome = register.Unchanged
		return obj
	}
	step.Log("🔄 Self-service action %q %s:", id, r.would("differs from the guide; updating", "would be updated"))
	logChanges(step, changes)
	obj.Outcome, obj.Drift = r.outcome(register.Updated), changes
	if r.o.DryRun {
		return obj
	}
	// PUT replaces the whole action and refuses server metadata (port-behaviors.md): send the merged body.
	if _, err := r.c.UpdateAction(ctx, id, port.ActionBody(merged)); err != nil {
		return fail(step, obj, fmt.Errorf("update self-service action %q: %w", id, err))
	}
	step.Log("🔄 Updated self-service action %q", id)
	return obj
}

// categories upserts the starter categories as actions_categories entities. They share one step: each is a
// single line. blocked names the blueprint they need when it failed.
func (r *runner) categories(ctx context.Context, blocked string) []Object {
	if len(r.in.Categories) == 0 {
		return nil
	}
	step := r.rep.Step(fmt.Sprintf("Categories (entities of blueprint %s)", roimodel.CategoriesBlueprint))
	defer step.End()
	var out []Object
	for _, cat := range r.in.Categories {
		obj := Object{Kind: KindCategory, ID: cat.Identifier}
		if blocked != "" {
			out = append(out, skip(step, obj, blocked))
			continue
		}
		out = append(out, r.category(ctx, step, obj, cat))
	}
	return out
}

// category converges one starter category: created when missing, its title set when it differs.
func (r *runner) category(ctx context.Context, step *runlog.Step, obj Object, cat Category) Object {
	bp := roimodel.CategoriesBlueprint
	got, err := r.c.GetEntity(ctx, bp, cat.Identifier)
	var line string // what is (or would be) done
	switch {
	case err == nil && got.Title == cat.Title:
		step.Log("✅ Category %q (%s) is up to date", cat.Identifier, cat.Title)
		obj.Outcome = register.Unchanged
		return obj
	case err == nil:
		obj.Outcome = r.outcome(register.Updated)
		obj.Drift = []string{fmt.Sprintf("~ title: %s → %s", show(got.Title), show(cat.Title))}
		line = fmt.Sprintf("🔄 Category %q %s: title %q → %q", cat.Identifier, r.would("renamed", "would be renamed"), got.Title, cat.Title)
	case port.IsNotFound(err):
		obj.Outcome = r.outcome(register.Created)
		line = fmt.Sprintf("➕ Category %q %s with title %q", cat.Identifier, r.would("created", "would be created"), cat.Title)
	default:
		return fail(step, obj, fmt.Errorf("read category %q: %w", cat.Identifier, err))
	}
	if !r.o.DryRun {
		e := port.Entity{Identifier: cat.Identifier, Title: cat.Title}
		if _, err := r.c.UpsertEntity(ctx, bp, e, port.UpsertOptions{Merge: true, RunID: r.in.RunID}); err != nil {
			return fail(step, obj, fmt.Errorf("upsert category %q: %w", cat.Identifier, err))
		}
	}
	step.Log("%s", line)
	return obj
}

// agent converges the actions_assistant AI agent, an entity of Port's _ai_agent system blueprint. An
// organisation without AI agents (the blueprint does not exist, or access to it is refused) is skipped: the
// dashboard is then built without its agent widget, and a later run adds both.
func (r *runner) agent(ctx context.Context) Object {
	id := roimodel.AgentID
	obj := Object{Kind: KindAgent, ID: id}
	step := r.rep.Step(fmt.Sprintf("AI agent %q", id))
	defer step.End()

	_, err := r.c.GetBlueprint(ctx, roimodel.AgentBlueprint)
	switch {
	case port.IsNotFound(err) || isForbidden(err):
		step.Log("⏭️ Skipped: this organisation has no AI agents (no %s blueprint). The dashboard is built without "+
			"its AI agent widget; once Port AI is enabled, run bootstrap again to add both", roimodel.AgentBlueprint)
		obj.Outcome = register.Skipped
		return obj
	case err != nil:
		return fail(step, obj, fmt.Errorf("read blueprint %s: %w", roimodel.AgentBlueprint, err))
	}

	def := normalizeObject(roimodel.Agent())
	want := map[string]any{"title": def["title"], "icon": def["icon"], "properties": def["properties"]}
	got, err := r.c.GetEntity(ctx, roimodel.AgentBlueprint, id)
	var changes []string
	var merged map[string]any
	switch {
	case err == nil:
		theirs := map[string]any{"properties": got.Properties}
		if got.Title != "" {
			theirs["title"] = got.Title
		}
		if got.Icon != "" {
			theirs["icon"] = got.Icon
		}
		merged, changes = mergeObject(normalizeObject(theirs), want)
		if len(changes) == 0 {
			step.Log("✅ AI agent %q is up to date", id)
			obj.Outcome = register.Unchanged
			return obj
		}
		step.Log("🔄 AI agent %q %s:", id, r.would("differs from the guide; updating", "would be updated"))
		logChanges(step, changes)
		obj.Outcome, obj.Drift = r.outcome(register.Updated), changes
	case port.IsNotFound(err):
		merged = want
		step.Log("➕ AI agent %q %s", id, r.would("does not exist: creating it", "would be created"))
		obj.Outcome = r.outcome(register.Created)
	default:
		return fail(step, obj, fmt.Errorf("read AI agent %q: %w", id, err))
	}
	if r.o.DryRun {
		return obj
	}
	e := port.Entity{Identifier: id}
	e.Title, _ = merged["title"].(string)
	e.Icon, _ = merged["icon"].(string)
	e.Properties, _ = merged["properties"].(map[string]any)
	if _, err := r.c.UpsertEntity(ctx, roimodel.AgentBlueprint, e, port.UpsertOptions{Merge: true, RunID: r.in.RunID}); err != nil {
		return fail(step, obj, fmt.Errorf("upsert AI agent %q: %w", id, err))
	}
	if obj.Outcome == register.Created {
		step.Log("📦 Created AI agent %q", id)
	} else {
		step.Log("🔄 Updated AI agent %q", id)
	}
	return obj
}

// isForbidden reports whether Port refused access (403), as it may for a feature the organisation lacks.
func isForbidden(err error) bool {
	var apiErr *port.APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusForbidden
}
