package port

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The pacer's tests run in a synctest bubble: time.Now and the timers are a fake clock that jumps to the
// next timer once every goroutine waits, so holds of seconds take no time and are measured exactly.

func newTestPacer(maxHold time.Duration) *pacer {
	return newPacer(time.Now, time.Now, maxHold, nil)
}

func rl(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// send lets one request through and answers it with status and h.
func (p *pacer) send(t *testing.T, status int, h http.Header) {
	t.Helper()
	tk, err := p.acquire(t.Context())
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	p.observe(tk, status, h)
}

// waited is how long acquire held a request.
func waited(t *testing.T, p *pacer) time.Duration {
	t.Helper()
	start := time.Now()
	tk, err := p.acquire(t.Context())
	if err != nil {
		t.Fatalf("acquire: %v", err)
	}
	p.observe(tk, http.StatusOK, rl("X-Ratelimit-Remaining", "100", "X-Ratelimit-Reset", "300"))
	return time.Since(start)
}

func TestPacerHolds(t *testing.T) {
	t.Parallel()
	epochIn := func(d time.Duration) string { return strconv.FormatInt(time.Now().Add(d).Unix(), 10) }
	tests := []struct {
		name    string
		maxHold time.Duration
		// answers are given to requests sent one after the other, before the measured one.
		answers func() []answer
		want    time.Duration
	}{{
		name:    "requests left: no wait",
		answers: func() []answer { return []answer{{200, rl("X-Ratelimit-Remaining", "3", "X-Ratelimit-Reset", "5")}} },
	}, {
		name:    "window spent, reset in seconds",
		answers: func() []answer { return []answer{{200, rl("X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", "2")}} },
		want:    2 * time.Second,
	}, {
		name:    "window spent, fractional reset",
		answers: func() []answer { return []answer{{200, rl("X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", "0.25")}} },
		want:    250 * time.Millisecond,
	}, {
		name: "window spent, reset as an epoch",
		answers: func() []answer {
			return []answer{{200, rl("X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", epochIn(3*time.Second))}}
		},
		want: 3 * time.Second,
	}, {
		name: "reset already passed",
		answers: func() []answer {
			return []answer{{200, rl("X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", epochIn(-3*time.Second))}}
		},
	}, {
		name: "one left, then spent by our own request",
		answers: func() []answer {
			return []answer{{200, rl("X-Ratelimit-Remaining", "1", "X-Ratelimit-Reset", "4")}, {0, nil}}
		},
		want: 4 * time.Second,
	}, {
		name:    "429 with Retry-After only",
		answers: func() []answer { return []answer{{429, rl("Retry-After", "1")}} },
		want:    time.Second,
	}, {
		name: "429 with an HTTP date",
		answers: func() []answer {
			return []answer{{429, rl("Retry-After", time.Now().Add(2*time.Second).UTC().Format(http.TimeFormat))}}
		},
		want: 2 * time.Second,
	}, {
		name: "the earliest bound wins",
		answers: func() []answer {
			return []answer{{429, rl("X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", "5", "Retry-After", "3")}}
		},
		want: 3 * time.Second,
	}, {
		// An epoch is rounded up to the second; the answer that opened the window bounds the reset better.
		name: "the window's first answer plus the period",
		answers: func() []answer {
			return []answer{
				{200, rl("X-Ratelimit-Limit", "2", "X-Ratelimit-Remaining", "1", "X-Ratelimit-Period", "1", "X-Ratelimit-Reset", epochIn(1900*time.Millisecond))},
				{200, rl("X-Ratelimit-Limit", "2", "X-Ratelimit-Remaining", "0", "X-Ratelimit-Period", "1", "X-Ratelimit-Reset", epochIn(1900*time.Millisecond))},
			}
		},
		want: time.Second,
	}, {
		name:    "a long reset is held for maxHold at a time",
		maxHold: 5 * time.Second,
		answers: func() []answer { return []answer{{429, rl("X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", "60")}} },
		want:    5 * time.Second,
	}, {
		name: "garbage headers are ignored",
		answers: func() []answer {
			return []answer{{200, rl("X-Ratelimit-Remaining", "none", "X-Ratelimit-Reset", "soon")}}
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				maxHold := tc.maxHold
				if maxHold == 0 {
					maxHold = time.Minute
				}
				p := newTestPacer(maxHold)
				for _, a := range tc.answers() {
					p.send(t, a.status, a.header)
				}
				if got := waited(t, p); got != tc.want {
					t.Errorf("the next request waited %s, want %s", got, tc.want)
				}
			})
		})
	}
}

