// Package jqtemplate evaluates Port's "{{ jq }}" templates inside a JSON value, the way Port renders an
// action's or automation's invocationMethod (https://docs.port.io/actions-and-automations/define-automations/setup-action).
//
// The rules (see port-behaviors.md, "Templates in an invocation method"):
//   - a string that is exactly one template (surrounding whitespace allowed) becomes the template's JSON
//     value: a number stays a number, null stays null, an object stays an object;
//   - a string with text around its templates becomes a string, each value interpolated like jq's tostring
//     (strings raw, everything else compact JSON, null as "null");
//   - object keys are templates too, and a key whose template yields null is left out together with its
//     value (the value is then not evaluated at all);
//   - the key "{{ spreadValue() }}" takes an object value and merges it into the parent object.
//
// Each jq program yields its first output; a program with no output yields null.
package jqtemplate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strings"
	"sync"

	"github.com/itchyny/gojq"
)

// Error is a template that failed to compile or to run. It names the template text so that the user can
// find it in a definition that may hold dozens of templates.
type Error struct {
	// Template is the template as written, braces included (for Eval, the bare expression).
	Template string
	// Err is the underlying jq or context error.
	Err error
}

func (e *Error) Error() string { return fmt.Sprintf("jq template `%s`: %v", e.Template, e.Err) }

// Unwrap returns the underlying error, so errors.Is(err, context.Canceled) works.
func (e *Error) Unwrap() error { return e.Err }

// Renderer renders templates and caches each distinct jq expression once compiled. It is safe for
// concurrent use; the zero value is not usable, call NewRenderer.
type Renderer struct {
	mu    sync.Mutex
	cache map[string]*gojq.Code
}

// NewRenderer returns a Renderer with an empty compile cache.
func NewRenderer() *Renderer { return &Renderer{cache: make(map[string]*gojq.Code)} }

// Render evaluates every template in tmpl against input with a fresh Renderer. Long-lived callers that
// render the same templates repeatedly should keep a Renderer instead.
func Render(ctx context.Context, tmpl any, input any) (any, error) {
	return NewRenderer().Render(ctx, tmpl, input)
}

// spreadKey is the expression of Port's spread key, "{{ spreadValue() }}".
const spreadKey = "spreadValue()"

// Render evaluates every template in tmpl (a value as decoded by encoding/json) against input and returns a
// new value; tmpl is not modified. input may hold any JSON-encodable Go value.
func (r *Renderer) Render(ctx context.Context, tmpl any, input any) (any, error) {
	in, err := normalize(input)
	if err != nil {
		return nil, fmt.Errorf("jq template input: %w", err)
	}
	return r.render(ctx, tmpl, in)
}

// Eval runs one bare jq expression (no braces) against input and returns its first output, or null when it
// has none. Port uses bare expressions for calculation properties and automation conditions.
func (r *Renderer) Eval(ctx context.Context, expr string, input any) (any, error) {
	in, err := normalize(input)
	if err != nil {
		return nil, fmt.Errorf("jq input: %w", err)
	}
	v, err := r.eval(ctx, expr, in)
	if err != nil {
		return nil, &Error{Template: expr, Err: err}
	}
	return v, nil
}

func (r *Renderer) render(ctx context.Context, tmpl any, input any) (any, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	switch t := tmpl.(type) {
	case string:
		return r.renderString(ctx, t, input)
	case []any:
		out := make([]any, len(t))
		for i, v := range t {
			rv, err := r.render(ctx, v, input)
			if err != nil {
				return nil, err
			}
			out[i] = rv
		}
		return out, nil
	case map[string]any:
		return r.renderObject(ctx, t, input)
	default:
		return normalize(t)
	}
}

