// Package portemu is an in-memory emulator of Port's REST API (https://docs.port.io/api-reference/port-api),
// for tests, the demo command and local runs. It is strict like Port: unknown fields and query parameters,
// bad identifiers, missing relation targets and finished runs are rejected with Port's status codes and
// error envelope, and automations on action runs run the way Port runs them, so that the ROI guide's
// action_run bookkeeping can be exercised end to end without a Port organisation.
//
// A Server is an http.Handler; mount it on an httptest.Server (or any loopback listener). All state lives in
// the Server and is guarded by one mutex; inspection methods return deep copies.
package portemu

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/port-roi/port-roi-action/internal/jqtemplate"
)

// Default credentials and user of a Server built without WithCredentials and WithUsers.
const (
	DemoClientID     = "demo-client-id"
	DemoClientSecret = "demo-client-secret"
	DemoUser         = "demo@example.com"
)

// maxBodyBytes is Port's request body limit ("The body of all requests is limited to 1 MiB").
const maxBodyBytes = 1 << 20

// orgID is the organisation id reported in automation trigger data.
const orgID = "org_emulator"

// Option configures a Server.
type Option func(*Server)

// WithCredentials sets the client id and secret that POST /v1/auth/access_token accepts.
func WithCredentials(clientID, clientSecret string) Option {
	return func(s *Server) { s.clientID, s.clientSecret = clientID, clientSecret }
}

// WithClock sets the clock used for timestamps, token expiry, rate-limit windows and date presets.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithTokenTTL sets how long an access token lives (Port: 3 hours).
func WithTokenTTL(ttl time.Duration) Option { return func(s *Server) { s.tokenTTL = ttl } }

// WithBlueprints seeds blueprint definitions as they are, bypassing the ordering checks of the blueprint
// routes (relation and aggregation targets may come later in the list). A definition without a string
// identifier is a programming error and panics.
func WithBlueprints(defs ...map[string]any) Option {
	return func(s *Server) { s.seedBlueprints = append(s.seedBlueprints, defs...) }
}

// WithUsers seeds _user entities, one per email. The first user is the one every access token acts as.
// Without this option the organisation has a single user, DemoUser.
func WithUsers(emails ...string) Option {
	return func(s *Server) { s.users = append([]string(nil), emails...) }
}

// WithoutAIAgents removes the _ai_agent system blueprint, like an organisation without Port AI.
func WithoutAIAgents() Option { return func(s *Server) { s.aiAgents = false } }

// WithLatency makes the server wait d before answering every request (the wait ends early when the client
// gives up).
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// WithRateLimit limits authenticated requests to limit per period (a fixed window). Every authenticated
// answer carries x-ratelimit-limit, -remaining, -reset and -period; x-ratelimit-reset is the number of
// seconds until the window resets, or its UTC epoch second when resetAsEpoch is set (Port's docs say epoch,
// Port's Terraform provider reads seconds; clients must handle both). Requests over the limit get 429 with
// Retry-After.
func WithRateLimit(limit int, period time.Duration, resetAsEpoch bool) Option {
	return func(s *Server) { s.rate = &rateLimit{limit: limit, period: period, asEpoch: resetAsEpoch} }
}

// Server is an in-memory Port organisation served over HTTP.
type Server struct {
	// Configuration, fixed after New.
	clientID, clientSecret string
	now                    func() time.Time
	tokenTTL               time.Duration
	latency                time.Duration
	aiAgents               bool
	users                  []string
	seedBlueprints         []map[string]any
	routes                 []route
	jq                     *jqtemplate.Renderer

	mu         sync.Mutex
	rate       *rateLimit
	tokens     map[string]time.Time // access token → expiry
	issued     []string             // every token handed out, for tests that look for leaks
	current    string               // the active token handed out for the credentials
	blueprints map[string]*blueprint
	entities   map[string]map[string]*entity // blueprint → identifier → entity
	actions    map[string]*action
	runs       map[string]*run
	runLogs    map[string][]*runLog
	pages      map[string]*page
	requests   []Request
	faults     []*faultState
	seq        int64 // creation counter, orders runs created within the same clock tick
	chain      int   // depth of automations currently firing other automations
}

