package port

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"
)

// The retry policy lives here and only here: resty calls retryCondition after every attempt and retryAfter
// before every wait. Port's advice is to back off exponentially and to read x-ratelimit-reset
// (https://docs.port.io/api-reference/rate-limits); Port's own clients retry 429, 502, 503 and 504.

// callKey keys the *call of a request in its context, so that resty's client-wide hooks find the state of
// the call they are deciding about.
type callKey struct{}

// call is the retry state of one resty execution. resty runs the attempts, retryCondition and retryAfter
// of an execution on one goroutine, so it needs no lock.
type call struct {
	req          *request
	logged       int           // attempts already described by a debug line
	wait         time.Duration // the wait before the next attempt, chosen by retryCondition
	waiting      bool          // a retry was decided and its attempt has not started
	lastOutcome  string        // "503 Service Unavailable", "network error", … of the last retryable failure
	exhausted    int           // attempts made when a retryable failure had no retries left
	deadlineWait time.Duration // a wait not taken because it would pass the context deadline
	ticket       ticket        // the pacer's ticket of the attempt in flight (ratelimit.go)
}

func callOf(resp *resty.Response) *call {
	if resp == nil || resp.Request == nil {
		return nil
	}
	cl, _ := resp.Request.Context().Value(callKey{}).(*call)
	return cl
}

// wrap adds why the call stopped retrying to its final error.
func (cl *call) wrap(err error) error {
	switch {
	case cl == nil:
		return err
	case cl.deadlineWait > 0:
		return fmt.Errorf("%w; not retrying: waiting %s would pass the context deadline (%w)",
			err, cl.deadlineWait, context.DeadlineExceeded)
	case cl.exhausted > 1:
		return fmt.Errorf("%w (gave up after %d attempts)", err, cl.exhausted)
	}
	return err
}

// retryCondition decides whether the attempt in resp (or err) is retried, and how long to wait first.
func (c *Client) retryCondition(resp *resty.Response, err error) bool {
	cl := callOf(resp)
	if cl == nil {
		return false
	}
	attempt := resp.Request.Attempt
	cl.logged, cl.waiting = attempt, false
	outcome := retryable(cl.req, resp, err)
	if outcome == "" {
		c.logAttempt(cl, resp, err, attempt, "")
		return false
	}
	cl.lastOutcome = outcome
	if attempt > c.retries {
		cl.exhausted = attempt
		c.logAttempt(cl, resp, err, attempt, fmt.Sprintf("giving up after %d attempts", attempt))
		return false
	}
	wait, why := c.retryWait(resp.Header(), attempt)
	if deadline, ok := resp.Request.Context().Deadline(); ok && wait > time.Until(deadline) {
		cl.deadlineWait = wait
		c.logAttempt(cl, resp, err, attempt, fmt.Sprintf("not retrying: waiting %s (%s) would pass the context deadline", wait, why))
		return false
	}
	cl.wait, cl.waiting = wait, true
	c.logAttempt(cl, resp, err, attempt, fmt.Sprintf("retrying in %s (%s)", wait, why))
	return true
}

// retryAfter hands resty the wait that retryCondition chose.
func (c *Client) retryAfter(_ *resty.Client, resp *resty.Response) (time.Duration, error) {
	cl := callOf(resp)
	if cl == nil {
		return c.minWait, nil
	}
	// resty reads 0 as "use your own backoff"; a nanosecond is as good as no wait.
	return max(cl.wait, time.Nanosecond), nil
}

// retryable says why the attempt may be retried ("" if it may not).
func retryable(req *request, resp *resty.Response, err error) string {
	if err != nil {
		switch {
		case errors.Is(err, resty.ErrResponseBodyTooLarge), isCertificateError(err):
			return ""
		case req.once && !isDialError(err):
			// The request may have reached Port: repeating a run creation could start a second run.
			return ""
		}
		return "network error"
	}
	switch code := resp.StatusCode(); code {
	case http.StatusTooManyRequests:
		// Rate limited before it was processed, so safe to repeat even when not idempotent.
		return statusLine(code)
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if req.once {
			return ""
		}
		return statusLine(code)
	}
	return ""
}