func (r *Renderer) renderObject(ctx context.Context, obj map[string]any, input any) (any, error) {
	// Visit keys in a fixed order so errors and spread conflicts are deterministic.
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	out := make(map[string]any, len(obj))
	var spreads []map[string]any
	for _, k := range keys {
		parts := parse(k)
		if isSpread(parts) {
			v, err := r.render(ctx, obj[k], input)
			if err != nil {
				return nil, err
			}
			switch sv := v.(type) {
			case nil:
			case map[string]any:
				spreads = append(spreads, sv)
			default:
				return nil, &Error{Template: k, Err: fmt.Errorf("spreadValue() needs an object value, got %s", typeName(v))}
			}
			continue
		}
		key, ok, err := r.renderKey(ctx, k, parts, input)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue // the key rendered to null: leave the pair out without evaluating the value
		}
		v, err := r.render(ctx, obj[k], input)
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	// Explicit keys win over spread ones: "{{ spreadValue() }}" supplies defaults around fixed fields such as
	// port_context, which must not be overwritten by a user input of the same name.
	for _, sv := range spreads {
		for k, v := range sv {
			if _, exists := out[k]; !exists {
				out[k] = v
			}
		}
	}
	return out, nil
}

// renderKey renders an object key; ok is false when the key is a single template that yields null.
func (r *Renderer) renderKey(ctx context.Context, raw string, parts []part, input any) (string, bool, error) {
	if !hasTemplate(parts) {
		return raw, true, nil
	}
	if expr, ok := whole(raw, parts); ok {
		v, err := r.eval(ctx, expr, input)
		if err != nil {
			return "", false, &Error{Template: raw, Err: err}
		}
		if v == nil {
			return "", false, nil
		}
		s, err := toString(v)
		if err != nil {
			return "", false, &Error{Template: raw, Err: err}
		}
		return s, true, nil
	}
	s, err := r.interpolate(ctx, raw, parts, input)
	return s, true, err
}

func (r *Renderer) renderString(ctx context.Context, s string, input any) (any, error) {
	parts := parse(s)
	if !hasTemplate(parts) {
		return s, nil
	}
	if expr, ok := whole(s, parts); ok {
		v, err := r.eval(ctx, expr, input)
		if err != nil {
			return nil, &Error{Template: s, Err: err}
		}
		return v, nil
	}
	return r.interpolate(ctx, s, parts, input)
}

