package port

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		baseURL string
		creds   Credentials
		opts    []Option
		want    string // the base URL kept
		wantErr string
	}{
		{name: "EU", baseURL: "https://api.port.io", want: "https://api.port.io"},
		{name: "trailing slash", baseURL: "https://api.us.port.io/", want: "https://api.us.port.io"},
		{name: "path prefix", baseURL: "http://127.0.0.1:8080/port/", want: "http://127.0.0.1:8080/port"},
		{name: "escaped prefix", baseURL: "http://127.0.0.1:8080/a%2Fb", want: "http://127.0.0.1:8080/a%2Fb"},
		{name: "no scheme", baseURL: "api.port.io", wantErr: `invalid Port base URL "api.port.io": expected an absolute http or https URL such as https://api.port.io`},
		{name: "empty", baseURL: "", wantErr: `invalid Port base URL "": expected an absolute http or https URL`},
		{name: "other scheme", baseURL: "ftp://api.port.io", wantErr: `invalid Port base URL "ftp://api.port.io": expected`},
		{name: "no host", baseURL: "https:///v2", wantErr: `invalid Port base URL "https:///v2": expected`},
		{name: "query", baseURL: "https://api.port.io?region=us", wantErr: "must not have a query or fragment"},
		{name: "user info is redacted", baseURL: "https://me:pw@api.port.io", wantErr: `invalid Port base URL "https://me:xxxxx@api.port.io": must not contain user info`},
		{name: "v1 suffix", baseURL: "https://api.getport.io/v1", wantErr: "leave out the /v1 suffix"},
		{name: "unparsable", baseURL: "http://[::1", wantErr: "invalid Port base URL: "},
		{
			name:    "missing credentials",
			baseURL: "https://api.port.io", creds: Credentials{ClientID: " "},
			wantErr: "new port client: port client id is empty\nport client secret is empty",
		},
		{
			name:    "every bad option is reported",
			baseURL: "https://api.port.io",
			opts: []Option{WithTimeout(0), WithRetries(-1, 0, 0), WithRetries(1, time.Second, time.Millisecond), WithUserAgent(""),
				WithTokenObserver(nil), WithDebug(nil), WithHTTPClient(nil), WithClock(nil)},
			wantErr: "new port client: timeout 0s: must be positive\nretries -1: must not be negative\n" +
				"retry waits 1s..1ms: the minimum is above the maximum\nuser agent \"\": must be a non-empty single line\n" +
				"token observer: must not be nil\ndebug function: must not be nil\nhttp client: must not be nil\nclock: must not be nil",
		},
		{name: "nil option is skipped", baseURL: "https://api.port.io", opts: []Option{nil}, want: "https://api.port.io"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			creds := tc.creds
			if creds == (Credentials{}) {
				creds = testCreds
			}
			c, err := New(tc.baseURL, creds, tc.opts...)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New(%q) error = %v, want %q", tc.baseURL, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("New(%q) error = %v", tc.baseURL, err)
			}
			if c.baseURL != tc.want {
				t.Errorf("New(%q).baseURL = %q, want %q", tc.baseURL, c.baseURL, tc.want)
			}
		})
	}
}

func TestNew_defaults(t *testing.T) {
	t.Parallel()
	c, err := New("https://api.port.io", testCreds)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{c.userAgent, c.timeout, c.retries, c.minWait, c.maxWait, c.httpClient.Timeout}
	want := []any{"port-roi-action/dev", 30 * time.Second, 4, 500 * time.Millisecond, 20 * time.Second, 30 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("defaults mismatch (-want +got):\n%s", diff)
	}
}

// TestNew_copiesHTTPClient checks that the caller's client is neither changed nor used for redirects.
func TestNew_copiesHTTPClient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.example/v1/auth/access_token", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	hc := &http.Client{Timeout: time.Hour}
	c, err := New(srv.URL, testCreds, WithHTTPClient(hc), WithTimeout(time.Second), WithRetries(0, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	if hc.Timeout != time.Hour || hc.Transport != nil || hc.CheckRedirect != nil {
		t.Errorf("the caller's http.Client was changed: %+v", hc)
	}
	err = c.Authenticate(t.Context())
	wantAPIError(t, err, APIError{Method: "POST", Path: "/v1/auth/access_token", StatusCode: http.StatusTemporaryRedirect})
}

func TestCredentials_redacted(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"%v", "%+v", "%s", "%#v"} {
		if got := fmt.Sprintf(format, testCreds); strings.Contains(got, testSecret) || !strings.Contains(got, testClientID) {
			t.Errorf("Sprintf(%q, creds) = %q, want the id without the secret", format, got)
		}
	}
}

func TestClient_printingHidesSecrets(t *testing.T) {
	t.Parallel()
	s := newStubServer(t, tokenStub(testToken, 10800))
	c := s.client(t)
	if err := c.Authenticate(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"%v", "%+v", "%s", "%#v"} {
		got := fmt.Sprintf(format, c)
		if strings.Contains(got, testSecret) || strings.Contains(got, testToken) || !strings.Contains(got, s.URL) {
			t.Errorf("Sprintf(%q, client) = %q, want the base URL without secrets", format, got)
		}
	}
}