// New returns an emulated organisation holding the system blueprints (_user, _team and, unless
// WithoutAIAgents, _ai_agent), the seeded users and the seeded blueprints.
func New(opts ...Option) *Server {
	s := &Server{
		clientID:     DemoClientID,
		clientSecret: DemoClientSecret,
		now:          time.Now,
		tokenTTL:     3 * time.Hour,
		aiAgents:     true,
		users:        []string{DemoUser},
		jq:           jqtemplate.NewRenderer(),
		tokens:       make(map[string]time.Time),
		blueprints:   make(map[string]*blueprint),
		entities:     make(map[string]map[string]*entity),
		actions:      make(map[string]*action),
		runs:         make(map[string]*run),
		runLogs:      make(map[string][]*runLog),
		pages:        make(map[string]*page),
	}
	for _, opt := range opts {
		opt(s)
	}
	s.routes = s.routeTable()
	s.seed()
	return s
}

// user is the user every access token acts as.
func (s *Server) user() string {
	if len(s.users) == 0 {
		return DemoUser
	}
	return s.users[0]
}

// Request is one request the server received.
type Request struct {
	Method   string
	Path     string // the escaped path, as sent
	RawQuery string
	Body     []byte
	Status   int // the status answered, 0 when the connection was dropped or the client went away
}

// Requests returns every request received so far, in arrival order. The Authorization header is never
// recorded.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		r.Body = bytes.Clone(r.Body)
		out[i] = r
	}
	return out
}

// ResetRequests forgets the recorded requests.
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// response is a complete answer, built before anything is written so that a fault can discard it.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (resp *response) write(w http.ResponseWriter) {
	for k, vs := range resp.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.status)
	_, _ = w.Write(resp.body)
}

// ServeHTTP answers one request: record it, wait the configured latency, apply the first matching fault,
// then route it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, readErr := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	path := r.URL.EscapedPath()

	s.mu.Lock()
	idx := len(s.requests)
	s.requests = append(s.requests, Request{Method: r.Method, Path: path, RawQuery: r.URL.RawQuery, Body: bytes.Clone(body)})
	s.mu.Unlock()
	setStatus := func(status int) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if idx < len(s.requests) { // ResetRequests may have run meanwhile
			s.requests[idx].Status = status
		}
	}

	if !sleepCtx(ctx, s.latency) {
		return
	}
	if readErr != nil {
		resp := s.errorResponse(&Error{Status: http.StatusBadRequest, Code: "invalid_request", Message: "cannot read the request body: " + readErr.Error()})
		resp.write(w)
		setStatus(resp.status)
		return
	}

	f := s.matchFault(r.Method, path)
	if f == nil {
		resp := s.handle(ctx, r, body)
		resp.write(w)
		setStatus(resp.status)
		return
	}
	status := s.applyFault(ctx, w, r, body, f)
	setStatus(status)
}

// handle routes a request and builds its answer.
func (s *Server) handle(ctx context.Context, r *http.Request, body []byte) *response {
	if len(body) > maxBodyBytes {
		return s.errorResponse(&Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "Request body is too large (limit is 1MiB)"})
	}
	segs, err := splitPath(r.URL.EscapedPath())
	if err != nil {
		return s.errorResponse(notFound("route %s %s not found", r.Method, r.URL.EscapedPath()))
	}
	rt, params := s.match(r.Method, segs)
	if rt == nil {
		return s.errorResponse(notFound("route %s %s not found", r.Method, r.URL.EscapedPath()))
	}

	c := &call{ctx: ctx, params: params, body: body, header: http.Header{}}
	if rt.auth {
		if err := s.authenticate(r.Header.Get("Authorization")); err != nil {
			return s.errorResponse(err)
		}
		c.user = s.user()
		if limited := s.applyRateLimit(c.header); limited != nil {
			resp := s.errorResponse(limited)
			mergeHeader(resp.header, c.header)
			return resp
		}
	}
	query, qerr := checkQuery(r.URL.RawQuery, rt.query)
	if qerr != nil {
		resp := s.errorResponse(qerr)
		mergeHeader(resp.header, c.header)
		return resp
	}
	c.query = query

	s.mu.Lock()
	status, out, herr := rt.handle(c)
	s.mu.Unlock()
	if herr != nil {
		resp := s.errorResponse(herr)
		mergeHeader(resp.header, c.header)
		return resp
	}
	resp := s.jsonResponse(status, out)
	mergeHeader(resp.header, c.header)
	return resp
}

func mergeHeader(dst, src http.Header) {
	for k, vs := range src {
		dst[k] = append([]string(nil), vs...)
	}
}

func (s *Server) jsonResponse(status int, v any) *response {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return s.errorResponse(&Error{Status: http.StatusInternalServerError, Code: "internal_error", Message: "encode response: " + err.Error()})
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Trace-Id", newID(""))
	return &response{status: status, header: h, body: buf.Bytes()}
}

