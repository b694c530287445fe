package port

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var testNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func fixedClock() time.Time { return testNow }

func wantAPIError(t *testing.T, err error, want APIError) {
	t.Helper()
	var got *APIError
	if !errors.As(err, &got) {
		t.Fatalf("error = %v (%T), want an *APIError", err, err)
	}
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("APIError mismatch (-want +got):\n%s", diff)
	}
}

func wantDecodeError(t *testing.T, err error, want DecodeError, errText string) {
	t.Helper()
	var got *DecodeError
	if !errors.As(err, &got) {
		t.Fatalf("error = %v (%T), want a *DecodeError", err, err)
	}
	if diff := cmp.Diff(want, *got, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Err" }, cmp.Ignore())); diff != "" {
		t.Errorf("DecodeError mismatch (-want +got):\n%s", diff)
	}
	if !strings.Contains(err.Error(), errText) {
		t.Errorf("error = %q, want it to contain %q", err, errText)
	}
}

func wantContains(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s = %q, want it to contain %q", what, s, sub)
		}
	}
}

func wantStats(t *testing.T, c *Client, want Stats) {
	t.Helper()
	if diff := cmp.Diff(want, c.Stats()); diff != "" {
		t.Errorf("Stats() mismatch (-want +got):\n%s", diff)
	}
}

// failFirstDial makes the first request whose path ends in suffix fail as if the connection were refused.
type failFirstDial struct {
	base   http.RoundTripper
	suffix string
	failed atomic.Bool
}

func (f *failFirstDial) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, f.suffix) && f.failed.CompareAndSwap(false, true) {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	}
	return f.base.RoundTrip(r)
}

