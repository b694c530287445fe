package port

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func ptr[T any](v T) *T { return &v }

// TestClient_methods checks every method's request (method, escaped path, query, headers, exact JSON body)
// and how it decodes the response.
func TestClient_methods(t *testing.T) {
	t.Parallel()
	created := time.Date(2026, 3, 2, 10, 0, 0, 123e6, time.UTC)
	run := func(id, status string) Run {
		r := Run{ID: id, Status: status, Properties: map[string]any{"x": 1.0}, CreatedAt: "2026-03-02T10:00:00.123Z"}
		r.Action.Identifier = "deploy"
		return r
	}
	const runJSON = `{"id":"r_1","status":"%s","action":{"identifier":"deploy"},"properties":{"x":1},"createdAt":"2026-03-02T10:00:00.123Z"}`
	runBody := func(status string) string {
		return `{"ok":true,"run":` + fmt.Sprintf(runJSON, status) + `}`
	}

	tests := []struct {
		name  string
		stubs []stub
		call  func(ctx context.Context, c *Client) (any, error)
		want  any
	}{
		{
			name: "GetAction",
			stubs: []stub{{method: "GET", uri: "/v1/actions/deploy",
				reply: reply(200, `{"ok":true,"action":{"identifier":"deploy","title":"Deploy","createdAt":"2026-01-01T00:00:00Z"}}`)}},
			call: func(ctx context.Context, c *Client) (any, error) { return c.GetAction(ctx, "deploy") },
			want: Object{"identifier": "deploy", "title": "Deploy", "createdAt": "2026-01-01T00:00:00Z"},
		},
		{
			name: "ListActions with repeated keys",
			stubs: []stub{{method: "GET",
				uri:   "/v1/actions?action_identifier=a&action_identifier=b&published=true&trigger_event=ANY_RUN_CHANGE&trigger_type=automation&version=v2",
				reply: reply(200, `{"ok":true,"actions":[{"identifier":"a"},{"identifier":"b"}]}`)}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.ListActions(ctx, ListActionsQuery{
					ActionIdentifiers: []string{"a", "b"}, TriggerType: "automation",
					TriggerEvents: []string{"ANY_RUN_CHANGE"}, Published: ptr(true),
				})
			},
			want: []Object{{"identifier": "a"}, {"identifier": "b"}},
		},
		{
			name:  "ListActions without filters",
			stubs: []stub{{method: "GET", uri: "/v1/actions?version=v2", reply: reply(200, `{"ok":true,"actions":[]}`)}},
			call:  func(ctx context.Context, c *Client) (any, error) { return c.ListActions(ctx, ListActionsQuery{}) },
			want:  []Object{},
		},
		{
			name: "CreateAction strips metadata and does not escape HTML",
			stubs: []stub{{method: "POST", uri: "/v1/actions",
				body:  `{"identifier":"deploy","title":"Deploy <prod> & more","trigger":{"type":"self-service"},"invocationMethod":{"type":"WEBHOOK","url":"https://x.example/?a=1&b=2"}}`,
				reply: reply(201, `{"ok":true,"action":{"identifier":"deploy","createdAt":"2026-01-01T00:00:00Z"}}`)}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateAction(ctx, Object{
					"identifier": "deploy", "title": "Deploy <prod> & more", "trigger": Object{"type": "self-service"},
					"invocationMethod": Object{"type": "WEBHOOK", "url": "https://x.example/?a=1&b=2"},
					"createdAt":        "2025-01-01T00:00:00Z", "createdBy": "me", "id": "action_123",
				})
			},
			want: Object{"identifier": "deploy", "createdAt": "2026-01-01T00:00:00Z"},
		},
		{
			name: "UpdateAction is a PUT of the stripped definition",
			stubs: []stub{{method: "PUT", uri: "/v1/actions/deploy",
				body:  `{"identifier":"deploy","trigger":{"type":"automation"},"invocationMethod":{"type":"KAFKA"},"publish":true}`,
				reply: reply(200, `{"ok":true,"action":{"identifier":"deploy","publish":true}}`)}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UpdateAction(ctx, "deploy", Object{
					"identifier": "deploy", "trigger": Object{"type": "automation"},
					"invocationMethod": Object{"type": "KAFKA"}, "publish": true, "updatedAt": "x", "updatedBy": "y",
				})
			},
			want: Object{"identifier": "deploy", "publish": true},
		},
		{
			name:  "DeleteAction",
			stubs: []stub{{method: "DELETE", uri: "/v1/actions/deploy", reply: reply(200, `{"ok":true}`)}},
			call:  func(ctx context.Context, c *Client) (any, error) { return nil, c.DeleteAction(ctx, "deploy") },
		},
		{
			name: "CreateRun",
			stubs: []stub{{method: "POST", uri: "/v1/actions/deploy/runs", body: `{"properties":{"x":1}}`,
				reply: reply(202, runBody("IN_PROGRESS"))}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateRun(ctx, "deploy", map[string]any{"x": 1})
			},
			want: run("r_1", RunInProgress),
		},
		{
			name: "CreateRun sends empty properties",
			stubs: []stub{{method: "POST", uri: "/v1/actions/deploy/runs", body: `{"properties":{}}`,
				reply: reply(202, runBody("IN_PROGRESS"))}},
			call: func(ctx context.Context, c *Client) (any, error) { return c.CreateRun(ctx, "deploy", nil) },
			want: run("r_1", RunInProgress),
		},
		{
			name:  "GetRun asks for v2",
			stubs: []stub{{method: "GET", uri: "/v1/actions/runs/r_1?version=v2", reply: reply(200, runBody("SUCCESS"))}},
			call:  func(ctx context.Context, c *Client) (any, error) { return c.GetRun(ctx, "r_1") },
			want:  run("r_1", RunSuccess),
		},
		{
			name: "PatchRun",
			stubs: []stub{{method: "PATCH", uri: "/v1/actions/runs/r_1?version=v2",
				body:  `{"status":"FAILURE","statusLabel":"tests failed","link":"https://github.com/o/r/actions/runs/1"}`,
				reply: reply(200, runBody("FAILURE"))}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.PatchRun(ctx, "r_1", RunPatch{Status: RunFailure, StatusLabel: "tests failed", Link: "https://github.com/o/r/actions/runs/1"})
			},
			want: run("r_1", RunFailure),
		},
		{
			name: "ApproveRun approve",
			stubs: []stub{{method: "PATCH", uri: "/v1/actions/runs/r_1/approval", body: `{"status":"APPROVE","description":"looks good"}`,
				reply: reply(201, runBody("IN_PROGRESS"))}},
			call: func(ctx context.Context, c *Client) (any, error) { return c.ApproveRun(ctx, "r_1", true, "looks good") },
			want: run("r_1", RunInProgress),
		},
		{
			name: "ApproveRun decline without description",
			stubs: []stub{{method: "PATCH", uri: "/v1/actions/runs/r_1/approval", body: `{"status":"DECLINE"}`,
				reply: reply(201, runBody("DECLINED"))}},
			call: func(ctx context.Context, c *Client) (any, error) { return c.ApproveRun(ctx, "r_1", false, "") },
			want: run("r_1", RunDeclined),
		},
		{
			name: "AddRunLog",
			stubs: []stub{{method: "POST", uri: "/v1/actions/runs/r_1/logs", body: `{"message":"done <ok>","terminationStatus":"SUCCESS"}`,
				reply: reply(201, `{"ok":true,"runLog":{"id":"l1","runId":"r_1","message":"done <ok>"}}`)}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.AddRunLog(ctx, "r_1", RunLog{Message: "done <ok>", TerminationStatus: RunSuccess})
			},
		},
		{
			name: "GetEntity",
			stubs: []stub{{method: "GET", uri: "/v1/blueprints/service/entities/svc-a",
				reply: reply(200, `{"ok":true,"entity":{"identifier":"svc-a","title":"A","blueprint":"service","team":["t1"],"properties":{"n":2},"relations":{"x":null},"createdAt":"2026-03-02T10:00:00.123Z"}}`)}},
			call: func(ctx context.Context, c *Client) (any, error) { return c.GetEntity(ctx, "service", "svc-a") },
			want: Entity{Identifier: "svc-a", Title: "A", Blueprint: "service", Team: []any{"t1"},
				Properties: map[string]any{"n": 2.0}, Relations: map[string]any{"x": nil}, CreatedAt: &created},
		},
		{
			name: "UpsertEntity sends no response-only fields",
			stubs: []stub{{method: "POST", uri: "/v1/blueprints/service/entities?upsert=true",
				body:  `{"identifier":"svc-a","title":"A","properties":{"n":2},"relations":{"owner":null}}`,
				reply: reply(201, `{"ok":true,"entity":{"identifier":"svc-a","title":"A","blueprint":"service","properties":{"n":2}}}`)}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UpsertEntity(ctx, "service", Entity{Identifier: "svc-a", Title: "A", Blueprint: "service", CreatedAt: &created,
					Properties: map[string]any{"n": 2}, Relations: map[string]any{"owner": nil}}, UpsertOptions{})
			},
			want: Entity{Identifier: "svc-a", Title: "A", Blueprint: "service", Properties: map[string]any{"n": 2.0}},
		},
		{
			name: "UpsertEntity with every option",
			stubs: []stub{{method: "POST",
				uri:   "/v1/blueprints/service/entities?create_missing_related_entities=true&merge=true&run_id=r_1&upsert=true",
				body:  `{"identifier":"svc-a","team":"platform"}`,
				reply: reply(201, `{"ok":true,"entity":{"identifier":"svc-a","team":"platform"}}`)}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UpsertEntity(ctx, "service", Entity{Identifier: "svc-a", Team: "platform"},
					UpsertOptions{Merge: true, RunID: "r_1", CreateMissingRelated: true})
			},
			want: Entity{Identifier: "svc-a", Team: "platform"},
		},
		{
			name: "BulkUpsertEntities 200",
			stubs: []stub{{method: "POST", uri: "/v1/blueprints/service/entities/bulk?merge=true&upsert=true",
				body:  `{"entities":[{"identifier":"a"},{"identifier":"b","title":"B"}]}`,
				reply: reply(200, `{"ok":true,"entities":[{"identifier":"a","index":0,"created":true},{"identifier":"b","index":1,"created":false}],"errors":[]}`)}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.BulkUpsertEntities(ctx, "service", []Entity{{Identifier: "a"}, {Identifier: "b", Title: "B", Blueprint: "service"}},
					UpsertOptions{Merge: true})
			},
			want: BulkResult{
				Entities: []BulkEntity{{Identifier: "a", Index: 0, Created: true}, {Identifier: "b", Index: 1}},
				Errors:   []BulkItemError{},
			},
		},
		{
			name: "BulkUpsertEntities 207 reports per-item errors",
			stubs: []stub{{method: "POST", uri: "/v1/blueprints/service/entities/bulk?upsert=true",
				body: `{"entities":[{"identifier":"a"},{"identifier":"b"}]}`,
				reply: reply(207, `{"ok":false,"entities":[{"identifier":"a","index":0,"created":true}],`+
					`"errors":[{"identifier":"b","index":1,"statusCode":404,"error":"not_found","message":"related entity missing"}]}`)}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.BulkUpsertEntities(ctx, "service", []Entity{{Identifier: "a"}, {Identifier: "b"}}, UpsertOptions{})
			},
			want: BulkResult{
				Entities: []BulkEntity{{Identifier: "a", Created: true}},
				Errors:   []BulkItemError{{Identifier: "b", Index: 1, StatusCode: 404, Code: "not_found", Message: "related entity missing"}},
			},
		},
		{
			name: "BulkUpsertEntities with no entities sends nothing",
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.BulkUpsertEntities(ctx, "service", nil, UpsertOptions{})
			},
			want:  BulkResult{},
			stubs: nil,
		},
		{
			name: "SearchEntities",
			stubs: []stub{{method: "POST", uri: "/v1/blueprints/service/entities/search",
				body:  `{"query":{"combinator":"or","rules":[{"property":"$identifier","operator":"=","value":"a"}]},"include":["$identifier"],"limit":2,"from":"cursor-1"}`,
				reply: reply(200, `{"ok":true,"entities":[{"identifier":"a"}],"next":"cursor-2"}`)}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.SearchEntities(ctx, "service", SearchRequest{
					Query:   SearchQuery{Combinator: "or", Rules: []any{map[string]any{"property": "$identifier", "operator": "=", "value": "a"}}},
					Include: []string{"$identifier"}, Limit: 2, From: "cursor-1",
				})
			},
			want: SearchPage{Entities: []Entity{{Identifier: "a"}}, Next: "cursor-2"},
		},
		{
			name: "SearchEntities fills in an empty query",
			stubs: []stub{{method: "POST", uri: "/v1/blueprints/service/entities/search", body: `{"query":{"combinator":"and","rules":[]}}`,
				reply: reply(200, `{"ok":true,"entities":[]}`)}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.SearchEntities(ctx, "service", SearchRequest{})
			},
			want: SearchPage{Entities: []Entity{}},
		},
		{
			name:  "DeleteEntity",
			stubs: []stub{{method: "DELETE", uri: "/v1/blueprints/service/entities/svc-a", reply: reply(200, `{"ok":true}`)}},
			call:  func(ctx context.Context, c *Client) (any, error) { return nil, c.DeleteEntity(ctx, "service", "svc-a") },
		},
		{
			name: "GetBlueprint",
			stubs: []stub{{method: "GET", uri: "/v1/blueprints/service",
				reply: reply(200, `{"ok":true,"blueprint":{"identifier":"service","schema":{"properties":{}}}}`)}},
			call: func(ctx context.Context, c *Client) (any, error) { return c.GetBlueprint(ctx, "service") },
			want: Object{"identifier": "service", "schema": Object{"properties": Object{}}},
		},
		{
			name: "CreateBlueprint",
			stubs: []stub{{method: "POST", uri: "/v1/blueprints", body: `{"identifier":"service","title":"Service","schema":{"properties":{}}}`,
				reply: reply(201, `{"ok":true,"blueprint":{"identifier":"service"}}`)}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.CreateBlueprint(ctx, Object{"identifier": "service", "title": "Service", "schema": Object{"properties": Object{}}})
			},
			want: Object{"identifier": "service"},
		},
		{
			name: "UpdateBlueprint is a PUT",
			stubs: []stub{{method: "PUT", uri: "/v1/blueprints/service", body: `{"title":"Service","schema":{"properties":{}}}`,
				reply: reply(200, `{"ok":true,"blueprint":{"identifier":"service","title":"Service"}}`)}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.UpdateBlueprint(ctx, "service", Object{"title": "Service", "schema": Object{"properties": Object{}}})
			},
			want: Object{"identifier": "service", "title": "Service"},
		},
		{
			name: "PatchBlueprint",
			stubs: []stub{{method: "PATCH", uri: "/v1/blueprints/service", body: `{"relations":{"owner":{"target":"team","required":false,"many":false}}}`,
				reply: reply(200, `{"ok":true,"blueprint":{"identifier":"service"}}`)}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return c.PatchBlueprint(ctx, "service", Object{"relations": Object{"owner": Object{"target": "team", "required": false, "many": false}}})
			},
			want: Object{"identifier": "service"},
		},
		{
			name: "GetPage",
			stubs: []stub{{method: "GET", uri: "/v1/pages/roi",
				reply: reply(200, `{"ok":true,"page":{"identifier":"roi","type":"dashboard","widgets":[]}}`)}},
			call: func(ctx context.Context, c *Client) (any, error) { return c.GetPage(ctx, "roi") },
			want: Object{"identifier": "roi", "type": "dashboard", "widgets": []any{}},
		},
		{
			name: "CreatePage",
			stubs: []stub{{method: "POST", uri: "/v1/pages", body: `{"identifier":"roi","type":"dashboard","widgets":[]}`,
				reply: reply(201, `{"ok":true,"identifier":"roi"}`)}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.CreatePage(ctx, Object{"identifier": "roi", "type": "dashboard", "widgets": []any{}})
			},
		},
		{
			name: "PatchPage",
			stubs: []stub{{method: "PATCH", uri: "/v1/pages/roi", body: `{"title":"ROI"}`,
				reply: reply(200, `{"ok":true,"page":{"identifier":"roi"}}`)}},
			call: func(ctx context.Context, c *Client) (any, error) {
				return nil, c.PatchPage(ctx, "roi", Object{"title": "ROI"})
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var stubs []stub
			if len(tc.stubs) > 0 {
				stubs = append([]stub{tokenStub(testToken, 10800)}, tc.stubs...)
			}
			s := newStubServer(t, stubs...)
			got, err := tc.call(t.Context(), s.client(t))
			if err != nil {
				t.Fatalf("%s: error = %v", tc.name, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: result mismatch (-want +got):\n%s", tc.name, diff)
			}
		})
	}
}