func (s *Server) errorResponse(err error) *response {
	e := asError(err)
	return s.jsonResponse(e.Status, map[string]any{"ok": false, "error": e.Code, "message": e.Message})
}

// call is one routed request as its handler sees it. Handlers run with s.mu held.
type call struct {
	ctx    context.Context
	params []string // the path parameters, percent-decoded
	query  url.Values
	body   []byte
	user   string
	header http.Header // extra response headers
}

// object decodes the body as one JSON object.
func (c *call) object() (map[string]any, error) {
	if len(bytes.TrimSpace(c.body)) == 0 {
		return nil, invalidRequest("the request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, invalidRequest("the request body is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, invalidRequest("the request body holds more than one JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalidRequest("the request body must be a JSON object")
	}
	return m, nil
}

// flag reads a boolean query parameter (already validated by checkQuery).
func (c *call) flag(name string) bool { return c.query.Get(name) == "true" }

// queryKind is how a query parameter is validated.
type queryKind int

const (
	qString queryKind = iota // one value
	qList                    // repeated values (form style, explode)
	qBool                    // "true" or "false"
	qInt                     // a decimal integer
)

// checkQuery rejects unknown parameters, repeated single-valued ones and malformed booleans and integers.
func checkQuery(raw string, allowed map[string]queryKind) (url.Values, error) {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, invalidRequest("malformed query string: %v", err)
	}
	for k, vs := range q {
		kind, ok := allowed[k]
		if !ok {
			return nil, invalidRequest("querystring must NOT have additional properties: %q is not a known parameter", k)
		}
		if kind != qList && len(vs) > 1 {
			return nil, invalidRequest("querystring/%s must not be repeated", k)
		}
		switch kind {
		case qBool:
			if vs[0] != "true" && vs[0] != "false" {
				return nil, invalidRequest("querystring/%s must be boolean, got %q", k, vs[0])
			}
		case qInt:
			var n int
			if _, err := fmt.Sscanf(vs[0], "%d", &n); err != nil || fmt.Sprint(n) != vs[0] {
				return nil, invalidRequest("querystring/%s must be an integer, got %q", k, vs[0])
			}
		}
	}
	return q, nil
}

// route is one method and path pattern. A pattern segment "{}" matches any one segment.
type route struct {
	method  string
	pattern []string
	auth    bool
	query   map[string]queryKind
	handle  func(c *call) (int, any, error)
}

func (s *Server) routeTable() []route {
	p := func(path string) []string { return strings.Split(strings.Trim(path, "/"), "/") }
	entityRead := map[string]queryKind{
		"exclude_calculated_properties": qBool, "include": qList, "exclude": qList, "attach_title_to_relation": qBool,
		"attach_identifier_to_title_mirror_properties": qBool, "allow_partial_results": qBool,
	}
	entityWrite := map[string]queryKind{
		"upsert": qBool, "merge": qBool, "validation_only": qBool, "create_missing_related_entities": qBool, "run_id": qString,
	}
	entityPatch := map[string]queryKind{"create_missing_related_entities": qBool, "run_id": qString}
	version := map[string]queryKind{"version": qString}
	return []route{
		{http.MethodPost, p("/v1/auth/access_token"), false, nil, s.handleToken},

		{http.MethodGet, p("/v1/actions/runs"), true, map[string]queryKind{
			"entity": qString, "blueprint": qString, "active": qBool, "user_email": qString, "user_id": qString,
			"limit": qInt, "exclude": qList, "external_run_id": qString, "version": qString, "action": qString, "source": qList,
		}, s.handleListRuns},
		{http.MethodGet, p("/v1/actions/runs/{}"), true, version, s.handleGetRun},
		{http.MethodPatch, p("/v1/actions/runs/{}"), true, version, s.handlePatchRun},
		{http.MethodPatch, p("/v1/actions/runs/{}/approval"), true, nil, s.handleApproval},
		{http.MethodPost, p("/v1/actions/runs/{}/logs"), true, nil, s.handlePostLog},
		{http.MethodGet, p("/v1/actions/runs/{}/logs"), true, map[string]queryKind{"limit": qInt, "offset": qInt}, s.handleGetLogs},

		{http.MethodGet, p("/v1/actions"), true, map[string]queryKind{
			"action_identifier": qList, "blueprint_identifier": qList, "operation": qList, "published": qBool,
			"trigger_type": qString, "trigger_event": qList, "trigger_event_action_identifier": qList, "version": qString,
		}, s.handleListActions},
		{http.MethodPost, p("/v1/actions"), true, nil, s.handleCreateAction},
		{http.MethodGet, p("/v1/actions/{}"), true, version, s.handleGetAction},
		{http.MethodPut, p("/v1/actions/{}"), true, nil, s.handlePutAction},
		{http.MethodDelete, p("/v1/actions/{}"), true, nil, s.handleDeleteAction},
		{http.MethodPost, p("/v1/actions/{}/runs"), true, map[string]queryKind{"run_as": qString}, s.handleCreateRun},

		{http.MethodGet, p("/v1/blueprints"), true, nil, s.handleListBlueprints},
		{http.MethodPost, p("/v1/blueprints"), true, map[string]queryKind{"create_catalog_page": qBool}, s.handleCreateBlueprint},
		{http.MethodGet, p("/v1/blueprints/{}"), true, map[string]queryKind{"exclude_calculated_properties": qBool}, s.handleGetBlueprint},
		{http.MethodPut, p("/v1/blueprints/{}"), true, nil, s.handlePutBlueprint},
		{http.MethodPatch, p("/v1/blueprints/{}"), true, nil, s.handlePatchBlueprint},
		{http.MethodDelete, p("/v1/blueprints/{}"), true, map[string]queryKind{"delete_actions": qBool}, s.handleDeleteBlueprint},

		{http.MethodGet, p("/v1/blueprints/{}/entities"), true, entityRead, s.handleListEntities},
		{http.MethodPost, p("/v1/blueprints/{}/entities"), true, entityWrite, s.handleUpsertEntity},
		{http.MethodPost, p("/v1/blueprints/{}/entities/search"), true, nil, s.handleSearchEntities},
		{http.MethodPost, p("/v1/blueprints/{}/entities/bulk"), true, entityWrite, s.handleBulkEntities},
		{http.MethodGet, p("/v1/blueprints/{}/entities-count"), true, nil, s.handleCountEntities},
		{http.MethodGet, p("/v1/blueprints/{}/entities/{}"), true, entityRead, s.handleGetEntity},
		{http.MethodPatch, p("/v1/blueprints/{}/entities/{}"), true, entityPatch, s.handlePatchEntity},
		{http.MethodPut, p("/v1/blueprints/{}/entities/{}"), true, entityPatch, s.handlePutEntity},
		{http.MethodDelete, p("/v1/blueprints/{}/entities/{}"), true, map[string]queryKind{"delete_dependents": qBool, "run_id": qString}, s.handleDeleteEntity},

		{http.MethodGet, p("/v1/pages"), true, map[string]queryKind{"compact": qBool}, s.handleListPages},
		{http.MethodPost, p("/v1/pages"), true, nil, s.handleCreatePage},
		{http.MethodGet, p("/v1/pages/{}"), true, nil, s.handleGetPage},
		{http.MethodPatch, p("/v1/pages/{}"), true, nil, s.handlePatchPage},
		{http.MethodPut, p("/v1/pages/{}"), true, nil, s.handlePutPage},
		{http.MethodDelete, p("/v1/pages/{}"), true, nil, s.handleDeletePage},
	}
}

// splitPath splits an escaped path into percent-decoded segments, so "%2F" inside an identifier stays part
// of its segment.
func splitPath(escaped string) ([]string, error) {
	raw := strings.Split(strings.Trim(escaped, "/"), "/")
	out := make([]string, len(raw))
	for i, seg := range raw {
		dec, err := url.PathUnescape(seg)
		if err != nil {
			return nil, err
		}
		out[i] = dec
	}
	return out, nil
}

// match returns the first route whose method and pattern fit. A path that fits only with another method is
// answered 404, like an unknown route.
func (s *Server) match(method string, segs []string) (*route, []string) {
	for i := range s.routes {
		rt := &s.routes[i]
		if rt.method != method || len(rt.pattern) != len(segs) {
			continue
		}
		var params []string
		ok := true
		for j, p := range rt.pattern {
			switch {
			case p == "{}":
				if segs[j] == "" {
					ok = false
				}
				params = append(params, segs[j])
			case p != segs[j]:
				ok = false
			}
			if !ok {
				break
			}
		}
		if ok {
			return rt, params
		}
	}
	return nil, nil
}

// sleepCtx waits d; it reports false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// newID returns prefix followed by 16 random hex digits.
func newID(prefix string) string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return prefix + hex.EncodeToString(b[:])
}

// timestamp formats t like Port: RFC 3339 in UTC with milliseconds.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
