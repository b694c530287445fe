package portspec

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// operation returns the compiled operation m of route r, compiling it on
// first use. The compiler is not safe for concurrent use, so compilation runs
// under the lock; compiled schemas are immutable and validate concurrently.
func (s *Spec) operation(r *route, m string) (*operation, error) {
	key := strings.ToUpper(m) + " " + r.template
	s.mu.Lock()
	defer s.mu.Unlock()
	if op, ok := s.ops[key]; ok {
		return op, nil
	}
	op, err := s.compileOperation(r, m, key)
	if err != nil {
		return nil, fmt.Errorf("compile %s from the OpenAPI spec: %w", key, err)
	}
	s.ops[key] = op
	return op, nil
}

func (s *Spec) compileOperation(r *route, m, key string) (*operation, error) {
	itemLoc := "/paths/" + escapeToken(r.template)
	opObj, ok := r.item[m].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the operation is not an object")
	}
	op := &operation{key: key}
	if dep, _ := opObj["deprecated"].(bool); dep {
		summary, _ := opObj["summary"].(string)
		op.deprecated = "the operation is deprecated"
		if summary != "" {
			op.deprecated += " (" + summary + ")"
		}
	}

	// Path-item parameters apply to every operation; an operation's own
	// parameter with the same name and location replaces one.
	type declared struct {
		loc string
		obj map[string]any
	}
	var order []string
	byID := map[string]declared{}
	for _, level := range []struct {
		loc  string
		list any
	}{
		{itemLoc + "/parameters", r.item["parameters"]},
		{itemLoc + "/" + m + "/parameters", opObj["parameters"]},
	} {
		if level.list == nil {
			continue
		}
		list, ok := level.list.([]any)
		if !ok {
			return nil, fmt.Errorf("%s is not an array", level.loc)
		}
		for i, v := range list {
			loc := level.loc + "/" + strconv.Itoa(i)
			obj, loc, err := s.deref(v, loc)
			if err != nil {
				return nil, err
			}
			name, _ := obj["name"].(string)
			in, _ := obj["in"].(string)
			if name == "" || in == "" {
				return nil, fmt.Errorf("%s: a parameter without name or in", loc)
			}
			id := in + "\x00" + name
			if _, seen := byID[id]; !seen {
				order = append(order, id)
			}
			byID[id] = declared{loc: loc, obj: obj}
		}
	}

	pathParams := map[string]bool{}
	for _, seg := range r.segments {
		if seg.param != "" {
			if pathParams[seg.param] {
				return nil, fmt.Errorf("path parameter {%s} occurs twice in the template", seg.param)
			}
			pathParams[seg.param] = true
		}
	}
	for _, id := range order {
		d := byID[id]
		p, err := s.compileParam(d.obj, d.loc)
		if err != nil {
			return nil, err
		}
		if p == nil {
			continue // header or cookie
		}
		if p.in == "path" {
			if !pathParams[p.name] {
				return nil, fmt.Errorf("path parameter %q is not in the template", p.name)
			}
			delete(pathParams, p.name)
		}
		op.params = append(op.params, p)
	}
	// A template parameter the operation does not declare (Port's deprecated
	// /v1/blueprints/{blueprint_identifier}/actions routes declare none) is
	// only required to be a non-empty segment; match ensures that.

	if rb, ok := opObj["requestBody"]; ok {
		obj, loc, err := s.deref(rb, itemLoc+"/"+m+"/requestBody")
		if err != nil {
			return nil, err
		}
		op.hasBody = true
		op.bodyRequired, _ = obj["required"].(bool)
		content, _ := obj["content"].(map[string]any)
		media, ok := content["application/json"].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%s: no application/json content", loc)
		}
		if _, ok := media["schema"]; ok {
			op.body, err = s.compile(loc + "/content/" + escapeToken("application/json") + "/schema")
			if err != nil {
				return nil, err
			}
		}
	}
	return op, nil
}

// compileParam compiles a path or query parameter object found at loc; it
// returns nil for header and cookie parameters, which are not validated.
func (s *Spec) compileParam(obj map[string]any, loc string) (*param, error) {
	p := &param{}
	p.name, _ = obj["name"].(string)
	p.in, _ = obj["in"].(string)
	p.required, _ = obj["required"].(bool)
	switch p.in {
	case "header", "cookie":
		return nil, nil
	case "path":
		if !p.required {
			return nil, fmt.Errorf("%s: path parameter %q is not required", loc, p.name)
		}
		if st, ok := obj["style"].(string); ok && st != "simple" {
			return nil, fmt.Errorf("%s: path parameter style %q is not supported", loc, st)
		}
	case "query":
		if st, ok := obj["style"].(string); ok && st != "form" {
			return nil, fmt.Errorf("%s: query parameter style %q is not supported", loc, st)
		}
		p.explode = true // the default for style form
		if e, ok := obj["explode"].(bool); ok {
			p.explode = e
		}
	default:
		return nil, fmt.Errorf("%s: parameter location %q is not supported", loc, p.in)
	}
	schema, ok := obj["schema"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%s: parameter %q has no schema (content is not supported)", loc, p.name)
	}
	var err error
	if p.schema, err = s.compile(loc + "/schema"); err != nil {
		return nil, err
	}
	p.types = s.schemaTypes(schema, 0)
	for _, sub := range s.arrayItems(schema, 0) {
		p.itemTypes = append(p.itemTypes, s.schemaTypes(sub, 0)...)
	}
	return p, nil
}

