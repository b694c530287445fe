package portemu

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestAccessToken(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		body       any
		wantStatus int
		wantError  string
	}{
		{"valid", map[string]any{"clientId": DemoClientID, "clientSecret": DemoClientSecret}, http.StatusOK, ""},
		{"wrong secret", map[string]any{"clientId": DemoClientID, "clientSecret": "nope"}, http.StatusUnauthorized, "unauthorized"},
		{"wrong id", map[string]any{"clientId": "x", "clientSecret": DemoClientSecret}, http.StatusUnauthorized, "unauthorized"},
		{"missing secret", map[string]any{"clientId": DemoClientID}, http.StatusUnprocessableEntity, "invalid_request"},
		{"extra field", map[string]any{"clientId": DemoClientID, "clientSecret": DemoClientSecret, "scope": "all"}, http.StatusUnprocessableEntity, "invalid_request"},
		{"not JSON", []byte("clientId=x"), http.StatusUnprocessableEntity, "invalid_request"},
		{"empty body", []byte(""), http.StatusUnprocessableEntity, "invalid_request"},
	}
	f := newFixture(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body, _ := f.send(http.MethodPost, "/v1/auth/access_token", tt.body, "")
			if status != tt.wantStatus {
				t.Fatalf("status = %d %v, want %d", status, body, tt.wantStatus)
			}
			if tt.wantError != "" {
				if diff := cmp.Diff(errBody(tt.wantError), withoutMessage(body)); diff != "" || body["message"] == "" {
					t.Errorf("error body %v (-want +got):\n%s", body, diff)
				}
				return
			}
			if body["tokenType"] != "Bearer" || body["expiresIn"] != 10800.0 || body["accessToken"] != f.token || body["ok"] != true {
				t.Errorf("token body = %v, want the fixture's token with expiresIn 10800", body)
			}
		})
	}
}

