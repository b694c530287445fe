package port

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
)

// Pacing. Port puts its rate limit on every answer: x-ratelimit-limit (requests per window),
// x-ratelimit-remaining, x-ratelimit-reset (when the window resets, in seconds or as a UTC epoch second) and
// x-ratelimit-period (https://docs.port.io/api-reference/rate-limits). The pacer remembers them and, once the
// window is spent, holds new requests until it resets, so that concurrent callers wait together instead of
// each collecting a 429. The 429s that still happen (requests already on their way when the window ran out,
// or another client of the same organisation) are retried by the retry policy in retry.go, and they hold
// everyone else too.
//
// What the pacer knows is an estimate:
//   - budget, the requests it may still send in the window, is the newest x-ratelimit-remaining minus the
//     requests sent after the one that carried it (Port counts them later), and goes down by one per request.
//   - resetAt is the earliest of several upper bounds of the reset: x-ratelimit-reset (rounded up to whole
//     seconds by Port), Retry-After, and, from the answer that opened a window (remaining = limit-1), its
//     arrival plus x-ratelimit-period.
//
// Answers to requests sent before a window was considered reset are ignored: they describe the old window.

// maxServerWait bounds a reset or Retry-After read from a header, so that a garbage value cannot overflow.
const maxServerWait = 24 * time.Hour

// RateLimitWaitError is returned, wrapped, when Port's rate-limit window is spent and waiting for it to
// reset would pass the context's deadline. It matches context.DeadlineExceeded with errors.Is.
type RateLimitWaitError struct {
	Wait time.Duration // how long the request would have had to wait
}

func (e *RateLimitWaitError) Error() string {
	return fmt.Sprintf("Port's rate limit is spent for now; waiting %s for it to reset would pass the deadline", roundDuration(e.Wait))
}

// Unwrap makes the error a deadline error.
func (e *RateLimitWaitError) Unwrap() error { return context.DeadlineExceeded }

// ticket is one request let through by the pacer, until its answer (or failure) is observed.
type ticket struct {
	gen, seq uint64
	ok       bool
}

// pacer holds new requests while Port's rate-limit window is spent. It is shared by every request of a
// Client and safe for concurrent use.
type pacer struct {
	clock   func() time.Time // for holds and resets: time.Now in production
	wall    func() time.Time // the Client's clock, to read epoch resets and HTTP dates
	maxHold time.Duration    // the longest single hold; after it, one request probes the window
	debug   func(string)

	mu            sync.Mutex
	changed       chan struct{} // closed and replaced when the state changes while someone waits
	waiters       int
	gen           uint64 // the window as the pacer sees it; bumped when it resets or a hold ends
	seq           uint64 // requests let through so far
	inFlight      int
	peak          int           // the most requests in flight at a time in this generation
	limit         int           // x-ratelimit-limit; 0 when unknown
	period        time.Duration // x-ratelimit-period; 0 when unknown
	budget        int           // requests that may still be sent in this window, when budgetKnown
	budgetKnown   bool
	resetAt       time.Time // when the window resets; zero when unknown
	holdUntil     time.Time // new requests wait until then; zero when not holding
	seen          bool      // an answer of this generation carried x-ratelimit-remaining
	lastSeq       uint64    // the newest such answer's request
	lastRemaining int       // and its x-ratelimit-remaining
	holds         int       // holds started, for tests
}

func newPacer(clock, wall func() time.Time, maxHold time.Duration, debug func(string)) *pacer {
	return &pacer{clock: clock, wall: wall, maxHold: maxHold, debug: debug, changed: make(chan struct{})}
}

// acquire waits until a request may be sent: at once unless the window is known to be spent. It returns
// a *RateLimitWaitError without waiting when the wait would pass ctx's deadline, and ctx's error when ctx
// ends first.
func (p *pacer) acquire(ctx context.Context) (ticket, error) {
	for {
		p.mu.Lock()
		now := p.clock()
		wait := p.admit(now)
		if wait == 0 {
			t := p.issue()
			p.mu.Unlock()
			return t, nil
		}
		if dl, ok := ctx.Deadline(); ok && wait > 0 && now.Add(wait).After(dl) {
			p.mu.Unlock()
			return ticket{}, &RateLimitWaitError{Wait: wait}
		}
		changed := p.changed
		p.waiters++
		p.mu.Unlock()

		err := sleep(ctx, wait, changed)

		p.mu.Lock()
		p.waiters--
		p.mu.Unlock()
		if err != nil {
			return ticket{}, err
		}
	}
}

