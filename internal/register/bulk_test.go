package register

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/portemu"
	"github.com/port-roi/port-roi-action/internal/roimodel"
	"github.com/port-roi/port-roi-action/internal/runlog"
)

// lines is a runlog.Console that keeps what it is given.
type lines struct {
	mu  sync.Mutex
	all []string
}

func (l *lines) add(s string)                    { l.mu.Lock(); l.all = append(l.all, s); l.mu.Unlock() }
func (l *lines) Group(title string)              { l.add("▶ " + title) }
func (l *lines) EndGroup()                       {}
func (l *lines) Info(format string, a ...any)    { l.add(fmt.Sprintf(format, a...)) }
func (l *lines) Warning(format string, a ...any) { l.add("warning: " + fmt.Sprintf(format, a...)) }
func (l *lines) String() string                  { l.mu.Lock(); defer l.mu.Unlock(); return strings.Join(l.all, "\n") }

// bulkOrg is an emulated organisation with the category infrastructure, and a client with short retries.
func bulkOrg(t *testing.T) (*portemu.Server, *port.Client) {
	t.Helper()
	emu := portemu.New(portemu.WithBlueprints(roimodel.Blueprints()...))
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	c, err := port.New(srv.URL, port.Credentials{ClientID: portemu.DemoClientID, ClientSecret: portemu.DemoClientSecret},
		port.WithRetries(1, time.Millisecond, 5*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpsertEntity(t.Context(), roimodel.CategoriesBlueprint, port.Entity{Identifier: "infrastructure"}, port.UpsertOptions{}); err != nil {
		t.Fatal(err)
	}
	emu.ResetRequests()
	return emu, c
}

func bulkItems(t *testing.T, n int) []Item {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "- {title: Action %d, category: infrastructure, lead_time_before: %d}\n", i, i)
	}
	items, err := ParseManifest("manifest", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// outcomes is the action, automation and entity outcome of every item, and whether it failed.
func outcomes(res BulkResult) []string {
	var out []string
	for _, r := range res.Items {
		out = append(out, fmt.Sprintf("%s/%s/%s/%t", r.Action.Outcome, r.Automation.Outcome, r.Entity.Outcome, r.Err() != nil))
	}
	return out
}

func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

func runBulk(t *testing.T, c BulkClient, items []Item, o BulkOptions) (BulkResult, string) {
	t.Helper()
	console := &lines{}
	rep := runlog.New(t.Context(), console, nil, "")
	res := RunBulk(t.Context(), c, rep, items, o)
	rep.Close(t.Context(), port.RunLog{})
	return res, console.String()
}

func writeCount(emu *portemu.Server) int {
	n := 0
	for _, r := range emu.Requests() {
		if r.Method != http.MethodGet && !strings.HasSuffix(r.Path, "/search") && r.Path != "/v1/auth/access_token" {
			n++
		}
	}
	return n
}

// A dry run reads and reports; it writes nothing, before and after a real run.
func TestRunBulkDryRun(t *testing.T) {
	t.Parallel()
	emu, c := bulkOrg(t)
	items := bulkItems(t, 3)
	res, log := runBulk(t, c, items, BulkOptions{DryRun: true})
	if diff := cmp.Diff(repeat("would be created/would be created/would be created/false", 3), outcomes(res)); diff != "" {
		t.Errorf("dry run outcomes (-want +got):\n%s\n%s", diff, log)
	}
	if n := writeCount(emu); n != 0 {
		t.Errorf("the dry run wrote %d times", n)
	}

	runBulk(t, c, items, BulkOptions{})
	items[1].LeadTimeBefore = ptr(99)
	auto := Automation(items[2].ActionID, "https://app.port.io")
	auto["title"] = "renamed"
	if _, err := c.UpdateAction(t.Context(), AutomationIdentifier(items[2].ActionID), auto); err != nil {
		t.Fatal(err)
	}
	emu.ResetRequests()
	res, log = runBulk(t, c, items, BulkOptions{DryRun: true})
	want := []string{"unchanged/unchanged/unchanged/false", "unchanged/unchanged/would be updated/false", "unchanged/would be updated/unchanged/false"}
	if diff := cmp.Diff(want, outcomes(res)); diff != "" {
		t.Errorf("dry run outcomes after a run (-want +got):\n%s\n%s", diff, log)
	}
	if n := writeCount(emu); n != 0 {
		t.Errorf("the dry run wrote %d times", n)
	}
}

// When the actions cannot be listed, each action and automation is created first, as register does: a
// conflict means it exists, and the automation is then read and compared.
func TestRunBulkWithoutListing(t *testing.T) {
	t.Parallel()
	emu, c := bulkOrg(t)
	items := bulkItems(t, 4)
	emu.InjectFault(portemu.Fault{Method: http.MethodGet, Path: "/v1/actions", Status: http.StatusInternalServerError})
	res, log := runBulk(t, c, items, BulkOptions{Concurrency: 2})
	if diff := cmp.Diff(repeat("created/created/created/false", 4), outcomes(res)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s\n%s", diff, log)
	}
	if !strings.Contains(log, "warning: Could not list the existing actions and automations (GET /v1/actions: 500 Internal Server Error") {
		t.Errorf("log lacks the warning:\n%s", log)
	}
	res, log = runBulk(t, c, items, BulkOptions{Concurrency: 2})
	if diff := cmp.Diff(repeat("unchanged/unchanged/unchanged/false", 4), outcomes(res)); diff != "" {
		t.Errorf("re-run outcomes (-want +got):\n%s\n%s", diff, log)
	}
}

// A category search that fails fails every item, and nothing is written.
func TestRunBulkCategoriesUnreadable(t *testing.T) {
	t.Parallel()
	emu, c := bulkOrg(t)
	emu.InjectFault(portemu.Fault{Method: http.MethodPost, Path: "/v1/blueprints/actions_categories/entities/search", Status: http.StatusBadGateway})
	res, log := runBulk(t, c, bulkItems(t, 2), BulkOptions{})
	if diff := cmp.Diff(repeat("skipped/skipped/failed/true", 2), outcomes(res)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s\n%s", diff, log)
	}
	if n := writeCount(emu); n != 0 {
		t.Errorf("%d writes, want none", n)
	}
	if want := "❌ Could not check the categories in blueprint actions_categories: POST /v1/blueprints/actions_categories/entities/search: 502 Bad Gateway"; !strings.Contains(log, want) {
		t.Errorf("log lacks %q:\n%s", want, log)
	}
}

// A bulk request that fails as a whole fails the entities of its batch only; the actions and automations
// are registered.
func TestRunBulkBatchFails(t *testing.T) {
	t.Parallel()
	emu, c := bulkOrg(t)
	emu.InjectFault(portemu.Fault{Method: http.MethodPost, Path: "/v1/blueprints/action/entities/bulk", Status: http.StatusUnprocessableEntity})
	res, log := runBulk(t, c, bulkItems(t, 25), BulkOptions{Concurrency: 1})
	want := repeat("created/created/failed/true", 25)
	if diff := cmp.Diff(want, outcomes(res)); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s\n%s", diff, log)
	}
	for _, w := range []string{"❌ Entities, batch 1 of 2: upsert 20 entities of blueprint action: POST /v1/blueprints/action/entities/bulk: 422 Unprocessable Entity",
		"❌ Entities, batch 2 of 2: upsert 5 entities"} {
		if !strings.Contains(log, w) {
			t.Errorf("log lacks %q:\n%s", w, log)
		}
	}
	if got := res.Failed(); got != 25 {
		t.Errorf("Failed() = %d, want 25", got)
	}
}

// cancelAfter cancels the run after n action creations.
type cancelAfter struct {
	BulkClient
	mu     sync.Mutex
	n      int
	cancel func()
}

func (c *cancelAfter) CreateAction(ctx context.Context, def port.Object) (port.Object, error) {
	c.mu.Lock()
	if c.n--; c.n == 0 {
		c.cancel()
	}
	c.mu.Unlock()
	return c.BulkClient.CreateAction(ctx, def)
}

// A cancelled run stops starting items; those it did not start fail as "not started", the others are
// reported as they ended.
func TestRunBulkCancelled(t *testing.T) {
	t.Parallel()
	_, c := bulkOrg(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	client := &cancelAfter{BulkClient: c, n: 3, cancel: cancel}
	rep := runlog.New(ctx, &lines{}, nil, "")
	res := RunBulk(ctx, client, rep, bulkItems(t, 10), BulkOptions{Concurrency: 1})
	notStarted := 0
	for _, r := range res.Items {
		if err := r.Action.Err; err != nil && strings.HasPrefix(err.Error(), "not started: ") && errors.Is(err, context.Canceled) {
			notStarted++
		}
	}
	if res.Failed() != 9 || notStarted != 8 {
		t.Errorf("%d failed, %d not started; want 9 and 8 (the first item registered, the second cut short):\n%v", res.Failed(), notStarted, outcomes(res))
	}
}