func TestClient_failures(t *testing.T) {
	t.Parallel()
	getA := func(ctx context.Context, c *Client) error { _, err := c.GetAction(ctx, "a"); return err }
	createRun := func(ctx context.Context, c *Client) error { _, err := c.CreateRun(ctx, "deploy", nil); return err }
	runStub := func(r func(http.ResponseWriter, *http.Request)) stub {
		return stub{method: "POST", uri: "/v1/actions/deploy/runs", body: `{"properties":{}}`, reply: r}
	}
	const runOK = `{"ok":true,"run":{"id":"r_1","status":"IN_PROGRESS","action":{"identifier":"deploy"}}}`
	unauthorized := reply(401, `{"ok":false,"error":"unauthorized","message":"token expired"}`)
	retries := func(n int) Option { return WithRetries(n, time.Millisecond, 20*time.Millisecond) }
	bigError := `{"ok":false,"message":"` + strings.Repeat("a", 100<<10) + `"}`

	tests := []struct {
		name  string
		opts  []Option
		stubs []stub
		call  func(ctx context.Context, c *Client) error
		check func(t *testing.T, err error, c *Client, debug []string)
	}{
		{
			name: "401 refreshes the token once and repeats the request",
			stubs: []stub{tokenStub(testToken, 10800), getAction("", unauthorized),
				tokenStub("token-2", 10800), getAction("token-2", reply(200, actionOK))},
			check: func(t *testing.T, err error, c *Client, _ []string) {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
				wantStats(t, c, Stats{Requests: 4, TokenFetches: 2})
			},
		},
		{
			name: "401 twice is returned",
			stubs: []stub{tokenStub(testToken, 10800), getAction("", unauthorized),
				tokenStub("token-2", 10800), getAction("token-2", unauthorized)},
			check: func(t *testing.T, err error, c *Client, _ []string) {
				if !IsUnauthorized(err) {
					t.Errorf("IsUnauthorized(%v) = false", err)
				}
				wantAPIError(t, err, APIError{Method: "GET", Path: "/v1/actions/a", StatusCode: 401, Code: "unauthorized", Message: "token expired"})
				wantStats(t, c, Stats{Requests: 4, TokenFetches: 2})
			},
		},
		{
			name: "401 after a refresh that hands back the same token",
			stubs: []stub{tokenStub(testToken, 10800), getAction("", unauthorized),
				tokenStub(testToken, 10), getAction("", unauthorized)},
			check: func(t *testing.T, err error, c *Client, _ []string) {
				if !IsUnauthorized(err) {
					t.Errorf("IsUnauthorized(%v) = false", err)
				}
				wantStats(t, c, Stats{Requests: 4, TokenFetches: 2})
			},
		},
		{
			name: "bad credentials",
			stubs: []stub{{method: "POST", uri: "/v1/auth/access_token", token: noAuth, body: tokenStub("", 0).body,
				reply: reply(401, `{"ok":false,"error":"unauthorized","message":"invalid credentials"}`, "X-Trace-Id", "t-auth")}},
			check: func(t *testing.T, err error, c *Client, _ []string) {
				wantAPIError(t, err, APIError{Method: "POST", Path: "/v1/auth/access_token", StatusCode: 401,
					Code: "unauthorized", Message: "invalid credentials", TraceID: "t-auth"})
				if !IsUnauthorized(err) {
					t.Errorf("IsUnauthorized(%v) = false", err)
				}
				wantStats(t, c, Stats{Requests: 1, TokenFetches: 1})
			},
		},
		{
			name: "token response without a token",
			stubs: []stub{{method: "POST", uri: "/v1/auth/access_token", token: noAuth, body: tokenStub("", 0).body,
				reply: reply(200, `{"ok":true,"expiresIn":10800}`)}},
			check: func(t *testing.T, err error, _ *Client, _ []string) {
				wantDecodeError(t, err, DecodeError{Method: "POST", Path: "/v1/auth/access_token", StatusCode: 200}, `the body has no "accessToken"`)
			},
		},
		{
			name: "404",
			stubs: []stub{tokenStub(testToken, 10800),
				getAction("", reply(404, `{"ok":false,"error":"not_found","message":"Action with identifier \"a\" not found"}`, "X-Trace-Id", "t-404"))},
			check: func(t *testing.T, err error, c *Client, _ []string) {
				if !IsNotFound(err) || IsConflict(err) || IsUnauthorized(err) {
					t.Errorf("IsNotFound/IsConflict/IsUnauthorized(%v) = %t/%t/%t, want true/false/false", err, IsNotFound(err), IsConflict(err), IsUnauthorized(err))
				}
				wantAPIError(t, err, APIError{Method: "GET", Path: "/v1/actions/a", StatusCode: 404, Code: "not_found",
					Message: `Action with identifier "a" not found`, TraceID: "t-404"})
				if got, want := err.Error(), `GET /v1/actions/a: 404 Not Found: not_found: Action with identifier "a" not found (trace id t-404)`; got != want {
					t.Errorf("Error() = %q, want %q", got, want)
				}
				wantStats(t, c, Stats{Requests: 2, TokenFetches: 1})
			},
		},
		{
			name: "409",
			stubs: []stub{tokenStub(testToken, 10800), {method: "POST", uri: "/v1/actions", body: `{"identifier":"a"}`,
				reply: reply(409, `{"ok":false,"error":"identifier_taken","message":"exists"}`)}},
			call: func(ctx context.Context, c *Client) error {
				_, err := c.CreateAction(ctx, Object{"identifier": "a"})
				return err
			},
			check: func(t *testing.T, err error, _ *Client, _ []string) {
				if !IsConflict(err) {
					t.Errorf("IsConflict(%v) = false", err)
				}
			},
		},
		{
			name: "422 keeps Port's message verbatim",
			stubs: []stub{tokenStub(testToken, 10800), {method: "POST", uri: "/v1/blueprints/service/entities/search",
				body:  `{"query":{"combinator":"and","rules":[]}}`,
				reply: reply(422, `{"ok":false,"error":"invalid_request","message":"\"query\" must have required property 'combinator'"}`)}},
			call: func(ctx context.Context, c *Client) error {
				_, err := c.SearchEntities(ctx, "service", SearchRequest{})
				return err
			},
			check: func(t *testing.T, err error, _ *Client, _ []string) {
				wantAPIError(t, err, APIError{Method: "POST", Path: "/v1/blueprints/service/entities/search", StatusCode: 422,
					Code: "invalid_request", Message: `"query" must have required property 'combinator'`})
				wantContains(t, "error", err.Error(), `"query" must have required property 'combinator'`)
			},
		},
		{
			name: "error object of the AI routes is flattened",
			stubs: []stub{tokenStub(testToken, 10800),
				getAction("", reply(404, `{"ok":false,"error":{"name":"LLMProviderNotFoundError","message":"no provider"}}`))},
			check: func(t *testing.T, err error, _ *Client, _ []string) {
				wantAPIError(t, err, APIError{Method: "GET", Path: "/v1/actions/a", StatusCode: 404, Code: "LLMProviderNotFoundError", Message: "no provider"})
			},
		},
		{
			name: "error page of a proxy",
			opts: []Option{retries(0)},
			stubs: []stub{tokenStub(testToken, 10800),
				getAction("", reply(502, "<html><body>\n<h1>502 Bad Gateway</h1>\n</body></html>\n"))},
			check: func(t *testing.T, err error, _ *Client, _ []string) {
				wantAPIError(t, err, APIError{Method: "GET", Path: "/v1/actions/a", StatusCode: 502, Message: "<html><body> <h1>502 Bad Gateway</h1> </body></html>"})
			},
		},
		{
			name:  "error body larger than 64 KiB",
			stubs: []stub{tokenStub(testToken, 10800), getAction("", reply(400, bigError))},
			check: func(t *testing.T, err error, _ *Client, _ []string) {
				var apiErr *APIError
				if !errors.As(err, &apiErr) {
					t.Fatalf("error = %v, want an *APIError", err)
				}
				if want := `{"ok":false,"message":"` + strings.Repeat("a", 200-23) + "…"; apiErr.Message != want {
					t.Errorf("Message = %q, want %q", apiErr.Message, want)
				}
			},
		},
		{
			name: "429 with Retry-After seconds",
			opts: []Option{retries(3)},
			stubs: []stub{tokenStub(testToken, 10800),
				getAction("", reply(429, `{"ok":false,"error":"rate_limited"}`, "Retry-After", "2")),
				getAction("", reply(200, actionOK))},
			check: func(t *testing.T, err error, c *Client, debug []string) {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
				wantContains(t, "debug", strings.Join(debug, "\n"), "GET /v1/actions/a: 429 Too Many Requests in ",
					"attempt 1 of 4; retrying in 20ms (Retry-After 2s, capped at 20ms)")
				wantStats(t, c, Stats{Requests: 3, Retries: 1, TokenFetches: 1})
			},
		},
		{
			name: "429 with Retry-After as an HTTP date",
			opts: []Option{retries(3)},
			stubs: []stub{tokenStub(testToken, 10800),
				getAction("", reply(429, `{"ok":false}`, "Retry-After", testNow.Add(3*time.Second).Format(http.TimeFormat))),
				getAction("", reply(200, actionOK))},
			check: func(t *testing.T, err error, _ *Client, debug []string) {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
				wantContains(t, "debug", strings.Join(debug, "\n"), "retrying in 20ms (Retry-After 3s, capped at 20ms)")
			},
		},
		{
			name: "429 with x-ratelimit-reset in seconds",
			opts: []Option{retries(3)},
			stubs: []stub{tokenStub(testToken, 10800),
				getAction("", reply(429, `{"ok":false}`, "X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", "7")),
				getAction("", reply(200, actionOK))},
			check: func(t *testing.T, err error, _ *Client, debug []string) {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
				wantContains(t, "debug", strings.Join(debug, "\n"), "retrying in 20ms (x-ratelimit-reset in 7s, capped at 20ms)")
			},
		},
		{
			name: "429 with x-ratelimit-reset as an epoch",
			opts: []Option{retries(3)},
			stubs: []stub{tokenStub(testToken, 10800),
				getAction("", reply(429, `{"ok":false}`, "X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", fmt.Sprint(testNow.Unix()+30))),
				getAction("", reply(200, actionOK))},
			check: func(t *testing.T, err error, _ *Client, debug []string) {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
				wantContains(t, "debug", strings.Join(debug, "\n"), "retrying in 20ms (x-ratelimit-reset at 2026-05-01T12:00:30Z, capped at 20ms)")
			},
		},
		{
			name: "500 then 200",
			stubs: []stub{tokenStub(testToken, 10800),
				getAction("", reply(500, `{"ok":false,"error":"internal_error"}`)), getAction("", reply(200, actionOK))},
			check: func(t *testing.T, err error, c *Client, debug []string) {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
				wantContains(t, "debug", strings.Join(debug, "\n"), "500 Internal Server Error", "(backoff)")
				wantStats(t, c, Stats{Requests: 3, Retries: 1, TokenFetches: 1})
			},
		},
		{
			name: "dropped connection then success",
			stubs: []stub{tokenStub(testToken, 10800),
				getAction("", hangUp), getAction("", reply(200, actionOK))},
			check: func(t *testing.T, err error, c *Client, debug []string) {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
				wantContains(t, "debug", strings.Join(debug, "\n"), "GET /v1/actions/a: no response in ", "(net/http: HTTP/1.x transport connection broken: unexpected EOF), attempt 1 of 4; retrying in")
				wantStats(t, c, Stats{Requests: 3, Retries: 1, TokenFetches: 1})
			},
		},
		{
			name: "malformed JSON in a 200",
			stubs: []stub{tokenStub(testToken, 10800),
				getAction("", reply(200, `{"ok":true,"action":`, "X-Trace-Id", "t-bad"))},
			check: func(t *testing.T, err error, c *Client, _ []string) {
				wantDecodeError(t, err, DecodeError{Method: "GET", Path: "/v1/actions/a", StatusCode: 200, TraceID: "t-bad"},
					"GET /v1/actions/a: 200 OK: could not decode the response: unexpected end of JSON input (trace id t-bad)")
				wantStats(t, c, Stats{Requests: 2, TokenFetches: 1})
			},
		},
		{
			name:  "HTML in a 200",
			stubs: []stub{tokenStub(testToken, 10800), getAction("", reply(200, `<html>maintenance</html>`))},
			check: func(t *testing.T, err error, _ *Client, _ []string) {
				wantDecodeError(t, err, DecodeError{Method: "GET", Path: "/v1/actions/a", StatusCode: 200}, "could not decode the response")
			},
		},
		{
			name: "ok false in a 200",
			stubs: []stub{tokenStub(testToken, 10800),
				getAction("", reply(200, `{"ok":false,"error":"quota_exceeded","message":"over quota"}`, "X-Trace-Id", "t-q"))},
			check: func(t *testing.T, err error, _ *Client, _ []string) {
				wantAPIError(t, err, APIError{Method: "GET", Path: "/v1/actions/a", StatusCode: 200, Code: "quota_exceeded", Message: "over quota", TraceID: "t-q"})
			},
		},
		{
			name:  "no ok field",
			stubs: []stub{tokenStub(testToken, 10800), getAction("", reply(200, `{"action":{"identifier":"a"}}`))},
			check: func(t *testing.T, err error, _ *Client, _ []string) {
				wantDecodeError(t, err, DecodeError{Method: "GET", Path: "/v1/actions/a", StatusCode: 200}, `the body has no "ok" field`)
			},
		},
		{
			name:  "no payload",
			stubs: []stub{tokenStub(testToken, 10800), getAction("", reply(200, `{"ok":true,"actions":[]}`))},
			check: func(t *testing.T, err error, _ *Client, _ []string) {
				wantDecodeError(t, err, DecodeError{Method: "GET", Path: "/v1/actions/a", StatusCode: 200}, `the body has no "action"`)
			},
		},
		{
			name: "CreateRun is not retried on 500",
			stubs: []stub{tokenStub(testToken, 10800),
				runStub(reply(500, `{"ok":false,"error":"internal_error"}`))},
			call: createRun,
			check: func(t *testing.T, err error, c *Client, _ []string) {
				wantAPIError(t, err, APIError{Method: "POST", Path: "/v1/actions/deploy/runs", StatusCode: 500, Code: "internal_error"})
				wantStats(t, c, Stats{Requests: 2, TokenFetches: 1})
			},
		},
		{
			name:  "CreateRun is not retried after a dropped connection",
			stubs: []stub{tokenStub(testToken, 10800), runStub(hangUp)},
			call:  createRun,
			check: func(t *testing.T, err error, c *Client, _ []string) {
				wantContains(t, "error", fmt.Sprint(err), "POST /v1/actions/deploy/runs: ")
				wantStats(t, c, Stats{Requests: 2, TokenFetches: 1})
			},
		},
		{
			name: "CreateRun is retried on 429",
			stubs: []stub{tokenStub(testToken, 10800),
				runStub(reply(429, `{"ok":false}`)), runStub(reply(202, runOK))},
			call: createRun,
			check: func(t *testing.T, err error, c *Client, _ []string) {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
				wantStats(t, c, Stats{Requests: 3, Retries: 1, TokenFetches: 1})
			},
		},
		{
			name:  "CreateRun is retried when the connection fails",
			opts:  []Option{WithHTTPClient(&http.Client{Transport: &failFirstDial{base: http.DefaultTransport, suffix: "/runs"}})},
			stubs: []stub{tokenStub(testToken, 10800), runStub(reply(202, runOK))},
			call:  createRun,
			check: func(t *testing.T, err error, c *Client, debug []string) {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
				wantContains(t, "debug", strings.Join(debug, "\n"), "POST /v1/actions/deploy/runs: no response in ", " (dial tcp: connect: connection refused), attempt 1 of 4; retrying in")
				wantStats(t, c, Stats{Requests: 3, Retries: 1, TokenFetches: 1})
			},
		},
		{
			name: "AddRunLog is retried like other POSTs",
			stubs: []stub{tokenStub(testToken, 10800),
				{method: "POST", uri: "/v1/actions/runs/r_1/logs", body: `{"message":"m"}`, reply: reply(503, `{"ok":false}`)},
				{method: "POST", uri: "/v1/actions/runs/r_1/logs", body: `{"message":"m"}`, reply: reply(201, `{"ok":true}`)}},
			call: func(ctx context.Context, c *Client) error { return c.AddRunLog(ctx, "r_1", RunLog{Message: "m"}) },
			check: func(t *testing.T, err error, c *Client, _ []string) {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
				wantStats(t, c, Stats{Requests: 3, Retries: 1, TokenFetches: 1})
			},
		},
	}
	for _, code := range []int{502, 503, 504} {
		tests = append(tests, struct {
			name  string
			opts  []Option
			stubs []stub
			call  func(ctx context.Context, c *Client) error
			check func(t *testing.T, err error, c *Client, debug []string)
		}{
			name: fmt.Sprintf("persistent %d gives up after the retries", code),
			opts: []Option{WithRetries(2, time.Millisecond, 2*time.Millisecond)},
			stubs: []stub{tokenStub(testToken, 10800),
				getAction("", reply(code, `{"ok":false}`)), getAction("", reply(code, `{"ok":false}`)), getAction("", reply(code, `{"ok":false}`))},
			check: func(t *testing.T, err error, c *Client, debug []string) {
				wantAPIError(t, err, APIError{Method: "GET", Path: "/v1/actions/a", StatusCode: code})
				wantContains(t, "error", fmt.Sprint(err), fmt.Sprintf("GET /v1/actions/a: %d %s (gave up after 3 attempts)", code, http.StatusText(code)))
				wantContains(t, "last debug line", debug[len(debug)-1], "attempt 3 of 3; giving up after 3 attempts")
				wantStats(t, c, Stats{Requests: 4, Retries: 2, TokenFetches: 1})
			},
		})
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStubServer(t, tc.stubs...)
			var debug debugLog
			c := s.client(t, append([]Option{WithClock(fixedClock), WithDebug(debug.add)}, tc.opts...)...)
			call := tc.call
			if call == nil {
				call = getA
			}
			err := call(t.Context(), c)
			tc.check(t, err, c, debug.Lines())
			// Whatever happened, neither the secret nor a token may show in an error or a debug line.
			for _, secret := range []string{testSecret, testToken, "token-2"} {
				if strings.Contains(fmt.Sprint(err), secret) || strings.Contains(debug.String(), secret) {
					t.Errorf("%q leaked:\nerror: %v\ndebug:\n%s", secret, err, debug.String())
				}
			}
		})
	}
}

