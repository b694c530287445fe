// Package bootstrap converges a Port organisation to the setup of the guide "Create an actions ROI dashboard":
// the blueprints actions_categories, action and action_run, the setup_new_action self-service action, the
// actions_assistant AI agent, the "Actions ROI" dashboard page and optional starter categories. The
// definitions come from roimodel.
//
// Every object is read first and our definition is merged into what Port holds (merge.go): what users added
// is kept, what differs from the guide is listed and, unless it is a dry run, written. A second run writes
// nothing. Blueprints are written in four stages so that a relation, mirror or aggregation never names a
// blueprint or relation that does not exist yet, whatever state the organisation is in (blueprints.go).
package bootstrap

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/register"
	"github.com/port-roi/port-roi-action/internal/roimodel"
	"github.com/port-roi/port-roi-action/internal/runlog"
)

// Client is the part of the Port API that bootstrap uses (port.Client).
type Client interface {
	GetBlueprint(ctx context.Context, id string) (port.Object, error)
	CreateBlueprint(ctx context.Context, def port.Object) (port.Object, error)
	PatchBlueprint(ctx context.Context, id string, patch port.Object) (port.Object, error)
	GetAction(ctx context.Context, id string) (port.Object, error)
	CreateAction(ctx context.Context, def port.Object) (port.Object, error)
	UpdateAction(ctx context.Context, id string, def port.Object) (port.Object, error)
	GetEntity(ctx context.Context, blueprint, id string) (port.Entity, error)
	UpsertEntity(ctx context.Context, blueprint string, e port.Entity, o port.UpsertOptions) (port.Entity, error)
	GetPage(ctx context.Context, id string) (port.Object, error)
	CreatePage(ctx context.Context, def port.Object) error
	PatchPage(ctx context.Context, id string, patch port.Object) error
}

// Kind is the kind of a Port object that bootstrap manages.
type Kind string

// Kinds of objects, as the log and the job summary name them.
const (
	KindBlueprint Kind = "Blueprint"
	KindAction    Kind = "Self-service action"
	KindCategory  Kind = "Category"
	KindAgent     Kind = "AI agent"
	KindDashboard Kind = "Dashboard"
)

// Object is what bootstrap did to one Port object (or, in a dry run, would do). For updates, Drift lists
// the paths that differed from the guide: "+ path" for what was added, "~ path" for what was changed.
type Object struct {
	Kind Kind
	ID   string
	register.Change
}

// Result is what a bootstrap run did, object by object, in the order they were handled.
type Result struct {
	Inputs  Inputs
	Objects []Object
	DryRun  bool
	// AgentSkipped is set when the organisation has no AI agents (Port AI is not enabled): the agent and the
	// dashboard's agent widget were left out.
	AgentSkipped bool
	// DashboardURL is where the dashboard is (or will be) in the Port app.
	DashboardURL string
}

// IDs returns the identifiers of the objects whose outcome is one of outcomes, in order.
func (r Result) IDs(outcomes ...register.Outcome) []string {
	var out []string
	for _, o := range r.Objects {
		for _, want := range outcomes {
			if o.Outcome == want {
				out = append(out, o.ID)
				break
			}
		}
	}
	return out
}

// Count returns how many objects have the outcome.
func (r Result) Count(outcome register.Outcome) int { return len(r.IDs(outcome)) }

// Options tune a run.
type Options struct {
	AppURL string // the Port app of the organisation's region, for links
	DryRun bool   // read only and report what would change
}

// Run converges the organisation to the guide's setup. Each object is one step reported to rep; the
// returned error joins the failures of all steps. An organisation without AI agents is not a failure.
func Run(ctx context.Context, c Client, rep *runlog.Reporter, in Inputs, o Options) (Result, error) {
	if o.AppURL == "" {
		o.AppURL = "https://app.port.io"
	}
	r := &runner{c: c, rep: rep, in: in, o: o}
	res := Result{Inputs: in, DryRun: o.DryRun, DashboardURL: o.AppURL + "/" + url.PathEscape(roimodel.DashboardID)}

	bps := r.blueprints(ctx)
	res.Objects = append(res.Objects, bps...)
	unusable := func(ids ...string) string { // the first of ids whose blueprint step failed
		for _, id := range ids {
			for _, b := range bps {
				if b.ID == id && b.Outcome == register.Failed {
					return id
				}
			}
		}
		return ""
	}

	res.Objects = append(res.Objects, r.setupAction(ctx, unusable(roimodel.ActionBlueprint, roimodel.CategoriesBlueprint)))
	res.Objects = append(res.Objects, r.categories(ctx, unusable(roimodel.CategoriesBlueprint))...)
	agent := r.agent(ctx)
	res.Objects = append(res.Objects, agent)
	res.AgentSkipped = agent.Outcome == register.Skipped
	withAgent := agent.Outcome != register.Skipped && agent.Outcome != register.Failed
	res.Objects = append(res.Objects, r.dashboard(ctx, withAgent, unusable(roimodel.ActionBlueprint)))

	var errs []error
	for _, obj := range res.Objects {
		if obj.Err != nil {
			errs = append(errs, obj.Err)
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

// outcome returns the real outcome, or in a dry run the planned one.
func (r *runner) outcome(real register.Outcome) register.Outcome {
	if !r.o.DryRun {
		return real
	}
	switch real {
	case register.Created:
		return register.WouldCreate
	case register.Updated:
		return register.WouldUpdate
	}
	return real
}

// logChanges lists the paths that differ, one line each: the readable diff of a plan.
func logChanges(step *runlog.Step, changes []string) {
	for _, c := range changes {
		step.Log("    %s", c)
	}
}

func fail(step *runlog.Step, obj Object, err error) Object {
	step.Log("❌ %v", err)
	obj.Outcome, obj.Err = register.Failed, err
	return obj
}

// isCreateConflict reports whether a create failed because the object may already exist: Port answers 409,
// and possibly 422 for some kinds (port-behaviors.md, "Creating what may already exist").
func isCreateConflict(err error) bool {
	var apiErr *port.APIError
	return errors.As(err, &apiErr) && (apiErr.StatusCode == http.StatusConflict || apiErr.StatusCode == http.StatusUnprocessableEntity)
}

// would picks the wording of a log line: what was done, or in a dry run what would be.
func (r *runner) would(done, planned string) string {
	if r.o.DryRun {
		return planned
	}
	return done
}

// skip records a step that cannot run because a blueprint it needs could not be set up.
func skip(step *runlog.Step, obj Object, blueprint string) Object {
	step.Log("⏭️ Skipped: it needs blueprint %q, which could not be set up", blueprint)
	obj.Outcome = register.Skipped
	return obj
}
