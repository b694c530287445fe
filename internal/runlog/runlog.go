// Package runlog reports a command's progress to the two places a user looks: the GitHub log (one group per
// step) and the log of the Port action run that dispatched the workflow.
//
// Port lines are shipped in the background, in order, so that the work never waits for them; lines that queue
// up behind a request in flight go out together in the next one. Close delivers everything before it returns.
// A Port log that cannot be written never fails the command: it is warned about once.
package runlog

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/port-roi/port-roi-action/internal/port"
)

// Poster writes a line to a Port run log (port.Client.AddRunLog).
type Poster interface {
	AddRunLog(ctx context.Context, runID string, l port.RunLog) error
}

// Console is where the GitHub log goes (ghaction.Env).
type Console interface {
	Group(title string)
	EndGroup()
	Info(format string, args ...any)
	Warning(format string, args ...any)
}

// Reporter sends step lines to the console and, when it has a run id, to the Port run log.
type Reporter struct {
	console Console
	poster  Poster
	runID   string

	mu        sync.Mutex // guards console output, pending, closed and failed
	pending   []string   // Port lines not yet handed to the sender
	wake      chan struct{}
	closing   chan struct{} // closed by Close
	closeOnce sync.Once
	idle      chan struct{} // closed by the sender when it has exited
	closed    bool
	failed    bool // a Port log write failed; later lines are not sent
	warned    bool
	sendCtx   context.Context
	stop      context.CancelFunc
}

// New returns a Reporter. With a nil poster or an empty runID only the console is written. ctx bounds the
// background delivery of Port lines; Close must be called to deliver them.
func New(ctx context.Context, console Console, poster Poster, runID string) *Reporter {
	sendCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	r := &Reporter{
		console: console,
		poster:  poster,
		runID:   runID,
		wake:    make(chan struct{}, 1),
		closing: make(chan struct{}),
		idle:    make(chan struct{}),
		sendCtx: sendCtx,
		stop:    stop,
	}
	if r.toPort() {
		go r.send()
	} else {
		close(r.idle)
	}
	return r
}

// toPort reports whether lines go to a Port run log at all.
func (r *Reporter) toPort() bool { return r.poster != nil && r.runID != "" }

// Log writes a line outside any step to the console and to the Port run log.
func (r *Reporter) Log(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.console.Info("%s", msg)
	r.mu.Unlock()
	r.queue(msg)
}

// Warn writes a warning annotation to the console and the same line to the Port run log.
func (r *Reporter) Warn(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.console.Warning("%s", msg)
	r.mu.Unlock()
	r.queue("⚠️ " + msg)
}

// redactor is implemented by consoles that know the run's secrets (ghaction.Env).
type redactor interface{ Redact(string) string }

// queue hands a line to the background sender, with any secret the console knows redacted.
func (r *Reporter) queue(msg string) {
	if !r.toPort() {
		return
	}
	if red, ok := r.console.(redactor); ok {
		msg = red.Redact(msg)
	}
	r.mu.Lock()
	if r.closed || r.failed {
		r.mu.Unlock()
		return
	}
	r.pending = append(r.pending, msg)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// linger is how long the sender waits for more lines before it sends a batch. Steps log their outcomes in
// bursts, often just before the command ends; waiting a moment lets such a burst go out with the final line
// in one request instead of holding the final line behind it.
const linger = 5 * time.Millisecond

// send delivers queued lines in order until Close, batching whatever queued up during the request in flight
// or the linger before it.
func (r *Reporter) send() {
	defer close(r.idle)
	for {
		r.mu.Lock()
		waiting := len(r.pending)
		r.mu.Unlock()
		if waiting == 0 {
			select {
			case <-r.wake:
				continue
			case <-r.closing:
				return
			case <-r.sendCtx.Done():
				return
			}
		}
		select {
		case <-time.After(linger):
		case <-r.closing: // Close sends what is pending together with the final line
			return
		case <-r.sendCtx.Done():
			return
		}
		r.mu.Lock()
		batch := r.pending
		r.pending = nil
		r.mu.Unlock()
		r.post(port.RunLog{Message: strings.Join(batch, "\n")})
	}
}

// post writes one Port log line; the first failure is warned about and stops further lines.
func (r *Reporter) post(l port.RunLog) bool {
	r.mu.Lock()
	failed := r.failed
	r.mu.Unlock()
	if failed && l.TerminationStatus == "" {
		return false
	}
	err := r.poster.AddRunLog(r.sendCtx, r.runID, l)
	if err == nil {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	if !r.warned {
		r.warned = true
		r.console.Warning("could not write to the Port run log of run %q, continuing without it: %v", r.runID, err)
	}
	return false
}

// Close delivers every queued line, then the final line (which may carry a terminationStatus), within ctx.
// The final line is skipped when its message is empty. Lines logged after Close are not sent.
func (r *Reporter) Close(ctx context.Context, final port.RunLog) {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	if !r.toPort() {
		return
	}
	// Stop the sender; wait (until ctx ends) for the batch it may have in flight.
	r.closeOnce.Do(func() { close(r.closing) })
	stop := context.AfterFunc(ctx, r.stop)
	defer stop()
	<-r.idle
	r.mu.Lock()
	rest := r.pending
	r.pending = nil
	r.mu.Unlock()
	if final.Message != "" {
		rest = append(rest, final.Message)
	}
	if len(rest) == 0 {
		return
	}
	final.Message = strings.Join(rest, "\n")
	r.post(final)
}

// Step is one step of a command. Its console lines are buffered and printed as one GitHub group when the
// step ends, so that steps running concurrently never interleave; its Port lines are sent as they come.
type Step struct {
	r     *Reporter
	title string
	lines []string
}

// Step starts a step: its title goes to the Port run log at once.
func (r *Reporter) Step(title string) *Step {
	r.queue("▶ " + title)
	return &Step{r: r, title: title}
}

// Log records a line of the step.
func (s *Step) Log(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	s.lines = append(s.lines, msg)
	s.r.queue(msg)
}

// Detail records a line for the console only (Port's log keeps the outcome lines).
func (s *Step) Detail(format string, args ...any) {
	s.lines = append(s.lines, fmt.Sprintf(format, args...))
}

// End prints the step's group to the console.
func (s *Step) End() {
	r := s.r
	r.mu.Lock()
	defer r.mu.Unlock()
	r.console.Group(s.title)
	for _, l := range s.lines {
		r.console.Info("%s", l)
	}
	r.console.EndGroup()
}
