package bootstrap

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMerge(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		theirs, ours  string
		want          string
		wantChanges   []string
		wantUnchanged bool
	}{
		{
			name:   "keys of theirs are kept, ours are added or set",
			theirs: `{"title": "Theirs", "extra": 1, "schema": {"properties": {"mine": {"type": "string"}, "a": {"type": "number", "title": "A", "icon": "X"}}}}`,
			ours:   `{"title": "Ours", "schema": {"properties": {"a": {"type": "number", "title": "A2"}, "b": {"type": "string"}}}}`,
			want: `{"title": "Ours", "extra": 1, "schema": {"properties": {"mine": {"type": "string"},
				"a": {"type": "number", "title": "A2", "icon": "X"}, "b": {"type": "string"}}}}`,
			wantChanges: []string{`~ schema.properties.a.title: "A" → "A2"`, "+ schema.properties.b", `~ title: "Theirs" → "Ours"`},
		},
		{
			name:          "equal numbers of any form, nothing to do",
			theirs:        `{"height": 400.0, "createdAt": "2026-01-01"}`,
			ours:          `{"height": 400}`,
			want:          `{"height": 400, "createdAt": "2026-01-01"}`,
			wantUnchanged: true,
		},
		{
			name:        "an object of another type is replaced whole",
			theirs:      `{"invocationMethod": {"type": "WEBHOOK", "url": "https://example.com", "agent": false}}`,
			ours:        `{"invocationMethod": {"type": "GITHUB", "org": "acme", "repo": "platform", "workflow": "w.yml"}}`,
			want:        `{"invocationMethod": {"type": "GITHUB", "org": "acme", "repo": "platform", "workflow": "w.yml"}}`,
			wantChanges: []string{"~ invocationMethod"},
		},
		{
			name:        "arrays of scalars are sets: our missing items are appended, theirs kept in their order",
			theirs:      `{"enum": ["c", "x", "a"], "required": []}`,
			ours:        `{"enum": ["a", "b", "c"], "required": ["criticality"]}`,
			want:        `{"enum": ["c", "x", "a", "b"], "required": ["criticality"]}`,
			wantChanges: []string{"~ enum", "~ required"},
		},
		{
			name:          "a set holding all our items is unchanged",
			theirs:        `{"enum": ["c", "b", "a", "z"]}`,
			ours:          `{"enum": ["a", "b", "c"]}`,
			want:          `{"enum": ["c", "b", "a", "z"]}`,
			wantUnchanged: true,
		},
		{
			name:          "arrays of objects are equal when each of ours is contained at its position",
			theirs:        `{"rules": [{"property": "status", "operator": "=", "value": "FAILURE", "id": 7}]}`,
			ours:          `{"rules": [{"property": "status", "operator": "=", "value": "FAILURE"}]}`,
			want:          `{"rules": [{"property": "status", "operator": "=", "value": "FAILURE", "id": 7}]}`,
			wantUnchanged: true,
		},
		{
			name:        "arrays of objects that differ are replaced",
			theirs:      `{"rules": [{"property": "status", "operator": "=", "value": "SUCCESS"}, {"property": "x"}]}`,
			ours:        `{"rules": [{"property": "status", "operator": "=", "value": "FAILURE"}]}`,
			want:        `{"rules": [{"property": "status", "operator": "=", "value": "FAILURE"}]}`,
			wantChanges: []string{"~ rules"},
		},
		{
			name:        "null in theirs is missing",
			theirs:      `{"description": null}`,
			ours:        `{"description": "d"}`,
			want:        `{"description": "d"}`,
			wantChanges: []string{"+ description"},
		},
		{
			name:        "a scalar where we need an object",
			theirs:      `{"ownership": "Direct"}`,
			ours:        `{"ownership": {"type": "Direct"}}`,
			want:        `{"ownership": {"type": "Direct"}}`,
			wantChanges: []string{"~ ownership"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			theirs, ours := decodeJSON(tt.theirs), decodeJSON(tt.ours)
			got, changes := mergeObject(theirs, ours)
			if diff := cmp.Diff(decodeJSON(tt.want), got); diff != "" {
				t.Errorf("merged (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantChanges, changes); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if tt.wantUnchanged != (len(changes) == 0) {
				t.Errorf("changes = %v", changes)
			}
			// Merging ours into the result changes nothing more: the merge converges in one step.
			if _, again := mergeObject(got, ours); len(again) > 0 {
				t.Errorf("second merge changes %v", again)
			}
			// Ours is never aliased by the result.
			if len(changes) > 0 {
				got["title"] = "mutated"
				if ours["title"] == "mutated" {
					t.Error("the result shares ours")
				}
			}
		})
	}
}

