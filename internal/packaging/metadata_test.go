package packaging

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/port-roi/port-roi-action/internal/cli"
	"go.yaml.in/yaml/v4"
)

// imageRepository is where release.yml pushes the image and action.yml pulls it from.
const imageRepository = "ghcr.io/port-roi/port-roi-action"

// yamlMap is a YAML mapping with its keys in document order.
type yamlMap struct {
	keys []string
	vals map[string]*yaml.Node
}

func (m yamlMap) str(key string) string {
	if n := m.vals[key]; n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

// parseYAML decodes a YAML document and returns its top mapping.
func parseYAML(t testing.TB, name, text string) yamlMap {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		t.Fatalf("%s: not one YAML document", name)
	}
	return mappingOf(t, name, doc.Content[0])
}

func mappingOf(t testing.TB, name string, n *yaml.Node) yamlMap {
	t.Helper()
	if n == nil || n.Kind != yaml.MappingNode {
		t.Fatalf("%s: want a mapping", name)
	}
	m := yamlMap{vals: map[string]*yaml.Node{}}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i].Value
		if _, dup := m.vals[k]; dup {
			t.Fatalf("%s: key %q appears twice", name, k)
		}
		m.keys = append(m.keys, k)
		m.vals[k] = n.Content[i+1]
	}
	return m
}

// actionInput is an input as action.yml declares it, and as cli.Inputs() implies it.
type actionInput struct {
	Description string
	Default     string
	Required    string
}

// wantInput is what action.yml must say for an input. None is required: each has a fallback (a default, the
// workflow_dispatch payload, an environment variable), the runner does not enforce `required` anyway, and the
// binary reports every missing value itself.
func wantInput(s cli.Spec) actionInput {
	return actionInput{Description: s.Description, Default: s.Default, Required: "false"}
}

// TestActionMetadataMatchesCLI checks action.yml against cli.Inputs() and cli.Outputs(), both ways: the same
// names in the same order, the same descriptions and defaults. With -update it first rewrites action.yml's
// inputs and outputs from them.
func TestActionMetadataMatchesCLI(t *testing.T) {
	t.Parallel()
	if *update {
		updateActionMetadata(t)
	}
	md := parseYAML(t, "action.yml", read(t, "action.yml"))

	for _, key := range []string{"name", "description", "author"} {
		if md.str(key) == "" {
			t.Errorf("action.yml: %s is missing", key)
		}
	}
	// The Marketplace shows at most 125 characters of the description.
	if n := utf8.RuneCountInString(md.str("description")); n > 125 {
		t.Errorf("action.yml: description has %d characters; the Marketplace shows 125", n)
	}
	branding := mappingOf(t, "action.yml branding", md.vals["branding"])
	if branding.str("icon") == "" || branding.str("color") == "" {
		t.Errorf("action.yml: branding needs an icon and a color (actionlint checks their values)")
	}
	runs := mappingOf(t, "action.yml runs", md.vals["runs"])
	if diff := cmp.Diff([]string{"using", "image"}, runs.keys); diff != "" {
		t.Errorf("action.yml runs: keys (-want +got):\n%s\nthe image's ENTRYPOINT runs the binary; no args or env (secrets would show in args)", diff)
	}
	if got := runs.str("using"); got != "docker" {
		t.Errorf("action.yml runs.using = %q, want docker", got)
	}

	inputs := mappingOf(t, "action.yml inputs", md.vals["inputs"])
	var specNames []string
	for _, s := range cli.Inputs() {
		specNames = append(specNames, s.Name)
	}
	if diff := cmp.Diff(specNames, inputs.keys); diff != "" {
		t.Errorf("action.yml inputs differ from cli.Inputs() in names or order (-cli +action.yml):\n%s", diff)
	}
	for _, s := range cli.Inputs() {
		n, ok := inputs.vals[s.Name]
		if !ok {
			continue // reported above
		}
		in := mappingOf(t, "action.yml input "+s.Name, n)
		for _, k := range in.keys {
			if !slices.Contains([]string{"description", "default", "required"}, k) {
				t.Errorf("action.yml input %s: unexpected key %q", s.Name, k)
			}
		}
		got := actionInput{Description: in.str("description"), Default: in.str("default"), Required: in.str("required")}
		if diff := cmp.Diff(wantInput(s), got); diff != "" {
			t.Errorf("action.yml input %s differs from cli.Inputs() (-cli +action.yml):\n%s", s.Name, diff)
		}
	}

	outputs := mappingOf(t, "action.yml outputs", md.vals["outputs"])
	var outNames []string
	for _, s := range cli.Outputs() {
		outNames = append(outNames, s.Name)
	}
	if diff := cmp.Diff(outNames, outputs.keys); diff != "" {
		t.Errorf("action.yml outputs differ from cli.Outputs() in names or order (-cli +action.yml):\n%s", diff)
	}
	for _, s := range cli.Outputs() {
		if n, ok := outputs.vals[s.Name]; ok {
			out := mappingOf(t, "action.yml output "+s.Name, n)
			if diff := cmp.Diff([]string{"description"}, out.keys); diff != "" {
				t.Errorf("action.yml output %s: keys (-want +got):\n%s", s.Name, diff)
			}
			if got := out.str("description"); got != s.Description {
				t.Errorf("action.yml output %s: description %q, cli.Outputs() says %q", s.Name, got, s.Description)
			}
		}
	}
}

