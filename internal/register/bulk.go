package register

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/port-roi/port-roi-action/internal/input"
	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/roimodel"
	"github.com/port-roi/port-roi-action/internal/runlog"
)

// BulkClient is the part of the Port API that bulk registration uses (port.Client).
type BulkClient interface {
	GetAction(ctx context.Context, id string) (port.Object, error)
	ListActions(ctx context.Context, q port.ListActionsQuery) ([]port.Object, error)
	CreateAction(ctx context.Context, def port.Object) (port.Object, error)
	UpdateAction(ctx context.Context, id string, def port.Object) (port.Object, error)
	SearchEntities(ctx context.Context, blueprint string, r port.SearchRequest) (port.SearchPage, error)
	BulkUpsertEntities(ctx context.Context, blueprint string, es []port.Entity, o port.UpsertOptions) (port.BulkResult, error)
}

// Concurrency of a bulk registration: requests in flight at a time.
const (
	DefaultConcurrency = 8
	MaxConcurrency     = 64
)

const (
	// searchChunk is how many identifiers one blueprint search asks for (and its page size).
	searchChunk = 200
	// maxListQuery bounds the action identifiers of one GET /v1/actions, in bytes of query string, well
	// under the 8 KiB that proxies commonly allow for a request line.
	maxListQuery = 4000
	// maxFailureLines bounds the per-item failure lines in the log; the job summary has every one.
	maxFailureLines = 10
)

// BulkOptions tune a bulk registration.
type BulkOptions struct {
	AppURL      string // the Port app of the organisation's region, for the automations' run links
	DryRun      bool   // read only and report what would change
	Concurrency int    // requests at a time (DefaultConcurrency when 0)
}

// ItemResult is what a bulk registration did for one manifest item.
type ItemResult struct {
	Item
	AutomationID string
	Action       Change
	Automation   Change
	Entity       Change
}

// Err joins the errors of the item's steps; nil when it was registered.
func (r ItemResult) Err() error { return errors.Join(r.Action.Err, r.Automation.Err, r.Entity.Err) }

// BulkResult is what a bulk registration did, item by item in manifest order.
type BulkResult struct {
	Items  []ItemResult
	DryRun bool
}

// Failed counts the items that failed.
func (r BulkResult) Failed() int {
	n := 0
	for _, it := range r.Items {
		if it.Err() != nil {
			n++
		}
	}
	return n
}