// TestClient_escapesIdentifiers checks that every identifier is one escaped path segment.
func TestClient_escapesIdentifiers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string
		uri    string
		body   string
		resp   string
		call   func(ctx context.Context, c *Client) error
	}{
		{
			name: "slash space percent and unicode in an entity",
			uri:  "/v1/blueprints/svc%2Fx/entities/a%2Fb%20c%25d%2F%C3%A9",
			resp: `{"ok":true,"entity":{"identifier":"a/b c%d/é"}}`,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.GetEntity(ctx, "svc/x", "a/b c%d/é")
				return err
			},
		},
		{
			name:   "characters Port allows stay readable",
			method: "POST",
			uri:    "/v1/blueprints/x+y=z@w:v/entities?upsert=true",
			body:   `{"identifier":"e"}`,
			resp:   `{"ok":true,"entity":{"identifier":"e"}}`,
			call: func(ctx context.Context, c *Client) error {
				_, err := c.UpsertEntity(ctx, "x+y=z@w:v", Entity{Identifier: "e"}, UpsertOptions{})
				return err
			},
		},
		{
			name: "query and fragment characters in an action",
			uri:  "/v1/actions/a%3Fb=1%23c%20d",
			resp: actionOK,
			call: func(ctx context.Context, c *Client) error { _, err := c.GetAction(ctx, "a?b=1#c d"); return err },
		},
		{
			name:   "a run id",
			method: "POST",
			uri:    "/v1/actions/runs/r%2F..%2F1/logs",
			body:   `{"message":"m"}`,
			resp:   `{"ok":true}`,
			call:   func(ctx context.Context, c *Client) error { return c.AddRunLog(ctx, "r/../1", RunLog{Message: "m"}) },
		},
		{
			name: "a unicode page",
			uri:  "/v1/pages/%E9%A1%B5%E9%9D%A2",
			resp: `{"ok":true,"page":{"identifier":"页面"}}`,
			call: func(ctx context.Context, c *Client) error { _, err := c.GetPage(ctx, "页面"); return err },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			method := tc.method
			if method == "" {
				method = "GET"
			}
			s := newStubServer(t, tokenStub(testToken, 10800), stub{method: method, uri: tc.uri, body: tc.body, reply: reply(200, tc.resp)})
			if err := tc.call(t.Context(), s.client(t)); err != nil {
				t.Fatalf("error = %v", err)
			}
		})
	}
}

