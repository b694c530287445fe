package cli

import (
	"flag"

	"github.com/port-roi/port-roi-action/internal/ghaction"
)

// Spec describes one input: an action input in action.yml and a flag of the same name. It is the single list
// that action.yml and the README's tables are checked against.
type Spec struct {
	Name        string
	Description string
	Default     string
	Bool        bool   // a true/false input; as a flag, --name alone means true
	Secret      bool   // masked in logs, never printed
	Dispatch    string // the workflow_dispatch input it falls back to (the guide's setup_new_action names)
	Env         string // the environment variable it falls back to last
}

// Inputs lists every action input, in the order action.yml declares them.
func Inputs() []Spec {
	return []Spec{
		{Name: "command", Default: "register", Description: "What to do: register (the default); bootstrap (set up the guide's blueprints, setup_new_action, AI agent and dashboard in Port); or report (the ROI of every action's runs, in the job summary)."},
		{Name: "port-client-id", Env: "PORT_CLIENT_ID", Description: "Port client ID (Port app → … menu → Credentials). Falls back to the PORT_CLIENT_ID environment variable."},
		{Name: "port-client-secret", Env: "PORT_CLIENT_SECRET", Secret: true, Description: "Port client secret. Pass it from a secret; it is masked and never printed or stored. Falls back to the PORT_CLIENT_SECRET environment variable."},
		{Name: "port-region", Default: "eu", Description: "Port region of your organisation: eu (api.port.io) or us (api.us.port.io)."},
		{Name: "port-base-url", Description: "Port API base URL; overrides port-region. https only, except on a loopback address (the emulator)."},
		{Name: "action-title", Dispatch: "actionTitle", Description: "Title of the self-service action to track, e.g. \"Create S3 bucket\". Defaults to the actionTitle input of the workflow_dispatch event Port sent."},
		{Name: "category", Dispatch: "category", Description: "Category of the action: an actions_categories identifier, or the entity object Port sends for an entity input. Defaults to the category dispatch input."},
		{Name: "lead-time-before", Dispatch: "lead_time_before", Description: "Lead time before self-service, in hours (0 or more). Blank leaves it unset; it is never sent as 0. Defaults to the lead_time_before dispatch input."},
		{Name: "cycle-time-before", Dispatch: "cycle_time", Description: "Cycle time before self-service, in hours (0 or more). Blank leaves it unset. Defaults to the cycle_time dispatch input."},
		{Name: "port-context", Dispatch: "port_context", Description: "The port_context object Port sends ({\"runId\": …}), used to report to the Port run log. Defaults to the port_context dispatch input; required inside GitHub Actions."},
		{Name: "dry-run", Bool: true, Default: "false", Description: "Read Port and print what would change, without writing anything."},
		{Name: "timeout", Default: "5m", Description: "Overall deadline of the run (a Go duration such as 90s or 5m). Work still pending then is stopped and reported."},
		{Name: "request-timeout", Default: "30s", Description: "Deadline of each request to Port (a Go duration); a request that takes longer is retried."},
		{Name: "report-status", Bool: true, Default: "false", Description: "End the Port run with SUCCESS or FAILURE from this step. Leave false when the self-service action has reportWorkflowStatus (Port then closes the run itself)."},
		{Name: "manifest", Description: "register: many actions at once, from a YAML or JSON list of {title, category, lead_time_before, cycle_time_before}: the path of a file in the repository, or the list itself (starting with \"- \" or \"[\"). action-title, category and the baselines are then not used."},
		{Name: "concurrency", Default: "8", Description: "register with manifest: Port requests at a time, 1 to 64. Requests are paced by Port's rate-limit headers whatever the value."},
		{Name: "github-org", Description: "bootstrap: GitHub organisation (or user) owning the repository of the workflow that setup_new_action dispatches. Defaults to the owner in GITHUB_REPOSITORY."},
		{Name: "github-repo", Description: "bootstrap: repository holding that workflow. Defaults to the repository in GITHUB_REPOSITORY."},
		{Name: "workflow", Default: "create-port-automation.yml", Description: "bootstrap: file name of the workflow that setup_new_action dispatches (in .github/workflows)."},
		{Name: "categories", Description: "bootstrap: starter categories to create, as titles separated by commas (e.g. \"Infrastructure, Security\"); identifiers are derived like action identifiers. Blank creates none."},
		{Name: "since", Description: "report: the window, a whole number of hours, days or weeks ending now (24h, 30d, 12w). Not with from or to; with none of the three, all time."},
		{Name: "from", Description: "report: start of the window, a date (YYYY-MM-DD, UTC) or an RFC 3339 time; without to, the window ends now."},
		{Name: "to", Description: "report: end of the window, a date (the whole day is included) or an RFC 3339 time (excluded)."},
		{Name: "format", Description: "report: what to print: markdown, json or text. Default: text in a terminal; in GitHub Actions a headline in the log, as the Markdown report goes to the job summary anyway."},
		{Name: "output", Description: "report: where to write the JSON report (output report-path). Default: a new file under $RUNNER_TEMP or the temp directory; in the action's container, in the workspace, the one directory later steps see."},
	}
}