func TestMergeNilTheirs(t *testing.T) {
	t.Parallel()
	ours := decodeJSON(`{"a": {"b": 1}}`)
	got, changes := mergeObject(nil, ours)
	if diff := cmp.Diff(ours, got); diff != "" {
		t.Errorf("merged (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"+ (the whole object)"}, changes); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

func TestMergePage(t *testing.T) {
	t.Parallel()
	ours := normalizeObject(decodeJSON(`{"identifier": "p", "title": "P", "type": "dashboard", "widgets": [{"id": "r", "type": "dashboard-widget",
		"layout": [
			{"height": 400, "columns": [{"id": "a", "size": 4}, {"id": "b", "size": 4}, {"id": "c", "size": 4}]},
			{"height": 600, "columns": [{"id": "d", "size": 12}]}],
		"widgets": [{"id": "a", "type": "x", "title": "A"}, {"id": "b", "type": "x", "title": "B"}, {"id": "c", "type": "x", "title": "C"}, {"id": "d", "type": "y", "title": "D"}]}]}`))
	tests := []struct {
		name        string
		theirs      string
		wantRoot    string
		wantChanges []string
	}{
		{
			name: "their widget and row kept; a placed widget of ours updated in place; the rest appended in resized rows",
			theirs: `{"identifier": "p", "title": "P", "type": "dashboard", "locked": true, "widgets": [{"id": "theirs", "type": "dashboard-widget",
				"layout": [{"height": 500, "columns": [{"id": "mine", "size": 8}, {"id": "b", "size": 4}]}],
				"widgets": [{"id": "mine", "type": "markdown"}, {"id": "b", "type": "x", "title": "Bee", "icon": "I"}]}]}`,
			wantRoot: `{"id": "theirs", "type": "dashboard-widget",
				"layout": [
					{"height": 500, "columns": [{"id": "mine", "size": 8}, {"id": "b", "size": 4}]},
					{"height": 400, "columns": [{"id": "a", "size": 6}, {"id": "c", "size": 6}]},
					{"height": 600, "columns": [{"id": "d", "size": 12}]}],
				"widgets": [{"id": "mine", "type": "markdown"}, {"id": "b", "type": "x", "title": "B", "icon": "I"},
					{"id": "a", "type": "x", "title": "A"}, {"id": "c", "type": "x", "title": "C"}, {"id": "d", "type": "y", "title": "D"}]}`,
			wantChanges: []string{"+ widgets.a (A)", `~ widgets.b.title: "Bee" → "B"`, "+ widgets.c (C)", "+ widgets.d (D)",
				"+ layout row: a, c", "+ layout row: d"},
		},
		{
			name:   "an empty dashboard-widget gets all of ours",
			theirs: `{"identifier": "p", "title": "P", "type": "dashboard", "widgets": [{"id": "x", "type": "dashboard-widget", "layout": [], "widgets": []}]}`,
			wantRoot: `{"id": "x", "type": "dashboard-widget",
				"layout": [
					{"height": 400, "columns": [{"id": "a", "size": 4}, {"id": "b", "size": 4}, {"id": "c", "size": 4}]},
					{"height": 600, "columns": [{"id": "d", "size": 12}]}],
				"widgets": [{"id": "a", "type": "x", "title": "A"}, {"id": "b", "type": "x", "title": "B"}, {"id": "c", "type": "x", "title": "C"}, {"id": "d", "type": "y", "title": "D"}]}`,
			wantChanges: []string{"+ widgets.a (A)", "+ widgets.b (B)", "+ widgets.c (C)", "+ widgets.d (D)",
				"+ layout row: a, b, c", "+ layout row: d"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			theirs := normalizeObject(decodeJSON(tt.theirs))
			got, changes := mergePage(theirs, ours)
			if diff := cmp.Diff(tt.wantChanges, changes); diff != "" {
				t.Errorf("changes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(normalize(decodeJSON(tt.wantRoot)), got["widgets"].([]any)[0]); diff != "" {
				t.Errorf("root widget (-want +got):\n%s", diff)
			}
			if got["locked"] != theirs["locked"] {
				t.Errorf("locked = %v", got["locked"])
			}
			if _, again := mergePage(got, ours); len(again) > 0 {
				t.Errorf("second merge changes %v", again)
			}
		})
	}
}
