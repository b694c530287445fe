package portemu

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The blueprint search names the fields to include or exclude by property and relation identifier, and
// meta-properties with a "$" (Port's OpenAPI spec: "for meta-properties (e.g. $createdAt, $updatedAt), the
// $ prefix must be used"); the entity routes' path form ("properties.name") still works.
func TestSearchIncludeByIdentifier(t *testing.T) {
	t.Parallel()
	f := modelFixture(t)
	f.mustDo(http.StatusCreated, http.MethodPost, "/v1/blueprints/svc/entities", map[string]any{
		"identifier": "alpha", "title": "Alpha", "properties": map[string]any{"name": "a", "port": 1, "tier": "b"},
		"relations": map[string]any{"group": "g1"}})
	search := func(body string) map[string]any {
		t.Helper()
		out := f.mustDo(http.StatusOK, http.MethodPost, "/v1/blueprints/svc/entities/search", decode(t, body))
		for _, e := range out["entities"].([]any) {
			if e.(map[string]any)["identifier"] == "alpha" {
				return e.(map[string]any)
			}
		}
		t.Fatalf("alpha not found in %v", out)
		return nil
	}
	tests := []struct {
		name, body string
		want       map[string]any
	}{
		{"meta, property, computed property and relation",
			`{"query": {"combinator": "and", "rules": []}, "include": ["$identifier", "$title", "$createdAt", "name", "label", "group"]}`,
			map[string]any{"identifier": "alpha", "title": "Alpha", "createdAt": "2026-03-02T10:00:00.123Z",
				"properties": map[string]any{"name": "a", "label": "a/b"}, "relations": map[string]any{"group": "g1"}}},
		{"entity paths pass through",
			`{"query": {"combinator": "and", "rules": []}, "include": ["identifier", "properties.port"]}`,
			map[string]any{"identifier": "alpha", "properties": map[string]any{"port": 1.0}}},
		{"exclude",
			`{"query": {"combinator": "and", "rules": [{"property": "$identifier", "operator": "=", "value": "alpha"}]},
			  "include": ["$identifier", "name", "port", "group"], "exclude": ["port", "group"]}`,
			map[string]any{"identifier": "alpha", "properties": map[string]any{"name": "a"}, "relations": map[string]any{}}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, search(tt.body)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}