func (r *Renderer) interpolate(ctx context.Context, raw string, parts []part, input any) (string, error) {
	var b strings.Builder
	for _, p := range parts {
		if !p.template {
			b.WriteString(p.text)
			continue
		}
		v, err := r.eval(ctx, p.text, input)
		if err != nil {
			return "", &Error{Template: "{{" + p.text + "}}", Err: err}
		}
		s, err := toString(v)
		if err != nil {
			return "", &Error{Template: raw, Err: err}
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

// eval compiles (once) and runs expr, returning its first output converted to encoding/json types.
func (r *Renderer) eval(ctx context.Context, expr string, input any) (any, error) {
	code, err := r.compile(expr)
	if err != nil {
		return nil, err
	}
	iter := code.RunWithContext(ctx, input)
	v, ok := iter.Next()
	if !ok {
		return nil, nil
	}
	if err, isErr := v.(error); isErr {
		var halt *gojq.HaltError
		if errors.As(err, &halt) {
			return nil, fmt.Errorf("halt is not allowed in a template: %w", err)
		}
		return nil, err
	}
	return fromJQ(v)
}

func (r *Renderer) compile(expr string) (*gojq.Code, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.cache[expr]; ok {
		return c, nil
	}
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, err
	}
	c, err := gojq.Compile(q)
	if err != nil {
		return nil, err
	}
	r.cache[expr] = c
	return c, nil
}

// part is a piece of a string: literal text, or the expression between "{{" and "}}".
type part struct {
	text     string
	template bool
}

func hasTemplate(parts []part) bool {
	for _, p := range parts {
		if p.template {
			return true
		}
	}
	return false
}

// whole reports whether s is exactly one template, ignoring surrounding whitespace, and returns its
// expression.
func whole(s string, parts []part) (string, bool) {
	var expr string
	n := 0
	for _, p := range parts {
		if p.template {
			expr = p.text
			n++
			continue
		}
		if strings.TrimSpace(p.text) != "" {
			return "", false
		}
	}
	return expr, n == 1
}

func isSpread(parts []part) bool {
	expr, ok := whole("", parts)
	return ok && strings.TrimSpace(expr) == spreadKey
}

// parse splits s into literal text and templates. A template ends at the first "}}" outside a jq string
// literal and outside balanced braces, so object constructions like {{ {a: {b: 1}} }} work. An unterminated
// "{{" is literal text, as with a non-matching regular expression.
func parse(s string) []part {
	var parts []part
	for {
		start := strings.Index(s, "{{")
		if start < 0 {
			break
		}
		end := templateEnd(s, start+2)
		if end < 0 {
			break
		}
		if start > 0 {
			parts = append(parts, part{text: s[:start]})
		}
		parts = append(parts, part{text: s[start+2 : end], template: true})
		s = s[end+2:]
	}
	if s != "" {
		parts = append(parts, part{text: s})
	}
	return parts
}

// templateEnd returns the index of the "}}" closing a template whose expression starts at i, or -1.
func templateEnd(s string, i int) int {
	// Each stack entry is a nesting level: 's' a string literal, '(' a string interpolation \( … ),
	// '{' an object construction or '[' / '(' grouping in code.
	var stack []byte
	inString := func() bool { return len(stack) > 0 && stack[len(stack)-1] == 's' }
	for ; i < len(s); i++ {
		c := s[i]
		if inString() {
			switch c {
			case '\\':
				if i+1 < len(s) && s[i+1] == '(' {
					stack = append(stack, 'i') // interpolation: code until the matching ')'
					i++
				} else {
					i++ // skip the escaped character
				}
			case '"':
				stack = stack[:len(stack)-1]
			}
			continue
		}
		switch c {
		case '"':
			stack = append(stack, 's')
		case '{', '(', '[':
			stack = append(stack, c)
		case ')':
			if len(stack) > 0 && (stack[len(stack)-1] == '(' || stack[len(stack)-1] == 'i') {
				stack = stack[:len(stack)-1]
			}
		case ']':
			if len(stack) > 0 && stack[len(stack)-1] == '[' {
				stack = stack[:len(stack)-1]
			}
		case '}':
			if len(stack) == 0 {
				if i+1 < len(s) && s[i+1] == '}' {
					return i
				}
				continue
			}
			if stack[len(stack)-1] == '{' {
				stack = stack[:len(stack)-1]
			}
		}
	}
	return -1
}

// toString converts a template value for interpolation: strings raw, everything else compact JSON.
func toString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// fromJQ converts a gojq value to encoding/json types: every number becomes a float64.
func fromJQ(v any) (any, error) {
	switch t := v.(type) {
	case nil, bool, string:
		return t, nil
	case float64:
		// Like jq: NaN has no JSON form and becomes null, infinities become the largest finite numbers.
		switch {
		case math.IsNaN(t):
			return nil, nil
		case math.IsInf(t, 1):
			return math.MaxFloat64, nil
		case math.IsInf(t, -1):
			return -math.MaxFloat64, nil
		}
		return t, nil
	case int:
		return float64(t), nil
	case *big.Int:
		f, _ := new(big.Float).SetInt(t).Float64()
		return f, nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			ev, err := fromJQ(e)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			ev, err := fromJQ(e)
			if err != nil {
				return nil, err
			}
			out[k] = ev
		}
		return out, nil
	default:
		return nil, fmt.Errorf("unexpected jq value of type %T", v)
	}
}

// normalize converts v to the types gojq accepts (and encoding/json produces). Values already in that form
// are copied structurally; anything else (structs, typed slices and maps, json.Number) goes through a JSON
// round trip.
func normalize(v any) (any, error) {
	switch t := v.(type) {
	case nil, bool, string:
		return t, nil
	case float64:
		return t, nil
	case int:
		return float64(t), nil
	case int64:
		return float64(t), nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			ev, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[i] = ev
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			ev, err := normalize(e)
			if err != nil {
				return nil, err
			}
			out[k] = ev
		}
		return out, nil
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		var out any
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, err
		}
		return out, nil
	}
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	default:
		return fmt.Sprintf("%T", v)
	}
}
