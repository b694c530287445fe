package ghaction

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDispatchInputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	oversized := filepath.Join(dir, "oversized.json")
	big := append([]byte(`{"inputs":{"a":"`), bytes.Repeat([]byte("x"), maxEventBytes)...)
	big = append(big, `"}}`...)
	if err := os.WriteFile(oversized, big, 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty.json")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		path    string
		want    map[string]string
		wantErr string
	}{
		{
			name: "Port dispatch",
			path: "testdata/dispatch_port.json",
			want: map[string]string{
				"actionTitle":      "Provision a sandbox ::warning::x",
				"category":         `{"identifier":"security","title":"Security","icon":"Lock","blueprint":"actions_categories","properties":{},"relations":{}}`,
				"lead_time_before": "",
				"cycle_time":       "2",
				"port_context":     `{"runId":"r_abc","blueprint":"action"}`,
			},
		},
		{
			name: "JSON numbers, booleans, null and arrays",
			path: "testdata/dispatch_numbers.json",
			want: map[string]string{
				"cycle_time":       "2",
				"lead_time_before": "1.5e1",
				"big":              "12345678901234567890",
				"dry_run":          "true",
				"nothing":          "",
				"tags":             `["a",1,{"b":false}]`,
				"title":            "Deploy",
			},
		},
		{name: "no GITHUB_EVENT_PATH", path: "", want: map[string]string{}},
		{name: "no inputs key", path: "testdata/push_no_inputs.json", want: map[string]string{}},
		{name: "inputs null", path: "testdata/inputs_null.json", want: map[string]string{}},
		{name: "missing file", path: filepath.Join(dir, "nope.json"), wantErr: "nope.json: no such file or directory"},
		{name: "directory", path: dir, wantErr: "is a directory"},
		{name: "invalid JSON", path: "testdata/invalid.json", wantErr: "testdata/invalid.json: invalid JSON"},
		{name: "empty file", path: empty, wantErr: "invalid JSON"},
		{name: "inputs not an object", path: "testdata/inputs_not_object.json", wantErr: `"inputs" is not a JSON object`},
		{name: "payload not an object", path: "testdata/payload_not_object.json", wantErr: "the payload is not a JSON object"},
		{name: "over 1 MiB", path: oversized, wantErr: "larger than the limit of 1024 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e, _ := newTestEnv(t, map[string]string{"GITHUB_EVENT_PATH": tt.path})
			got, err := e.DispatchInputs()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("DispatchInputs error = %v, want one containing %q", err, tt.wantErr)
				}
				var ee *EventError
				if !errors.As(err, &ee) || ee.Path != tt.path {
					t.Errorf("error %v is not an *EventError for %s", err, tt.path)
				}
				if strings.Contains(err.Error(), "secret-ish") || strings.Contains(err.Error(), "actionTitle") {
					t.Errorf("error quotes the payload: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DispatchInputs mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDispatchInputsMissingFileIsNotExist(t *testing.T) {
	t.Parallel()
	e, _ := newTestEnv(t, map[string]string{"GITHUB_EVENT_PATH": filepath.Join(t.TempDir(), "event.json")})
	_, err := e.DispatchInputs()
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("DispatchInputs error = %v, want one wrapping fs.ErrNotExist", err)
	}
}
