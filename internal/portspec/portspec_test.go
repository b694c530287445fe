package portspec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// portSpec is Port's spec, loaded once for the test binary by TestMain; nil
// when the file is absent. portSpecPath is where Locate looked.
var (
	portSpec     *Spec
	portSpecPath string
)

func TestMain(m *testing.M) {
	path, ok := Locate()
	portSpecPath = path
	if ok {
		s, err := Load(path)
		if err != nil {
			fmt.Fprintf(os.Stderr, "portspec: %v\n", err)
			os.Exit(1)
		}
		portSpec = s
	}
	os.Exit(m.Run())
}

// realSpec returns Port's spec or skips the test when it is absent. An
// explicit PORT_OPENAPI_SPEC that points nowhere fails instead.
func realSpec(t *testing.T) *Spec {
	t.Helper()
	if portSpec != nil {
		return portSpec
	}
	if v := os.Getenv(EnvSpecPath); v != "" {
		t.Fatalf("%s=%s but no spec file is there", EnvSpecPath, v)
	}
	t.Skipf("Port's OpenAPI spec not found (looked at %q); set %s to run this test", portSpecPath, EnvSpecPath)
	return nil
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPortSpecCompiles(t *testing.T) {
	t.Parallel()
	s := realSpec(t)
	if err := s.CompileAll(); err != nil {
		t.Fatalf("CompileAll:\n%v", err)
	}
	if n := len(s.Operations()); n < 100 {
		t.Errorf("only %d operations indexed", n)
	}
}

func TestPortSpecValidRequests(t *testing.T) {
	t.Parallel()
	s := realSpec(t)
	automation := testdata(t, "automation_any_run_change.json")
	selfService := testdata(t, "action_create_webhook.json")
	tests := []struct {
		name, method, path, query, body string
	}{
		{"access token", "POST", "/v1/auth/access_token", "", `{"clientId":"id","clientSecret":"secret"}`},
		{"create automation", "POST", "/v1/actions", "", string(automation)},
		{"create self-service action", "POST", "/v1/actions", "", string(selfService)},
		{"update action", "PUT", "/v1/actions/provision_sandbox", "", string(selfService)},
		{"update automation", "PUT", "/v1/actions/provision_sandbox_runs_to_action_run", "", string(automation)},
		{"get action", "GET", "/v1/actions/provision_sandbox", "", ""},
		{"get action, lower-case method", "get", "/v1/actions/provision_sandbox", "", ""},
		{"run log", "POST", "/v1/actions/runs/r_abc/logs", "", `{"message":"Created action \"Provision sandbox\""}`},
		{"run log finishing the run", "POST", "/v1/actions/runs/r_abc/logs", "", `{"message":"done","terminationStatus":"SUCCESS","statusLabel":"Completed"}`},
		{"upsert entity tied to a run", "POST", "/v1/blueprints/action/entities", "upsert=true&merge=true&run_id=r_1",
			`{"identifier":"provision_sandbox","title":"Provision sandbox","icon":"Cloud","properties":{"lead_time_before":null,"cycle_time":2},"relations":{"category":"security"}}`},
		{"search entities", "POST", "/v1/blueprints/action_run/entities/search", "",
			`{"query":{"combinator":"and","rules":[{"property":"$identifier","operator":"in","value":["a","b"]},{"property":"$createdAt","operator":"between","value":{"preset":"lastMonth"}}]},"include":["$identifier","status"],"limit":1000}`},
		{"list actions with repeated array parameter", "GET", "/v1/actions", "action_identifier=a&action_identifier=b&trigger_type=automation&published=true", ""},
		{"literal segment wins: GET run named runs", "GET", "/v1/actions/runs/runs", "version=v2", ""},
		{"escaped identifier in path", "GET", "/v1/blueprints/action/entities/a%2Fb%20c", "", ""},
		{"number query parameter", "GET", "/v1/integration/gh/logs", "limit=300", ""},
		{"anyOf query parameter, single value", "GET", "/v1/audit-log", "resources=entity", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := s.ValidateRequest(tt.method, tt.path, tt.query, []byte(tt.body)); err != nil {
				t.Errorf("ValidateRequest: %v", err)
			}
		})
	}
}

