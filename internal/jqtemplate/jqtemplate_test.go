package jqtemplate

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func decode(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func TestRender(t *testing.T) {
	t.Parallel()
	input := map[string]any{
		"s":     "text",
		"n":     42,
		"f":     1.5,
		"b":     true,
		"null":  nil,
		"obj":   map[string]any{"a": 1, "b": "two"},
		"arr":   []any{"x", "y"},
		"key":   "dynamic",
		"empty": map[string]any{},
		"run":   map[string]any{"id": "r_123"},
		"inputs": map[string]any{
			"actionTitle":  "Create bucket",
			"port_context": "user-value",
		},
	}
	tests := []struct {
		name string
		tmpl string // JSON
		want string // JSON
	}{
		{"plain string untouched", `"no template"`, `"no template"`},
		{"non-string scalars untouched", `[1, true, null]`, `[1, true, null]`},
		{"whole template string", `"{{ .s }}"`, `"text"`},
		{"whole template keeps number", `"{{ .n }}"`, `42`},
		{"whole template keeps float", `"{{.f}}"`, `1.5`},
		{"whole template keeps bool", `"{{ .b }}"`, `true`},
		{"whole template keeps null", `"{{ .null }}"`, `null`},
		{"whole template keeps object", `"{{ .obj }}"`, `{"a": 1, "b": "two"}`},
		{"whole template with surrounding whitespace", `"  {{ .n }} "`, `42`},
		{"missing field is null", `"{{ .nope }}"`, `null`},
		{"no output is null", `"{{ empty }}"`, `null`},
		{"first output only", `"{{ .arr[] }}"`, `"x"`},
		{"object construction with nested braces", `"{{ {a: {b: .n}} }}"`, `{"a": {"b": 42}}`},
		{"braces inside a jq string", `"{{ \"}}\" + .s }}"`, `"}}text"`},
		{"string interpolation inside jq", `"{{ \"v=\\(.n)\" }}"`, `"v=42"`},
		{"interpolation of string", `"id={{ .run.id }}!"`, `"id=r_123!"`},
		{"interpolation of number", `"n={{ .n }}"`, `"n=42"`},
		{"interpolation of null", `"v={{ .null }}"`, `"v=null"`},
		{"interpolation of object is compact JSON", `"o={{ .obj }}"`, `"o={\"a\":1,\"b\":\"two\"}"`},
		{"interpolation without HTML escaping", `"{{ \"<&>\" }} x"`, `"<&> x"`},
		{"two templates", `"{{ .s }}-{{ .n }}"`, `"text-42"`},
		{"unterminated template is literal", `"a {{ .s"`, `"a {{ .s"`},
		{"key template", `{"{{ .key }}": 1}`, `{"dynamic": 1}`},
		{"key interpolation", `{"k_{{ .n }}": 1}`, `{"k_42": 1}`},
		{"key template number", `{"{{ .n }}": 1}`, `{"42": 1}`},
		{"key yielding null is omitted", `{"{{ .null }}": "{{ error(\"not evaluated\") }}", "kept": 1}`, `{"kept": 1}`},
		{"conditional key", `{"{{ if .b then \"yes\" else null end }}": 1, "{{ if .b then null else \"no\" end }}": 2}`, `{"yes": 1}`},
		{"spreadValue merges", `{"{{ spreadValue() }}": "{{ .inputs }}", "port_context": {"runId": "{{ .run.id }}"}}`,
			`{"actionTitle": "Create bucket", "port_context": {"runId": "r_123"}}`},
		{"spreadValue with spaces", `{"{{spreadValue()}}": "{{ .obj }}"}`, `{"a": 1, "b": "two"}`},
		{"spreadValue of null adds nothing", `{"{{ spreadValue() }}": "{{ .null }}", "x": 1}`, `{"x": 1}`},
		{"spreadValue of literal object", `{"{{ spreadValue() }}": {"lit": "{{ .s }}"}}`, `{"lit": "text"}`},
		{"nested objects and arrays", `{"a": [{"b": "{{ .n }}"}, "{{ .arr }}", ["{{ .s }}"]], "c": {"d": {"e": "{{ .b }}"}}}`,
			`{"a": [{"b": 42}, ["x", "y"], ["text"]], "c": {"d": {"e": true}}}`},
		{"empty object", `{}`, `{}`},
		{"guide functions", `"{{ (\"2026-03-02T10:00:05.123Z\" | gsub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdateiso8601) as $x | if $x > 0 then $x else null end }}"`, `1772445605`},
		{"nan becomes null", `"{{ nan }}"`, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Render(t.Context(), decode(t, tt.tmpl), input)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if diff := cmp.Diff(decode(t, tt.want), got); diff != "" {
				t.Errorf("Render(%s) mismatch (-want +got):\n%s", tt.tmpl, diff)
			}
		})
	}
}

