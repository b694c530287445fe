package port

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A strict stand-in for Port: an httptest server that mounts the API under testPrefix (so URL-joining bugs
// fail), answers only the requests a test registered, checks each one's headers and JSON body, and fails
// the test on any other request and on registered requests that never came (like cli/cli's httpmock).

const (
	testPrefix   = "/prefix"
	testClientID = "client-id-1"
	testSecret   = "s3cret-do-not-leak"
	testToken    = "token-1"
	testUA       = "port-roi-action/test"

	noAuth = "-" // stub.token for a request that must carry no Authorization header
)

var testCreds = Credentials{ClientID: testClientID, ClientSecret: testSecret}

// stub is one expected request and the reply to it. Each stub answers once; stubs are matched in order.
type stub struct {
	method string
	uri    string // the request-target under testPrefix, exactly as sent: escaped path and query
	body   string // the expected JSON body, compared semantically; "" expects no body
	token  string // the expected bearer token; "" means testToken, noAuth means none
	reply  func(w http.ResponseWriter, r *http.Request)
}

type stubServer struct {
	t   *testing.T
	URL string // the base URL for New, prefix included

	mu    sync.Mutex
	stubs []*stub
	used  []bool
}

func newStubServer(t *testing.T, stubs ...stub) *stubServer {
	t.Helper()
	s := &stubServer{t: t}
	s.register(stubs...)
	srv := httptest.NewServer(s)
	s.URL = srv.URL + testPrefix
	t.Cleanup(func() {
		srv.Close()
		s.verify()
	})
	return s
}

func (s *stubServer) register(stubs ...stub) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range stubs {
		s.stubs = append(s.stubs, &stubs[i])
		s.used = append(s.used, false)
	}
}

// client returns a Client for s with test defaults (tiny retry waits), then opts.
func (s *stubServer) client(t *testing.T, opts ...Option) *Client {
	t.Helper()
	all := append([]Option{WithUserAgent(testUA), WithRetries(3, time.Millisecond, 5*time.Millisecond)}, opts...)
	c, err := New(s.URL, testCreds, all...)
	if err != nil {
		t.Fatalf("New() error = %v", err)
	}
	return c
}

func (s *stubServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	uri, ok := strings.CutPrefix(r.RequestURI, testPrefix+"/")
	if !ok {
		s.t.Errorf("request outside the API prefix %q: %s %s", testPrefix, r.Method, r.RequestURI)
		http.Error(w, `{"ok":false,"error":"outside_prefix"}`, http.StatusTeapot)
		return
	}
	uri = "/" + uri
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.t.Errorf("%s %s: read body: %v", r.Method, uri, err)
	}

	s.mu.Lock()
	var st *stub
	for i, candidate := range s.stubs {
		if !s.used[i] && candidate.method == r.Method && candidate.uri == uri {
			st, s.used[i] = candidate, true
			break
		}
	}
	s.mu.Unlock()
	if st == nil {
		s.t.Errorf("unexpected request: %s %s", r.Method, uri)
		http.Error(w, `{"ok":false,"error":"unexpected_request"}`, http.StatusTeapot)
		return
	}

	s.checkRequest(st, r, uri, body)
	st.reply(w, r)
}

func (s *stubServer) checkRequest(st *stub, r *http.Request, uri string, body []byte) {
	t := s.t
	where := r.Method + " " + uri
	if got := r.Header.Get("User-Agent"); got != testUA {
		t.Errorf("%s: User-Agent = %q, want %q", where, got, testUA)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("%s: Accept = %q, want application/json", where, got)
	}
	wantAuth := "Bearer " + testToken
	switch st.token {
	case noAuth:
		wantAuth = ""
	case "":
	default:
		wantAuth = "Bearer " + st.token
	}
	if got := r.Header.Get("Authorization"); got != wantAuth {
		t.Errorf("%s: Authorization = %q, want %q", where, got, wantAuth)
	}
	if st.body == "" {
		if len(body) != 0 || r.Header.Get("Content-Type") != "" {
			t.Errorf("%s: got a body (%d bytes, Content-Type %q), want none", where, len(body), r.Header.Get("Content-Type"))
		}
		return
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("%s: Content-Type = %q, want application/json", where, got)
	}
	for _, esc := range []string{`\u003c`, `\u003e`, `\u0026`} {
		if bytes.Contains(body, []byte(esc)) {
			t.Errorf("%s: body is HTML-escaped (%s): %s", where, esc, body)
		}
	}
	var got, want any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Errorf("%s: body is not JSON: %v", where, err)
		return
	}
	if err := json.Unmarshal([]byte(st.body), &want); err != nil {
		t.Fatalf("%s: the stub's expected body is not JSON: %v", where, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("%s: body mismatch (-want +got):\n%s", where, diff)
	}
}

func (s *stubServer) verify() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, st := range s.stubs {
		if !s.used[i] {
			s.t.Errorf("expected request never made: %s %s", st.method, st.uri)
		}
	}
}

// reply answers with status, a JSON body and header key/value pairs.
func reply(status int, body string, header ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

// hangUp drops the connection in the middle of the reply. (Dropping it before any byte of the reply is not
// enough: Go's transport silently repeats an idempotent request that failed that way on a reused connection.)
func hangUp(w http.ResponseWriter, _ *http.Request) {
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(fmt.Sprintf("hijack: %v", err))
	}
	_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n")
	_ = buf.Flush()
	_ = conn.Close()
}

// stall answers only when the client gives up (or after a long time).
func stall(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
	reply(http.StatusOK, `{"ok":true}`)(w, r)
}

// tokenStub expects a token request with the test credentials and hands out token.
func tokenStub(token string, expiresIn int) stub {
	return stub{
		method: http.MethodPost, uri: "/v1/auth/access_token", token: noAuth,
		body:  fmt.Sprintf(`{"clientId":%q,"clientSecret":%q}`, testClientID, testSecret),
		reply: reply(http.StatusOK, fmt.Sprintf(`{"ok":true,"accessToken":%q,"expiresIn":%d,"tokenType":"Bearer"}`, token, expiresIn)),
	}
}

// getAction expects GET /v1/actions/a with token (default testToken) and gives reply.
func getAction(token string, r func(http.ResponseWriter, *http.Request)) stub {
	return stub{method: http.MethodGet, uri: "/v1/actions/a", token: token, reply: r}
}

const actionOK = `{"ok":true,"action":{"identifier":"a"}}`

// debugLog collects debug lines.
type debugLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *debugLog) add(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, msg)
}

func (l *debugLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func (l *debugLog) Lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}
