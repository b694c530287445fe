// Package register does what the guide's create-port-automation.yml and its three scripts do: make sure a
// self-service action exists for a title, create (or repair) the automation that records each of its runs as an
// action_run entity, and upsert the action entity that holds its ROI baselines.
package register

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/port-roi/port-roi-action/internal/input"
)

// The names of register's inputs, as action inputs and as flags.
const (
	InputTitle       = "action-title"
	InputCategory    = "category"
	InputLeadTime    = "lead-time-before"
	InputCycleTime   = "cycle-time-before"
	InputPortContext = "port-context"
)

// maxTitle bounds an action title; longer ones are almost certainly a mistake (a pasted document).
const maxTitle = 200

// Raw holds register's inputs as the user gave them.
type Raw struct {
	Title, Category, LeadTimeBefore, CycleTimeBefore, PortContext string
}

// Inputs are register's checked inputs.
type Inputs struct {
	Title    string
	ActionID string // derived from Title
	Category string // an actions_categories identifier
	// LeadTimeBefore and CycleTimeBefore are the ROI baselines in hours; nil when not given.
	LeadTimeBefore, CycleTimeBefore *float64
	RunID                           string // the Port run to report to; "" when there is none
}

// ParseInputs checks every input and returns all problems at once. requireRunID is set inside GitHub
// Actions, where the workflow is always dispatched by a Port run.
func ParseInputs(raw Raw, requireRunID bool) (Inputs, error) {
	var in Inputs
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	var err error
	in.Title, in.ActionID, err = parseTitle(InputTitle, raw.Title)
	add(err)
	in.Category, err = input.Category(InputCategory, raw.Category)
	add(err)
	in.LeadTimeBefore, err = input.Hours(InputLeadTime, raw.LeadTimeBefore)
	add(err)
	in.CycleTimeBefore, err = input.Hours(InputCycleTime, raw.CycleTimeBefore)
	add(err)
	in.RunID, err = input.RunID(InputPortContext, raw.PortContext)
	add(err)
	if err == nil && in.RunID == "" && requireRunID {
		add(&input.Error{Name: InputPortContext, Expected: `a run id is required inside GitHub Actions, to report to the Port run log: ` +
			`pass the port_context Port sends ({"runId": "{{ .run.id }}"}) in the workflow inputs or in with: port-context`})
	}
	return in, errors.Join(errs...)
}

// parseTitle checks the action title given as input name and derives the action identifier from it.
func parseTitle(name, raw string) (title, id string, err error) {
	title = strings.TrimSpace(raw)
	bad := func(why string) (string, string, error) {
		return "", "", &input.Error{Name: name, Value: raw, Expected: why}
	}
	if err := input.TooLarge(name, raw); err != nil {
		return "", "", err
	}
	switch {
	case title == "":
		return bad("the title of the self-service action is required, e.g. \"Create S3 bucket\"")
	case !utf8.ValidString(title):
		return bad("the title is not valid UTF-8")
	case utf8.RuneCountInString(title) > maxTitle:
		return bad("a title has at most 200 characters")
	case strings.IndexFunc(title, unicode.IsControl) >= 0:
		return bad("a title is one line of text, without line breaks, tabs or control characters")
	}
	id, err = ActionIdentifier(title)
	if err != nil {
		return bad(err.Error())
	}
	return title, id, nil
}