// updateActionMetadata rewrites the inputs and outputs of action.yml (everything from the line "inputs:" to the
// line "runs:") from cli.Inputs() and cli.Outputs().
func updateActionMetadata(t *testing.T) {
	t.Helper()
	text := read(t, "action.yml")
	i, j := strings.Index(text, "\ninputs:\n"), strings.Index(text, "\nruns:\n")
	if i < 0 || j < i {
		t.Fatal("action.yml: -update needs the inputs and outputs between the lines \"inputs:\" and \"runs:\"")
	}
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	var b strings.Builder
	b.WriteString("\ninputs:\n")
	for _, s := range cli.Inputs() {
		want := wantInput(s)
		fmt.Fprintf(&b, "  %s:\n    description: %s\n    required: %s\n", s.Name, quote(want.Description), want.Required)
		if want.Default != "" {
			fmt.Fprintf(&b, "    default: %s\n", quote(want.Default))
		}
	}
	b.WriteString("outputs:\n")
	for _, s := range cli.Outputs() {
		fmt.Fprintf(&b, "  %s:\n    description: %s\n", s.Name, quote(s.Description))
	}
	if updated := text[:i] + strings.TrimSuffix(b.String(), "\n") + text[j:]; updated != text {
		write(t, "action.yml", updated)
	}
}

// TestImageTagIsVERSION checks that action.yml runs the image of the version in VERSION (which release.yml
// compares with the pushed tag), and that the README and the example workflow use that major version.
func TestImageTagIsVERSION(t *testing.T) {
	t.Parallel()
	version, major := releaseVersion(t)
	md := parseYAML(t, "action.yml", read(t, "action.yml"))
	runs := mappingOf(t, "action.yml runs", md.vals["runs"])
	if got, want := runs.str("image"), "docker://"+imageRepository+":"+version; got != want {
		t.Errorf("action.yml runs.image = %q, want %q (the version in VERSION; README, \"Releasing\")", got, want)
	}
	uses := regexp.MustCompile(`port-roi/port-roi-action@(v[0-9][0-9.]*)`)
	for _, file := range []string{"README.md", "examples/workflows/create-port-automation.yml"} {
		matches := uses.FindAllStringSubmatch(read(t, file), -1)
		if len(matches) == 0 {
			t.Errorf("%s never names port-roi/port-roi-action@%s", file, major)
		}
		for _, m := range matches {
			if m[1] != major && m[1] != version {
				t.Errorf("%s uses port-roi/port-roi-action@%s; VERSION is %s, so @%s (or @%s)", file, m[1], version, major, version)
			}
		}
	}
}

// Markers of the README parts generated from the code.
const (
	inputsBegin   = "<!-- BEGIN inputs: generated from cli.Inputs() by go test ./internal/packaging -update -->"
	inputsEnd     = "<!-- END inputs -->"
	outputsBegin  = "<!-- BEGIN outputs: generated from cli.Outputs() by go test ./internal/packaging -update -->"
	outputsEnd    = "<!-- END outputs -->"
	workflowBegin = "<!-- BEGIN examples/workflows/create-port-automation.yml: copied by go test ./internal/packaging -update -->"
	workflowEnd   = "<!-- END examples/workflows/create-port-automation.yml -->"
)

// TestREADMETables checks the README's Inputs and Outputs tables against cli.Inputs() and cli.Outputs().
func TestREADMETables(t *testing.T) {
	t.Parallel()
	checkREADMEPart(t, "Inputs table", inputsBegin, inputsEnd, inputsTable())
	checkREADMEPart(t, "Outputs table", outputsBegin, outputsEnd, outputsTable())
}

// TestREADMEWorkflowIsTheExample checks that the workflow the README shows is examples/workflows' file.
func TestREADMEWorkflowIsTheExample(t *testing.T) {
	t.Parallel()
	example := read(t, "examples/workflows/create-port-automation.yml")
	checkREADMEPart(t, "Port-dispatched workflow", workflowBegin, workflowEnd, "```yaml\n"+example+"```\n")
}

func inputsTable() string {
	var b strings.Builder
	b.WriteString("| Input | Default | Description |\n| --- | --- | --- |\n")
	for _, s := range cli.Inputs() {
		def := ""
		switch {
		case s.Default != "":
			def = "`" + s.Default + "`"
		case s.Dispatch != "":
			def = "dispatch input `" + s.Dispatch + "`"
		case s.Env != "":
			def = "env `" + s.Env + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", s.Name, def, cell(s.Description))
	}
	return b.String()
}

func outputsTable() string {
	var b strings.Builder
	b.WriteString("| Output | Description |\n| --- | --- |\n")
	for _, s := range cli.Outputs() {
		fmt.Fprintf(&b, "| `%s` | %s |\n", s.Name, cell(s.Description))
	}
	return b.String()
}

// cell escapes text for a Markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// checkREADMEPart compares the README between the begin and end markers with want, or rewrites it with -update.
func checkREADMEPart(t *testing.T, what, begin, end, want string) {
	t.Helper()
	readmeMu.Lock()
	defer readmeMu.Unlock()
	readme := read(t, "README.md")
	i, j := strings.Index(readme, begin), strings.Index(readme, end)
	if i < 0 || j < i {
		t.Fatalf("README.md: the %s must stand between the lines\n%s\n%s", what, begin, end)
	}
	start := i + len(begin) + 1
	got := readme[start:j]
	if got == want {
		return
	}
	if *update {
		write(t, "README.md", readme[:start]+want+readme[j:])
		return
	}
	t.Errorf("README.md: the %s is out of date (-want +got):\n%s\nrun: go test ./internal/packaging -update", what, cmp.Diff(want, got))
}

// decodeYAML decodes a YAML document into v.
func decodeYAML(t testing.TB, name, text string, v any) {
	t.Helper()
	if err := yaml.Unmarshal([]byte(text), v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
