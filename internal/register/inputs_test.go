package register

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/port-roi/port-roi-action/internal/input"
)

func ptr(f float64) *float64 { return &f }

func TestParseInputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  Raw
		ci   bool
		want Inputs
	}{
		{
			name: "as Port dispatches it",
			raw: Raw{Title: "Create S3 Bucket", Category: `{"identifier":"infrastructure","title":"Infrastructure","blueprint":"actions_categories"}`,
				LeadTimeBefore: "48", CycleTimeBefore: "2.5", PortContext: `{"runId":"r_abc123","blueprint":"action"}`},
			ci:   true,
			want: Inputs{Title: "Create S3 Bucket", ActionID: "create_s3_bucket", Category: "infrastructure", LeadTimeBefore: ptr(48), CycleTimeBefore: ptr(2.5), RunID: "r_abc123"},
		},
		{
			name: "blank baselines stay unset, bare category, terminal without run",
			raw:  Raw{Title: "  Rotate keys ", Category: "security", LeadTimeBefore: " ", CycleTimeBefore: ""},
			want: Inputs{Title: "Rotate keys", ActionID: "rotate_keys", Category: "security"},
		},
		{
			name: "zero is a real baseline",
			raw:  Raw{Title: "x", Category: `"security"`, LeadTimeBefore: "0", CycleTimeBefore: "1e2", PortContext: "r_1"},
			want: Inputs{Title: "x", ActionID: "x", Category: "security", LeadTimeBefore: ptr(0), CycleTimeBefore: ptr(100), RunID: "r_1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseInputs(tt.raw, tt.ci)
			if err != nil {
				t.Fatalf("ParseInputs: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseInputs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseInputsErrors(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 10000)
	tests := []struct {
		name string
		raw  Raw
		ci   bool
		want []string // every message, in input order
	}{
		{
			name: "everything missing in CI",
			ci:   true,
			want: []string{
				`input "action-title" is empty: the title of the self-service action is required, e.g. "Create S3 bucket"`,
				`input "category" is empty: the category is required: an actions_categories identifier or the entity object Port sends`,
				`input "port-context" is empty: a run id is required inside GitHub Actions, to report to the Port run log: pass the port_context Port sends ({"runId": "{{ .run.id }}"}) in the workflow inputs or in with: port-context`,
			},
		},
		{
			name: "every value wrong at once",
			raw:  Raw{Title: "a\nb", Category: `{"identifier": 3}`, LeadTimeBefore: "4h", CycleTimeBefore: "-1", PortContext: `{"runId": "r_1"`},
			want: []string{
				`input "action-title" = "a\nb": a title is one line of text, without line breaks, tabs or control characters`,
				`input "category" = "{\"identifier\": 3}": the entity object has no "identifier" string`,
				`input "lead-time-before" = "4h": expected a number of hours, 0 or more (e.g. 4 or 0.5), or blank if unknown`,
				`input "cycle-time-before" = "-1": a baseline cannot be negative; expected a number of hours, 0 or more (e.g. 4 or 0.5), or blank if unknown`,
				`input "port-context" = "{\"runId\": \"r_1\"": expected the JSON object Port sends, like {"runId": "r_…"}, but the JSON is invalid: unexpected end of JSON input at byte 15`,
			},
		},
		{
			name: "numbers that are not numbers",
			raw:  Raw{Title: "ok", Category: "c", LeadTimeBefore: "NaN", CycleTimeBefore: "1e309"},
			want: []string{
				`input "lead-time-before" = "NaN": expected a number of hours, 0 or more (e.g. 4 or 0.5), or blank if unknown`,
				`input "cycle-time-before" = "1e309": the number is out of range; expected a number of hours, 0 or more (e.g. 4 or 0.5), or blank if unknown`,
			},
		},
		{
			name: "huge and unusable titles, bad category identifier",
			raw:  Raw{Title: long, Category: "a b", PortContext: `{"blueprint":"action"}`},
			want: []string{
				`input "action-title" = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"… (10000 characters): a title has at most 200 characters`,
				`input "category" = "a b": not a valid Port entity identifier: use letters, digits and @ _ . + : \ / = - (at most 1000 characters)`,
				`input "port-context" = "{\"blueprint\":\"action\"}": the object has no "runId"; pass {"runId": "{{ .run.id }}"} in the action's workflowInputs`,
			},
		},
		{
			name: "a title without a letter or digit",
			raw:  Raw{Title: "🚀🚀", Category: "c"},
			want: []string{`input "action-title" = "🚀🚀": it has no letter or digit to build an identifier from`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseInputs(tt.raw, tt.ci)
			if err == nil {
				t.Fatal("ParseInputs: no error")
			}
			if !input.IsInputError(err) {
				t.Errorf("error %v is not an input error", err)
			}
			got := strings.Split(err.Error(), "\n")
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}