// TestClient_refusesBeforeSending checks the requests that are refused without any traffic.
func TestClient_refusesBeforeSending(t *testing.T) {
	t.Parallel()
	big := make([]byte, MaxRequestBody)
	for i := range big {
		big[i] = 'x'
	}
	tests := []struct {
		name    string
		call    func(ctx context.Context, c *Client) error
		wantErr string
		wantIs  error
	}{
		{
			name:    "empty identifier",
			call:    func(ctx context.Context, c *Client) error { _, err := c.GetEntity(ctx, "service", ""); return err },
			wantErr: "GET /v1/blueprints/service/entities/: an identifier is empty",
		},
		{
			name:    "dot-dot identifier",
			call:    func(ctx context.Context, c *Client) error { return c.DeleteEntity(ctx, "..", "x") },
			wantErr: `DELETE /v1/blueprints/../entities/x: identifier ".." cannot be used in a URL path`,
		},
		{
			name:    "dot identifier",
			call:    func(ctx context.Context, c *Client) error { _, err := c.GetAction(ctx, "."); return err },
			wantErr: `GET /v1/actions/.: identifier "." cannot be used in a URL path`,
		},
		{
			name: "body over 1 MiB",
			call: func(ctx context.Context, c *Client) error {
				_, err := c.UpsertEntity(ctx, "service", Entity{Identifier: "e", Properties: map[string]any{"blob": string(big)}}, UpsertOptions{})
				return err
			},
			wantErr: "POST /v1/blueprints/service/entities: 1048619 bytes: request body is larger than Port's 1 MiB limit",
			wantIs:  ErrRequestTooLarge,
		},
		{
			name: "more than 20 entities in a bulk upsert",
			call: func(ctx context.Context, c *Client) error {
				_, err := c.BulkUpsertEntities(ctx, "service", make([]Entity, 21), UpsertOptions{})
				return err
			},
			wantErr: `bulk upsert into blueprint "service": 21 entities, at most 20 per call`,
		},
		{
			name: "context already cancelled",
			call: func(ctx context.Context, c *Client) error {
				ctx, cancel := context.WithCancel(ctx)
				cancel()
				_, err := c.GetAction(ctx, "a")
				return err
			},
			wantErr: "GET /v1/actions/a: context canceled",
			wantIs:  context.Canceled,
		},
		{
			name:    "empty run patch",
			call:    func(ctx context.Context, c *Client) error { _, err := c.PatchRun(ctx, "r_1", RunPatch{}); return err },
			wantErr: `patch run "r_1": nothing to change`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStubServer(t) // no stubs: any request fails the test
			c := s.client(t)
			err := tc.call(t.Context(), c)
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("error = %v, want %q", err, tc.wantErr)
			}
			if tc.wantIs != nil && !errors.Is(err, tc.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.wantIs)
			}
			if got := c.Stats(); got != (Stats{}) {
				t.Errorf("Stats() = %+v, want no traffic", got)
			}
		})
	}
}