func TestClient_cancelDuringRetryWait(t *testing.T) {
	t.Parallel()
	s := newStubServer(t, tokenStub(testToken, 10800), getAction("", reply(503, `{"ok":false}`, "Retry-After", "30")))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	c := s.client(t, WithRetries(3, time.Millisecond, time.Minute), WithDebug(func(msg string) {
		if strings.Contains(msg, "retrying in 30s") {
			cancel() // the client is about to wait 30s
		}
	}))
	start := time.Now()
	_, err := c.GetAction(ctx, "a")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if got, want := err.Error(), "GET /v1/actions/a: context canceled while waiting to retry after 503 Service Unavailable"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("GetAction took %s after cancel, want an immediate return", elapsed)
	}
	wantStats(t, c, Stats{Requests: 2, TokenFetches: 1})
}

func TestClient_waitPastDeadline(t *testing.T) {
	t.Parallel()
	s := newStubServer(t, tokenStub(testToken, 10800), getAction("", reply(429, `{"ok":false,"error":"rate_limited"}`, "Retry-After", "60")))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	c := s.client(t, WithRetries(3, time.Millisecond, 5*time.Minute))
	start := time.Now()
	_, err := c.GetAction(ctx, "a")
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("GetAction took %s, want an immediate error", elapsed)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is(%v, context.DeadlineExceeded) = false", err)
	}
	wantAPIError(t, err, APIError{Method: "GET", Path: "/v1/actions/a", StatusCode: 429, Code: "rate_limited"})
	wantContains(t, "error", err.Error(), "not retrying: waiting 1m0s would pass the context deadline")
	wantStats(t, c, Stats{Requests: 2, TokenFetches: 1})
}

