package portemu

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestFaultStatusTimes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.emu.InjectFault(Fault{Method: http.MethodGet, Path: "/v1/blueprints", Times: 2, Status: http.StatusServiceUnavailable})
	for i, want := range []int{503, 503, 200, 200} {
		status, body, h := f.send(http.MethodGet, "/v1/blueprints", nil, f.token)
		if status != want {
			t.Errorf("request %d: status %d, want %d", i, status, want)
		}
		if status == 503 && (body["error"] != "internal_error" || h.Get("X-Trace-Id") == "") {
			t.Errorf("request %d: body %v header %v", i, body, h)
		}
	}
	// Another method does not match.
	f.emu.InjectFault(Fault{Method: http.MethodPost, Path: "/v1/blueprints", Status: http.StatusBadGateway})
	f.mustDo(http.StatusOK, http.MethodGet, "/v1/blueprints", nil)
}

func TestFaultRateLimitedWithHeadersAndBody(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.emu.InjectFault(Fault{Path: "/v1/actions*", Times: 1, Status: http.StatusTooManyRequests,
		Header: http.Header{"Retry-After": {"7"}, "X-Ratelimit-Remaining": {"0"}}})
	f.emu.InjectFault(Fault{Path: "/v1/pages", Status: http.StatusInternalServerError, Body: `{"ok":false,"error":"boom","message":"custom"}`})
	status, body, h := f.send(http.MethodGet, "/v1/actions/runs/r_1", nil, f.token)
	if status != http.StatusTooManyRequests || h.Get("Retry-After") != "7" || h.Get("x-ratelimit-remaining") != "0" || body["error"] != "rate_limit_exceeded" {
		t.Errorf("429 fault: %d %v %v", status, body, h)
	}
	status, body, _ = f.send(http.MethodGet, "/v1/actions/runs/r_1", nil, f.token)
	if status != http.StatusNotFound {
		t.Errorf("after the fault: %d %v, want 404", status, body)
	}
	status, body, _ = f.send(http.MethodGet, "/v1/pages", nil, f.token)
	if status != 500 || body["message"] != "custom" {
		t.Errorf("custom body fault: %d %v", status, body)
	}
}

func TestFaultDrop(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.emu.InjectFault(Fault{Method: http.MethodPost, Path: "/v1/blueprints", Times: 1, Drop: true})
	def := map[string]any{"identifier": "svc", "title": "Service", "schema": map[string]any{}}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, f.url+"/v1/blueprints", strings.NewReader(`{"identifier":"svc","title":"Service","schema":{}}`))
	req.Header.Set("Authorization", "Bearer "+f.token)
	if resp, err := f.http.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("dropped request answered %d", resp.StatusCode)
	}
	if _, ok := f.emu.Blueprint("svc"); ok {
		t.Error("a dropped request changed state")
	}
	reqs := f.emu.Requests()
	if last := reqs[len(reqs)-1]; last.Status != 0 || last.Path != "/v1/blueprints" {
		t.Errorf("recorded %+v, want status 0", last)
	}
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/blueprints", def)
}

func TestFaultAfterHandling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fault  Fault
		status int // 0: the connection drops
	}{
		{"lost response", Fault{Drop: true}, 0},
		{"error after success", Fault{Status: http.StatusBadGateway}, http.StatusBadGateway},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			fault := tt.fault
			fault.Method, fault.Path, fault.Times, fault.AfterHandling = http.MethodPost, "/v1/blueprints/_team/entities", 1, true
			f.emu.InjectFault(fault)
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, f.url+"/v1/blueprints/_team/entities", strings.NewReader(`{"identifier":"platform"}`))
			req.Header.Set("Authorization", "Bearer "+f.token)
			resp, err := f.http.Do(req)
			switch {
			case tt.status == 0 && err == nil:
				resp.Body.Close()
				t.Fatalf("answered %d, want a dropped connection", resp.StatusCode)
			case tt.status != 0 && err != nil:
				t.Fatal(err)
			case tt.status != 0:
				resp.Body.Close()
				if resp.StatusCode != tt.status {
					t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
				}
			}
			if _, ok := f.emu.Entity("_team", "platform"); !ok {
				t.Error("the request was not handled for real")
			}
			// A blind retry now conflicts: the create happened.
			f.mustDo(http.StatusConflict, http.MethodPost, "/v1/blueprints/_team/entities", map[string]any{"identifier": "platform"})
		})
	}
}

