// Package portspec validates HTTP requests against Port's public OpenAPI 3.1
// specification, so that tests of the Port client and of the Port emulator
// fail when they send (or accept) a request the real API would reject.
//
// The spec is large (1.5 MB) and lives outside the repository; Locate finds
// it. Operations are compiled on first use and cached in the Spec.
package portspec

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// EnvSpecPath names the environment variable that overrides where Locate
// looks for the spec.
const EnvSpecPath = "PORT_OPENAPI_SPEC"

// Locate returns the path of Port's OpenAPI spec: $PORT_OPENAPI_SPEC when set,
// otherwise ../shared/port-openapi/apispec.json relative to the module root
// (the nearest directory at or above the working directory holding go.mod).
// ok is false when that file does not exist; path is still returned (when
// known) so a caller can say where it looked.
func Locate() (path string, ok bool) {
	if p := os.Getenv(EnvSpecPath); p != "" {
		return p, isFile(p)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if isFile(filepath.Join(dir, "go.mod")) {
			p := filepath.Join(dir, "..", "shared", "port-openapi", "apispec.json")
			return p, isFile(p)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// Spec is a loaded OpenAPI document. It is safe for concurrent use.
type Spec struct {
	url    string // the document's resource URL in the schema compiler
	doc    map[string]any
	routes []*route

	mu       sync.Mutex // guards compiler and ops
	compiler *jsonschema.Compiler
	ops      map[string]*operation // by "get /v1/actions/{action_identifier}"
}

// Load reads and indexes the OpenAPI 3.1 document at path. Schemas are
// compiled lazily, per operation, by ValidateRequest.
func Load(path string) (*Spec, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("load OpenAPI spec: %w", err)
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, fmt.Errorf("load OpenAPI spec: %w", err)
	}
	defer f.Close()
	raw, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		return nil, fmt.Errorf("load OpenAPI spec %s: %w", abs, err)
	}
	doc, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("load OpenAPI spec %s: the document is not a JSON object", abs)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		return nil, fmt.Errorf("load OpenAPI spec %s: openapi version %q, want 3.1.x (only 3.1 schemas are JSON Schema 2020-12)", abs, v)
	}
	if d, ok := doc["jsonSchemaDialect"].(string); ok && d != "https://spec.openapis.org/oas/3.1/dialect/base" && d != "https://json-schema.org/draft/2020-12/schema" {
		return nil, fmt.Errorf("load OpenAPI spec %s: unsupported jsonSchemaDialect %q", abs, d)
	}
	routes, err := parseRoutes(doc)
	if err != nil {
		return nil, fmt.Errorf("load OpenAPI spec %s: %w", abs, err)
	}

	s := &Spec{
		url:    (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String(),
		doc:    doc,
		routes: routes,
		ops:    map[string]*operation{},
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseRegexpEngine(compilePattern)
	if err := c.AddResource(s.url, doc); err != nil {
		return nil, fmt.Errorf("load OpenAPI spec %s: %w", abs, err)
	}
	s.compiler = c
	return s, nil
}

// Operations lists every operation of the spec as "METHOD /template", sorted.
func (s *Spec) Operations() []string {
	var out []string
	for _, r := range s.routes {
		for _, m := range r.methods() {
			out = append(out, strings.ToUpper(m)+" "+r.template)
		}
	}
	slices.Sort(out)
	return out
}

// CompileAll compiles the schemas of every operation, reporting every one
// that fails (for example because of a regular expression the Go engine does
// not support). Tests use it to prove the whole spec is usable.
func (s *Spec) CompileAll() error {
	var errs []error
	for _, r := range s.routes {
		for _, m := range r.methods() {
			if _, err := s.operation(r, m); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// route is one path template, split into segments.
type route struct {
	template string
	segments []segment
	item     map[string]any
}

// segment is a literal path segment or, when param is set, a "{param}" one.
type segment struct {
	literal string
	param   string
}

// methods returns the operation keys of the path item, in a fixed order.
func (r *route) methods() []string {
	var out []string
	for _, m := range []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"} {
		if _, ok := r.item[m]; ok {
			out = append(out, m)
		}
	}
	return out
}

func parseRoutes(doc map[string]any) ([]*route, error) {
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		return nil, errors.New(`the document has no "paths" object`)
	}
	var routes []*route
	shapes := map[string]string{}
	for template, v := range paths {
		item, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("path %q is not an object", template)
		}
		if _, ok := item["$ref"]; ok {
			return nil, fmt.Errorf("path %q: path item $ref is not supported", template)
		}
		if !strings.HasPrefix(template, "/") {
			return nil, fmt.Errorf("path %q does not start with /", template)
		}
		r := &route{template: template, item: item}
		var shape []string
		for _, seg := range strings.Split(template[1:], "/") {
			switch {
			case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") && !strings.ContainsAny(seg[1:len(seg)-1], "{}"):
				r.segments = append(r.segments, segment{param: seg[1 : len(seg)-1]})
				shape = append(shape, "{}")
			case strings.ContainsAny(seg, "{}"):
				return nil, fmt.Errorf("path %q: segment %q mixes text and a template expression, which is not supported", template, seg)
			default:
				r.segments = append(r.segments, segment{literal: seg})
				shape = append(shape, seg)
			}
		}
		key := strings.Join(shape, "/")
		if other, dup := shapes[key]; dup {
			return nil, fmt.Errorf("paths %q and %q are ambiguous", other, template)
		}
		shapes[key] = template
		routes = append(routes, r)
	}
	slices.SortFunc(routes, func(a, b *route) int { return strings.Compare(a.template, b.template) })
	return routes, nil
}

// match returns the route whose template matches the escaped path, preferring
// literal segments over parameters from left to right (so
// /v1/actions/runs/{run_id} wins over /v1/actions/{action_identifier}/runs),
// and the raw (still escaped) values of its parameters.
func (s *Spec) match(escapedPath string) (*route, []string) {
	segs := strings.Split(escapedPath[1:], "/")
	var best *route
	for _, r := range s.routes {
		if len(r.segments) != len(segs) || !r.matches(segs) {
			continue
		}
		if best == nil || moreSpecific(r, best) {
			best = r
		}
	}
	if best == nil {
		return nil, nil
	}
	var values []string
	for i, seg := range best.segments {
		if seg.param != "" {
			values = append(values, segs[i])
		}
	}
	return best, values
}

func (r *route) matches(segs []string) bool {
	for i, seg := range r.segments {
		if seg.param == "" && seg.literal != segs[i] || seg.param != "" && segs[i] == "" {
			return false
		}
	}
	return true
}

func moreSpecific(a, b *route) bool {
	for i := range a.segments {
		la, lb := a.segments[i].param == "", b.segments[i].param == ""
		if la != lb {
			return la
		}
	}
	return false
}