// isDialError reports whether the connection could not be made, so that nothing was sent.
func isDialError(err error) bool {
	oe, ok := errors.AsType[*net.OpError](err)
	return ok && oe.Op == "dial"
}

func isCertificateError(err error) bool {
	_, ok := errors.AsType[*tls.CertificateVerificationError](err)
	return ok
}

// retryWait returns the wait before the attempt after attempt (1-based) and why: the server's Retry-After,
// else x-ratelimit-reset when x-ratelimit-remaining is 0, else exponential backoff with jitter. The result is
// within [minWait, maxWait].
func (c *Client) retryWait(h http.Header, attempt int) (time.Duration, string) {
	d, why, ok := c.serverWait(h)
	if !ok {
		d, why = c.backoff(attempt), "backoff"
	}
	if d > c.maxWait {
		why += ", capped at " + c.maxWait.String()
		d = c.maxWait
	}
	return max(d, c.minWait), why
}

// serverWait reads how long the server asked us to wait, if it did.
func (c *Client) serverWait(h http.Header) (time.Duration, string, bool) {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			d := seconds(float64(n))
			return d, "Retry-After " + d.String(), true
		}
		if t, err := http.ParseTime(v); err == nil {
			d := max(t.Sub(c.now()), 0)
			return d, "Retry-After " + d.Round(time.Second).String(), true
		}
	}
	remaining, err := strconv.ParseFloat(strings.TrimSpace(h.Get("X-Ratelimit-Remaining")), 64)
	if err != nil || remaining > 0 {
		return 0, "", false
	}
	reset, err := strconv.ParseFloat(strings.TrimSpace(h.Get("X-Ratelimit-Reset")), 64)
	if err != nil || reset < 0 {
		return 0, "", false
	}
	// Port documents the reset as UTC epoch seconds, Port's Terraform provider reads it as seconds from now;
	// like Port's Ocean, take values above 10000 as an epoch.
	if reset > 10000 {
		at := time.Unix(0, 0).Add(seconds(reset))
		d := max(at.Sub(c.now()), 0)
		return d, "x-ratelimit-reset at " + at.UTC().Format(time.RFC3339), true
	}
	d := seconds(reset)
	return d, "x-ratelimit-reset in " + d.String(), true
}

// seconds converts s seconds to a Duration, saturating instead of overflowing.
func seconds(s float64) time.Duration {
	const limit = float64(1<<63-1) / float64(time.Second)
	if s >= limit {
		return time.Duration(1<<63 - 1)
	}
	return time.Duration(s * float64(time.Second))
}

// backoff is minWait·2^(attempt-1), capped at maxWait, with jitter over its upper half.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.minWait
	for i := 1; i < attempt && d < c.maxWait; i++ {
		d *= 2
	}
	d = min(d, c.maxWait)
	if half := d / 2; half > 0 {
		d = half + rand.N(half+1)
	}
	return roundDuration(d)
}

// logAttempt sends the debug line of one attempt. It names the API path only: no host, no query string (it
// can hold run ids), no headers, no bodies.
func (c *Client) logAttempt(cl *call, resp *resty.Response, err error, attempt int, decision string) {
	if c.debug == nil {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: ", cl.req.method, cl.req.path)
	var took string
	if resp != nil && resp.Request != nil && !resp.Request.Time.IsZero() {
		took = " in " + roundDuration(resp.Time()).String()
	}
	if err != nil {
		fmt.Fprintf(&b, "no response%s (%v)", took, unwrapURLError(err))
	} else {
		b.WriteString(statusLine(resp.StatusCode()) + took)
		if id := traceID(resp); id != "" {
			fmt.Fprintf(&b, " (trace id %s)", id)
		}
	}
	if c.retries > 0 {
		fmt.Fprintf(&b, ", attempt %d of %d", attempt, c.retries+1)
	}
	if decision != "" {
		b.WriteString("; ")
		b.WriteString(decision)
	}
	cl.logged = max(cl.logged, attempt)
	c.debug(b.String())
}

func statusLine(code int) string {
	if text := http.StatusText(code); text != "" {
		return strconv.Itoa(code) + " " + text
	}
	return strconv.Itoa(code)
}

func roundDuration(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return d.Round(time.Microsecond)
	}
	return d.Round(time.Millisecond)
}