// RunBulk registers every item: the self-service action, the automation and the action entity of each, as
// Run does for one, but with the reads and the entity writes batched and the rest run o.Concurrency
// requests at a time:
//
//  1. One search checks the distinct categories; the existing actions and automations are listed by
//     identifier; the existing action entities are read with the blueprint search. Items whose category does
//     not exist fail as input errors and are not touched.
//  2. Each action is created unless it exists (409 means it does; an existing action is never changed); then
//     its automation is created, or compared with the guide's definition and replaced when it drifted.
//     Meanwhile the entities that differ are written with Port's bulk route, 20 at a time; Port's per-item
//     errors (207) fail those items only.
//
// A failing item never stops the others. The Port run log gets one line per phase and per bulk request,
// progress every tenth of the items, and the first failures; the result has every item.
func RunBulk(ctx context.Context, c BulkClient, rep *runlog.Reporter, items []Item, o BulkOptions) BulkResult {
	if o.AppURL == "" {
		o.AppURL = "https://app.port.io"
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	o.Concurrency = min(o.Concurrency, MaxConcurrency)
	b := &bulk{c: c, rep: rep, o: o, res: make([]ItemResult, len(items)), sem: make(chan struct{}, o.Concurrency)}
	for i, it := range items {
		b.res[i] = ItemResult{Item: it, AutomationID: AutomationIdentifier(it.ActionID)}
	}
	mode := ""
	if o.DryRun {
		mode = " (dry run: nothing is written)"
	}
	rep.Log("▶ Registering %d actions from the manifest, %d requests at a time%s", len(items), o.Concurrency, mode)

	// Phase 1: what exists.
	var (
		wg                 sync.WaitGroup
		missing            map[string]bool
		categoriesErr      error
		existing           map[string]port.Object
		listErr            error
		entities           map[string]port.Entity
		unread             map[string]error
		categories, listed int
	)
	wg.Go(func() { missing, categories, categoriesErr = b.missingCategories(ctx) })
	wg.Go(func() { existing, listErr = b.listActions(ctx) })
	wg.Go(func() { entities, unread = b.readEntities(ctx) })
	wg.Wait()

	if categoriesErr != nil {
		err := fmt.Errorf("check the categories in blueprint %s: %w", roimodel.CategoriesBlueprint, categoriesErr)
		for i := range b.res {
			b.res[i].Action, b.res[i].Automation = Change{Outcome: Skipped}, Change{Outcome: Skipped}
			b.res[i].Entity = Change{Outcome: Failed, Err: err}
		}
		rep.Log("❌ Could not %v; nothing was registered", err)
		return BulkResult{Items: b.res, DryRun: o.DryRun}
	}
	if listErr != nil {
		rep.Warn("Could not list the existing actions and automations (%v); each one is created first instead", listErr)
		existing = nil
	} else {
		listed = len(existing)
	}
	rep.Log("🔍 Found %d of %d categories, %d existing actions and automations, %d of %d action entities",
		categories-len(missing), categories, listed, len(entities), len(items))
	b.skipMissingCategories(missing)

	// Phase 2: entity writes and the per-action work, o.Concurrency requests at a time.
	batches := b.planEntities(entities, unread)
	var todo []int
	for i := range b.res {
		if b.res[i].Action.Outcome == "" {
			todo = append(todo, i)
		}
	}
	b.todo = len(todo)
	tasks := make(chan func())
	var workers sync.WaitGroup
	for range o.Concurrency {
		workers.Go(func() {
			for task := range tasks {
				task()
			}
		})
	}
	for k, batch := range batches {
		tasks <- func() { b.writeEntities(ctx, batch, k+1, len(batches)) }
	}
	for _, i := range todo {
		tasks <- func() { b.register(ctx, i, existing) }
	}
	close(tasks)
	workers.Wait()
	return BulkResult{Items: b.res, DryRun: o.DryRun}
}

type bulk struct {
	c   BulkClient
	rep *runlog.Reporter
	o   BulkOptions
	res []ItemResult
	sem chan struct{} // bounds the requests of phase 1

	todo int // items with per-action work; set before it starts

	mu          sync.Mutex // guards what follows
	done        int
	reported    int // tenths of todo reported so far
	actions     map[Outcome]int
	automations map[Outcome]int
	failures    int // failure lines logged
}

// slot runs f while holding one of the o.Concurrency request slots of phase 1.
func (b *bulk) slot(f func()) {
	b.sem <- struct{}{}
	defer func() { <-b.sem }()
	f()
}

// searchIDs returns the entities of blueprint among ids, read with the blueprint search in chunks, with
// only the fields in include. Chunks run side by side; failed chunks are returned by identifier.
func (b *bulk) searchIDs(ctx context.Context, blueprint string, ids []string, include []string) (map[string]port.Entity, map[string]error) {
	found, failed := map[string]port.Entity{}, map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for chunk := range slices.Chunk(ids, searchChunk) {
		wg.Go(func() {
			b.slot(func() {
				r := port.SearchRequest{
					Query:   port.SearchQuery{Combinator: "and", Rules: []any{map[string]any{"property": "$identifier", "operator": "in", "value": chunk}}},
					Include: include,
					Limit:   searchChunk,
				}
				var got []port.Entity
				var err error
				for {
					var page port.SearchPage
					if page, err = b.c.SearchEntities(ctx, blueprint, r); err != nil {
						break
					}
					got = append(got, page.Entities...)
					if page.Next == "" {
						break
					}
					r.From = page.Next
				}
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					for _, id := range chunk {
						failed[id] = err
					}
					return
				}
				for _, e := range got {
					found[e.Identifier] = e
				}
			})
		})
	}
	wg.Wait()
	return found, failed
}

// missingCategories checks the distinct categories of the manifest with one search per 200 of them.
func (b *bulk) missingCategories(ctx context.Context) (map[string]bool, int, error) {
	var ids []string
	for _, r := range b.res {
		if !slices.Contains(ids, r.Category) {
			ids = append(ids, r.Category)
		}
	}
	found, failed := b.searchIDs(ctx, roimodel.CategoriesBlueprint, ids, []string{"$identifier"})
	for _, err := range failed {
		return nil, len(ids), err
	}
	missing := map[string]bool{}
	for _, id := range ids {
		if _, ok := found[id]; !ok {
			missing[id] = true
		}
	}
	return missing, len(ids), nil
}