// sleep waits for d (forever when d < 0), for changed to be closed, or for ctx to end.
func sleep(ctx context.Context, d time.Duration, changed <-chan struct{}) error {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timeout:
	case <-changed:
	}
	return nil
}

// admit decides about a new request at now: 0 lets it through, a positive duration holds it that long,
// and -1 makes it wait for the answer to a request in flight. The caller holds mu.
func (p *pacer) admit(now time.Time) time.Duration {
	if !p.resetAt.IsZero() && !now.Before(p.resetAt) {
		p.newWindow(true)
	}
	if !p.holdUntil.IsZero() {
		if now.Before(p.holdUntil) {
			return p.holdUntil.Sub(now)
		}
		// The hold was cut short at maxHold and the window has not reset: one request probes it.
		p.newWindow(false)
	}
	if !p.budgetKnown || p.budget > 0 {
		return 0
	}
	if !p.resetAt.IsZero() {
		hold, left := p.resetAt.Sub(now), ""
		if hold > p.maxHold {
			left = fmt.Sprintf(", then one request probes it (Port says it resets in %s)", roundDuration(hold))
			hold = p.maxHold
		}
		p.holdUntil = now.Add(hold)
		p.holds++
		p.log("rate limit: no requests left in this window (x-ratelimit-limit %s); holding new requests for %s%s",
			limitText(p.limit), roundDuration(hold), left)
		return hold
	}
	if p.inFlight > 0 {
		return -1 // an answer will say more
	}
	return 0 // nothing known and nothing to wait for: the retry policy handles a 429
}

// newWindow starts a new generation: the window has reset (full), or a hold ended before it did and one
// request may probe it. Answers to requests sent before are from the old window and are ignored.
func (p *pacer) newWindow(full bool) {
	p.gen++
	p.holdUntil = time.Time{}
	p.seen = false
	p.lastSeq = p.seq
	p.peak = p.inFlight
	if full {
		p.resetAt = time.Time{}
		// Requests still in flight may be counted in the new window.
		p.budget, p.budgetKnown = p.limit-p.inFlight, p.limit > 0
		return
	}
	p.budget, p.budgetKnown = 1, true
}

// issue lets one request through. The caller holds mu.
func (p *pacer) issue() ticket {
	p.seq++
	p.inFlight++
	p.peak = max(p.peak, p.inFlight)
	if p.budgetKnown {
		p.budget--
	}
	return ticket{gen: p.gen, seq: p.seq, ok: true}
}

// done records the answer to t's request (resp is nil when it failed without one) and clears t. A zero
// ticket is ignored, so done may be called twice.
func (p *pacer) done(t *ticket, resp *http.Response) {
	if !t.ok {
		return
	}
	var status int
	var h http.Header
	if resp != nil {
		status, h = resp.StatusCode, resp.Header
	}
	p.observe(*t, status, h)
	*t = ticket{}
}

