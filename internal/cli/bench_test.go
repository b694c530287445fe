package cli

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// timeline records when each request to Port started and ended, to measure a run's critical path.
type timeline struct {
	mu    sync.Mutex
	spans []span
}

type span struct {
	what       string
	start, end time.Time
}

func (tl *timeline) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		h.ServeHTTP(w, r)
		tl.mu.Lock()
		tl.spans = append(tl.spans, span{r.Method + " " + r.URL.Path, start, time.Now()})
		tl.mu.Unlock()
	})
}

func (tl *timeline) reset() { tl.mu.Lock(); tl.spans = nil; tl.mu.Unlock() }

// roundTrips is the length of the longest chain of requests in which each one started after the previous
// one ended: the number of sequential round trips the run paid for.
func (tl *timeline) roundTrips() (depth, requests int) {
	tl.mu.Lock()
	spans := append([]span(nil), tl.spans...)
	tl.mu.Unlock()
	sort.Slice(spans, func(i, j int) bool { return spans[i].start.Before(spans[j].start) })
	chain := make([]int, len(spans))
	for i := range spans {
		chain[i] = 1
		for j := range i {
			if !spans[j].end.After(spans[i].start) && chain[j]+1 > chain[i] {
				chain[i] = chain[j] + 1
			}
		}
		depth = max(depth, chain[i])
	}
	return depth, len(spans)
}

// benchOrg is an emulated organisation behind latency, with the guide's model, a category and the
// setup_new_action action whose runs dispatch register.
func benchOrg(b *testing.B, latency time.Duration) (*portemu.Server, *timeline, string) {
	b.Helper()
	emu := portemu.New(portemu.WithBlueprints(roimodel.Blueprints()...), portemu.WithLatency(latency))
	tl := &timeline{}
	srv := httptest.NewServer(tl.wrap(emu))
	b.Cleanup(srv.Close)
	c, err := port.New(srv.URL, port.Credentials{ClientID: portemu.DemoClientID, ClientSecret: portemu.DemoClientSecret})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.UpsertEntity(b.Context(), roimodel.CategoriesBlueprint, port.Entity{Identifier: "infrastructure"}, port.UpsertOptions{Merge: true}); err != nil {
		b.Fatal(err)
	}
	if _, err := c.CreateAction(b.Context(), roimodel.SetupAction()); err != nil {
		b.Fatal(err)
	}
	return emu, tl, srv.URL
}

func benchRegister(b *testing.B, emu *portemu.Server, url, title string) {
	b.Helper()
	run, err := emu.CreateRun("setup_new_action", map[string]any{"actionTitle": title, "category": "infrastructure"}, portemu.DemoUser)
	if err != nil {
		b.Fatal(err)
	}
	vars := map[string]string{
		"GITHUB_ACTIONS": "true", "INPUT_PORT-CLIENT-ID": portemu.DemoClientID, "INPUT_PORT-CLIENT-SECRET": portemu.DemoClientSecret,
		"INPUT_PORT-BASE-URL": url, "INPUT_ACTION-TITLE": title, "INPUT_CATEGORY": "infrastructure",
		"INPUT_LEAD-TIME-BEFORE": "48", "INPUT_CYCLE-TIME-BEFORE": "2", "INPUT_PORT-CONTEXT": `{"runId":"` + run.ID + `"}`,
		"GITHUB_OUTPUT": b.TempDir() + "/out",
	}
	var out bytes.Buffer
	if code := Run(b.Context(), nil, Env{Getenv: func(k string) string { return vars[k] }, Stdout: &out, Stderr: &out}); code != ExitOK {
		b.Fatalf("register exited %d:\n%s", code, out.String())
	}
}

// BenchmarkRegister measures a first registration and a re-run that changes nothing, against the emulator
// with a fixed latency on every request, as Port over the internet would be. It reports the requests sent
// and the sequential round trips of each run: the floor is 4 for a first run (token, action, automation,
// closing log line) and 3 for a re-run (token, the reads, closing log line).
func BenchmarkRegister(b *testing.B) {
	const latency = 50 * time.Millisecond
	for _, first := range []bool{true, false} {
		name := "rerun"
		if first {
			name = "first"
		}
		b.Run(fmt.Sprintf("%s/latency=%s", name, latency), func(b *testing.B) {
			emu, tl, url := benchOrg(b, latency)
			if !first {
				benchRegister(b, emu, url, "Create S3 Bucket")
			}
			var trips, reqs int
			b.ResetTimer()
			for i := range b.N {
				tl.reset()
				title := "Create S3 Bucket"
				if first {
					title = fmt.Sprintf("Create S3 Bucket %d", i)
				}
				benchRegister(b, emu, url, title)
				d, n := tl.roundTrips()
				trips += d
				reqs += n
			}
			b.ReportMetric(float64(trips)/float64(b.N), "round-trips/op")
			b.ReportMetric(float64(reqs)/float64(b.N), "requests/op")
		})
	}
}