// listActions returns the existing actions and automations of the manifest by identifier, listed with
// GET /v1/actions?action_identifier=…, as many identifiers per request as fit in maxListQuery.
func (b *bulk) listActions(ctx context.Context) (map[string]port.Object, error) {
	var chunks [][]string
	var chunk []string
	size := 0
	for _, r := range b.res {
		for _, id := range []string{r.ActionID, r.AutomationID} {
			n := len("&action_identifier=") + len(url.QueryEscape(id))
			if size+n > maxListQuery && len(chunk) > 0 {
				chunks, chunk, size = append(chunks, chunk), nil, 0
			}
			chunk, size = append(chunk, id), size+n
		}
	}
	if len(chunk) > 0 {
		chunks = append(chunks, chunk)
	}

	out := map[string]port.Object{}
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ids := range chunks {
		wg.Go(func() {
			b.slot(func() {
				got, err := b.c.ListActions(ctx, port.ListActionsQuery{ActionIdentifiers: ids})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				for _, a := range got {
					if id, _ := a["identifier"].(string); slices.Contains(ids, id) {
						out[id] = a
					}
				}
			})
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return out, nil
}

// entityInclude are the fields of an action entity that registration compares.
var entityInclude = []string{"$identifier", "$title", "lead_time_before", "cycle_time", "category"}

// readEntities reads the existing action entities of the manifest. unread holds the identifiers whose
// search failed: their entities are written without comparing.
func (b *bulk) readEntities(ctx context.Context) (map[string]port.Entity, map[string]error) {
	ids := make([]string, len(b.res))
	for i, r := range b.res {
		ids[i] = r.ActionID
	}
	return b.searchIDs(ctx, roimodel.ActionBlueprint, ids, entityInclude)
}

// skipMissingCategories fails the items whose category does not exist, before anything is written for them.
func (b *bulk) skipMissingCategories(missing map[string]bool) {
	byCategory := map[string][]string{}
	var order []string
	for i := range b.res {
		r := &b.res[i]
		if !missing[r.Category] {
			continue
		}
		r.Action, r.Automation = Change{Outcome: Skipped}, Change{Outcome: Skipped}
		r.Entity = Change{Outcome: Failed, Err: &input.Error{Name: r.Name() + ".category", Value: r.Category,
			Expected: "no entity with this identifier exists in blueprint " + roimodel.CategoriesBlueprint +
				"; pick an existing category or create it in Port first"}}
		if byCategory[r.Category] == nil {
			order = append(order, r.Category)
		}
		byCategory[r.Category] = append(byCategory[r.Category], r.Name())
	}
	for _, cat := range order {
		names := byCategory[cat]
		b.rep.Log("❌ Category %q does not exist in blueprint %s: %d %s skipped (%s)", cat, roimodel.CategoriesBlueprint,
			len(names), plural(len(names), "action", "actions"), abbreviate(names, 5))
	}
}

// planEntities compares each item's entity with what Port has, sets the outcome of those that are up to
// date (and, in a dry run, of all), and returns the items to write in batches of port.MaxBulkEntities.
func (b *bulk) planEntities(existing map[string]port.Entity, unread map[string]error) [][]int {
	var write []int
	for i := range b.res {
		r := &b.res[i]
		if r.Entity.Outcome != "" {
			continue // skipped: its category does not exist
		}
		want := actionEntity(r.Inputs)
		if _, ok := unread[r.ActionID]; ok {
			if b.o.DryRun {
				r.Entity = Change{Outcome: Failed, Err: fmt.Errorf("read entity %q of blueprint %s: %w", r.ActionID, roimodel.ActionBlueprint, unread[r.ActionID])}
				continue
			}
			write = append(write, i)
			continue
		}
		got, ok := existing[r.ActionID]
		switch {
		case !ok && b.o.DryRun:
			r.Entity = Change{Outcome: WouldCreate}
		case !ok:
			write = append(write, i)
		default:
			drift := Drift(entityFields(want), entityFields(got))
			switch {
			case len(drift) == 0:
				r.Entity = Change{Outcome: Unchanged}
			case b.o.DryRun:
				r.Entity = Change{Outcome: WouldUpdate, Drift: drift}
			default:
				r.Entity.Drift = drift
				write = append(write, i)
			}
		}
	}
	if b.o.DryRun {
		counts := map[Outcome]int{}
		for _, r := range b.res {
			counts[r.Entity.Outcome]++
		}
		b.rep.Log("📋 Entities: %s", countLine(counts))
		return nil
	}
	if len(write) == 0 {
		b.rep.Log("✅ Every action entity is up to date")
	}
	return slices.Collect(slices.Chunk(write, port.MaxBulkEntities))
}

// writeEntities upserts the entities of one batch (item indexes) with one bulk request.
func (b *bulk) writeEntities(ctx context.Context, batch []int, k, total int) {
	es := make([]port.Entity, len(batch))
	for j, i := range batch {
		es[j] = actionEntity(b.res[i].Inputs)
	}
	if err := ctx.Err(); err != nil {
		b.failBatch(batch, fmt.Errorf("not started: %w", err))
		return
	}
	// No run_id: Port's GitHub action stopped sending it with bulk upserts (port-labs/port-github-action
	// d2b266e), and whether the bulk route honours it is not documented.
	res, err := b.c.BulkUpsertEntities(ctx, roimodel.ActionBlueprint, es, port.UpsertOptions{Merge: true})
	if err != nil {
		err = fmt.Errorf("upsert %d entities of blueprint %s: %w", len(batch), roimodel.ActionBlueprint, err)
		b.failBatch(batch, err)
		b.rep.Log("❌ Entities, batch %d of %d: %v", k, total, err)
		return
	}
	seen := make([]bool, len(batch))
	created, updated := 0, 0
	var refused []string
	for _, e := range res.Entities {
		if e.Index < 0 || e.Index >= len(batch) || seen[e.Index] {
			continue
		}
		seen[e.Index] = true
		r := &b.res[batch[e.Index]]
		if e.Created {
			r.Entity = Change{Outcome: Created}
			created++
		} else {
			r.Entity = Change{Outcome: Updated, Drift: r.Entity.Drift}
			updated++
		}
	}
	for _, pe := range res.Errors {
		if pe.Index < 0 || pe.Index >= len(batch) || seen[pe.Index] {
			continue
		}
		seen[pe.Index] = true
		r := &b.res[batch[pe.Index]]
		r.Entity = Change{Outcome: Failed, Err: fmt.Errorf("upsert entity %q of blueprint %s: %w", r.ActionID, roimodel.ActionBlueprint, &pe)}
		refused = append(refused, fmt.Sprintf("%s (%s): %s", r.Name(), r.ActionID, bulkErrorText(pe)))
	}
	for j, ok := range seen {
		if !ok {
			r := &b.res[batch[j]]
			r.Entity = Change{Outcome: Failed, Err: fmt.Errorf("upsert entity %q of blueprint %s: Port's answer did not mention it", r.ActionID, roimodel.ActionBlueprint)}
			refused = append(refused, fmt.Sprintf("%s (%s): not in Port's answer", r.Name(), r.ActionID))
		}
	}
	line := fmt.Sprintf("Entities, batch %d of %d: %d written (%d created, %d updated)", k, total, created+updated, created, updated)
	if len(refused) > 0 {
		b.rep.Log("⚠️ %s, %d refused: %s", line, len(refused), abbreviate(refused, 3))
		return
	}
	b.rep.Log("📦 %s", line)
}

func (b *bulk) failBatch(batch []int, err error) {
	for _, i := range batch {
		b.res[i].Entity = Change{Outcome: Failed, Err: err}
	}
}

func bulkErrorText(e port.BulkItemError) string {
	s := fmt.Sprintf("%d", e.StatusCode)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// register does the per-action work of item i: the action, then its automation.
func (b *bulk) register(ctx context.Context, i int, existing map[string]port.Object) {
	r := &b.res[i]
	if err := ctx.Err(); err != nil {
		r.Action = Change{Outcome: Skipped, Err: fmt.Errorf("not started: %w", err)}
		r.Automation = Change{Outcome: Skipped}
	} else {
		r.Action = b.action(ctx, r, existing)
		r.Automation = b.automation(ctx, r, existing)
	}
	b.progress(r)
}

// action makes sure the self-service action exists, creating it first (see runner.action). existing is nil
// when the listing failed.
func (b *bulk) action(ctx context.Context, r *ItemResult, existing map[string]port.Object) Change {
	id := r.ActionID
	if existing != nil {
		if _, ok := existing[id]; ok {
			return Change{Outcome: Unchanged}
		}
		if b.o.DryRun {
			return Change{Outcome: WouldCreate}
		}
	} else if b.o.DryRun {
		_, err := b.c.GetAction(ctx, id)
		switch {
		case err == nil:
			return Change{Outcome: Unchanged}
		case port.IsNotFound(err):
			return Change{Outcome: WouldCreate}
		}
		return failed(fmt.Errorf("read self-service action %q: %w", id, err))
	}
	_, err := b.c.CreateAction(ctx, PlaceholderAction(id, r.Title))
	switch {
	case err == nil:
		return Change{Outcome: Created}
	case port.IsConflict(err):
		return Change{Outcome: Unchanged}
	case !isCreateConflict(err):
		return failed(fmt.Errorf("create self-service action %q: %w", id, err))
	}
	// Port may answer a duplicate with a validation error instead of 409: only a read tells which.
	if _, getErr := b.c.GetAction(ctx, id); getErr != nil {
		if port.IsNotFound(getErr) {
			return failed(fmt.Errorf("create self-service action %q: %w", id, err))
		}
		return failed(fmt.Errorf("read self-service action %q: %w", id, getErr))
	}
	return Change{Outcome: Unchanged}
}

// automation creates the automation, or replaces it when it has drifted (see runner.automation).
func (b *bulk) automation(ctx context.Context, r *ItemResult, existing map[string]port.Object) Change {
	if r.Action.Outcome == Failed {
		return Change{Outcome: Skipped}
	}
	id := r.AutomationID
	want := Automation(r.ActionID, b.o.AppURL)
	got, listed := existing[id]
	switch {
	case listed:
	case existing == nil && b.o.DryRun:
		var err error
		if got, err = b.c.GetAction(ctx, id); port.IsNotFound(err) {
			return Change{Outcome: WouldCreate}
		} else if err != nil {
			return failed(fmt.Errorf("read automation %q: %w", id, err))
		}
	case b.o.DryRun:
		return Change{Outcome: WouldCreate}
	default:
		_, err := b.c.CreateAction(ctx, want)
		if err == nil {
			return Change{Outcome: Created}
		}
		if !isCreateConflict(err) {
			return failed(fmt.Errorf("create automation %q: %w", id, err))
		}
		// It exists: compare what is there.
		var getErr error
		if got, getErr = b.c.GetAction(ctx, id); getErr != nil {
			return failed(fmt.Errorf("create automation %q: %w", id, err))
		}
	}

	drift := Drift(want, got)
	if len(drift) > 0 && listed {
		// Compare with the definition as GET returns it before replacing anything: a listing may render an
		// automation differently.
		fresh, err := b.c.GetAction(ctx, id)
		if err != nil {
			return failed(fmt.Errorf("read automation %q: %w", id, err))
		}
		drift = Drift(want, fresh)
	}
	switch {
	case len(drift) == 0:
		return Change{Outcome: Unchanged}
	case b.o.DryRun:
		return Change{Outcome: WouldUpdate, Drift: drift}
	}
	if _, err := b.c.UpdateAction(ctx, id, want); err != nil {
		return failed(fmt.Errorf("update automation %q: %w", id, err))
	}
	return Change{Outcome: Updated, Drift: drift}
}

func failed(err error) Change { return Change{Outcome: Failed, Err: err} }

// progress records that item r's action and automation are done, logs its failure (the first few), and
// logs a progress line every tenth of the items.
func (b *bulk) progress(r *ItemResult) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done++
	if b.actions == nil {
		b.actions, b.automations = map[Outcome]int{}, map[Outcome]int{}
	}
	b.actions[r.Action.Outcome]++
	b.automations[r.Automation.Outcome]++
	if err := errors.Join(r.Action.Err, r.Automation.Err); err != nil {
		b.failures++
		switch {
		case b.failures <= maxFailureLines:
			b.rep.Log("❌ %s (%s): %v", r.Name(), r.ActionID, err)
		case b.failures == maxFailureLines+1:
			b.rep.Log("❌ More actions failed; the job summary lists every one")
		}
	}
	tenths := b.done * 10 / b.todo
	if b.todo < 50 && b.done < b.todo {
		return // small manifests get one line at the end
	}
	if tenths > b.reported {
		b.reported = tenths
		b.rep.Log("⏳ %d of %d done: actions %s; automations %s", b.done, b.todo, countLine(b.actions), countLine(b.automations))
	}
}

// countLine renders counts of outcomes, like "3 created, 1 unchanged".
func countLine(counts map[Outcome]int) string {
	var parts []string
	for _, o := range []Outcome{Created, Updated, Unchanged, WouldCreate, WouldUpdate, Skipped, Failed} {
		if n := counts[o]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, o))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// actionEntity is the action entity of in, as the guide's create_action_entity.sh sends it, but with blank
// baselines left out instead of sent as 0.
func actionEntity(in Inputs) port.Entity {
	props := map[string]any{}
	if in.LeadTimeBefore != nil {
		props["lead_time_before"] = *in.LeadTimeBefore
	}
	if in.CycleTimeBefore != nil {
		props["cycle_time"] = *in.CycleTimeBefore
	}
	return port.Entity{
		Identifier: in.ActionID,
		Title:      in.Title,
		Properties: props,
		Relations:  map[string]any{"category": in.Category},
	}
}

// abbreviate lists up to n names, then how many more there are.
func abbreviate(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:n], ", ") + fmt.Sprintf(" and %d more", len(names)-n)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