func TestFaultDelay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.emu.InjectFault(Fault{Path: "/v1/blueprints", Times: 1, Delay: 40 * time.Millisecond})
	start := time.Now()
	f.mustDo(http.StatusOK, http.MethodGet, "/v1/blueprints", nil)
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("answered after %v, want at least 40ms", d)
	}

	f.emu.InjectFault(Fault{Path: "/v1/blueprints", Times: 1, Delay: 10 * time.Millisecond, Status: http.StatusGatewayTimeout})
	if status, _, _ := f.send(http.MethodGet, "/v1/blueprints", nil, f.token); status != http.StatusGatewayTimeout {
		t.Errorf("delay with status: %d, want 504", status)
	}

	// A client deadline shorter than the delay ends the request; the server does not hold it.
	f.emu.InjectFault(Fault{Path: "/v1/blueprints", Times: 1, Delay: 10 * time.Second})
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.url+"/v1/blueprints", nil)
	req.Header.Set("Authorization", "Bearer "+f.token)
	start = time.Now()
	_, err := f.http.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("cancelled request took %v", d)
	}
}

func TestFaultDelayHonoursServerSideContext(t *testing.T) {
	t.Parallel()
	emu := New()
	emu.InjectFault(Fault{Delay: time.Hour})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		emu.ServeHTTP(rec, httptest.NewRequestWithContext(ctx, http.MethodGet, "/v1/blueprints", nil))
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("ServeHTTP ignored the cancelled context")
	}
	if got := emu.Requests()[0].Status; got != 0 {
		t.Errorf("recorded status %d, want 0", got)
	}
}

func TestFaultExpireToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.emu.InjectFault(Fault{Path: "/v1/blueprints/*", Times: 1, ExpireToken: true})
	f.mustDo(http.StatusOK, http.MethodGet, "/v1/blueprints", nil) // prefix "/v1/blueprints/" does not match
	status, body, _ := f.send(http.MethodGet, "/v1/blueprints/_user", nil, f.token)
	if status != http.StatusUnauthorized || body["error"] != "unauthorized" {
		t.Fatalf("after ExpireToken: %d %v, want 401", status, body)
	}
	f.token = f.getToken()
	f.mustDo(http.StatusOK, http.MethodGet, "/v1/blueprints/_user", nil)
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		asEpoch bool
	}{{"reset in seconds", false}, {"reset as epoch", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, WithRateLimit(2, time.Minute, tt.asEpoch))
			wantReset := "60"
			if tt.asEpoch {
				wantReset = strconv.FormatInt(f.clock.Now().Add(time.Minute).Unix()+1, 10) // the window ends at .123 s: rounded up
			}
			for i, want := range []struct {
				status    int
				remaining string
			}{{200, "1"}, {200, "0"}, {429, "0"}} {
				status, body, h := f.send(http.MethodGet, "/v1/blueprints", nil, f.token)
				if status != want.status || h.Get("x-ratelimit-limit") != "2" || h.Get("x-ratelimit-remaining") != want.remaining ||
					h.Get("x-ratelimit-period") != "60" || h.Get("x-ratelimit-reset") != wantReset {
					t.Errorf("request %d: %d %v headers %v", i, status, body, h)
				}
				if status == 429 && (h.Get("Retry-After") != "60" || body["error"] != "rate_limit_exceeded") {
					t.Errorf("429: Retry-After %q body %v", h.Get("Retry-After"), body)
				}
			}
			// The token route is not rate limited, and the window resets.
			f.clock.Advance(time.Minute)
			f.mustDo(http.StatusOK, http.MethodGet, "/v1/blueprints", nil)
		})
	}
}