func TestPortSpecInvalidRequests(t *testing.T) {
	t.Parallel()
	s := realSpec(t)
	withField := func(body []byte, field, value string) string {
		b := strings.TrimSpace(string(body))
		return b[:len(b)-1] + `,"` + field + `":` + value + "}"
	}
	selfService := testdata(t, "action_create_webhook.json")
	withID := func(id string) string {
		return strings.Replace(string(selfService), `"identifier": "provision_sandbox"`, `"identifier": "`+id+`"`, 1)
	}
	tests := []struct {
		name, method, path, query, body string
		wantPart                        Part
		wantParam                       string
		wantOp                          string
		wantMsg                         string
	}{
		{
			name: "action identifier with a slash", method: "POST", path: "/v1/actions", body: withID("a/b"),
			wantPart: PartBody, wantOp: "POST /v1/actions", wantMsg: `at '/identifier': 'a/b' does not match pattern`,
		},
		{
			name: "action identifier ..", method: "PUT", path: "/v1/actions/x", body: withID(".."),
			wantPart: PartBody, wantOp: "PUT /v1/actions/{action_identifier}", wantMsg: `at '/identifier': '..' does not match pattern '^(?!\\.{1,2}$)`,
		},
		{
			name: "action identifier .", method: "POST", path: "/v1/actions", body: withID("."),
			wantPart: PartBody, wantMsg: `'.' does not match pattern`,
		},
		{
			name: "unknown top-level action field", method: "POST", path: "/v1/actions", body: withField(selfService, "owner", `"me"`),
			wantPart: PartBody, wantMsg: "additional properties 'owner' not allowed",
		},
		{
			name: "run log with an extra field", method: "POST", path: "/v1/actions/runs/r_1/logs", body: `{"message":"x","level":"info"}`,
			wantPart: PartBody, wantOp: "POST /v1/actions/runs/{run_id}/logs", wantMsg: "additional properties 'level' not allowed",
		},
		{
			name: "run log without message", method: "POST", path: "/v1/actions/runs/r_1/logs", body: `{"terminationStatus":"SUCCESS"}`,
			wantPart: PartBody, wantMsg: "missing property 'message'",
		},
		{
			name: "bad boolean query value", method: "POST", path: "/v1/blueprints/action/entities", query: "upsert=yes", body: `{"identifier":"x"}`,
			wantPart: PartQueryParam, wantParam: "upsert", wantMsg: "got string, want boolean",
		},
		{
			name: "unknown query parameter", method: "POST", path: "/v1/blueprints/action/entities", query: "upsert=true&merge=true&runId=r_1", body: `{"identifier":"x"}`,
			wantPart: PartQueryParam, wantParam: "runId", wantMsg: "not defined by the spec (defined: create_missing_related_entities, merge, run_id, upsert, validation_only)",
		},
		{
			name: "missing required query parameter", method: "POST", path: "/v1/blueprints/action/entities", query: "merge=true", body: `{"identifier":"x"}`,
			wantPart: PartQueryParam, wantParam: "upsert", wantMsg: "required but missing",
		},
		{
			name: "repeated scalar query parameter", method: "GET", path: "/v1/actions", query: "published=true&published=false",
			wantPart: PartQueryParam, wantParam: "published", wantMsg: "given 2 times",
		},
		{
			name: "array item outside its enum", method: "GET", path: "/v1/actions", query: "operation=CREATE&operation=UPDATE",
			wantPart: PartQueryParam, wantParam: "operation", wantMsg: "at '/1': value must be one of",
		},
		{
			name: "number query parameter over its maximum", method: "GET", path: "/v1/integration/gh/logs", query: "limit=301",
			wantPart: PartQueryParam, wantParam: "limit", wantMsg: "maximum: got 301, want 300",
		},
		{
			name: "number query parameter not a number", method: "GET", path: "/v1/integration/gh/logs", query: "limit=NaN",
			wantPart: PartQueryParam, wantParam: "limit", wantMsg: "got string, want number",
		},
		{
			name: "malformed query", method: "GET", path: "/v1/actions", query: "published=%zz",
			wantPart: PartQuery, wantMsg: "invalid URL escape",
		},
		{
			name: "empty path parameter", method: "GET", path: "/v1/actions/", wantPart: PartPath, wantMsg: "no path of the spec matches",
		},
		{
			name: "bad percent-encoding in a path parameter", method: "GET", path: "/v1/actions/a%zz",
			wantPart: PartPathParam, wantParam: "action_identifier", wantMsg: "invalid percent-encoding",
		},
		{
			name: "path parameter outside its pattern", method: "GET", path: "/v1/ai/entities-auto-discovery/not-an-id/suggestions",
			wantPart: PartPathParam, wantParam: "invocation_id", wantMsg: "does not match pattern '^[0-9a-f]{24}$'",
		},
		{
			name: "unknown path", method: "GET", path: "/v1/action", wantPart: PartPath, wantMsg: "no path of the spec matches",
		},
		{
			name: "path with a query", method: "GET", path: "/v1/actions?x=1", wantPart: PartPath, wantMsg: "without query",
		},
		{
			name: "wrong method", method: "DELETE", path: "/v1/actions/runs/r_1/logs",
			wantPart: PartMethod, wantMsg: "DELETE is not defined for /v1/actions/runs/{run_id}/logs (allowed: GET, POST)",
		},
		{
			name: "literal segment wins: POST run named runs", method: "POST", path: "/v1/actions/runs/runs",
			wantPart: PartMethod, wantMsg: "POST is not defined for /v1/actions/runs/{run_id} (allowed: GET, PATCH)",
		},
		{
			name: "missing required body", method: "POST", path: "/v1/auth/access_token",
			wantPart: PartBody, wantMsg: "a request body is required",
		},
		{
			name: "body where none is defined", method: "GET", path: "/v1/actions/x", body: `{}`,
			wantPart: PartBody, wantMsg: "the operation defines no request body, got 2 bytes",
		},
		{
			name: "invalid JSON body", method: "POST", path: "/v1/auth/access_token", body: `{"clientId":`,
			wantPart: PartBody, wantMsg: "invalid JSON",
		},
		{
			name: "trailing data after the JSON body", method: "POST", path: "/v1/auth/access_token", body: `{"clientId":"a","clientSecret":"b"} {}`,
			wantPart: PartBody, wantMsg: "invalid JSON",
		},
		{
			name: "deprecated operation", method: "GET", path: "/v1/blueprints/action/actions",
			wantPart: PartOperation, wantMsg: "deprecated",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := s.ValidateRequest(tt.method, tt.path, tt.query, []byte(tt.body))
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("ValidateRequest error = %v, want a *RequestError", err)
			}
			type where struct {
				Method, Path string
				Part         Part
				Param        string
			}
			got := where{re.Method, re.Path, re.Part, re.Param}
			want := where{strings.ToUpper(tt.method), tt.path, tt.wantPart, tt.wantParam}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("RequestError mismatch (-want +got):\n%s\nerror: %v", diff, err)
			}
			if tt.wantOp != "" && re.Operation != tt.wantOp {
				t.Errorf("Operation = %q, want %q", re.Operation, tt.wantOp)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error does not contain %q:\n%v", tt.wantMsg, err)
			}
			prefix := fmt.Sprintf("%s %s: %s", strings.ToUpper(tt.method), tt.path, tt.wantPart)
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error does not start with %q:\n%v", prefix, err)
			}
		})
	}
}