// compile compiles the schema at the JSON pointer ptr of the document.
func (s *Spec) compile(ptr string) (*jsonschema.Schema, error) {
	sch, err := s.compiler.Compile(s.url + "#" + ptr)
	if err != nil {
		return nil, fmt.Errorf("compile schema %s: %w", ptr, err)
	}
	return sch, nil
}

// maxRefDepth bounds $ref chains and nested combinators when looking for the
// types a parameter schema allows.
const maxRefDepth = 16

// schemaTypes returns the JSON types a schema allows, looking through $ref and
// anyOf/oneOf/allOf, in the order coerce should try them: boolean, integer,
// number and null before string, so that "true" becomes true when both are
// allowed. A schema with no type (an enum of strings, say) yields nothing and
// its values stay strings.
func (s *Spec) schemaTypes(schema map[string]any, depth int) []string {
	if depth > maxRefDepth {
		return nil
	}
	var found []string
	switch t := schema["type"].(type) {
	case string:
		found = append(found, t)
	case []any:
		for _, v := range t {
			if ts, ok := v.(string); ok {
				found = append(found, ts)
			}
		}
	}
	if ref, ok := schema["$ref"].(string); ok {
		if target, err := s.pointer(ref); err == nil {
			if m, ok := target.(map[string]any); ok {
				found = append(found, s.schemaTypes(m, depth+1)...)
			}
		}
	}
	for _, kw := range []string{"anyOf", "oneOf", "allOf"} {
		list, _ := schema[kw].([]any)
		for _, v := range list {
			if m, ok := v.(map[string]any); ok {
				found = append(found, s.schemaTypes(m, depth+1)...)
			}
		}
	}
	var out []string
	for _, t := range []string{"array", "boolean", "integer", "number", "null", "object", "string"} {
		for _, f := range found {
			if f == t {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// arrayItems returns the items schemas of the array forms a schema allows.
func (s *Spec) arrayItems(schema map[string]any, depth int) []map[string]any {
	if depth > maxRefDepth {
		return nil
	}
	var out []map[string]any
	if items, ok := schema["items"].(map[string]any); ok {
		out = append(out, items)
	}
	if ref, ok := schema["$ref"].(string); ok {
		if target, err := s.pointer(ref); err == nil {
			if m, ok := target.(map[string]any); ok {
				out = append(out, s.arrayItems(m, depth+1)...)
			}
		}
	}
	for _, kw := range []string{"anyOf", "oneOf", "allOf"} {
		list, _ := schema[kw].([]any)
		for _, v := range list {
			if m, ok := v.(map[string]any); ok {
				out = append(out, s.arrayItems(m, depth+1)...)
			}
		}
	}
	return out
}

// deref follows a local "$ref" of a parameter or request body object.
func (s *Spec) deref(v any, loc string) (map[string]any, string, error) {
	for range maxRefDepth {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, "", fmt.Errorf("%s is not an object", loc)
		}
		ref, ok := obj["$ref"].(string)
		if !ok {
			return obj, loc, nil
		}
		target, err := s.pointer(ref)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", loc, err)
		}
		v, loc = target, strings.TrimPrefix(ref, "#")
	}
	return nil, "", fmt.Errorf("%s: $ref chain longer than %d", loc, maxRefDepth)
}

// pointer resolves a local reference "#/a/b~1c" in the document.
func (s *Spec) pointer(ref string) (any, error) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return nil, fmt.Errorf("$ref %q: only local references are supported", ref)
	}
	frag, err := url.PathUnescape(frag)
	if err != nil {
		return nil, fmt.Errorf("$ref %q: %w", ref, err)
	}
	var cur any = s.doc
	if frag == "" {
		return cur, nil
	}
	if !strings.HasPrefix(frag, "/") {
		return nil, fmt.Errorf("$ref %q: not a JSON pointer", ref)
	}
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			if cur, ok = c[tok]; !ok {
				return nil, fmt.Errorf("$ref %q: %q not found", ref, tok)
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, fmt.Errorf("$ref %q: bad index %q", ref, tok)
			}
			cur = c[i]
		default:
			return nil, fmt.Errorf("$ref %q: %q not found", ref, tok)
		}
	}
	return cur, nil
}

// escapeToken escapes one JSON-pointer reference token (RFC 6901): ~ as ~0
// and / as ~1.
func escapeToken(tok string) string {
	return strings.ReplaceAll(strings.ReplaceAll(tok, "~", "~0"), "/", "~1")
}