func TestClient_attemptTimeout(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		retries  int
		stubs    []stub
		wantErr  string
		wantStat Stats
	}{
		{
			name:     "slow reply without retries",
			stubs:    []stub{tokenStub(testToken, 10800), getAction("", stall)},
			wantErr:  "GET /v1/actions/a: ",
			wantStat: Stats{Requests: 2, TokenFetches: 1},
		},
		{
			name:     "slow reply then a fast one",
			retries:  1,
			stubs:    []stub{tokenStub(testToken, 10800), getAction("", stall), getAction("", reply(200, actionOK))},
			wantStat: Stats{Requests: 3, Retries: 1, TokenFetches: 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStubServer(t, tc.stubs...)
			c := s.client(t, WithTimeout(100*time.Millisecond), WithRetries(tc.retries, time.Millisecond, time.Millisecond))
			_, err := c.GetAction(t.Context(), "a")
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("error = %v", err)
				}
			} else {
				var netErr net.Error
				if !errors.As(err, &netErr) || !netErr.Timeout() {
					t.Errorf("error = %v, want a timeout", err)
				}
				wantContains(t, "error", fmt.Sprint(err), tc.wantErr)
			}
			wantStats(t, c, tc.wantStat)
		})
	}
}

// TestClient_tokenLifetime checks that a token is reused until shortly before expiresIn runs out, that the
// observer sees each new token once, and that a token is never fetched twice by concurrent callers.
func TestClient_tokenLifetime(t *testing.T) {
	t.Parallel()
	now := testNow
	var mu atomic.Pointer[time.Time]
	mu.Store(&now)
	clock := func() time.Time { return *mu.Load() }
	advance := func(d time.Duration) { t := mu.Load().Add(d); mu.Store(&t) }

	s := newStubServer(t,
		tokenStub(testToken, 3600),
		getAction("", reply(200, actionOK)), getAction("", reply(200, actionOK)),
		tokenStub(testToken, 40), // Port hands back the active token, with 40s left
		getAction("", reply(200, actionOK)),
		tokenStub("token-2", 3600),
		getAction("token-2", reply(200, actionOK)),
	)
	var seen []string
	c := s.client(t, WithClock(clock), WithTokenObserver(func(tok string) { seen = append(seen, tok) }))
	ctx := t.Context()
	step := func(name string) {
		t.Helper()
		if _, err := c.GetAction(ctx, "a"); err != nil {
			t.Fatalf("%s: error = %v", name, err)
		}
	}
	if err := c.Authenticate(ctx); err != nil {
		t.Fatalf("Authenticate() error = %v", err)
	}
	step("first call")
	advance(3600*time.Second - 61*time.Second)
	step("before the margin")
	advance(2 * time.Second) // within a minute of expiry: refresh; Port answers with the same token
	step("within the margin")
	advance(40 * time.Second) // the short-lived answer has run out
	step("after expiry")

	if diff := cmp.Diff([]string{testToken, "token-2"}, seen); diff != "" {
		t.Errorf("observed tokens mismatch (-want +got):\n%s", diff)
	}
	wantStats(t, c, Stats{Requests: 7, TokenFetches: 3})
}

