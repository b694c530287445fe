package portemu

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for WithClock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 2, 10, 0, 0, 123_000_000, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is an emulator behind a loopback httptest server, with a fake clock and a token.
type fixture struct {
	t     *testing.T
	emu   *Server
	url   string
	clock *fakeClock
	token string
	http  *http.Client
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	clock := newClock()
	emu := New(append([]Option{WithClock(clock.Now)}, opts...)...)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	f := &fixture{t: t, emu: emu, url: srv.URL, clock: clock, http: srv.Client()}
	f.token = f.getToken()
	return f
}

func (f *fixture) getToken() string {
	f.t.Helper()
	status, body, _ := f.send(http.MethodPost, "/v1/auth/access_token", map[string]any{"clientId": f.emu.clientID, "clientSecret": f.emu.clientSecret}, "")
	if status != http.StatusOK {
		f.t.Fatalf("token: %d %v", status, body)
	}
	return body["accessToken"].(string)
}

// do sends an authenticated JSON request and decodes the JSON answer.
func (f *fixture) do(method, path string, body any) (int, map[string]any) {
	f.t.Helper()
	status, out, _ := f.send(method, path, body, f.token)
	return status, out
}

// mustDo is do that fails the test unless the status is want.
func (f *fixture) mustDo(want int, method, path string, body any) map[string]any {
	f.t.Helper()
	status, out := f.do(method, path, body)
	if status != want {
		f.t.Fatalf("%s %s = %d %v, want %d", method, path, status, out, want)
	}
	return out
}

// send sends a request; body may be nil, []byte (sent raw) or a value encoded as JSON.
func (f *fixture) send(method, path string, body any, token string) (int, map[string]any, http.Header) {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(f.t.Context(), method, f.url+path, rd)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.http.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	var out map[string]any
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			f.t.Fatalf("%s %s: answer is not a JSON object: %q", method, path, data)
		}
	}
	return resp.StatusCode, out, resp.Header
}

// decode parses JSON text in a test table.
func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// errBody is Port's error envelope, for cmp.Diff.
func errBody(code string) map[string]any { return map[string]any{"ok": false, "error": code} }

// withoutMessage drops the free-text message so tables can compare the rest of an error envelope.
func withoutMessage(m map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		if k != "message" {
			out[k] = v
		}
	}
	return out
}

// advance moves the clock and fetches a token that is valid at the new time.
func (f *fixture) advance(d time.Duration) {
	f.t.Helper()
	f.clock.Advance(d)
	f.token = f.getToken()
}