// TestPortSpecBodyErrorIsAValidationError checks that callers can reach the
// validator's structured error.
func TestPortSpecBodyErrorIsAValidationError(t *testing.T) {
	t.Parallel()
	s := realSpec(t)
	err := s.ValidateRequest("POST", "/v1/actions/runs/r_1/logs", "", []byte(`{"message":1}`))
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v does not wrap a *jsonschema.ValidationError", err)
	}
}

// TestPortSpecQuirks pins behaviour of Port's spec that differs from what
// Port's docs and API do, so a spec update that fixes one is noticed.
func TestPortSpecQuirks(t *testing.T) {
	t.Parallel()
	s := realSpec(t)
	tests := []struct {
		name, method, path, query, body string
		valid                           bool
	}{
		// Port creates an entity without ?upsert (409 when it exists), but the
		// spec marks upsert as required.
		{"entity create without upsert", "POST", "/v1/blueprints/action/entities", "", `{"identifier":"x"}`, false},
		// ... and does not mark the entity body as required.
		{"entity upsert without a body", "POST", "/v1/blueprints/action/entities", "upsert=true", "", true},
		// Path identifiers have no pattern (only minLength 1), unlike the body's.
		{"action path identifier a/b", "GET", "/v1/actions/a%2Fb", "", "", true},
		{"action path identifier ..", "GET", "/v1/actions/..", "", "", true},
		// Button texts: minLength 1 but the pattern ^[^\s].*[^\s]$ needs two characters.
		{"one-character button text", "POST", "/v1/actions", "",
			`{"identifier":"a","trigger":{"type":"self-service","operation":"CREATE","userInputs":{"properties":{}},"actionCardButtonText":"G"},"invocationMethod":{"type":"KAFKA"}}`, false},
		// The double-escaped input-name pattern [A-Za-z0-9@_=\\-] admits a backslash.
		{"input name with a backslash", "POST", "/v1/actions", "",
			`{"identifier":"a","trigger":{"type":"self-service","operation":"CREATE","userInputs":{"properties":{"a\\b":{"type":"string"}}}},"invocationMethod":{"type":"KAFKA"}}`, true},
		// A self-service trigger must carry userInputs, even an empty one.
		{"self-service without userInputs", "POST", "/v1/actions", "",
			`{"identifier":"a","trigger":{"type":"self-service","operation":"CREATE"},"invocationMethod":{"type":"KAFKA"}}`, false},
		// Formats are annotations in JSON Schema 2020-12 and are not asserted.
		{"approval webhook url that is not a URI", "POST", "/v1/actions", "",
			`{"identifier":"a","trigger":{"type":"self-service","operation":"DAY-2","userInputs":{"properties":{}}},"invocationMethod":{"type":"KAFKA"},"requiredApproval":true,"approvalNotification":{"type":"webhook","url":"not a uri"}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := s.ValidateRequest(tt.method, tt.path, tt.query, []byte(tt.body))
			if (err == nil) != tt.valid {
				t.Errorf("ValidateRequest error = %v, want valid=%v", err, tt.valid)
			}
		})
	}
}
