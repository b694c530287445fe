package cli

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/port-roi/port-roi-action/internal/portemu"
)

// A run that a route stopped for good leaves Port in a state the next run repairs: for every route whose
// failure fails the run, run once while the route is down (exit 1), once after it recovered (exit 0), and end
// with exactly the two definitions and the entity, no duplicate, nothing half-written.
func TestRegisterConvergesAfterAFailedRun(t *testing.T) {
	t.Parallel()
	// The last run-log line of the second run, by what the first one left behind.
	finals := map[string]string{
		"token":             lineAllCreated,
		"create action":     `🏁 Registered "create_s3_bucket": action created, automation created, entity unchanged`,
		"read automation":   `🏁 Registered "create_s3_bucket": action unchanged, automation created, entity unchanged`,
		"create automation": `🏁 Registered "create_s3_bucket": action unchanged, automation created, entity unchanged`,
		"repair automation": lineAllUpdated,
		"read entity":       `🏁 Registered "create_s3_bucket": action unchanged, automation unchanged, entity created`,
		"read category":     `🏁 Registered "create_s3_bucket": action unchanged, automation unchanged, entity created`,
		"upsert entity":     `🏁 Registered "create_s3_bucket": action unchanged, automation unchanged, entity created`,
	}
	for _, e := range endpoints() {
		if e.failCode == ExitOK {
			continue // the run log: its failure does not stop a run
		}
		for _, k := range []faultKind{faultKinds[2], faultKinds[4]} { // 503 and a dropped connection
			t.Run(e.name+"/"+k.name, func(t *testing.T) {
				t.Parallel()
				o := newFaultOrg(t)
				if e.setup != nil {
					e.setup(t, o)
				}
				// The route is down for exactly the first run: one request and its three retries.
				const attempts = 4
				first := o.dispatch(t)
				for _, f := range append(slices.Clone(e.before), e.fault(k, attempts)) {
					o.emu.InjectFault(f)
				}
				out := o.register(t, first, nil)
				if out.code != ExitFailure {
					t.Fatalf("first run: exit code %d, want %d:\n%s", out.code, ExitFailure, out.stdout)
				}
				checkState(t, o.emu, e.failState)
				if got := failedAttempts(o.emu.Requests(), e.method, e.path); got != attempts {
					t.Fatalf("first run: %d failed requests %s %s, want %d (the fault would leak into the second run)", got, e.method, e.path, attempts)
				}

				second := o.dispatch(t)
				out = o.register(t, second, nil)
				if out.code != ExitOK {
					t.Errorf("second run: exit code %d, want 0:\n%s", out.code, out.stdout)
				}
				if got := failedAttempts(o.emu.Requests(), "", "*"); got != 0 {
					t.Errorf("second run: %d requests failed, want none", got)
				}
				checkState(t, o.emu, whole)
				if diff := cmp.Diff([]string(nil), out.annotations()); diff != "" {
					t.Errorf("second run: GitHub annotations (-want +got):\n%s", diff)
				}
				if got, want := out.lastLine(), finals[e.name]; got != want {
					t.Errorf("second run: last Port run-log line\n got %q\nwant %q", got, want)
				}
			})
		}
	}
}

// failedAttempts counts the requests to method and path ("" matches any method, a "*" suffix a prefix) that
// got a 5xx or no answer.
func failedAttempts(reqs []portemu.Request, method, path string) int {
	n := 0
	for _, r := range reqs {
		if method != "" && r.Method != method {
			continue
		}
		if prefix, ok := strings.CutSuffix(path, "*"); ok && !strings.HasPrefix(r.Path, prefix) || !ok && r.Path != path {
			continue
		}
		if r.Status == 0 || r.Status >= 500 {
			n++
		}
	}
	return n
}

// Two runs for the same title, dispatched together, both succeed and leave one action and one automation:
// creates that collide are read as "exists". A slow Port widens the window in which both see nothing yet.
func TestRegisterConcurrentRunsConverge(t *testing.T) {
	t.Parallel()
	o := newFaultOrg(t, portemu.WithLatency(20*time.Millisecond))
	runIDs := []string{o.dispatch(t), o.dispatch(t)}
	envs := []*actionsEnv{o.env(t, runIDs[0], nil), o.env(t, runIDs[1], nil)}

	outs := make([]outcome, len(envs))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range envs {
		wg.Go(func() {
			<-start
			outs[i] = o.run(t.Context(), envs[i], runIDs[i])
		})
	}
	close(start)
	wg.Wait()

	checkState(t, o.emu, whole)
	created := map[string]int{}
	for i, out := range outs {
		if out.code != ExitOK {
			t.Errorf("run %d: exit code %d:\n%s", i, out.code, out.stdout)
		}
		if diff := cmp.Diff([]string(nil), out.annotations()); diff != "" {
			t.Errorf("run %d: GitHub annotations (-want +got):\n%s", i, diff)
		}
		if out.outputsErr != nil {
			t.Errorf("run %d: outputs: %v", i, out.outputsErr)
		}
		for _, name := range []string{"action-created", "automation-created"} {
			if out.outputs[name] == "true" {
				created[name]++
			}
		}
		if last := out.lastLine(); !concurrentLast.MatchString(last) {
			t.Errorf("run %d: last Port run-log line %q, want it to match %s", i, last, concurrentLast)
		}
	}
	// Port accepted exactly one create of each; the other run found the object there.
	if diff := cmp.Diff(map[string]int{"action-created": 1, "automation-created": 1}, created); diff != "" {
		t.Errorf("runs that report a create (-want +got):\n%s", diff)
	}
	conflicts := 0
	for _, r := range o.emu.Requests() {
		if r.Method == http.MethodPost && r.Path == pathActions && r.Status == http.StatusConflict {
			conflicts++
		}
	}
	if conflicts == 0 {
		t.Error("no create met the other run's: the runs did not race")
	}
	if n := countRequests(o.emu.Requests(), http.MethodPut, pathAutomation); n != 0 {
		t.Errorf("%d automation updates: a run replaced what the other had just created", n)
	}
}

// concurrentLast is the last run-log line of either of two concurrent runs: each object created by one of
// them and found by the other.
var concurrentLast = regexp.MustCompile(`^🏁 Registered "create_s3_bucket": action (created|unchanged), automation (created|unchanged), entity (created|unchanged)$`)
