package register

import (
	"errors"
	"math"
	"testing"

	"github.com/port-roi/port-roi-action/internal/input"
)

// FuzzParseInputs feeds arbitrary text to every register input. Whatever comes in, the result is either a
// set of input errors, each naming its input, or inputs that Port accepts: a valid action identifier (also
// inside the automation identifier), a valid category identifier, finite non-negative baselines.
func FuzzParseInputs(f *testing.F) {
	f.Add("Create S3 Bucket", `{"identifier":"infra"}`, "48", "", `{"runId":"r_1"}`)
	f.Add("$(id)\n", "{", "-1", "NaN", "{}")
	f.Add("🚀", `"x"`, "1e309", "0x10", "r 1")
	f.Add("::set-output name=a::b", "a/b=c", ".5", "3.", `{"runId":5}`)
	f.Fuzz(func(t *testing.T, title, category, lead, cycle, portContext string) {
		in, err := ParseInputs(Raw{Title: title, Category: category, LeadTimeBefore: lead, CycleTimeBefore: cycle, PortContext: portContext}, false)
		if err != nil {
			var errs interface{ Unwrap() []error }
			if !errors.As(err, &errs) {
				t.Fatalf("error %v is not a joined list", err)
			}
			for _, e := range errs.Unwrap() {
				var ie *input.Error
				if !errors.As(e, &ie) || ie.Name == "" {
					t.Fatalf("error %v does not name an input", e)
				}
			}
			return
		}
		if !ValidActionIdentifier(in.ActionID) || !ValidActionIdentifier(AutomationIdentifier(in.ActionID)) {
			t.Fatalf("identifier %q from title %q", in.ActionID, title)
		}
		if !input.ValidEntityIdentifier(in.Category) {
			t.Fatalf("category %q from %q", in.Category, category)
		}
		for _, h := range []*float64{in.LeadTimeBefore, in.CycleTimeBefore} {
			if h != nil && (*h < 0 || math.IsInf(*h, 0) || math.IsNaN(*h)) {
				t.Fatalf("baseline %v", *h)
			}
		}
	})
}