func TestAccessTokenReuseAndExpiry(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithTokenTTL(time.Hour), WithCredentials("id", "secret"))
	creds := map[string]any{"clientId": "id", "clientSecret": "secret"}
	f.clock.Advance(20 * time.Minute)
	_, body, _ := f.send(http.MethodPost, "/v1/auth/access_token", creds, "")
	if body["accessToken"] != f.token || body["expiresIn"] != 2400.0 {
		t.Errorf("second token = %v, want the same token with 2400 s left", body)
	}
	f.mustDo(http.StatusOK, http.MethodGet, "/v1/blueprints", nil)
	f.clock.Advance(40 * time.Minute)
	status, body, _ := f.send(http.MethodGet, "/v1/blueprints", nil, f.token)
	if status != http.StatusUnauthorized || body["error"] != "unauthorized" {
		t.Errorf("expired token: %d %v, want 401 unauthorized", status, body)
	}
	_, body, _ = f.send(http.MethodPost, "/v1/auth/access_token", creds, "")
	if body["accessToken"] == f.token || body["expiresIn"] != 3600.0 {
		t.Errorf("token after expiry = %v, want a new one with 3600 s", body)
	}
}

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	expired := f.token
	f.emu.ExpireTokens()
	fresh := f.getToken()
	tests := []struct {
		name   string
		header string
		want   int
	}{
		{"missing", "", http.StatusUnauthorized},
		{"not bearer", "Basic " + fresh, http.StatusUnauthorized},
		{"empty bearer", "Bearer ", http.StatusUnauthorized},
		{"unknown token", "Bearer not-a-token", http.StatusUnauthorized},
		{"expired token", "Bearer " + expired, http.StatusUnauthorized},
		{"valid", "Bearer " + fresh, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.url+"/v1/actions", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := f.http.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	for _, r := range f.emu.Requests() {
		if bytes.Contains(r.Body, []byte(fresh)) || strings.Contains(r.RawQuery, fresh) {
			t.Errorf("request %s %s records the token", r.Method, r.Path)
		}
	}
}

func TestRouting(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/blueprints", map[string]any{
		"identifier": "svc", "title": "Service", "schema": map[string]any{"properties": map[string]any{}},
	})
	tests := []struct {
		name       string
		method     string
		path       string
		body       any
		wantStatus int
		wantError  string
	}{
		{"unknown route", http.MethodGet, "/v1/nope", nil, http.StatusNotFound, "not_found"},
		{"unknown method", http.MethodDelete, "/v1/blueprints", nil, http.StatusNotFound, "not_found"},
		{"unknown version", http.MethodGet, "/v2/blueprints", nil, http.StatusNotFound, "not_found"},
		{"unknown query parameter", http.MethodGet, "/v1/blueprints/svc/entities?foo=1", nil, http.StatusUnprocessableEntity, "invalid_request"},
		{"malformed boolean", http.MethodPost, "/v1/blueprints/svc/entities?upsert=yes", map[string]any{"identifier": "a"}, http.StatusUnprocessableEntity, "invalid_request"},
		{"repeated single parameter", http.MethodPost, "/v1/blueprints/svc/entities?upsert=true&upsert=false", map[string]any{"identifier": "a"}, http.StatusUnprocessableEntity, "invalid_request"},
		{"malformed integer", http.MethodGet, "/v1/actions/runs?limit=ten", nil, http.StatusUnprocessableEntity, "invalid_request"},
		{"body too large", http.MethodPost, "/v1/blueprints/svc/entities", bytes.Repeat([]byte(" "), maxBodyBytes+1), http.StatusRequestEntityTooLarge, "body_too_large"},
		{"body is an array", http.MethodPost, "/v1/blueprints/svc/entities", []byte("[]"), http.StatusUnprocessableEntity, "invalid_request"},
		{"trailing garbage", http.MethodPost, "/v1/blueprints/svc/entities", []byte(`{"identifier":"a"} {}`), http.StatusUnprocessableEntity, "invalid_request"},
		{"percent-encoded slash in identifier", http.MethodPost, "/v1/blueprints/svc/entities", map[string]any{"identifier": "a/b"}, http.StatusCreated, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, h := f.send(tt.method, tt.path, tt.body, f.token)
			if status != tt.wantStatus {
				t.Fatalf("status = %d %v, want %d", status, body, tt.wantStatus)
			}
			if h.Get("X-Trace-Id") == "" {
				t.Error("no X-Trace-Id header")
			}
			if tt.wantError != "" {
				if diff := cmp.Diff(errBody(tt.wantError), withoutMessage(body)); diff != "" {
					t.Errorf("error body (-want +got):\n%s", diff)
				}
			}
		})
	}
	// The entity created with "/" in its identifier is addressed with %2F.
	got := f.mustDo(http.StatusOK, http.MethodGet, "/v1/blueprints/svc/entities/a%2Fb", nil)
	if id := got["entity"].(map[string]any)["identifier"]; id != "a/b" {
		t.Errorf("GET a%%2Fb = %v, want entity a/b", id)
	}
	f.mustDo(http.StatusNotFound, http.MethodGet, "/v1/blueprints/svc/entities/a/b", nil)
}

func TestRequestsRecorded(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.emu.ResetRequests()
	f.do(http.MethodGet, "/v1/blueprints/_user/entities?include=identifier", nil)
	f.do(http.MethodPost, "/v1/actions", map[string]any{"identifier": "x"})
	want := []Request{
		{Method: http.MethodGet, Path: "/v1/blueprints/_user/entities", RawQuery: "include=identifier", Status: http.StatusOK},
		{Method: http.MethodPost, Path: "/v1/actions", Body: []byte(`{"identifier":"x"}`), Status: http.StatusUnprocessableEntity},
	}
	if diff := cmp.Diff(want, f.emu.Requests(), cmp.Comparer(func(a, b []byte) bool { return bytes.Equal(a, b) })); diff != "" {
		t.Errorf("Requests() (-want +got):\n%s", diff)
	}
	f.emu.ResetRequests()
	if n := len(f.emu.Requests()); n != 0 {
		t.Errorf("after ResetRequests: %d requests", n)
	}
}

func TestLatency(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithLatency(30*time.Millisecond))
	start := time.Now()
	f.mustDo(http.StatusOK, http.MethodGet, "/v1/blueprints", nil)
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("answered after %v, want at least 30ms", d)
	}
}