// observe updates the estimate from the answer to t's request (status 0: no answer).
func (p *pacer) observe(t ticket, status int, h http.Header) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inFlight--
	defer p.notify()
	if status == 0 || t.gen != p.gen {
		return // no answer, or one about a window that has reset since
	}
	now := p.clock()
	if n, ok := headerNumber(h, "X-Ratelimit-Limit"); ok && n >= 1 {
		p.limit = int(min(n, 1<<30))
	}
	if s, ok := headerNumber(h, "X-Ratelimit-Period"); ok && s > 0 {
		p.period = seconds(min(s, maxServerWait.Seconds()))
	}
	remainingF, hasRemaining := headerNumber(h, "X-Ratelimit-Remaining")
	limited := status == http.StatusTooManyRequests
	if !hasRemaining && !limited {
		// Port did not say: nothing to hold for.
		p.budgetKnown, p.resetAt, p.holdUntil = false, time.Time{}, time.Time{}
		return
	}
	if hasRemaining {
		remaining := int(min(max(remainingF, 0), 1<<30))
		newer, first := t.seq > p.lastSeq, !p.seen
		// A later request with more left than an earlier one: the window reset in between. Requests sent
		// together may be counted in either order, so a difference up to the requests in flight at a time
		// proves nothing.
		rolled := !first && newer && (remaining > p.lastRemaining+p.peak+1 || remaining == p.limit-1)
		if newer || first {
			p.seen, p.lastSeq, p.lastRemaining = true, t.seq, remaining
		}
		est := remaining - int(p.seq-t.seq) // the requests sent after this one are counted after it
		if first || rolled || !p.budgetKnown {
			p.budget = est // the first word on this window replaces the guess it started with
		} else {
			p.budget = min(p.budget, est) // answers arrive out of order: keep the lowest
		}
		p.budgetKnown = true
		if rolled {
			p.resetAt, p.holdUntil = time.Time{}, time.Time{}
		}
		if p.limit > 0 && p.period > 0 && remaining == p.limit-1 {
			// This request opened the window, so the window started before now.
			p.resetAt = earliest(p.resetAt, now.Add(p.period), now)
		}
	}
	if at, ok := p.resetTime(h, now); ok {
		p.resetAt = earliest(p.resetAt, at, now)
	}
	if limited {
		if !p.budgetKnown || p.budget > 0 {
			p.budget, p.budgetKnown = 0, true
		}
		if d, ok := retryAfter(h, p.wall()); ok {
			p.resetAt = earliest(p.resetAt, now.Add(d), now)
		}
	}
}

// notify wakes the waiters. The caller holds mu.
func (p *pacer) notify() {
	if p.waiters == 0 {
		return
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// resetTime reads x-ratelimit-reset. Port documents UTC epoch seconds; its Terraform provider reads seconds
// from now; like Port's Ocean, values above 10000 are taken as an epoch.
func (p *pacer) resetTime(h http.Header, now time.Time) (time.Time, bool) {
	v, ok := headerNumber(h, "X-Ratelimit-Reset")
	if !ok {
		return time.Time{}, false
	}
	var d time.Duration
	if v > 10000 {
		d = time.Unix(0, 0).Add(seconds(v)).Sub(p.wall())
	} else {
		d = seconds(v)
	}
	return now.Add(min(max(d, 0), maxServerWait)), true
}

// retryAfter reads Retry-After, in seconds or as an HTTP date.
func retryAfter(h http.Header, wall time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
		return min(seconds(n), maxServerWait), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(wall), 0), maxServerWait), true
	}
	return 0, false
}

// earliest returns the earlier of the known reset and a new upper bound of it; a known reset that has
// passed belongs to an old window and is replaced.
func earliest(known, bound, now time.Time) time.Time {
	if known.IsZero() || !known.After(now) || bound.Before(known) {
		return bound
	}
	return known
}

func headerNumber(h http.Header, key string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.TrimSpace(h.Get(key)), 64)
	if err != nil || v < 0 || v != v {
		return 0, false
	}
	return v, true
}

func limitText(n int) string {
	if n <= 0 {
		return "unknown"
	}
	return strconv.Itoa(n)
}

func (p *pacer) log(format string, args ...any) {
	if p.debug != nil {
		p.debug(fmt.Sprintf(format, args...))
	}
}

// pace is the resty hook that runs before every attempt: it waits while the rate-limit window is spent and
// keeps the attempt's ticket in its call, for the transport to hand back with the answer. The wait happens
// before the attempt's own timeout starts. resty never retries an error from this hook.
func (c *Client) pace(_ *resty.Client, r *resty.Request) error {
	cl, _ := r.Context().Value(callKey{}).(*call)
	if cl == nil {
		return nil
	}
	t, err := c.pacer.acquire(r.Context())
	if err != nil {
		return err
	}
	cl.ticket = t
	return nil
}
