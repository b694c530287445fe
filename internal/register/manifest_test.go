package register

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/port-roi/port-roi-action/internal/input"
)

func TestParseManifest(t *testing.T) {
	t.Parallel()
	s3 := Inputs{Title: "Create S3 Bucket", ActionID: "create_s3_bucket", Category: "infrastructure", LeadTimeBefore: ptr(48), CycleTimeBefore: ptr(2.5)}
	for _, tc := range []struct {
		name, text string
		want       []Item
	}{{
		name: "YAML",
		text: "# actions\n- title: Create S3 Bucket\n  category: infrastructure\n  lead_time_before: 48\n  cycle_time_before: 2.5\n" +
			"- title: Rotate keys\n  category: security\n",
		want: []Item{{Index: 0, Line: 2, Inputs: s3}, {Index: 1, Line: 6, Inputs: Inputs{Title: "Rotate keys", ActionID: "rotate_keys", Category: "security"}}},
	}, {
		name: "JSON, with numbers as strings",
		text: `[{"title": "Create S3 Bucket", "category": "infrastructure", "lead_time_before": "48", "cycle_time_before": "2.5"}]`,
		want: []Item{{Line: 1, Inputs: s3}},
	}, {
		name: "the guide's names and the category Port sends",
		text: "- actionTitle: Create S3 Bucket\n  category: {identifier: infrastructure, title: Infrastructure}\n  lead_time_before: 48\n  cycle_time: 2.5\n",
		want: []Item{{Line: 1, Inputs: s3}},
	}, {
		name: "the action's input names, null and blank baselines",
		text: "- action-title: Rotate keys\n  category: security\n  lead-time-before: ~\n  cycle-time-before: ''\n",
		want: []Item{{Line: 1, Inputs: Inputs{Title: "Rotate keys", ActionID: "rotate_keys", Category: "security"}}},
	}, {
		name: "anchors and aliases",
		text: "- &base\n  title: A\n  category: security\n- title: B\n  category: *cat\n  lead_time_before: &h 0\n  cycle_time_before: *h\n" +
			"- title: C\n  category: &cat security\n",
		want: nil, // *cat is used before it is defined: YAML refuses it
	}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseManifest("manifest", []byte(tc.text))
			if tc.want == nil {
				if err == nil {
					t.Fatalf("ParseManifest = %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseManifest: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseManifest (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseManifestErrors(t *testing.T) {
	t.Parallel()
	var many strings.Builder
	for i := range MaxManifestItems + 1 {
		fmt.Fprintf(&many, "- {title: a%d, category: c}\n", i)
	}
	tests := []struct {
		name, text string
		want       []string
	}{
		{"empty", " \n", []string{`input "manifest": the manifest is empty: expected a list of actions, each with a title and a category`}},
		{"not YAML", "- [", []string{`input "manifest": the manifest is not valid YAML or JSON: line 1: did not find expected node content`}},
		{"not JSON", `[{"title": "a"`, []string{`input "manifest": the manifest is not valid YAML or JSON: line 1: did not find expected ',' or '}'`}},
		{"two documents", "- {title: a, category: c}\n---\n- {title: b, category: c}\n", []string{`input "manifest": the manifest holds more than one YAML document; put every action in one list`}},
		{"a mapping", "actions: []\n", []string{`input "manifest": expected a list of actions (YAML items starting with "- ", or a JSON array), not a mapping (line 1)`}},
		{"empty list", "[]", []string{`input "manifest": the list of actions is empty`}},
		{"too many", many.String(), []string{`input "manifest": the manifest lists 10001 actions; at most 10000 are accepted in one run`}},
		{"a field twice", "- title: a\n  actionTitle: b\n  category: c\n", []string{`input "manifest[0].actionTitle": given twice, also as title (line 2)`}},
		{"a list for a value", "- title: [a, b]\n  category: c\n", []string{`input "manifest[0].title": expected a single value, not a list (line 1)`}},
		{"a category object without identifier", "- title: a\n  category: {title: A}\n", []string{`input "manifest[0].category": the category object has no "identifier" (line 2)`}},
		{"no category", "- title: a\n", []string{`input "manifest[0].category" is empty: the category is required: an actions_categories identifier (line 1)`}},
		{"a boolean baseline", "- title: a\n  category: c\n  lead_time_before: true\n", []string{`input "manifest[0].lead_time_before" = "true": expected a number of hours, 0 or more (e.g. 4 or 0.5), or blank if unknown (line 3)`}},
		{"a title without letters", "- title: '!!!'\n  category: c\n", []string{`input "manifest[0].title" = "!!!": it has no letter or digit to build an identifier from (line 1)`}},
		{
			"every problem at once", "- title: A b\n  category: c\n- title: a  B\n  category: c\n- title: x\n  category: c\n  lead_time_before: -2\n  colour: red\n",
			[]string{
				`input "manifest[2].colour": unknown field; an action has title, category, lead_time_before and cycle_time_before (or the guide's names actionTitle and cycle_time) (line 8)`,
				`input "manifest[2].lead_time_before" = "-2": a baseline cannot be negative; expected a number of hours, 0 or more (e.g. 4 or 0.5), or blank if unknown (line 7)`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			items, err := ParseManifest("manifest", []byte(tc.text))
			if err == nil {
				t.Fatalf("ParseManifest = %d items, want an error", len(items))
			}
			var got []string
			for _, e := range flattenErrors(err) {
				if !input.IsInputError(e) {
					t.Errorf("%v is not an input error", e)
				}
				got = append(got, e.Error())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

// "A b" and "a  B" differ, but fold to different identifiers ("a_b" and "a__b"): only exact duplicates of the
// derived identifier are refused, and they are named both ways.
func TestParseManifestDuplicates(t *testing.T) {
	t.Parallel()
	_, err := ParseManifest("manifest", []byte("- {title: Create S3 Bucket, category: c}\n- {title: other, category: c}\n- {title: create s3 bucket, category: d}\n"))
	want := `input "manifest[2].title" = "create s3 bucket": derives the action identifier "create_s3_bucket", like manifest[0].title "Create S3 Bucket" (line 1): list each action once`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

// FuzzParseManifest feeds arbitrary text to the manifest parser: it returns either input errors only, or items
// whose identifiers, categories and baselines Port accepts, each identifier once.
func FuzzParseManifest(f *testing.F) {
	f.Add("- title: Create S3 Bucket\n  category: infrastructure\n  lead_time_before: 48\n")
	f.Add(`[{"actionTitle": "a", "category": {"identifier": "b"}, "cycle_time": "1e3"}]`)
	f.Add("- &a {title: x, category: y}\n- *a\n")
	f.Add("- title: '::set-output name=a::b'\n  category: a/b=c\n  cycle_time_before: .5\n")
	f.Fuzz(func(t *testing.T, text string) {
		items, err := ParseManifest("manifest", []byte(text))
		if err != nil {
			for _, e := range flattenErrors(err) {
				var ie *input.Error
				if !errors.As(e, &ie) || !strings.HasPrefix(ie.Name, "manifest") {
					t.Fatalf("error %v does not name the manifest", e)
				}
			}
			return
		}
		seen := map[string]bool{}
		for _, it := range items {
			if !ValidActionIdentifier(it.ActionID) || seen[it.ActionID] || !input.ValidEntityIdentifier(it.Category) {
				t.Fatalf("item %+v", it)
			}
			seen[it.ActionID] = true
			for _, h := range []*float64{it.LeadTimeBefore, it.CycleTimeBefore} {
				if h != nil && (*h < 0 || math.IsInf(*h, 0) || math.IsNaN(*h)) {
					t.Fatalf("baseline %v", *h)
				}
			}
		}
	})
}

func flattenErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flattenErrors(e)...)
		}
		return out
	}
	return []error{err}
}
