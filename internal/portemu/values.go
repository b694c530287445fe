package portemu

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
)

// Identifier patterns of port-api.md §9 (Go's RE2 has no look-ahead, so "." and ".." are checked apart).
var (
	// These are compiled regular expressions, immutable after initialisation; no mutable state.
	actionIDPattern    = regexp.MustCompile(`^[\p{L}0-9@_.+:=-]+$`)
	blueprintIDPattern = regexp.MustCompile(`^[\p{L}0-9@_.+:\\/-]+$`)
	entityIDPattern    = regexp.MustCompile(`^[\p{L}0-9@_.+:\\/=-]+$`)
	keyPattern         = regexp.MustCompile(`^[A-Za-z0-9@_=\-]+$`)
)

// checkIdentifier validates an identifier against a pattern and a maximum length (0 = none).
func checkIdentifier(kind string, v any, pattern *regexp.Regexp, maxLen int) (string, error) {
	id, ok := v.(string)
	if !ok {
		if v == nil {
			return "", invalidRequest("%s identifier is required", kind)
		}
		return "", invalidRequest("%s identifier must be a string, got %s", kind, typeName(v))
	}
	if id == "" || id == "." || id == ".." || !pattern.MatchString(id) {
		return "", invalidRequest("%s identifier %q must match pattern %q and not be \".\" or \"..\"", kind, id, pattern.String())
	}
	if maxLen > 0 && len([]rune(id)) > maxLen {
		return "", invalidRequest("%s identifier %q must not be longer than %d characters", kind, id, maxLen)
	}
	return id, nil
}

// obj returns v as an object, or nil.
func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// str returns v as a string, or "".
func str(v any) string {
	s, _ := v.(string)
	return s
}

// num returns v as a float64 when it is a number.
func num(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, !math.IsNaN(n)
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64, int, int64:
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

// deepCopy copies a JSON value (as produced by encoding/json).
func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return copyObject(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	default:
		return t
	}
}

func copyObject(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, e := range m {
		out[k] = deepCopy(e)
	}
	return out
}

// normalizeJSON converts any Go value to encoding/json types with a JSON round trip.
func normalizeJSON(v any) (any, error) {
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

// jsonEqual compares two JSON values, numbers by value.
func jsonEqual(a, b any) bool {
	if x, ok := num(a); ok {
		y, ok := num(b)
		return ok && x == y
	}
	switch av := a.(type) {
	case []any:
		bv, ok := b.([]any)
		return ok && slices.EqualFunc(av, bv, jsonEqual)
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(av) != len(bv) {
			return false
		}
		for k, x := range av {
			y, ok := bv[k]
			if !ok || !jsonEqual(x, y) {
				return false
			}
		}
		return true
	default:
		return a == b
	}
}

// stringList returns v as a list of strings: a string gives one element, an array of strings its elements.
func stringList(v any) ([]string, bool) {
	switch t := v.(type) {
	case nil:
		return nil, true
	case string:
		return []string{t}, true
	case []any:
		out := make([]string, 0, len(t))
		for _, e := range t {
			s, ok := e.(string)
			if !ok {
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	case []string:
		return slices.Clone(t), true
	}
	return nil, false
}

func toAnySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// onlyKeys rejects keys of m outside allowed, like a schema with additionalProperties: false.
func onlyKeys(what string, m map[string]any, allowed ...string) error {
	for _, k := range sortedKeys(m) {
		if !slices.Contains(allowed, k) {
			return invalidRequest("%s must NOT have additional properties: %q is not allowed (allowed: %s)", what, k, strings.Join(allowed, ", "))
		}
	}
	return nil
}
