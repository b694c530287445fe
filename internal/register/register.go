package register

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/roimodel"
	"github.com/port-roi/port-roi-action/internal/runlog"
)

// Client is the part of the Port API that register uses (port.Client).
type Client interface {
	GetAction(ctx context.Context, id string) (port.Object, error)
	CreateAction(ctx context.Context, def port.Object) (port.Object, error)
	UpdateAction(ctx context.Context, id string, def port.Object) (port.Object, error)
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

// Run registers the action described by in. The three steps run as early as their dependencies allow: the
// automation waits for the action it references, the entity upsert waits for nothing. Each step reports to
// rep; the returned error joins the failures of all steps.
func Run(ctx context.Context, c Client, rep *runlog.Reporter, in Inputs, o Options) (Result, error) {
	if o.AppURL == "" {
		o.AppURL = "https://app.port.io"
	}
	res := Result{Inputs: in, AutomationID: AutomationIdentifier(in.ActionID), DryRun: o.DryRun}
	r := &runner{c: c, rep: rep, in: in, o: o}

	var wg sync.WaitGroup
	var existing port.Object
	var existingErr error
	wg.Add(3)
	go func() { // the automation as it is now, read while the action is being created
		defer wg.Done()
		existing, existingErr = c.GetAction(ctx, res.AutomationID)
	}()
	go func() {
		defer wg.Done()
		res.Entity = r.entity(ctx)
	}()
	go func() {
		defer wg.Done()
		res.Action = r.action(ctx)
	}()
	wg.Wait()
	res.Automation = r.automation(ctx, res.Action, existing, existingErr)

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
func (r *runner) action(ctx context.Context) Change {
	id := r.in.ActionID
	step := r.rep.Step(fmt.Sprintf("Self-service action %q", id))
	defer step.End()
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
	// Port may answer a duplicate with 409 or with a validation error: only a read tells which.
	if _, getErr := r.c.GetAction(ctx, id); getErr != nil {
		if port.IsNotFound(getErr) {
			return r.fail(step, fmt.Errorf("create self-service action %q: %w", id, err))
		}
		return r.fail(step, fmt.Errorf("read self-service action %q: %w", id, getErr))
	}
	step.Log("✅ Self-service action %q already exists; left as is", id)
	return Change{Outcome: Unchanged}
}

// automation creates the automation, or replaces it when it has drifted from the guide's definition.
func (r *runner) automation(ctx context.Context, action Change, existing port.Object, existingErr error) Change {
	id := AutomationIdentifier(r.in.ActionID)
	step := r.rep.Step(fmt.Sprintf("Automation %q", id))
	defer step.End()
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
func (r *runner) entity(ctx context.Context) Change {
	id := r.in.ActionID
	step := r.rep.Step(fmt.Sprintf("Entity %q of blueprint %s", id, roimodel.ActionBlueprint))
	defer step.End()
	want := r.wantEntity()
	step.Detail("category %s, lead time before %s, cycle time before %s",
		r.in.Category, hours(r.in.LeadTimeBefore), hours(r.in.CycleTimeBefore))

	got, err := r.c.GetEntity(ctx, roimodel.ActionBlueprint, id)
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
		if port.IsNotFound(err) {
			err = fmt.Errorf("%w (does the category %q exist in blueprint %s?)", err, r.in.Category, roimodel.CategoriesBlueprint)
		}
		return r.fail(step, fmt.Errorf("upsert entity %q of blueprint %s: %w", id, roimodel.ActionBlueprint, err))
	}
	if created {
		step.Log("📦 Created entity %q with its category and baselines", id)
		return Change{Outcome: Created}
	}
	step.Log("📦 Updated entity %q: %s", id, listPaths(drift))
	return Change{Outcome: Updated, Drift: drift}
}

// wantEntity is the action entity as the guide's create_action_entity.sh sends it, but with blank baselines
// left out instead of sent as 0.
func (r *runner) wantEntity() port.Entity {
	props := map[string]any{}
	if r.in.LeadTimeBefore != nil {
		props["lead_time_before"] = *r.in.LeadTimeBefore
	}
	if r.in.CycleTimeBefore != nil {
		props["cycle_time"] = *r.in.CycleTimeBefore
	}
	return port.Entity{
		Identifier: r.in.ActionID,
		Title:      r.in.Title,
		Properties: props,
		Relations:  map[string]any{"category": r.in.Category},
	}
}

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