func TestRenderDoesNotModifyTemplate(t *testing.T) {
	t.Parallel()
	tmpl := decode(t, `{"a": "{{ .x }}", "{{ .k }}": ["{{ .x }}"]}`)
	before := decode(t, `{"a": "{{ .x }}", "{{ .k }}": ["{{ .x }}"]}`)
	if _, err := Render(t.Context(), tmpl, map[string]any{"x": 1, "k": "key"}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, tmpl); diff != "" {
		t.Errorf("template modified (-before +after):\n%s", diff)
	}
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		tmpl     string
		wantTmpl string // the template text the error must name
		wantMsg  string
	}{
		{"syntax error", `"{{ .a | }}"`, "{{ .a | }}", "unexpected"},
		{"unknown function", `"{{ nosuchfunc }}"`, "{{ nosuchfunc }}", "nosuchfunc"},
		{"runtime error", `"{{ .s | fromdateiso8601 }}"`, "{{ .s | fromdateiso8601 }}", "fromdateiso8601"},
		{"error in interpolation", `"x {{ error(\"boom\") }} y"`, "{{ error(\"boom\") }}", "boom"},
		{"error in key", `{"{{ error(\"bad key\") }}": 1}`, "{{ error(\"bad key\") }}", "bad key"},
		{"error in nested value", `{"a": [{"b": "{{ null | gsub(\"a\"; \"b\") }}"}]}`, "{{ null | gsub(\"a\"; \"b\") }}", "cannot be applied to: null"},
		{"spread of non-object", `{"{{ spreadValue() }}": "{{ .s }}"}`, "{{ spreadValue() }}", "object"},
		{"halt", `"{{ halt }}"`, "{{ halt }}", "halt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Render(t.Context(), decode(t, tt.tmpl), map[string]any{"s": "not a date"})
			var tmplErr *Error
			if !errors.As(err, &tmplErr) {
				t.Fatalf("Render error = %v, want *Error", err)
			}
			if tmplErr.Template != tt.wantTmpl {
				t.Errorf("Error.Template = %q, want %q", tmplErr.Template, tt.wantTmpl)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) || !strings.Contains(err.Error(), tt.wantTmpl) {
				t.Errorf("error %q does not mention %q and the template", err, tt.wantMsg)
			}
		})
	}
}

func TestRenderCancelledContext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tmpl any
	}{
		{"string", "{{ .a }}"},
		{"object", map[string]any{"k": "{{ .a }}"}},
		{"long-running", "{{ [range(1e12)] | length }}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			_, err := Render(ctx, tt.tmpl, map[string]any{"a": 1})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Render with cancelled ctx = %v, want context.Canceled", err)
			}
		})
	}
	t.Run("deadline during evaluation", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		_, err := Render(ctx, "{{ [range(1e12)] | length }}", nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Render = %v, want context.DeadlineExceeded", err)
		}
	})
}

func TestRendererCachesCompiledExpressions(t *testing.T) {
	t.Parallel()
	r := NewRenderer()
	for i := range 3 {
		got, err := r.Render(t.Context(), "{{ .n + 1 }}", map[string]any{"n": i})
		if err != nil {
			t.Fatal(err)
		}
		if got != float64(i+1) {
			t.Errorf("render %d = %v, want %d", i, got, i+1)
		}
	}
	if n := len(r.cache); n != 1 {
		t.Errorf("cache holds %d programs, want 1", n)
	}
}