func TestClient_concurrentCallsShareOneToken(t *testing.T) {
	t.Parallel()
	const n = 8
	stubs := []stub{tokenStub(testToken, 10800)}
	for range n {
		stubs = append(stubs, getAction("", reply(200, actionOK)))
	}
	s := newStubServer(t, stubs...)
	c := s.client(t)
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := c.GetAction(t.Context(), "a")
			errs <- err
		}()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Errorf("GetAction() error = %v", err)
		}
	}
	wantStats(t, c, Stats{Requests: n + 1, TokenFetches: 1})
}

// TestClient_debugLines checks the shape of the debug lines: path without query string, status, attempt,
// decision.
func TestClient_debugLines(t *testing.T) {
	t.Parallel()
	s := newStubServer(t, tokenStub(testToken, 10800),
		stub{method: "GET", uri: "/v1/actions/runs/r_1?version=v2", reply: reply(502, `{"ok":false}`, "X-Trace-Id", "t-1")},
		stub{method: "GET", uri: "/v1/actions/runs/r_1?version=v2", reply: reply(200, `{"ok":true,"run":{"id":"r_1"}}`)})
	var debug debugLog
	c := s.client(t, WithDebug(debug.add), WithRetries(1, time.Millisecond, time.Millisecond))
	if _, err := c.GetRun(t.Context(), "r_1"); err != nil {
		t.Fatalf("GetRun() error = %v", err)
	}
	lines := debug.Lines()
	patterns := []string{
		"POST /v1/auth/access_token: 200 OK in * attempt 1 of 2",
		"GET /v1/actions/runs/r_1: 502 Bad Gateway in * (trace id t-1), attempt 1 of 2; retrying in 1ms (backoff)",
		"GET /v1/actions/runs/r_1: 200 OK in * attempt 2 of 2",
	}
	if len(lines) != len(patterns) {
		t.Fatalf("debug lines:\n%s\nwant %d lines", strings.Join(lines, "\n"), len(patterns))
	}
	for i, p := range patterns {
		before, after, _ := strings.Cut(p, "*")
		if !strings.HasPrefix(lines[i], before) || !strings.HasSuffix(lines[i], after) {
			t.Errorf("debug line %d = %q, want %q", i, lines[i], p)
		}
	}
}
