package register

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/port-roi/port-roi-action/internal/input"
	"go.yaml.in/yaml/v3"
)

// A manifest lists many actions to register at once, as YAML or JSON (JSON is read as YAML):
//
//	- title: Create S3 bucket
//	  category: infrastructure
//	  lead_time_before: 48
//	  cycle_time_before: 2
//	- title: Rotate secrets
//	  category: security
//
// Each item takes the fields of the guide's setup_new_action inputs, under these names or the guide's
// dispatch names (actionTitle, cycle_time) or the action's input names (action-title, lead-time-before,
// cycle-time-before). category is an actions_categories identifier or an object with an "identifier" (the
// entity Port sends); the baselines are numbers of hours, 0 or more, and may be left out.

// MaxManifestItems bounds a manifest: more actions than any organisation has, fewer than would take a
// run beyond GitHub's 6-hour job limit at Port's rate limits.
const MaxManifestItems = 10000

// Item is one checked action of a manifest.
type Item struct {
	Index  int // its position in the manifest, from 0
	Line   int // its line in the manifest text
	Inputs     // Title, ActionID, Category and the baselines; RunID is not set
}

// Name names the item in messages: manifest[3].
func (it Item) Name() string { return fmt.Sprintf("manifest[%d]", it.Index) }

// manifestField is a field of an item, with the names it may go by.
type manifestField struct {
	key     string
	aliases []string
}

var manifestFields = []manifestField{
	{"title", []string{"title", "actionTitle", "action-title"}},
	{"category", []string{"category"}},
	{"lead_time_before", []string{"lead_time_before", "lead-time-before"}},
	{"cycle_time_before", []string{"cycle_time_before", "cycle_time", "cycle-time-before"}},
}

// ManifestError is a problem with the shape of a manifest or of one of its items, where there is no value
// to quote (a missing list, an unknown field). It is an input error: errors.As finds its *input.Error.
type ManifestError struct {
	Input *input.Error
}

func (e *ManifestError) Error() string {
	return fmt.Sprintf("input %q: %s", e.Input.Name, e.Input.Expected)
}

// Unwrap returns the input error, so that input.IsInputError reports it.
func (e *ManifestError) Unwrap() error { return e.Input }

func shapeError(name, expected string) error {
	return &ManifestError{Input: &input.Error{Name: name, Expected: expected}}
}

