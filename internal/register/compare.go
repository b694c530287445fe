package register

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Drift lists where got differs from want, considering only what want sets: Port returns a definition with
// metadata and defaults added, so "unchanged" means every field we set reads back equal, not that the whole
// objects are equal. Objects are compared key by key; arrays and scalars must be equal. Numbers compare by
// value (2 equals 2.0). The result is sorted, with paths like "trigger.event.actionIdentifier".
func Drift(want, got any) []string {
	var out []string
	drift(normalize(want), normalize(got), "", &out)
	sort.Strings(out)
	return out
}

func drift(want, got any, path string, out *[]string) {
	wantObj, ok := want.(map[string]any)
	if !ok {
		if !reflect.DeepEqual(want, got) {
			*out = append(*out, orRoot(path))
		}
		return
	}
	gotObj, ok := got.(map[string]any)
	if !ok {
		*out = append(*out, orRoot(path))
		return
	}
	for k, w := range wantObj {
		g, ok := gotObj[k]
		if !ok {
			*out = append(*out, join(path, k)+" (missing)")
			continue
		}
		drift(w, g, join(path, k), out)
	}
}

func join(path, key string) string {
	const maxKey = 48
	if len(key) > maxKey {
		key = key[:maxKey] + "…"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func orRoot(path string) string {
	if path == "" {
		return "(the whole value)"
	}
	return path
}

// normalize turns Go values into what encoding/json decodes (map[string]any, []any, float64…), so that a
// definition built in Go compares equal to the same definition read back from Port.
func normalize(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("register: definition is not JSON: %v", err)) // our own definitions; a bug
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(fmt.Sprintf("register: %v", err))
	}
	return out
}

// listPaths renders drift paths for a log line.
func listPaths(paths []string) string {
	const max = 5
	if len(paths) > max {
		return strings.Join(paths[:max], ", ") + fmt.Sprintf(" and %d more", len(paths)-max)
	}
	return strings.Join(paths, ", ")
}
