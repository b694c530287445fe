package runlog

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/port-roi/port-roi-action/internal/port"
)

// console records what a Reporter prints, one entry per call.
type console struct {
	mu    sync.Mutex
	lines []string
}

func (c *console) add(s string)               { c.mu.Lock(); c.lines = append(c.lines, s); c.mu.Unlock() }
func (c *console) Group(title string)         { c.add("group " + title) }
func (c *console) EndGroup()                  { c.add("endgroup") }
func (c *console) Info(f string, a ...any)    { c.add("info " + fmt.Sprintf(f, a...)) }
func (c *console) Warning(f string, a ...any) { c.add("warning " + fmt.Sprintf(f, a...)) }
func (c *console) got() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines...)
}

// poster records run-log lines; hold, when set, blocks each call until a value arrives on it.
type poster struct {
	mu    sync.Mutex
	logs  []port.RunLog
	runID string
	err   error
	hold  chan struct{}
}

func (p *poster) AddRunLog(ctx context.Context, runID string, l port.RunLog) error {
	if p.hold != nil {
		select {
		case <-p.hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.runID = runID
	if p.err != nil {
		return p.err
	}
	p.logs = append(p.logs, l)
	return nil
}

func (p *poster) got() []port.RunLog {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]port.RunLog(nil), p.logs...)
}

func TestReporterDeliversEverythingInOrder(t *testing.T) {
	t.Parallel()
	c, p := &console{}, &poster{}
	r := New(t.Context(), c, p, "r_1")
	r.Log("hello")
	s := r.Step("Step one")
	s.Log("doing %s", "it")
	s.Detail("console only")
	s.End()
	r.Close(t.Context(), port.RunLog{Message: "done", TerminationStatus: port.RunSuccess})

	var all []string
	for _, l := range p.got() {
		all = append(all, strings.Split(l.Message, "\n")...)
	}
	if diff := cmp.Diff([]string{"hello", "▶ Step one", "doing it", "done"}, all); diff != "" {
		t.Errorf("Port lines (-want +got):\n%s", diff)
	}
	logs := p.got()
	if last := logs[len(logs)-1]; last.TerminationStatus != port.RunSuccess {
		t.Errorf("last line %+v has no termination status", last)
	}
	for _, l := range logs[:len(logs)-1] {
		if l.TerminationStatus != "" {
			t.Errorf("line %q carries a termination status before the end", l.Message)
		}
	}
	if p.runID != "r_1" {
		t.Errorf("run id %q, want r_1", p.runID)
	}
	want := []string{"info hello", "group Step one", "info doing it", "info console only", "endgroup"}
	if diff := cmp.Diff(want, c.got()); diff != "" {
		t.Errorf("console (-want +got):\n%s", diff)
	}
}

// Lines that queue behind a request in flight go out together in the next one, and the final line joins
// whatever is still pending.
func TestReporterBatchesLinesBehindARequestInFlight(t *testing.T) {
	t.Parallel()
	p := &poster{hold: make(chan struct{})}
	r := New(t.Context(), &console{}, p, "r_1")
	r.Log("first")
	// Let the sender take "first" and block on it before the others are queued.
	waitFor(t, func() bool { r.mu.Lock(); defer r.mu.Unlock(); return len(r.pending) == 0 })
	r.Log("second")
	r.Log("third")
	go func() {
		for range 3 {
			p.hold <- struct{}{}
		}
	}()
	r.Close(t.Context(), port.RunLog{Message: "final"})
	var got []string
	for _, l := range p.got() {
		got = append(got, l.Message)
	}
	if diff := cmp.Diff([]string{"first", "second\nthird\nfinal"}, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestReporterWarnsOnceWhenPortLogFails(t *testing.T) {
	t.Parallel()
	c, p := &console{}, &poster{err: errors.New("POST /v1/actions/runs/r_1/logs: 503")}
	r := New(t.Context(), c, p, "r_1")
	for i := range 5 {
		r.Log("line %d", i)
		time.Sleep(time.Millisecond)
	}
	r.Close(t.Context(), port.RunLog{Message: "final"})
	var warnings int
	for _, l := range c.got() {
		if strings.HasPrefix(l, "warning ") {
			warnings++
		}
	}
	if warnings != 1 {
		t.Errorf("%d warnings, want 1: %q", warnings, c.got())
	}
}

func TestReporterWithoutRunIDWritesConsoleOnly(t *testing.T) {
	t.Parallel()
	c, p := &console{}, &poster{}
	r := New(t.Context(), c, p, "")
	r.Log("hello")
	r.Close(t.Context(), port.RunLog{Message: "final", TerminationStatus: port.RunSuccess})
	if got := p.got(); len(got) != 0 {
		t.Errorf("posted %v without a run id", got)
	}
}

// Close gives up when its context ends, even if Port never answers.
func TestReporterCloseHonoursContext(t *testing.T) {
	t.Parallel()
	p := &poster{hold: make(chan struct{})} // never released
	r := New(t.Context(), &console{}, p, "r_1")
	r.Log("stuck")
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	done := make(chan struct{})
	go func() { r.Close(ctx, port.RunLog{Message: "final"}); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return after its context ended")
	}
}

// Steps that run concurrently print contiguous groups.
func TestReporterStepsDoNotInterleave(t *testing.T) {
	t.Parallel()
	c := &console{}
	r := New(t.Context(), c, nil, "")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := r.Step(fmt.Sprintf("step %d", i))
			for j := range 5 {
				s.Log("step %d line %d", i, j)
			}
			s.End()
		}()
	}
	wg.Wait()
	lines := c.got()
	for i := 0; i < len(lines); i += 7 {
		title := strings.TrimPrefix(lines[i], "group ")
		for j := 1; j <= 5; j++ {
			if !strings.HasPrefix(lines[i+j], "info "+title+" line") {
				t.Fatalf("group %q interleaved: %q", title, lines[i:i+7])
			}
		}
		if lines[i+6] != "endgroup" {
			t.Fatalf("group %q not closed: %q", title, lines[i:i+7])
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(time.Millisecond)
	}
}