type answer struct {
	status int // 0: no answer (a network error)
	header http.Header
}

// The answers to requests still in flight count against the window: with 3 left when the first of four
// requests was counted, the other three use them up.
func TestPacerCountsRequestsInFlight(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newTestPacer(time.Minute)
		var tickets []ticket
		for range 4 {
			tk, err := p.acquire(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			tickets = append(tickets, tk)
		}
		p.observe(tickets[0], 200, rl("X-Ratelimit-Limit", "10", "X-Ratelimit-Remaining", "3", "X-Ratelimit-Reset", "2"))
		start := time.Now()
		tk, err := p.acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("the fifth request waited %s, want 2s (the window was spent by the three in flight)", got)
		}
		// The old window's late answers change nothing; the new window has its whole limit, less the three
		// requests of the old one still in flight.
		for _, old := range tickets[1:] {
			p.observe(old, 429, rl("X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", "1"))
		}
		p.observe(tk, 200, rl("X-Ratelimit-Limit", "10", "X-Ratelimit-Remaining", "9", "X-Ratelimit-Reset", "1"))
		p.mu.Lock()
		got := []any{p.budget, p.budgetKnown, p.inFlight, p.holds}
		p.mu.Unlock()
		if diff := cmp.Diff([]any{9, true, 0, 1}, got); diff != "" {
			t.Errorf("budget, known, in flight, holds (-want +got):\n%s", diff)
		}
	})
}

// When an answer says the window was reset early (more left than an earlier request was told), the hold is
// lifted and the waiting requests go.
func TestPacerNoticesAnEarlyReset(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newTestPacer(time.Minute)
		first, _ := p.acquire(t.Context())
		second, _ := p.acquire(t.Context())
		p.observe(first, 200, rl("X-Ratelimit-Remaining", "1", "X-Ratelimit-Reset", "30"))
		// The budget is now spent (1 left, 1 sent after): the third request waits.
		done := make(chan time.Duration)
		go func() {
			start := time.Now()
			tk, err := p.acquire(context.Background())
			if err != nil {
				t.Error(err)
			}
			p.observe(tk, 200, nil)
			done <- time.Since(start)
		}()
		time.Sleep(time.Second)
		p.observe(second, 200, rl("X-Ratelimit-Remaining", "99", "X-Ratelimit-Reset", "60"))
		if got := <-done; got != time.Second {
			t.Errorf("the held request went after %s, want 1s (when the reset was noticed)", got)
		}
	})
}

// An answer without rate-limit headers means Port said nothing: a request does not wait for a window it
// no longer knows about.
func TestPacerForgets(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newTestPacer(time.Minute)
		a, _ := p.acquire(t.Context())
		b, _ := p.acquire(t.Context())
		p.observe(a, 200, rl("X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", "10"))
		p.observe(b, 200, rl("Content-Type", "application/json"))
		if got := waited(t, p); got != 0 {
			t.Errorf("waited %s, want 0", got)
		}
	})
}

