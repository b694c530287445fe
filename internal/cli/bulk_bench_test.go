package cli

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// BenchmarkBulkRegister registers 500 actions from a manifest (a first run: 500 actions, 500 automations,
// 500 entities) against the emulator with 50ms of latency on every request and a rate limit of 300 requests
// per 1-second window, the reset given in seconds or as an epoch second. Port's own windows are 5 minutes
// long; a 1-second window makes a run cross a few of them in a few seconds.
//
// It reports the requests sent, the 429s received, and ratio: the wall time divided by the time the rate
// limit allows for that many requests (requests ÷ 300/s). A ratio near 1 means that pacing wastes nothing;
// above 1.2 the benchmark fails. Concurrency is 32, enough to saturate the limit at this latency (the
// default of 8 sends at most 8 ÷ 50ms = 160 requests per second, so it would measure latency, not pacing).
func BenchmarkBulkRegister(b *testing.B) {
	const (
		actions     = 500
		latency     = 50 * time.Millisecond
		limit       = 300
		period      = time.Second
		concurrency = 32
		maxRatio    = 1.2
	)
	for _, epoch := range []bool{false, true} {
		reset := "seconds"
		if epoch {
			reset = "epoch"
		}
		b.Run(fmt.Sprintf("actions=%d/latency=%s/limit=%d per %s/reset=%s", actions, latency, limit, period, reset), func(b *testing.B) {
			manifest := filepath.Join(b.TempDir(), "actions.yaml")
			if err := os.WriteFile(manifest, []byte(benchManifest(actions)), 0o600); err != nil {
				b.Fatal(err)
			}
			var wall time.Duration
			var sent, limited int
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				emu, url, runID := bulkBenchOrg(b, latency, portemu.WithRateLimit(limit, period, epoch))
				vars := map[string]string{
					"GITHUB_ACTIONS": "true", "INPUT_PORT-CLIENT-ID": portemu.DemoClientID, "INPUT_PORT-CLIENT-SECRET": portemu.DemoClientSecret,
					"INPUT_PORT-BASE-URL": url, "INPUT_MANIFEST": manifest, "INPUT_CONCURRENCY": fmt.Sprint(concurrency),
					"INPUT_PORT-CONTEXT": `{"runId":"` + runID + `"}`, "GITHUB_OUTPUT": filepath.Join(b.TempDir(), "out"),
				}
				var out bytes.Buffer
				b.StartTimer()
				start := time.Now()
				code := Run(b.Context(), nil, Env{Getenv: func(k string) string { return vars[k] }, Stdout: &out, Stderr: &out})
				wall += time.Since(start)
				b.StopTimer()
				if code != ExitOK {
					b.Fatalf("register exited %d:\n%s", code, tail(out.String(), 40))
				}
				if got := len(emu.Entities(roimodel.ActionBlueprint)); got != actions {
					b.Fatalf("%d action entities, want %d", got, actions)
				}
				for _, r := range emu.Requests() {
					sent++
					if r.Status == http.StatusTooManyRequests {
						limited++
					}
				}
				b.StartTimer()
			}
			n := float64(b.N)
			allowed := time.Duration(float64(sent) / n / limit * float64(period))
			ratio := wall.Seconds() / n / allowed.Seconds()
			b.ReportMetric(wall.Seconds()/n, "wall-s/op")
			b.ReportMetric(float64(sent)/n, "requests/op")
			b.ReportMetric(float64(limited)/n, "429s/op")
			b.ReportMetric(ratio, "ratio")
			b.Logf("wall %.2fs, %d requests, %d 429s, ratio %.2f", wall.Seconds()/n, sent/b.N, limited/b.N, ratio)
			if ratio > maxRatio {
				b.Errorf("ratio %.2f: %s for %d requests, which %d/%s allows in %s; want at most %.1f×",
					ratio, time.Duration(float64(wall)/n).Round(time.Millisecond), sent/b.N, limit, period, allowed.Round(time.Millisecond), maxRatio)
			}
		})
	}
}

// bulkBenchOrg is an emulated organisation with the guide's model, five categories and a run of
// setup_new_action to report to. It is seeded before the rate limit applies, so that the run starts with a
// fresh window.
func bulkBenchOrg(b *testing.B, latency time.Duration, opts ...portemu.Option) (*portemu.Server, string, string) {
	b.Helper()
	emu := portemu.New(append([]portemu.Option{portemu.WithBlueprints(roimodel.Blueprints()...), portemu.WithLatency(latency)}, opts...)...)
	srv := httptest.NewServer(emu)
	b.Cleanup(srv.Close)
	c, err := port.New(srv.URL, port.Credentials{ClientID: portemu.DemoClientID, ClientSecret: portemu.DemoClientSecret})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 5 {
		if _, err := c.UpsertEntity(b.Context(), roimodel.CategoriesBlueprint, port.Entity{Identifier: fmt.Sprintf("category_%d", i)}, port.UpsertOptions{Merge: true}); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := c.CreateAction(b.Context(), roimodel.SetupAction()); err != nil {
		b.Fatal(err)
	}
	run, err := emu.CreateRun("setup_new_action", map[string]any{"actionTitle": "Bulk", "category": "category_0"}, portemu.DemoUser)
	if err != nil {
		b.Fatal(err)
	}
	time.Sleep(time.Second) // the seeding's rate-limit window ends
	emu.ResetRequests()
	return emu, srv.URL, run.ID
}

// benchManifest lists n actions over five categories, most with baselines.
func benchManifest(n int) string {
	var s strings.Builder
	for i := range n {
		fmt.Fprintf(&s, "- title: Bulk action %d\n  category: category_%d\n", i, i%5)
		if i%4 != 0 {
			fmt.Fprintf(&s, "  lead_time_before: %d\n  cycle_time_before: %g\n", 1+i%48, 0.5+float64(i%8))
		}
	}
	return s.String()
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}
