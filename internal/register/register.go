package register

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/port-roi/port-roi-action/internal/input"
	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/roimodel"
	"github.com/port-roi/port-roi-action/internal/runlog"
)

// Client is the part of the Port API that register uses (port.Client).
type Client interface {
	GetAction(ctx context.Context, id string) (port.Object, error)
	CreateAction(ctx context.Context, def port.Object) (port.Object, error)
	UpdateAction(ctx context.Context, id string, def port.Object) (port.Object, error)
	DeleteAction(ctx context.Context, id string) error
	GetEntity(ctx context.Context, blueprint, id string) (port.Entity, error)
	UpsertEntity(ctx context.Context, blueprint string, e port.Entity, o port.UpsertOptions) (port.Entity, error)
}

// Outcome is what a step did, or in a dry run what it would do.
type Outcome string

// Outcomes of a step.
const (
	Created     Outcome = "created"
	Updated     Outcome = "updated"
	Unchanged   Outcome = "unchanged"
	WouldCreate Outcome = "would be created"
	WouldUpdate Outcome = "would be updated"
	Failed      Outcome = "failed"
	Skipped     Outcome = "skipped"
)

// Change is the outcome of one step and, for updates, the fields that differed.
type Change struct {
	Outcome Outcome
	Drift   []string
	Err     error
}

// Result is what a register run did.
type Result struct {
	Inputs       Inputs
	AutomationID string
	Action       Change // the self-service action
	Automation   Change
	Entity       Change // the action entity with the baselines
	DryRun       bool
}

// Options tune a run.
type Options struct {
	AppURL string // the Port app of the organisation's region, for the automation's run links
	DryRun bool   // read only and report what would change
}

// Run registers the action described by in. The requests go out as early as their dependencies allow, so
// that a first registration costs a token, the action, the automation and the closing log line in sequence:
// the action is created while the automation, the entity and the category are read; then the automation and
// the entity are written side by side. A category that does not exist is an input error; the action this run
// created for it is removed again, so that bad input never leaves a half-done registration. Each step reports
// to rep; the returned error joins the failures of all steps.
func Run(ctx context.Context, c Client, rep *runlog.Reporter, in Inputs, o Options) (Result, error) {
	if o.AppURL == "" {
		o.AppURL = "https://app.port.io"
	}
	res := Result{Inputs: in, AutomationID: AutomationIdentifier(in.ActionID), DryRun: o.DryRun}
	r := &runner{c: c, rep: rep, in: in, o: o}
	actionStep := rep.Step(fmt.Sprintf("Self-service action %q", in.ActionID))
	automationStep := rep.Step(fmt.Sprintf("Automation %q", res.AutomationID))
	entityStep := rep.Step(fmt.Sprintf("Entity %q of blueprint %s", in.ActionID, roimodel.ActionBlueprint))

	// Phase 1: create the action; read the automation, the entity and the category.
	var (
		wg                     sync.WaitGroup
		automation             port.Object
		automationErr          error
		entity                 port.Entity
		entityErr, categoryErr error
	)
	wg.Add(4)
	go func() { defer wg.Done(); res.Action = r.action(ctx, actionStep) }()
	go func() { defer wg.Done(); automation, automationErr = c.GetAction(ctx, res.AutomationID) }()
	go func() { defer wg.Done(); entity, entityErr = c.GetEntity(ctx, roimodel.ActionBlueprint, in.ActionID) }()
	go func() { defer wg.Done(); _, categoryErr = c.GetEntity(ctx, roimodel.CategoriesBlueprint, in.Category) }()
	wg.Wait()

	if port.IsNotFound(categoryErr) {
		err := &input.Error{Name: InputCategory, Value: in.Category, Expected: "no entity with this identifier exists in blueprint " +
			roimodel.CategoriesBlueprint + "; pick an existing category or create it in Port first"}
		entityStep.Log("❌ %v", err)
		res.Entity = Change{Outcome: Failed, Err: err}
		res.Action = r.undoAction(ctx, actionStep, res.Action)
		automationStep.Log("⏭️ Skipped: the category does not exist")
		res.Automation = Change{Outcome: Skipped}
		for _, s := range []*runlog.Step{actionStep, automationStep, entityStep} {
			s.End()
		}
		return res, err
	}

	// Phase 2: the automation (which needs the action) and the entity.
	wg.Add(2)
	go func() {
		defer wg.Done()
		defer automationStep.End()
		res.Automation = r.automation(ctx, automationStep, res.Action, automation, automationErr)
	}()
	go func() {
		defer wg.Done()
		defer entityStep.End()
		if categoryErr != nil {
			res.Entity = r.fail(entityStep, fmt.Errorf("read category %q of blueprint %s: %w", in.Category, roimodel.CategoriesBlueprint, categoryErr))
			return
		}
		res.Entity = r.entity(ctx, entityStep, entity, entityErr)
	}()
	actionStep.End()
	wg.Wait()

	var errs []error
	for _, ch := range []Change{res.Action, res.Automation, res.Entity} {
		if ch.Err != nil {
			errs = append(errs, ch.Err)
		}
	}
	return res, errors.Join(errs...)
}

