package bootstrap

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/port-roi/port-roi-action/internal/input"
	"github.com/port-roi/port-roi-action/internal/register"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// The names of bootstrap's own inputs, as action inputs and as flags.
const (
	InputOrg         = "github-org"
	InputRepo        = "github-repo"
	InputWorkflow    = "workflow"
	InputCategories  = "categories"
	InputPortContext = "port-context"
)

// Limits on the inputs; past them a value is almost certainly a mistake (a pasted document).
const (
	maxCategories    = 100
	maxCategoryTitle = 200
	maxRepo          = 100
	maxOwner         = 100 // GitHub's own limit is 39, longer for enterprise managed users
	maxWorkflow      = 255
)

// Raw holds bootstrap's inputs as the user gave them.
type Raw struct {
	Org, Repo, Workflow, Categories, PortContext string
	// Repository is GITHUB_REPOSITORY ("owner/name"), the default of Org and Repo inside GitHub Actions.
	Repository string
}

// Category is a starter category: an entity of blueprint actions_categories.
type Category struct {
	Identifier string // derived from Title like an action identifier
	Title      string
}

// Inputs are bootstrap's checked inputs.
type Inputs struct {
	// Org, Repo and Workflow are where setup_new_action dispatches its workflow.
	Org, Repo, Workflow string
	Categories          []Category
	RunID               string // the Port run to report to; "" when there is none
}

var (
	ownerPattern    = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?$`)
	repoPattern     = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	workflowPattern = regexp.MustCompile(`^[A-Za-z0-9._-]+\.ya?ml$`)
)

// ParseInputs checks every input and returns all problems at once. Org and Repo default to the two halves of
// Repository; Workflow defaults to the guide's create-port-automation.yml.
func ParseInputs(raw Raw) (Inputs, error) {
	var in Inputs
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	defOrg, defRepo, _ := strings.Cut(strings.TrimSpace(raw.Repository), "/")
	if defRepo == "" || !ownerPattern.MatchString(defOrg) || !repoPattern.MatchString(defRepo) {
		defOrg, defRepo = "", "" // not "owner/name": no default
	}
	var err error
	in.Org, err = parseOwner(raw.Org, defOrg)
	add(err)
	in.Repo, err = parseRepo(raw.Repo, defRepo)
	add(err)
	in.Workflow, err = parseWorkflow(raw.Workflow)
	add(err)
	in.Categories, err = ParseCategories(raw.Categories)
	add(err)
	in.RunID, err = input.RunID(InputPortContext, raw.PortContext)
	add(err)
	return in, errors.Join(errs...)
}

func parseOwner(raw, def string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		s = def
	}
	bad := func(why string) (string, error) { return "", &input.Error{Name: InputOrg, Value: raw, Expected: why} }
	switch {
	case s == "":
		return bad("the GitHub organisation (or user) that owns the repository of the workflow is required outside " +
			"GitHub Actions, e.g. --github-org acme")
	case strings.Contains(s, "/"):
		return bad("the organisation only, without the repository: give the repository in github-repo")
	case len(s) > maxOwner || !ownerPattern.MatchString(s):
		return bad("not a GitHub organisation or user name: letters, digits and single hyphens, not at the start or end")
	}
	return s, nil
}

func parseRepo(raw, def string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		s = def
	}
	bad := func(why string) (string, error) { return "", &input.Error{Name: InputRepo, Value: raw, Expected: why} }
	switch {
	case s == "":
		return bad("the GitHub repository that holds the workflow is required outside GitHub Actions, e.g. --github-repo platform")
	case strings.Contains(s, "/"):
		return bad("the repository name only, without its owner: give the owner in github-org")
	case s == "." || s == ".." || len(s) > maxRepo || !repoPattern.MatchString(s):
		return bad("not a GitHub repository name: letters, digits, '.', '-' and '_' (at most 100 characters)")
	}
	return s, nil
}

func parseWorkflow(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return roimodel.DefaultWorkflow, nil
	}
	bad := func(why string) (string, error) {
		return "", &input.Error{Name: InputWorkflow, Value: raw, Expected: why}
	}
	switch {
	case strings.ContainsAny(s, `/\`):
		return bad("the file name only, as Port expects it (the file lives in .github/workflows), e.g. " + roimodel.DefaultWorkflow)
	case len(s) > maxWorkflow || !workflowPattern.MatchString(s):
		return bad("expected a workflow file name ending in .yml or .yaml, of letters, digits, '.', '-' and '_', e.g. " + roimodel.DefaultWorkflow)
	}
	return s, nil
}

// ParseCategories parses the categories input: titles separated by commas or line breaks ("Infrastructure,
// Security"). Blank gives none. Each title gives its identifier the way an action title does
// (register.ActionIdentifier: "Cloud Costs" → "cloud_costs"); a title that gives no identifier, and two
// titles that give the same one, are errors.
func ParseCategories(raw string) ([]Category, error) {
	var out []Category
	var errs []error
	seen := map[string]string{} // identifier → title
	items := strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' })
	for _, item := range items {
		title := strings.TrimSpace(item)
		if title == "" {
			continue
		}
		bad := func(why string) {
			errs = append(errs, &input.Error{Name: InputCategories, Value: title, Expected: why})
		}
		switch {
		case !utf8.ValidString(title):
			bad("a category title is not valid UTF-8")
			continue
		case utf8.RuneCountInString(title) > maxCategoryTitle:
			bad(fmt.Sprintf("a category title has at most %d characters", maxCategoryTitle))
			continue
		case strings.IndexFunc(title, unicode.IsControl) >= 0:
			bad("a category title is text without tabs or control characters")
			continue
		}
		id, err := register.ActionIdentifier(title)
		if err != nil {
			bad("this category gives no identifier: " + err.Error())
			continue
		}
		if prev, dup := seen[id]; dup {
			bad(fmt.Sprintf("the categories %q and %q both give the identifier %q; list each category once", prev, title, id))
			continue
		}
		seen[id] = title
		out = append(out, Category{Identifier: id, Title: title})
	}
	if len(out) > maxCategories {
		errs = append(errs, &input.Error{Name: InputCategories, Value: raw,
			Expected: fmt.Sprintf("at most %d starter categories; add more in Port later", maxCategories)})
	}
	return out, errors.Join(errs...)
}