// Many goroutines share one pacer: none of them sends before the window resets, all of them send then.
func TestPacerIsShared(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newTestPacer(time.Minute)
		p.send(t, 200, rl("X-Ratelimit-Limit", "50", "X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", "3"))
		start := time.Now()
		var mu sync.Mutex
		var sent []time.Duration
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				tk, err := p.acquire(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				sent = append(sent, time.Since(start))
				mu.Unlock()
				p.observe(tk, 200, rl("X-Ratelimit-Limit", "50", "X-Ratelimit-Remaining", "30", "X-Ratelimit-Reset", "3"))
			})
		}
		wg.Wait()
		want := make([]time.Duration, 20)
		for i := range want {
			want[i] = 3 * time.Second
		}
		if diff := cmp.Diff(want, sent); diff != "" {
			t.Errorf("send times (-want +got):\n%s", diff)
		}
	})
}

// A wait that would pass the deadline fails at once; a cancelled wait returns the context's error.
func TestPacerRespectsTheContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		p := newTestPacer(time.Minute)
		p.send(t, 200, rl("X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", "10"))

		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err := p.acquire(ctx)
		var waitErr *RateLimitWaitError
		if !errors.As(err, &waitErr) || !errors.Is(err, context.DeadlineExceeded) || waitErr.Wait != 10*time.Second {
			t.Errorf("acquire error = %v, want a RateLimitWaitError of 10s that is a deadline error", err)
		}
		if got := time.Since(start); got != 0 {
			t.Errorf("acquire took %s before failing, want 0", got)
		}
		if want := "Port's rate limit is spent for now; waiting 10s for it to reset would pass the deadline"; err.Error() != want {
			t.Errorf("error = %q, want %q", err, want)
		}

		ctx, cancel = context.WithCancel(t.Context())
		time.AfterFunc(time.Second, cancel)
		if _, err := p.acquire(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("acquire error = %v, want context.Canceled", err)
		}
		if got := time.Since(start); got != time.Second {
			t.Errorf("cancelled after %s, want 1s", got)
		}
	})
}

// Through a Client: after a 429 with x-ratelimit-reset, another call of the same client waits for the reset
// too instead of collecting its own 429, and the hold is logged.
func TestClientPacesRequests(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var arrivals []time.Time
	answer := func(status int, body, remaining string) func(http.ResponseWriter, *http.Request) {
		r := reply(status, body, "X-Ratelimit-Limit", "100", "X-Ratelimit-Remaining", remaining, "X-Ratelimit-Reset", "1")
		return func(w http.ResponseWriter, req *http.Request) {
			mu.Lock()
			arrivals = append(arrivals, time.Now())
			mu.Unlock()
			r(w, req)
		}
	}
	s := newStubServer(t, tokenStub(testToken, 10800),
		getAction("", answer(http.StatusTooManyRequests, `{"ok":false,"error":"rate_limit_exceeded"}`, "0")),
		getAction("", answer(http.StatusOK, actionOK, "99")), getAction("", answer(http.StatusOK, actionOK, "98")))
	var debug debugLog
	c := s.client(t, WithRetries(2, time.Millisecond, 5*time.Second), WithDebug(debug.add))
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := c.GetAction(t.Context(), "a"); err != nil {
			t.Error(err)
		}
	})
	time.Sleep(200 * time.Millisecond) // the first call has its 429 and waits to retry
	if _, err := c.GetAction(t.Context(), "a"); err != nil {
		t.Error(err)
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(arrivals) != 3 {
		t.Fatalf("%d requests, want 3", len(arrivals))
	}
	for i, at := range arrivals[1:] {
		if d := at.Sub(arrivals[0]); d < 900*time.Millisecond {
			t.Errorf("request %d came %s after the 429, before the window reset (1s)", i+2, d)
		}
	}
	if diff := cmp.Diff(Stats{Requests: 4, Retries: 1, TokenFetches: 1}, c.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	wantContains(t, "debug", debug.String(), "retrying in 1s (x-ratelimit-reset in 1s)",
		"rate limit: no requests left in this window (x-ratelimit-limit 100); holding new requests for ")
}
