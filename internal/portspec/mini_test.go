package portspec

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// loadMini loads testdata/mini_openapi.json, a small spec exercising what
// Port's spec does not: path-item parameters, $ref parameters, explode=false,
// integer and nullable types, header parameters, a body without a schema and
// "~" in a path.
func loadMini(t *testing.T) *Spec {
	t.Helper()
	s, err := Load(filepath.Join("testdata", "mini_openapi.json"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMiniSpec(t *testing.T) {
	t.Parallel()
	s := loadMini(t)
	if err := s.CompileAll(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, path, query, body string
		wantErr                         string // "" when valid
	}{
		{name: "literal path", method: "GET", path: "/items/special"},
		{name: "literal path takes no parameters", method: "GET", path: "/items/special", query: "limit=1", wantErr: `query parameter "limit": not defined by the spec`},
		{name: "path-item parameter", method: "GET", path: "/items/a.b"},
		{name: "path parameter percent-decoded", method: "GET", path: "/items/a%2Fb"},
		{name: "path parameter .", method: "GET", path: "/items/.", wantErr: `path parameter "id": jsonschema validation failed`},
		{name: "path parameter ..", method: "GET", path: "/items/..", wantErr: `'..' does not match pattern '^(?!\\.{1,2}$)[a-z./]+$'`},
		{name: "path parameter %2E%2E", method: "GET", path: "/items/%2E%2E", wantErr: `'..' does not match pattern`},
		{name: "path parameter ...", method: "GET", path: "/items/..."},
		{name: "path parameter outside pattern", method: "GET", path: "/items/A", wantErr: `'A' does not match pattern`},
		{name: "$ref integer parameter", method: "GET", path: "/items/a", query: "limit=3"},
		{name: "integer parameter below minimum", method: "GET", path: "/items/a", query: "limit=0", wantErr: "minimum: got 0, want 1"},
		{name: "integer parameter with a fraction", method: "GET", path: "/items/a", query: "limit=1.5", wantErr: "got number, want integer"},
		{name: "integer parameter in hex", method: "GET", path: "/items/a", query: "limit=0x10", wantErr: "got string, want integer"},
		{name: "integer parameter with a space", method: "GET", path: "/items/a", query: "limit=+1", wantErr: "got string, want integer"},
		{name: "comma-separated array", method: "GET", path: "/items/a", query: "tags=a,b"},
		{name: "comma-separated array, bad item", method: "GET", path: "/items/a", query: "tags=a,c", wantErr: "at '/1': value must be one of 'a', 'b'"},
		{name: "nullable number as null", method: "GET", path: "/items/a", query: "ratio=null"},
		{name: "nullable number", method: "GET", path: "/items/a", query: "ratio=-1.5e3"},
		{name: "nullable number as text", method: "GET", path: "/items/a", query: "ratio=half", wantErr: "got string, want null or number"},
		{name: "header parameters are not query parameters", method: "GET", path: "/items/a", query: "X-Trace=1", wantErr: `query parameter "X-Trace": not defined`},
		{name: "body", method: "PUT", path: "/items/a", body: `{"name":"x"}`},
		{name: "body without a required field", method: "PUT", path: "/items/a", body: `{}`, wantErr: "missing property 'name'"},
		{name: "required body missing", method: "PUT", path: "/items/a", body: " \n", wantErr: "a request body is required"},
		{name: "body without a schema", method: "POST", path: "/raw", body: `[1,"two"]`},
		{name: "optional body absent", method: "POST", path: "/raw"},
		{name: "body without a schema must be JSON", method: "POST", path: "/raw", body: `nope`, wantErr: "invalid JSON"},
		{name: "tilde in the path", method: "GET", path: "/a~b/7"},
		{name: "tilde in the path, bad parameter", method: "GET", path: "/a~b/10", wantErr: "maximum: got 10, want 9"},
		{name: "deprecated", method: "GET", path: "/old/1", wantErr: "operation: the operation is deprecated (Deprecated since 2024)"},
		{name: "method on a literal route", method: "PUT", path: "/items/special", wantErr: "PUT is not defined for /items/special (allowed: GET)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := s.ValidateRequest(tt.method, tt.path, tt.query, []byte(tt.body))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("ValidateRequest: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("ValidateRequest error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	spec := func(paths string) string {
		return `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":` + paths + `}`
	}
	tests := []struct {
		name    string
		content string // "" means the file does not exist
		wantErr string
	}{
		{"missing file", "", "no such file or directory"},
		{"invalid JSON", `{"openapi":`, "load OpenAPI spec"},
		{"not an object", `[]`, "the document is not a JSON object"},
		{"OpenAPI 3.0", `{"openapi":"3.0.3","paths":{}}`, `openapi version "3.0.3", want 3.1.x`},
		{"other dialect", `{"openapi":"3.1.0","jsonSchemaDialect":"https://json-schema.org/draft-07/schema","paths":{}}`, "unsupported jsonSchemaDialect"},
		{"no paths", `{"openapi":"3.1.0"}`, `no "paths" object`},
		{"ambiguous templates", spec(`{"/x/{a}":{"get":{}},"/x/{b}":{"get":{}}}`), "are ambiguous"},
		{"text around a template", spec(`{"/x/v{a}":{"get":{}}}`), "mixes text and a template expression"},
		{"relative path", spec(`{"x":{"get":{}}}`), "does not start with /"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "spec.json")
			if tt.content != "" {
				if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Load error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// TestCompileFailsLoudly checks that a construct the package cannot honour
// fails the operation instead of silently skipping a check.
func TestCompileFailsLoudly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		paths   string
		wantErr string
	}{
		{
			name:    "look-ahead other than the dots rewrite",
			paths:   `{"/x":{"post":{"requestBody":{"content":{"application/json":{"schema":{"type":"string","pattern":"^(?=a)[a-z]+$"}}}}}}}`,
			wantErr: `pattern "^(?=a)[a-z]+$" is not supported by Go's regexp`,
		},
		{
			name:    "dots look-ahead not at the start",
			paths:   `{"/x/{id}":{"get":{"parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string","pattern":"^a(?!\\.{1,2}$)"}}]}}}`,
			wantErr: "is not supported by Go's regexp",
		},
		{
			name:    "back-reference",
			paths:   `{"/x":{"post":{"requestBody":{"content":{"application/json":{"schema":{"type":"object","propertyNames":{"pattern":"^(a)\\1$"}}}}}}}}`,
			wantErr: "is not supported by Go's regexp",
		},
		{
			name:    "non-JSON body only",
			paths:   `{"/x":{"post":{"requestBody":{"content":{"text/plain":{}}}}}}`,
			wantErr: "no application/json content",
		},
		{
			name:    "parameter style",
			paths:   `{"/x":{"get":{"parameters":[{"name":"q","in":"query","style":"deepObject","schema":{"type":"object"}}]}}}`,
			wantErr: `query parameter style "deepObject" is not supported`,
		},
		{
			name:    "parameter with content",
			paths:   `{"/x":{"get":{"parameters":[{"name":"q","in":"query","content":{"application/json":{}}}]}}}`,
			wantErr: "has no schema",
		},
		{
			name:    "declared path parameter not in the template",
			paths:   `{"/x":{"get":{"parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"string"}}]}}}`,
			wantErr: `path parameter "id" is not in the template`,
		},
		{
			name:    "remote $ref",
			paths:   `{"/x":{"get":{"parameters":[{"$ref":"https://example.com/p.json"}]}}}`,
			wantErr: "only local references are supported",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "spec.json")
			doc := `{"openapi":"3.1.0","info":{"title":"t","version":"1"},"paths":` + tt.paths + `}`
			if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := Load(path)
			if err != nil {
				t.Fatal(err)
			}
			err = s.CompileAll()
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("CompileAll error = %v, want one containing %q", err, tt.wantErr)
			}
			// ValidateRequest reports the same problem, not a *RequestError.
			for _, op := range s.Operations() {
				method, p, _ := strings.Cut(op, " ")
				p = strings.ReplaceAll(p, "{id}", "v")
				err := s.ValidateRequest(method, p, "", nil)
				var re *RequestError
				if err == nil || errors.As(err, &re) {
					t.Errorf("ValidateRequest(%s) error = %v, want a compile error", op, err)
				}
			}
		})
	}
}

func TestLocate(t *testing.T) {
	// t.Setenv: not parallel.
	dir := t.TempDir()
	file := filepath.Join(dir, "apispec.json")
	if err := os.WriteFile(file, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Setenv(EnvSpecPath, file)
	if got, ok := Locate(); got != file || !ok {
		t.Errorf("Locate() with override = %q, %v; want %q, true", got, ok, file)
	}
	t.Setenv(EnvSpecPath, filepath.Join(dir, "missing.json"))
	if got, ok := Locate(); got != filepath.Join(dir, "missing.json") || ok {
		t.Errorf("Locate() with a missing override = %q, %v; want the path and false", got, ok)
	}

	t.Setenv(EnvSpecPath, "")
	got, ok := Locate()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// This package sits two levels under the module root.
	want := filepath.Join(wd, "..", "..", "..", "shared", "port-openapi", "apispec.json")
	if got != want || ok != isFile(want) {
		t.Errorf("Locate() = %q, %v; want %q, %v", got, ok, want, isFile(want))
	}
}
