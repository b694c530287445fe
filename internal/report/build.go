package report

import (
	"context"
	"fmt"
	"time"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// Searcher is the part of the Port API the report reads (port.Client).
type Searcher interface {
	SearchEntities(ctx context.Context, blueprint string, r port.SearchRequest) (port.SearchPage, error)
}

// MaxPageSize is the largest page Port's blueprint search returns ("limit": 1 to 1000).
const MaxPageSize = 1000

// Options tune Build.
type Options struct {
	Window Window
	// Now is when the report is generated (and, for a window open at the end, the end of the server-side
	// filter); time.Now when zero.
	Now time.Time
	// PageSize is the search's limit; MaxPageSize when 0. Memory grows with it, not with the number of runs.
	PageSize int
	// Progress, when set, is called after each page with the blueprint, the pages and the entities read so far.
	Progress func(blueprint string, pages, entities int)
}

// Fields each search asks Port for ("include": identifiers of properties and relations, $-prefixed meta
// properties), so that pages carry only what the report reads.
var (
	categoryFields = []string{"$identifier", "$title"}
	actionFields   = []string{"$identifier", "$title", propLeadBaseline, propCycleBase, relCategory}
	runFields      = []string{"$identifier", "$createdAt", propStatus, propCreatedAt, propDuration, propCycleTime, propWaiting, relParentAction}
)

// Build reads the categories, the actions and then, page by page, the runs from Port, and returns the
// report. Only one page of runs is in memory at a time.
//
// Port API docs: https://docs.port.io/api-reference/search-a-blueprints-entities
func Build(ctx context.Context, s Searcher, o Options) (*Report, error) {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.PageSize <= 0 || o.PageSize > MaxPageSize {
		o.PageSize = MaxPageSize
	}
	agg := NewAggregator(o.Window)
	reads := []struct {
		blueprint string
		req       port.SearchRequest
		add       func(port.Entity)
	}{
		{roimodel.CategoriesBlueprint, port.SearchRequest{Include: categoryFields}, agg.AddCategory},
		{roimodel.ActionBlueprint, port.SearchRequest{Include: actionFields}, agg.AddAction},
		{roimodel.ActionRunBlueprint, port.SearchRequest{Query: runQuery(o.Window, o.Now), Include: runFields}, agg.AddRun},
	}
	for _, r := range reads {
		if err := eachEntity(ctx, s, r.blueprint, r.req, o, r.add); err != nil {
			return nil, err
		}
	}
	return agg.Report(o.Now), nil
}

// eachEntity pages through a blueprint search, handing every entity to add before the next page is read.
func eachEntity(ctx context.Context, s Searcher, blueprint string, req port.SearchRequest, o Options, add func(port.Entity)) error {
	req.Limit = o.PageSize
	pages, n := 0, 0
	for {
		page, err := s.SearchEntities(ctx, blueprint, req)
		if err != nil {
			return fmt.Errorf("read the %s entities (page %d): %w", blueprint, pages+1, err)
		}
		pages++
		for _, e := range page.Entities {
			add(e)
		}
		n += len(page.Entities)
		if o.Progress != nil {
			o.Progress(blueprint, pages, n)
		}
		if page.Next == "" {
			return nil
		}
		if page.Next == req.From {
			return fmt.Errorf("read the %s entities (page %d): Port returned the same cursor again; stopping instead of looping", blueprint, pages+1)
		}
		req.From = page.Next
	}
}

// runQuery narrows the run search to the window on Port's side. It matches a superset of the window's runs
// (created_at in the window, or $createdAt in the window; both bounds inclusive); Aggregator.AddRun decides
// exactly, with created_at first and $createdAt only without it. An open start is the Unix epoch; an open
// end is a day after now.
func runQuery(w Window, now time.Time) port.SearchQuery {
	if !w.Bounded() {
		return port.SearchQuery{Combinator: "and", Rules: []any{}}
	}
	from, to := w.From, w.To
	if from.IsZero() {
		from = time.Unix(0, 0)
	}
	if to.IsZero() {
		to = now.Add(24 * time.Hour)
	}
	between := map[string]any{"from": rfc3339(from), "to": rfc3339(to)}
	return port.SearchQuery{Combinator: "or", Rules: []any{
		map[string]any{"property": propCreatedAt, "operator": "between", "value": between},
		map[string]any{"property": "$createdAt", "operator": "between", "value": between},
	}}
}

func rfc3339(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }
