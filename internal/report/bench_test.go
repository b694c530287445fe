package report

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// The synthetic organisation of the benchmarks: 50 actions in 5 categories, runs spread over a year.
const (
	benchActions   = 50
	benchPageSize  = MaxPageSize
	benchStartDate = "2025-03-01T00:00:00Z"
)

var benchStatuses = []string{"SUCCESS", "SUCCESS", "SUCCESS", "SUCCESS", "FAILURE", "SUCCESS", "IN_PROGRESS", "SUCCESS", "SUCCESS", "DECLINED"}

func benchCategories() []port.Entity {
	var out []port.Entity
	for i := range 5 {
		out = append(out, port.Entity{Identifier: fmt.Sprintf("cat%d", i), Title: fmt.Sprintf("Category %d", i)})
	}
	return out
}

func benchActionEntities() []port.Entity {
	var out []port.Entity
	for i := range benchActions {
		e := port.Entity{Identifier: fmt.Sprintf("action%02d", i), Title: fmt.Sprintf("Action %d", i),
			Properties: map[string]any{"lead_time_before": float64(1 + i%48), "cycle_time": float64(i%4) / 2},
			Relations:  map[string]any{"category": fmt.Sprintf("cat%d", i%5)}}
		out = append(out, e)
	}
	return out
}

// benchRun is the i-th synthetic action_run entity, shaped as the guide's automation writes it.
func benchRun(i int, start time.Time) port.Entity {
	created := start.Add(time.Duration(i%(365*24)) * time.Hour).Add(time.Duration(i%997) * time.Millisecond)
	status := benchStatuses[i%len(benchStatuses)]
	p := map[string]any{"status": status, "created_at": created.Format("2006-01-02T15:04:05.000Z")}
	if status == "SUCCESS" {
		p["duration"] = float64(60 + i%7200)
		p["cycle_time"] = float64(30 + i%1800)
		if i%4 == 0 {
			p["waiting_for_approval_duration"] = float64(i % 3600)
		}
	}
	at := created.Add(200 * time.Millisecond)
	return port.Entity{Identifier: "r_" + strconv.Itoa(i), Properties: p,
		Relations: map[string]any{"parent_action": fmt.Sprintf("action%02d", i%(benchActions+1))}, // every 51st run: unknown action
		CreatedAt: &at}
}

// fakeSearch is a paginated Port search that makes each page when it is asked for, as a client decoding
// Port's answers would: nothing but the page being read exists at any time.
type fakeSearch struct {
	runs  int
	start time.Time
}

func (f fakeSearch) SearchEntities(_ context.Context, blueprint string, r port.SearchRequest) (port.SearchPage, error) {
	switch blueprint {
	case roimodel.CategoriesBlueprint:
		return port.SearchPage{Entities: benchCategories()}, nil
	case roimodel.ActionBlueprint:
		return port.SearchPage{Entities: benchActionEntities()}, nil
	}
	offset := 0
	if r.From != "" {
		offset, _ = strconv.Atoi(r.From)
	}
	page := port.SearchPage{Entities: make([]port.Entity, 0, r.Limit)}
	for i := offset; i < f.runs && i < offset+r.Limit; i++ {
		page.Entities = append(page.Entities, benchRun(i, f.start))
	}
	if offset+r.Limit < f.runs {
		page.Next = strconv.Itoa(offset + r.Limit)
	}
	return page, nil
}

// fakePort serves fakeSearch over HTTP, so that the real client sends the requests and decodes the JSON.
func fakePort(tb testing.TB, f fakeSearch) string {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/auth/access_token", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true,"accessToken":"token","expiresIn":10800,"tokenType":"Bearer"}`)
	})
	mux.HandleFunc("POST /v1/blueprints/{bp}/entities/search", func(w http.ResponseWriter, r *http.Request) {
		var req port.SearchRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		page, _ := f.SearchEntities(r.Context(), r.PathValue("bp"), req)
		w.Header().Set("Content-Type", "application/json")
		if err := json.NewEncoder(w).Encode(struct {
			OK bool `json:"ok"`
			port.SearchPage
		}{true, page}); err != nil {
			tb.Error(err)
		}
	})
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return srv.URL
}

// peakLive runs build once with a garbage collection after every page, and returns the most heap that was
// live at a page boundary, over what was live before: the accumulators plus the page being read.
func peakLive(build func(progress func(string, int, int))) uint64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapAlloc, uint64(0)
	build(func(string, int, int) {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc > base && ms.HeapAlloc-base > peak {
			peak = ms.HeapAlloc - base
		}
	})
	return peak
}

// BenchmarkAggregate feeds the aggregator 100 000 synthetic runs in pages of 1000. The pages are built
// before the timer starts and fed in turn, so the time and allocations are the aggregator's alone.
func BenchmarkAggregate(b *testing.B) {
	const runs = 100_000
	start, _ := time.Parse(time.RFC3339, benchStartDate)
	pages := make([][]port.Entity, 10)
	for p := range pages {
		for i := range benchPageSize {
			pages[p] = append(pages[p], benchRun(p*benchPageSize+i, start))
		}
	}
	actions, cats := benchActionEntities(), benchCategories()
	now := start.AddDate(1, 0, 0)
	aggregate := func() *Report {
		a := NewAggregator(Window{})
		for _, e := range cats {
			a.AddCategory(e)
		}
		for _, e := range actions {
			a.AddAction(e)
		}
		for p := range runs / benchPageSize {
			for _, e := range pages[p%len(pages)] {
				a.AddRun(e)
			}
		}
		return a.Report(now)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := aggregate(); r.Totals.Runs != runs {
			b.Fatalf("runs = %d", r.Totals.Runs)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/runs, "ns/run")
}

// BenchmarkBuild reads 10 000 and 100 000 runs through a paginated search, in process (fake) and through
// the real client over HTTP (http; the fake server's JSON encoding is in the numbers too). peak-live-B, the
// heap live at the worst page boundary, stays flat from 10 000 to 100 000 runs: memory is bounded by the
// page size and the number of actions and weeks, not by the number of runs.
func BenchmarkBuild(b *testing.B) {
	start, _ := time.Parse(time.RFC3339, benchStartDate)
	now := start.AddDate(1, 0, 0)
	for _, source := range []string{"fake", "http"} {
		for _, runs := range []int{10_000, 100_000} {
			b.Run(fmt.Sprintf("source=%s/runs=%d", source, runs), func(b *testing.B) {
				f := fakeSearch{runs: runs, start: start}
				var s Searcher = f
				if source == "http" {
					c, err := port.New(fakePort(b, f), port.Credentials{ClientID: "id", ClientSecret: "secret"})
					if err != nil {
						b.Fatal(err)
					}
					s = c
				}
				build := func(progress func(string, int, int)) *Report {
					r, err := Build(context.Background(), s, Options{Now: now, PageSize: benchPageSize, Progress: progress})
					if err != nil {
						b.Fatal(err)
					}
					if r.Totals.Runs != runs {
						b.Fatalf("runs = %d, want %d", r.Totals.Runs, runs)
					}
					return r
				}
				peak := peakLive(func(p func(string, int, int)) { build(p) })
				b.ReportAllocs()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for b.Loop() {
					build(nil)
				}
				runtime.ReadMemStats(&after)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(runs), "ns/run")
				b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N)/float64(runs), "alloc-B/run")
				b.ReportMetric(float64(peak), "peak-live-B")
			})
		}
	}
}

// TestMemoryBoundedByPageSize is the benchmark's claim as a test: ten times the runs, about the same peak
// live heap (well under what holding the runs would take).
func TestMemoryBoundedByPageSize(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 110 000 synthetic runs")
	}
	start, _ := time.Parse(time.RFC3339, benchStartDate)
	peak := func(runs int) uint64 {
		return peakLive(func(p func(string, int, int)) {
			if _, err := Build(t.Context(), fakeSearch{runs: runs, start: start}, Options{Now: start.AddDate(1, 0, 0), PageSize: 500, Progress: p}); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := peak(10_000), peak(100_000)
	// One run entity as the fake makes it takes about 1 KiB; holding 100 000 would take ~100 MiB.
	if large > 2*small+1<<20 || large > 16<<20 {
		t.Errorf("peak live heap %d B for 100 000 runs against %d B for 10 000: memory grows with the runs", large, small)
	}
	t.Logf("peak live heap: %d B for 10 000 runs, %d B for 100 000 runs (pages of 500)", small, large)
}