type runner struct {
	c   Client
	rep *runlog.Reporter
	in  Inputs
	o   Options
}

// action makes sure the self-service action exists. It creates first and treats a conflict as "exists", so a
// first registration costs one request and a race with another run is harmless. An existing action is never
// touched: its user has replaced the placeholder backend with a real one.
func (r *runner) action(ctx context.Context, step *runlog.Step) Change {
	id := r.in.ActionID
	step.Detail("title %s → identifier %s", strconv.Quote(r.in.Title), id)

	if r.o.DryRun {
		_, err := r.c.GetAction(ctx, id)
		switch {
		case err == nil:
			step.Log("✅ Self-service action %q exists and would be left as is", id)
			return Change{Outcome: Unchanged}
		case port.IsNotFound(err):
			step.Log("➕ Self-service action %q would be created as a placeholder", id)
			return Change{Outcome: WouldCreate}
		default:
			return r.fail(step, fmt.Errorf("read self-service action %q: %w", id, err))
		}
	}

	_, err := r.c.CreateAction(ctx, PlaceholderAction(id, r.in.Title))
	if err == nil {
		step.Log("📦 Created self-service action %q (a placeholder: replace its backend with your own)", id)
		return Change{Outcome: Created}
	}
	if !isCreateConflict(err) {
		return r.fail(step, fmt.Errorf("create self-service action %q: %w", id, err))
	}
	if port.IsConflict(err) {
		step.Log("✅ Self-service action %q already exists; left as is", id)
		return Change{Outcome: Unchanged}
	}
	// Port may answer a duplicate with a validation error instead of 409: only a read tells which.
	if _, getErr := r.c.GetAction(ctx, id); getErr != nil {
		if port.IsNotFound(getErr) {
			return r.fail(step, fmt.Errorf("create self-service action %q: %w", id, err))
		}
		return r.fail(step, fmt.Errorf("read self-service action %q: %w", id, getErr))
	}
	step.Log("✅ Self-service action %q already exists; left as is", id)
	return Change{Outcome: Unchanged}
}

// undoAction removes the action this run has just created, when the registration cannot go on for bad input.
func (r *runner) undoAction(ctx context.Context, step *runlog.Step, ch Change) Change {
	if ch.Outcome != Created {
		return ch
	}
	if err := r.c.DeleteAction(ctx, r.in.ActionID); err != nil {
		return r.fail(step, fmt.Errorf("remove self-service action %q created for a category that does not exist: %w", r.in.ActionID, err))
	}
	step.Log("↩️ Removed self-service action %q again: the category does not exist", r.in.ActionID)
	return Change{Outcome: Skipped}
}

// automation creates the automation, or replaces it when it has drifted from the guide's definition.
func (r *runner) automation(ctx context.Context, step *runlog.Step, action Change, existing port.Object, existingErr error) Change {
	id := AutomationIdentifier(r.in.ActionID)
	if action.Outcome == Failed {
		step.Log("⏭️ Skipped: the automation needs the self-service action")
		return Change{Outcome: Skipped}
	}
	want := Automation(r.in.ActionID, r.o.AppURL)

	if existingErr != nil && !port.IsNotFound(existingErr) {
		return r.fail(step, fmt.Errorf("read automation %q: %w", id, existingErr))
	}
	if port.IsNotFound(existingErr) {
		if r.o.DryRun {
			step.Log("➕ Automation %q would be created", id)
			return Change{Outcome: WouldCreate}
		}
		_, err := r.c.CreateAction(ctx, want)
		if err == nil {
			step.Log("🚀 Created automation %q: every run of %q is now recorded as an action_run entity", id, r.in.ActionID)
			return Change{Outcome: Created}
		}
		if !isCreateConflict(err) {
			return r.fail(step, fmt.Errorf("create automation %q: %w", id, err))
		}
		// Someone else created it in the meantime (or our response was lost): compare what is there.
		got, getErr := r.c.GetAction(ctx, id)
		if getErr != nil {
			return r.fail(step, fmt.Errorf("create automation %q: %w", id, err))
		}
		existing = got
	}

	drift := Drift(want, existing)
	if len(drift) == 0 {
		step.Log("✅ Automation %q is up to date", id)
		return Change{Outcome: Unchanged}
	}
	if r.o.DryRun {
		step.Log("🔄 Automation %q would be replaced; it differs in %s", id, listPaths(drift))
		return Change{Outcome: WouldUpdate, Drift: drift}
	}
	if _, err := r.c.UpdateAction(ctx, id, want); err != nil {
		return r.fail(step, fmt.Errorf("update automation %q: %w", id, err))
	}
	step.Log("🔄 Updated automation %q; it differed in %s", id, listPaths(drift))
	return Change{Outcome: Updated, Drift: drift}
}

// entity upserts the action entity with the baselines that were given, merging into what is there so that
// fields users edited in Port (description, criticality, owners) survive. It writes only when something
// differs.
func (r *runner) entity(ctx context.Context, step *runlog.Step, got port.Entity, err error) Change {
	id := r.in.ActionID
	want := r.wantEntity()
	step.Detail("category %s, lead time before %s, cycle time before %s",
		r.in.Category, hours(r.in.LeadTimeBefore), hours(r.in.CycleTimeBefore))

	var drift []string
	switch {
	case err == nil:
		drift = Drift(entityFields(want), entityFields(got))
		if len(drift) == 0 {
			step.Log("✅ Entity %q is up to date", id)
			return Change{Outcome: Unchanged}
		}
	case port.IsNotFound(err):
	default:
		return r.fail(step, fmt.Errorf("read entity %q of blueprint %s: %w", id, roimodel.ActionBlueprint, err))
	}
	created := err != nil
	if r.o.DryRun {
		if created {
			step.Log("➕ Entity %q would be created", id)
			return Change{Outcome: WouldCreate}
		}
		step.Log("🔄 Entity %q would be updated: %s", id, listPaths(drift))
		return Change{Outcome: WouldUpdate, Drift: drift}
	}
	opts := port.UpsertOptions{Merge: true, RunID: r.in.RunID}
	if _, err := r.c.UpsertEntity(ctx, roimodel.ActionBlueprint, want, opts); err != nil {
		return r.fail(step, fmt.Errorf("upsert entity %q of blueprint %s: %w", id, roimodel.ActionBlueprint, err))
	}
	if created {
		step.Log("📦 Created entity %q with its category and baselines", id)
		return Change{Outcome: Created}
	}
	step.Log("📦 Updated entity %q: %s", id, listPaths(drift))
	return Change{Outcome: Updated, Drift: drift}
}

// wantEntity is the action entity with the baselines that were given (actionEntity).
func (r *runner) wantEntity() port.Entity { return actionEntity(r.in) }

// entityFields is the comparable part of an entity.
func entityFields(e port.Entity) map[string]any {
	return map[string]any{"title": e.Title, "properties": e.Properties, "relations": e.Relations}
}

func (r *runner) fail(step *runlog.Step, err error) Change {
	step.Log("❌ %v", err)
	return Change{Outcome: Failed, Err: err}
}

// isCreateConflict reports whether a create failed because the object may already exist: Port answers 409,
// and possibly 422 for some kinds (port-behaviors.md, "Creating what may already exist").
func isCreateConflict(err error) bool {
	var apiErr *port.APIError
	return errors.As(err, &apiErr) && (apiErr.StatusCode == 409 || apiErr.StatusCode == 422)
}

// hours renders an optional baseline.
func hours(h *float64) string {
	if h == nil {
		return "not given"
	}
	return strconv.FormatFloat(*h, 'f', -1, 64) + " h"
}