func TestEval(t *testing.T) {
	t.Parallel()
	r := NewRenderer()
	tests := []struct {
		name    string
		expr    string
		input   any
		want    any
		wantErr bool
	}{
		{"calculation", `if .properties.total > 0 then .properties.ok / .properties.total * 100 else 0 end`,
			map[string]any{"properties": map[string]any{"total": 4, "ok": 3}}, 75.0, false},
		{"no output", `empty`, nil, nil, false},
		{"error", `error("x")`, nil, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := r.Eval(t.Context(), tt.expr, tt.input)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Eval error = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Eval mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// guideProperties is PROPERTIES_JSON from the guide's create_port_automation.sh, verbatim (the heredoc is
// quoted, so the shell passes it through unchanged).
const guideProperties = `{
"run_id": "{{.event.diff.after.id}}",
"run_url": "https://app.port.io/organization/run?runId={{.event.diff.after.id}}",
"status": "{{.event.diff.after.status}}",
"created_at": "{{.event.diff.after.createdAt}}",
"updated_at": "{{.event.diff.after.updatedAt}}",
"{{if (.event.diff.after.status == \"SUCCESS\") then \"duration\" else null end}}": "{{ (.event.diff.after.createdAt | gsub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdateiso8601) as $created | (.event.diff.after.updatedAt | gsub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdateiso8601) as $updated | $updated - $created }}",
"{{if (.event.diff.after.status == \"SUCCESS\" and .event.diff.before.requiredApproval == true) then \"waiting_for_approval_duration\" else null end}}": "{{ (.event.diff.before.createdAt | gsub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdateiso8601) as $created | (.event.diff.before.updatedAt | gsub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdateiso8601) as $updated | $updated - $created }}",
"{{if (.event.diff.after.status == \"SUCCESS\") then \"cycle_time\" else null end}}": "{{ (.event.diff.before.updatedAt | gsub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdateiso8601) as $created | (.event.diff.after.updatedAt | gsub(\"\\\\.[0-9]+Z$\"; \"Z\") | fromdateiso8601) as $updated | $updated - $created }}"
}`

func TestGuideAutomationMapping(t *testing.T) {
	t.Parallel()
	mapping := map[string]any{
		"identifier": "{{.event.diff.after.id}}",
		"title":      "{{.event.diff.after.id}}",
		"properties": decode(t, guideProperties),
		"relations": map[string]any{
			"parent_action":      "{{.event.diff.after.action.identifier}}",
			"ran_by_actual_user": "{{.event.diff.after.properties.user}}",
		},
	}
	run := func(status, createdAt, updatedAt string, approval any) map[string]any {
		return map[string]any{
			"id": "r_abc", "status": status, "createdAt": createdAt, "updatedAt": updatedAt,
			"requiredApproval": approval,
			"action":           map[string]any{"identifier": "create_bucket", "title": "Create bucket"},
			"properties":       map[string]any{"user": "demo@example.com"},
		}
	}
	event := func(before, after any) map[string]any {
		return map[string]any{"event": map[string]any{"diff": map[string]any{"before": before, "after": after}}}
	}
	tests := []struct {
		name  string
		input map[string]any
		want  string
	}{
		{
			name:  "created",
			input: event(nil, run("IN_PROGRESS", "2026-03-02T10:00:00.123Z", "2026-03-02T10:00:00.123Z", false)),
			want: `{"identifier": "r_abc", "title": "r_abc", "properties": {
				"run_id": "r_abc", "run_url": "https://app.port.io/organization/run?runId=r_abc", "status": "IN_PROGRESS",
				"created_at": "2026-03-02T10:00:00.123Z", "updated_at": "2026-03-02T10:00:00.123Z"},
				"relations": {"parent_action": "create_bucket", "ran_by_actual_user": "demo@example.com"}}`,
		},
		{
			name: "success without approval",
			input: event(run("IN_PROGRESS", "2026-03-02T10:00:00.123Z", "2026-03-02T10:00:00.123Z", false),
				run("SUCCESS", "2026-03-02T10:00:00.123Z", "2026-03-02T10:01:30.456Z", false)),
			want: `{"identifier": "r_abc", "title": "r_abc", "properties": {
				"run_id": "r_abc", "run_url": "https://app.port.io/organization/run?runId=r_abc", "status": "SUCCESS",
				"created_at": "2026-03-02T10:00:00.123Z", "updated_at": "2026-03-02T10:01:30.456Z",
				"duration": 90, "cycle_time": 90},
				"relations": {"parent_action": "create_bucket", "ran_by_actual_user": "demo@example.com"}}`,
		},
		{
			name: "success after approval",
			input: event(run("IN_PROGRESS", "2026-03-02T10:00:00.000Z", "2026-03-02T11:00:00.000Z", true),
				run("SUCCESS", "2026-03-02T10:00:00.000Z", "2026-03-02T11:05:00.000Z", true)),
			want: `{"identifier": "r_abc", "title": "r_abc", "properties": {
				"run_id": "r_abc", "run_url": "https://app.port.io/organization/run?runId=r_abc", "status": "SUCCESS",
				"created_at": "2026-03-02T10:00:00.000Z", "updated_at": "2026-03-02T11:05:00.000Z",
				"duration": 3900, "waiting_for_approval_duration": 3600, "cycle_time": 300},
				"relations": {"parent_action": "create_bucket", "ran_by_actual_user": "demo@example.com"}}`,
		},
		{
			name: "approval object form is missed by the guide",
			input: event(run("IN_PROGRESS", "2026-03-02T10:00:00.000Z", "2026-03-02T11:00:00.000Z", map[string]any{"type": "ANY"}),
				run("SUCCESS", "2026-03-02T10:00:00.000Z", "2026-03-02T11:05:00.000Z", map[string]any{"type": "ANY"})),
			want: `{"identifier": "r_abc", "title": "r_abc", "properties": {
				"run_id": "r_abc", "run_url": "https://app.port.io/organization/run?runId=r_abc", "status": "SUCCESS",
				"created_at": "2026-03-02T10:00:00.000Z", "updated_at": "2026-03-02T11:05:00.000Z",
				"duration": 3900, "cycle_time": 300},
				"relations": {"parent_action": "create_bucket", "ran_by_actual_user": "demo@example.com"}}`,
		},
		{
			name: "failure",
			input: event(run("IN_PROGRESS", "2026-03-02T10:00:00.000Z", "2026-03-02T10:00:00.000Z", false),
				run("FAILURE", "2026-03-02T10:00:00.000Z", "2026-03-02T10:00:10.000Z", false)),
			want: `{"identifier": "r_abc", "title": "r_abc", "properties": {
				"run_id": "r_abc", "run_url": "https://app.port.io/organization/run?runId=r_abc", "status": "FAILURE",
				"created_at": "2026-03-02T10:00:00.000Z", "updated_at": "2026-03-02T10:00:10.000Z"},
				"relations": {"parent_action": "create_bucket", "ran_by_actual_user": "demo@example.com"}}`,
		},
	}
	r := NewRenderer()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := r.Render(t.Context(), mapping, tt.input)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if diff := cmp.Diff(decode(t, tt.want), got); diff != "" {
				t.Errorf("mapping mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzRender(f *testing.F) {
	for _, seed := range []string{
		"{{ .a }}", "x {{ .a }} y", "{{ {a: {b: 1}} }}", "{{ \"}}\" }}", "{{", "}}", "{{}}", "{{ ( }}",
		"{{ \"\\(.a)\" }}", "{{ spreadValue() }}", "{{ .a | gsub(\"\\\\.[0-9]+Z$\"; \"Z\") }}", "{{ nan }}",
		"{{ [range(1e9)] }}", "{{ halt_error }}", "{{ input }}", "{{ $ENV }}", "{{ \"a\" * 1e8 | length }}",
	} {
		f.Add(seed)
	}
	input := map[string]any{"a": "2026-03-02T10:00:00.123Z", "n": 1}
	r := NewRenderer()
	f.Fuzz(func(t *testing.T, s string) {
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		// Strings, object keys and nested values all go through the same code paths.
		tmpl := map[string]any{s: s, "k": []any{s}}
		got, err := r.Render(ctx, tmpl, input)
		if err == nil {
			if _, mErr := json.Marshal(got); mErr != nil {
				t.Fatalf("Render(%q) returned a value that is not JSON: %v", s, mErr)
			}
		}
	})
}