// Outputs lists every action output with its description.
func Outputs() []Spec {
	return []Spec{
		{Name: "action-identifier", Description: "Identifier of the self-service action (derived from the title)."},
		{Name: "automation-identifier", Description: "Identifier of the automation that records the action's runs."},
		{Name: "action-created", Description: "true when the self-service action was created by this run."},
		{Name: "automation-created", Description: "true when the automation was created by this run."},
		{Name: "automation-updated", Description: "true when an existing automation differed and was replaced."},
		{Name: "registered", Description: "register with manifest: number of actions registered without an error (in a dry run: checked)."},
		{Name: "failed", Description: "register with manifest: number of actions that failed; the job summary says why."},
		{Name: "created", Description: "bootstrap: identifiers of the objects this run created, comma-separated (blueprints, setup_new_action, categories, actions_assistant, actions_roi). Empty in a dry run."},
		{Name: "updated", Description: "bootstrap: identifiers of the existing objects this run updated, comma-separated. Empty in a dry run."},
		{Name: "dashboard-url", Description: "bootstrap: link to the Actions ROI dashboard in the Port app."},
		{Name: "total-hours-saved", Description: "report: lead time saved by the runs in the window, in hours, rounded to 2 decimals (exact in the JSON report)."},
		{Name: "total-processing-hours-saved", Description: "report: cycle time saved by the runs in the window, in hours, rounded to 2 decimals."},
		{Name: "total-approval-wait-hours", Description: "report: time the runs in the window waited for approval, in hours, rounded to 2 decimals."},
		{Name: "runs", Description: "report: number of action runs in the window."},
		{Name: "successful-runs", Description: "report: number of successful runs in the window."},
		{Name: "failed-runs", Description: "report: number of failed runs in the window."},
		{Name: "report-path", Description: "report: path of the JSON report, with every number exact (relative to the workspace when the action wrote it there)."},
	}
}

func specByName(name string) Spec {
	for _, s := range Inputs() {
		if s.Name == name {
			return s
		}
	}
	panic("cli: no input named " + name) // a programming error, caught by every test
}

// values resolves a command's inputs: a flag set on the command line wins, then the action input
// (INPUT_*), then the workflow_dispatch payload, then the environment variable, then the default.
type values struct {
	fs       *flag.FlagSet
	gh       *ghaction.Env
	flags    map[string]*rawFlag
	dispatch map[string]string
}

// rawFlag keeps a flag's text unparsed so that every value, from any source, goes through the same checks.
type rawFlag struct {
	value  string
	set    bool
	isBool bool
}

func (f *rawFlag) String() string     { return f.value }
func (f *rawFlag) Set(s string) error { f.value, f.set = s, true; return nil }
func (f *rawFlag) IsBoolFlag() bool   { return f.isBool }

func newValues(fs *flag.FlagSet, gh *ghaction.Env, names ...string) *values {
	v := &values{fs: fs, gh: gh, flags: map[string]*rawFlag{}}
	for _, name := range names {
		s := specByName(name)
		f := &rawFlag{isBool: s.Bool}
		v.flags[name] = f
		usage := s.Description
		if s.Default != "" && !s.Bool {
			usage += " (default " + s.Default + ")"
		}
		fs.Var(f, name, usage)
	}
	return v
}

// get returns the value of input name from the first source that has it.
func (v *values) get(name string) string {
	s := specByName(name)
	if f := v.flags[name]; f != nil && f.set {
		if f.isBool && f.value == "" {
			return "true"
		}
		return f.value
	}
	if x := v.gh.Input(name); x != "" {
		return x
	}
	if s.Dispatch != "" {
		if x, ok := v.dispatch[s.Dispatch]; ok && x != "" {
			return x
		}
	}
	if s.Env != "" {
		if x := v.gh.Getenv(s.Env); x != "" {
			return x
		}
	}
	return s.Default
}
