package bootstrap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// merge merges ours (a definition of the guide) into theirs (the same object as Port has it) and lists every
// path where the result differs from theirs: "+ path" where theirs lacks what we add, "~ path" where we
// change a value. Nothing theirs holds beyond ours is removed, so what users added survives:
//
//   - objects merge key by key, recursively;
//   - an object whose "type" differs from ours is a different kind of thing (a WEBHOOK backend where we need
//     GITHUB, Inherited ownership where we need Direct): ours replaces it whole;
//   - arrays of strings, numbers and booleans are sets (enum values, required properties, input order,
//     allowed blueprints): the items of ours that theirs lacks are appended, in our order;
//   - any other value (arrays of objects included) is ours when it differs; an array of objects is "equal" when
//     each of our elements is contained in theirs at the same position, so fields Port adds are not changes.
//
// The result shares no maps or slices with ours; it may share unchanged values with theirs. A nil theirs merges
// to ours, with every top-level key listed as added.
func merge(theirs, ours any) (any, []string) { return mergePath(theirs, ours, "") }

// mergePath is merge for the values at path (which prefixes the listed paths).
func mergePath(theirs, ours any, path string) (any, []string) {
	var changes []string
	out := mergeAt(normalize(theirs), normalize(ours), path, &changes)
	return out, changes
}

// mergeObject is merge for two objects.
func mergeObject(theirs, ours map[string]any) (map[string]any, []string) {
	var theirsAny any
	if theirs != nil {
		theirsAny = theirs
	}
	out, changes := merge(theirsAny, ours)
	m, _ := out.(map[string]any)
	return m, changes
}

func mergeAt(theirs, ours any, path string, changes *[]string) any {
	if theirs == nil {
		*changes = append(*changes, "+ "+orRoot(path))
		return ours
	}
	switch o := ours.(type) {
	case map[string]any:
		t, ok := theirs.(map[string]any)
		if !ok || (o["type"] != nil && t["type"] != nil && !equal(o["type"], t["type"])) {
			*changes = append(*changes, "~ "+orRoot(path))
			return o
		}
		out := make(map[string]any, len(t)+len(o))
		for k, v := range t {
			out[k] = v
		}
		for _, k := range sortedKeys(o) {
			out[k] = mergeAt(t[k], o[k], join(path, k), changes)
		}
		return out
	case []any:
		t, ok := theirs.([]any)
		if ok && scalars(o) && scalars(t) {
			out := slices.Clone(t)
			for _, item := range o {
				if !slices.ContainsFunc(t, func(x any) bool { return equal(x, item) }) {
					out = append(out, item)
				}
			}
			if len(out) > len(t) {
				*changes = append(*changes, "~ "+orRoot(path))
			}
			return out
		}
		if !ok || !contains(t, o) {
			*changes = append(*changes, "~ "+orRoot(path))
			return o
		}
		return t
	default:
		if !equal(theirs, ours) {
			*changes = append(*changes, fmt.Sprintf("~ %s: %s → %s", orRoot(path), show(theirs), show(ours)))
			return ours
		}
		return theirs
	}
}

// maxShown bounds how much of a changed value a plan line repeats.
const maxShown = 40

// show renders a changed value for a plan line: JSON, cut after 40 characters.
func show(v any) string {
	s := strings.TrimSpace(string(encode(v)))
	if r := []rune(s); len(r) > maxShown {
		return string(r[:maxShown]) + "…"
	}
	return s
}

// contains reports whether got holds everything want holds: objects key by key, arrays element by element
// (same length), other values equal.
func contains(got, want any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range w {
			gv, ok := g[k]
			if !ok || !contains(gv, v) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !contains(g[i], w[i]) {
				return false
			}
		}
		return true
	default:
		return equal(got, want)
	}
}

// scalars reports whether every item of a is a string, number, boolean or null.
func scalars(a []any) bool {
	for _, v := range a {
		switch v.(type) {
		case map[string]any, []any:
			return false
		}
	}
	return true
}

// equal compares two JSON values by their encoding (maps encode with sorted keys; numbers were decoded as
// float64 by normalize, so 2 equals 2.0).
func equal(a, b any) bool {
	return bytes.Equal(encode(a), encode(b))
}

func encode(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("bootstrap: value is not JSON: %v", err)) // decoded JSON always encodes
	}
	return buf.Bytes()
}

// normalize turns a value into what encoding/json decodes (map[string]any, []any, float64…), as a deep copy.
func normalize(v any) any {
	if v == nil {
		return nil
	}
	var out any
	if err := json.Unmarshal(encode(v), &out); err != nil {
		panic(fmt.Sprintf("bootstrap: %v", err))
	}
	return out
}

// normalizeObject is normalize for an object.
func normalizeObject(m map[string]any) map[string]any {
	out, _ := normalize(m).(map[string]any)
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "(the whole object)"
	}
	return path
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