func TestRetryWait(t *testing.T) {
	t.Parallel()
	c := &Client{minWait: 0, maxWait: time.Hour, now: fixedClock}
	h := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i+1 < len(kv); i += 2 {
			h.Set(kv[i], kv[i+1])
		}
		return h
	}
	tests := []struct {
		name    string
		header  http.Header
		want    time.Duration // not checked for backoff, whose jitter makes it random (see TestBackoff)
		wantWhy string
	}{
		{name: "Retry-After seconds", header: h("Retry-After", "7"), want: 7 * time.Second, wantWhy: "Retry-After 7s"},
		{name: "Retry-After zero", header: h("Retry-After", "0"), want: 0, wantWhy: "Retry-After 0s"},
		{name: "Retry-After date", header: h("Retry-After", testNow.Add(90*time.Second).Format(http.TimeFormat)), want: 90 * time.Second, wantWhy: "Retry-After 1m30s"},
		{name: "Retry-After date in the past", header: h("Retry-After", testNow.Add(-time.Hour).Format(http.TimeFormat)), want: 0, wantWhy: "Retry-After 0s"},
		{name: "Retry-After beats the rate-limit headers", header: h("Retry-After", "3", "X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", "50"), want: 3 * time.Second, wantWhy: "Retry-After 3s"},
		{name: "Retry-After capped", header: h("Retry-After", "7200"), want: time.Hour, wantWhy: "Retry-After 2h0m0s, capped at 1h0m0s"},
		{name: "Retry-After huge", header: h("Retry-After", "99999999999999999"), want: time.Hour, wantWhy: "capped at 1h0m0s"},
		{name: "reset in seconds", header: h("X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", "12"), want: 12 * time.Second, wantWhy: "x-ratelimit-reset in 12s"},
		{name: "reset in fractional seconds", header: h("X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", "1.5"), want: 1500 * time.Millisecond, wantWhy: "x-ratelimit-reset in 1.5s"},
		{name: "reset as an epoch", header: h("X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", fmt.Sprint(testNow.Unix()+90)), want: 90 * time.Second, wantWhy: "x-ratelimit-reset at 2026-05-01T12:01:30Z"},
		{name: "reset as an epoch in the past", header: h("X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", fmt.Sprint(testNow.Unix()-90)), want: 0, wantWhy: "x-ratelimit-reset at 2026-05-01T11:58:30Z"},
		{name: "reset ignored while requests remain", header: h("X-Ratelimit-Remaining", "5", "X-Ratelimit-Reset", "12"), wantWhy: "backoff"},
		{name: "garbage falls back to backoff", header: h("Retry-After", "soon", "X-Ratelimit-Remaining", "0", "X-Ratelimit-Reset", "later"), wantWhy: "backoff"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, why := c.retryWait(tc.header, 1)
			if why != tc.wantWhy && !strings.Contains(why, tc.wantWhy) {
				t.Errorf("retryWait() why = %q, want %q", why, tc.wantWhy)
			}
			if tc.wantWhy != "backoff" && got != tc.want {
				t.Errorf("retryWait() = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	c := &Client{minWait: 100 * time.Millisecond, maxWait: time.Second, now: fixedClock}
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{attempt: 1, min: 100 * time.Millisecond, max: 100 * time.Millisecond}, // half jitter, floored at minWait
		{attempt: 2, min: 100 * time.Millisecond, max: 200 * time.Millisecond},
		{attempt: 3, min: 200 * time.Millisecond, max: 400 * time.Millisecond},
		{attempt: 4, min: 400 * time.Millisecond, max: 800 * time.Millisecond},
		{attempt: 5, min: 500 * time.Millisecond, max: time.Second},
		{attempt: 50, min: 500 * time.Millisecond, max: time.Second},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint("attempt ", tc.attempt), func(t *testing.T) {
			t.Parallel()
			for range 200 {
				got, why := c.retryWait(http.Header{}, tc.attempt)
				if got < tc.min || got > tc.max || why != "backoff" {
					t.Fatalf("retryWait(attempt %d) = %s (%s), want backoff within [%s, %s]", tc.attempt, got, why, tc.min, tc.max)
				}
			}
		})
	}
}

func TestSnippet(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{name: "one line", in: "  <h1>\n\tBad\r\nGateway</h1>  ", n: 100, want: "<h1> Bad Gateway</h1>"},
		{name: "cut", in: "abcdef", n: 3, want: "abc…"},
		{name: "cut inside a rune", in: "aé", n: 2, want: "a…"},
		{name: "invalid UTF-8", in: "a\xffb", n: 10, want: "a?b"},
		{name: "empty", in: " \n ", n: 10, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := snippet([]byte(tc.in), tc.n); got != tc.want {
				t.Errorf("snippet(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
		})
	}
}

// BenchmarkUpsertEntity measures one upsert through the whole client against a local server.
func BenchmarkUpsertEntity(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/v1/auth/access_token" {
			_, _ = w.Write([]byte(`{"ok":true,"accessToken":"t","expiresIn":10800}`))
			return
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"ok":true,"entity":{"identifier":"run-1","blueprint":"action_run","title":"Run 1",` +
			`"properties":{"status":"SUCCESS","duration":12.5,"created_at":"2026-03-02T10:00:00Z"},"relations":{"parent_action":"deploy"},` +
			`"createdAt":"2026-03-02T10:00:00.123Z","updatedAt":"2026-03-02T10:00:01.456Z"}}`))
	}))
	b.Cleanup(srv.Close)
	c, err := New(srv.URL, testCreds)
	if err != nil {
		b.Fatal(err)
	}
	e := Entity{
		Identifier: "run-1", Title: "Run 1",
		Properties: map[string]any{"status": "SUCCESS", "duration": 12.5, "created_at": "2026-03-02T10:00:00Z"},
		Relations:  map[string]any{"parent_action": "deploy"},
	}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.UpsertEntity(ctx, "action_run", e, UpsertOptions{Merge: true}); err != nil {
			b.Fatal(err)
		}
	}
}
