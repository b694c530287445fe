package packaging

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/port-roi/port-roi-action/internal/ghaction"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// portExamples returns the Port JSON a user pastes by hand, by path under examples/port, from roimodel.
func portExamples(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{
		"examples/port/actions/setup_new_action.json":    roimodel.SetupAction(),
		"examples/port/ai-agents/actions_assistant.json": roimodel.Agent(),
		"examples/port/pages/actions_roi.json":           roimodel.Dashboard(true),
	}
	for _, bp := range roimodel.Blueprints() {
		id, _ := bp["identifier"].(string)
		if id == "" {
			t.Fatalf("roimodel blueprint without identifier: %v", bp)
		}
		out["examples/port/blueprints/"+id+".json"] = bp
	}
	return out
}

// keyOrder is the order of the top-level keys in the generated files, as Port's JSON editors show them;
// other keys follow in alphabetical order, as do nested ones.
var keyOrder = []string{
	"identifier", "title", "icon", "description",
	"schema", "properties", "mirrorProperties", "calculationProperties", "aggregationProperties", "relations",
	"trigger", "invocationMethod", "requiredApproval",
}

// portJSON renders a definition with two-space indentation, without HTML escaping (the <YOUR-ORG-NAME>
// placeholders stay readable) and with its top-level keys in keyOrder.
func portJSON(t *testing.T, def map[string]any) string {
	t.Helper()
	keys := slices.SortedFunc(maps.Keys(def), func(a, b string) int {
		ia, ib := slices.Index(keyOrder, a), slices.Index(keyOrder, b)
		switch {
		case ia >= 0 && ib >= 0:
			return ia - ib
		case ia >= 0:
			return -1
		case ib >= 0:
			return 1
		}
		return strings.Compare(a, b)
	})
	encode := func(v any) string {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("  ", "  ")
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		return strings.TrimSuffix(b.String(), "\n")
	}
	var b strings.Builder
	b.WriteString("{\n")
	for i, k := range keys {
		b.WriteString("  " + encode(k) + ": " + encode(def[k]))
		if i < len(keys)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// TestExamplesMatchRoimodel checks that the Port JSON under examples/port is roimodel's definitions, and
// that nothing else is there. Refresh with: go test ./internal/packaging -run TestExamples -update
func TestExamplesMatchRoimodel(t *testing.T) {
	t.Parallel()
	want := portExamples(t)
	for _, path := range slices.Sorted(maps.Keys(want)) {
		def := want[path]
		text := portJSON(t, def)
		if *update {
			write(t, path, text)
			continue
		}
		got := read(t, path)
		var gotDef map[string]any
		if err := json.Unmarshal([]byte(got), &gotDef); err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		if diff := cmp.Diff(def, gotDef); diff != "" {
			t.Errorf("%s differs from internal/roimodel (-roimodel +file):\n%s\nrun: go test ./internal/packaging -run TestExamples -update", path, diff)
		} else if got != text {
			t.Errorf("%s has the right content but not the generated layout; run: go test ./internal/packaging -run TestExamples -update", path)
		}
	}
	dir := root(t)
	err := filepath.WalkDir(filepath.Join(dir, "examples", "port"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if _, ok := want[filepath.ToSlash(rel)]; !ok {
			t.Errorf("%s is not generated from internal/roimodel; remove it", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestExampleEventMatchesSetupAction checks that the act payload, the example workflow's inputs and
// setup_new_action agree: Port dispatches the example workflow with the action's user inputs plus
// port_context, and the payload is what Port sends.
func TestExampleEventMatchesSetupAction(t *testing.T) {
	t.Parallel()
	setup := roimodel.SetupAction()
	trigger, _ := setup["trigger"].(map[string]any)
	userInputs, _ := trigger["userInputs"].(map[string]any)
	props, _ := userInputs["properties"].(map[string]any)
	want := append(slices.Sorted(maps.Keys(props)), "port_context")
	slices.Sort(want)

	invocation, _ := setup["invocationMethod"].(map[string]any)
	if got := invocation["workflow"]; got != "create-port-automation.yml" {
		t.Errorf("setup_new_action dispatches %v, but the example workflow is create-port-automation.yml", got)
	}

	var wf struct {
		On struct {
			WorkflowDispatch struct {
				Inputs map[string]any `yaml:"inputs"`
			} `yaml:"workflow_dispatch"`
		} `yaml:"on"`
	}
	decodeYAML(t, "example workflow", read(t, "examples/workflows/create-port-automation.yml"), &wf)
	if diff := cmp.Diff(want, slices.Sorted(maps.Keys(wf.On.WorkflowDispatch.Inputs))); diff != "" {
		t.Errorf("example workflow: workflow_dispatch inputs differ from setup_new_action's inputs + port_context (-want +got):\n%s", diff)
	}

	// The payload decodes the way the action decodes $GITHUB_EVENT_PATH.
	path := filepath.Join(root(t), "examples", "act", "event.json")
	inputs, err := ghaction.New(func(k string) string {
		if k == "GITHUB_EVENT_PATH" {
			return path
		}
		return ""
	}, nil).DispatchInputs()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, slices.Sorted(maps.Keys(inputs))); diff != "" {
		t.Errorf("examples/act/event.json: inputs differ from setup_new_action's inputs + port_context (-want +got):\n%s", diff)
	}
	var portContext map[string]string
	if err := json.Unmarshal([]byte(inputs["port_context"]), &portContext); err != nil || portContext["runId"] == "" {
		t.Errorf("examples/act/event.json: port_context %q is not the {runId, blueprint} object Port sends", inputs["port_context"])
	}
}
