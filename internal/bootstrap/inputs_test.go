package bootstrap

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/port-roi/port-roi-action/internal/input"
)

func TestParseInputs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  Raw
		want Inputs
	}{
		{
			name: "inside GitHub Actions: the job's repository, the guide's workflow",
			raw:  Raw{Repository: "acme/platform"},
			want: Inputs{Org: "acme", Repo: "platform", Workflow: "create-port-automation.yml"},
		},
		{
			name: "given values win, categories derive identifiers like action titles",
			raw: Raw{Org: " my-org ", Repo: "infra.tools", Workflow: "port.yaml", Repository: "acme/platform",
				Categories: " Infrastructure , Cloud Costs,\nSécurité\n\n, ,", PortContext: `{"runId":"r_1"}`},
			want: Inputs{Org: "my-org", Repo: "infra.tools", Workflow: "port.yaml", RunID: "r_1", Categories: []Category{
				{"infrastructure", "Infrastructure"}, {"cloud_costs", "Cloud Costs"}, {"sécurité", "Sécurité"}}},
		},
		{
			name: "an unusual title is folded the way action titles are",
			raw:  Raw{Org: "o", Repo: "r", Categories: "CI/CD & Releases"},
			want: Inputs{Org: "o", Repo: "r", Workflow: "create-port-automation.yml", Categories: []Category{{"ci_cd_releases", "CI/CD & Releases"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseInputs(tt.raw)
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
	tests := []struct {
		name string
		raw  Raw
		want []string
	}{
		{
			name: "a terminal without GITHUB_REPOSITORY",
			raw:  Raw{},
			want: []string{
				`input "github-org" is empty: the GitHub organisation (or user) that owns the repository of the workflow is required outside GitHub Actions, e.g. --github-org acme`,
				`input "github-repo" is empty: the GitHub repository that holds the workflow is required outside GitHub Actions, e.g. --github-repo platform`,
			},
		},
		{
			name: "a malformed GITHUB_REPOSITORY is no default",
			raw:  Raw{Repository: "-bad/"},
			want: []string{
				`input "github-org" is empty: the GitHub organisation (or user) that owns the repository of the workflow is required outside GitHub Actions, e.g. --github-org acme`,
				`input "github-repo" is empty: the GitHub repository that holds the workflow is required outside GitHub Actions, e.g. --github-repo platform`,
			},
		},
		{
			name: "every value wrong",
			raw: Raw{Org: "-acme", Repo: "acme/platform", Workflow: "deploy.sh", Categories: "🚀, Security, security, " + strings.Repeat("x", 201),
				PortContext: "{"},
			want: []string{
				`input "github-org" = "-acme": not a GitHub organisation or user name: letters, digits and single hyphens, not at the start or end`,
				`input "github-repo" = "acme/platform": the repository name only, without its owner: give the owner in github-org`,
				`input "workflow" = "deploy.sh": expected a workflow file name ending in .yml or .yaml, of letters, digits, '.', '-' and '_', e.g. create-port-automation.yml`,
				`input "categories" = "🚀": this category gives no identifier: it has no letter or digit to build an identifier from`,
				`input "categories" = "security": the categories "Security" and "security" both give the identifier "security"; list each category once`,
				`input "categories" = "` + strings.Repeat("x", 60) + `"… (201 characters): a category title has at most 200 characters`,
				`input "port-context" = "{": expected the JSON object Port sends, like {"runId": "r_…"}, but the JSON is invalid: unexpected end of JSON input at byte 1`,
			},
		},
		{
			name: "a repository name that is only dots, a workflow with spaces",
			raw:  Raw{Org: "acme", Repo: "..", Workflow: "my workflow.yml"},
			want: []string{
				`input "github-repo" = "..": not a GitHub repository name: letters, digits, '.', '-' and '_' (at most 100 characters)`,
				`input "workflow" = "my workflow.yml": expected a workflow file name ending in .yml or .yaml, of letters, digits, '.', '-' and '_', e.g. create-port-automation.yml`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseInputs(tt.raw)
			if err == nil {
				t.Fatal("ParseInputs: no error")
			}
			if !input.IsInputError(err) {
				t.Errorf("error %v is not an input error", err)
			}
			if diff := cmp.Diff(tt.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTooManyCategories(t *testing.T) {
	t.Parallel()
	var titles []string
	for i := range maxCategories + 1 {
		titles = append(titles, "c"+strings.Repeat("x", i))
	}
	if _, err := ParseCategories(strings.Join(titles, ",")); err == nil || !strings.Contains(err.Error(), "at most 100 starter categories") {
		t.Errorf("ParseCategories: %v", err)
	}
}

// FuzzParseCategories checks that any text gives categories whose identifiers Port accepts, each once, or an
// input error.
func FuzzParseCategories(f *testing.F) {
	for _, s := range []string{"Infrastructure, Security", "a,,b\n", "🚀", "x, X", "..", "a/b", "\x00", "Sécurité"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		cats, err := ParseCategories(raw)
		if err != nil {
			if !input.IsInputError(err) {
				t.Fatalf("ParseCategories(%q): %v is not an input error", raw, err)
			}
			return
		}
		seen := map[string]bool{}
		for _, c := range cats {
			if !input.ValidEntityIdentifier(c.Identifier) || seen[c.Identifier] || strings.TrimSpace(c.Title) != c.Title || c.Title == "" {
				t.Fatalf("ParseCategories(%q) gave %+v", raw, c)
			}
			seen[c.Identifier] = true
		}
	})
}