// ParseManifest reads and checks a manifest given as input name (e.g. "manifest"). Every problem is an
// *input.Error named after the item and field (manifest[3].title), and all of them are returned at once,
// joined. Two items whose titles derive the same action identifier are an error naming both.
func ParseManifest(name string, data []byte) ([]Item, error) {
	bad := func(why string) ([]Item, error) { return nil, shapeError(name, why) }
	if len(bytes.TrimSpace(data)) == 0 {
		return bad("the manifest is empty: expected a list of actions, each with a title and a category")
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		return bad("the manifest is not valid YAML or JSON: " + strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var more yaml.Node
	if err := dec.Decode(&more); !errors.Is(err, io.EOF) {
		return bad("the manifest holds more than one YAML document; put every action in one list")
	}
	root := resolve(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = resolve(root.Content[0])
	}
	if root.Kind != yaml.SequenceNode {
		return bad(fmt.Sprintf("expected a list of actions (YAML items starting with \"- \", or a JSON array), not %s (line %d)", kindName(root), root.Line))
	}
	switch n := len(root.Content); {
	case n == 0:
		return bad("the list of actions is empty")
	case n > MaxManifestItems:
		return bad(fmt.Sprintf("the manifest lists %d actions; at most %d are accepted in one run", n, MaxManifestItems))
	}

	var errs []error
	items := make([]Item, 0, len(root.Content))
	firstByID := map[string]Item{}
	for i, n := range root.Content {
		it, err := parseItem(fmt.Sprintf("%s[%d]", name, i), resolve(n))
		it.Index = i
		if err != nil {
			errs = append(errs, err)
		}
		if it.ActionID == "" {
			continue // its title is bad
		}
		if first, dup := firstByID[it.ActionID]; dup {
			errs = append(errs, &input.Error{Name: fmt.Sprintf("%s[%d].title", name, i), Value: it.Title,
				Expected: fmt.Sprintf("derives the action identifier %q, like %s[%d].title %s (line %d): list each action once",
					it.ActionID, name, first.Index, input.Quote(first.Title), first.Line)})
			continue
		}
		firstByID[it.ActionID] = it
		items = append(items, it)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return items, nil
}

// parseItem checks one item; name is like manifest[3]. The item keeps the fields that are good, and its
// action identifier whenever its title is good.
func parseItem(name string, n *yaml.Node) (Item, error) {
	it := Item{Line: n.Line}
	if n.Kind != yaml.MappingNode {
		return it, shapeError(name, "expected an action: a mapping with title, category, lead_time_before and "+
			fmt.Sprintf("cycle_time_before, not %s (line %d)", kindName(n), n.Line))
	}
	type value struct {
		node *yaml.Node
		as   string // the name the field was given as
		line int
	}
	values := map[string]value{} // by field key
	var errs []error
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), resolve(n.Content[i+1])
		f, ok := fieldNamed(k.Value)
		switch {
		case k.Kind != yaml.ScalarNode || !ok:
			errs = append(errs, shapeError(name+"."+k.Value, "unknown field; an action has title, category, lead_time_before and "+
				fmt.Sprintf("cycle_time_before (or the guide's names actionTitle and cycle_time) (line %d)", k.Line)))
			continue
		case values[f.key].as != "":
			errs = append(errs, shapeError(name+"."+k.Value, fmt.Sprintf("given twice, also as %s (line %d)", values[f.key].as, k.Line)))
			continue
		}
		values[f.key] = value{node: v, as: k.Value, line: k.Line}
	}
	// field returns the text of a field, its name for messages and a function that adds its line to an error.
	field := func(key string) (string, string, func(error) error, error) {
		v := values[key]
		fname, line := name+"."+key, n.Line
		if v.as != "" {
			fname, line = name+"."+v.as, v.line
		}
		at := func(err error) error {
			var ie *input.Error
			if errors.As(err, &ie) && !strings.Contains(ie.Expected, "(line ") {
				ie.Expected += fmt.Sprintf(" (line %d)", line)
			}
			return err
		}
		switch node := v.node; {
		case node == nil || node.ShortTag() == "!!null":
			return "", fname, at, nil
		case key == "category" && node.Kind == yaml.MappingNode:
			for i := 0; i+1 < len(node.Content); i += 2 {
				if resolve(node.Content[i]).Value == "identifier" {
					if id := resolve(node.Content[i+1]); id.Kind == yaml.ScalarNode {
						return id.Value, fname, at, nil
					}
				}
			}
			return "", fname, at, at(shapeError(fname, `the category object has no "identifier"`))
		case node.Kind != yaml.ScalarNode:
			return "", fname, at, at(shapeError(fname, "expected a single value, not "+kindName(node)))
		}
		return v.node.Value, fname, at, nil
	}

	raw, fname, at, err := field("title")
	if err == nil {
		it.Title, it.ActionID, err = parseTitle(fname, raw)
	}
	errs = append(errs, at(err))
	raw, fname, at, err = field("category")
	if err == nil {
		if strings.TrimSpace(raw) == "" {
			err = &input.Error{Name: fname, Expected: "the category is required: an actions_categories identifier"}
		} else {
			it.Category, err = input.Category(fname, raw)
		}
	}
	errs = append(errs, at(err))
	for _, h := range []struct {
		key string
		dst **float64
	}{{"lead_time_before", &it.LeadTimeBefore}, {"cycle_time_before", &it.CycleTimeBefore}} {
		raw, fname, at, err := field(h.key)
		if err == nil {
			*h.dst, err = input.Hours(fname, raw)
		}
		errs = append(errs, at(err))
	}
	return it, errors.Join(errs...)
}

func fieldNamed(name string) (manifestField, bool) {
	for _, f := range manifestFields {
		for _, a := range f.aliases {
			if a == name {
				return f, true
			}
		}
	}
	return manifestField{}, false
}

// resolve follows a YAML alias (*name) to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return "a single value " + input.Quote(n.Value)
	}
	return "an empty document"
}
