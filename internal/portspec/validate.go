package portspec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Part names the part of a request that failed validation.
type Part string

// The parts of a request, as reported in RequestError.Part.
const (
	PartPath       Part = "path"            // no path template of the spec matches
	PartMethod     Part = "method"          // the template exists, the method does not
	PartOperation  Part = "operation"       // the operation exists but is deprecated
	PartPathParam  Part = "path parameter"  // a path parameter fails its schema
	PartQuery      Part = "query"           // the query string cannot be parsed
	PartQueryParam Part = "query parameter" // a query parameter is unknown, missing or invalid
	PartBody       Part = "body"            // the JSON body is missing, unexpected or invalid
)

// RequestError reports a request that Port's spec does not allow: which
// request (method and escaped path), which part, which parameter, and the
// validator's message (Err is a *jsonschema.ValidationError when a schema
// rejected a value).
type RequestError struct {
	Method    string
	Path      string // the escaped path as given
	Operation string // the matched operation, e.g. "PUT /v1/actions/{action_identifier}"; "" when none
	Part      Part
	Param     string // the parameter name for PartPathParam and PartQueryParam
	Err       error
}

func (e *RequestError) Error() string {
	where := string(e.Part)
	if e.Param != "" {
		where += fmt.Sprintf(" %q", e.Param)
	}
	return fmt.Sprintf("%s %s: %s: %v", e.Method, e.Path, where, e.Err)
}

func (e *RequestError) Unwrap() error { return e.Err }

// operation is the compiled form of one method of one path template.
type operation struct {
	key          string // "PUT /v1/actions/{action_identifier}"
	deprecated   string // why the operation must not be used; "" when it may
	params       []*param
	hasBody      bool
	bodyRequired bool
	body         *jsonschema.Schema // nil when the body may be any JSON
}

// param is a compiled path or query parameter. Header and cookie parameters
// are not validated.
type param struct {
	name      string
	in        string
	required  bool
	explode   bool
	types     []string // JSON types the schema allows, in the order to try
	itemTypes []string // for array parameters
	schema    *jsonschema.Schema
}

// ValidateRequest checks a request against the spec: the escaped path must
// match a path template (literal segments win over parameters) and the method
// must be defined for it; path parameters (percent-decoded) and query
// parameters (strings coerced to boolean, integer or number as their schema
// says; repeated keys for arrays) must satisfy their schemas, with unknown
// query parameters and missing required ones rejected; and body must be
// absent when the operation defines no request body, present when it is
// required, and valid JSON satisfying the application/json schema otherwise.
// Operations the spec marks deprecated are rejected.
// A failure is a *RequestError; a schema the package cannot compile is a
// plain error.
func (s *Spec) ValidateRequest(method, escapedPath, rawQuery string, body []byte) error {
	m := strings.ToLower(method)
	fail := func(op string, part Part, name string, err error) error {
		return &RequestError{Method: strings.ToUpper(method), Path: escapedPath, Operation: op, Part: part, Param: name, Err: err}
	}
	if !strings.HasPrefix(escapedPath, "/") || strings.ContainsAny(escapedPath, "?#") {
		return fail("", PartPath, "", errors.New("want an escaped path starting with / and without query or fragment"))
	}
	r, rawValues := s.match(escapedPath)
	if r == nil {
		return fail("", PartPath, "", errors.New("no path of the spec matches"))
	}
	if _, ok := r.item[m]; !ok {
		var allowed []string
		for _, am := range r.methods() {
			allowed = append(allowed, strings.ToUpper(am))
		}
		return fail("", PartMethod, "", fmt.Errorf("%s is not defined for %s (allowed: %s)", strings.ToUpper(method), r.template, strings.Join(allowed, ", ")))
	}
	op, err := s.operation(r, m)
	if err != nil {
		return err
	}
	if op.deprecated != "" {
		return fail(op.key, PartOperation, "", errors.New(op.deprecated))
	}

	// Path parameters, in template order.
	values := map[string]string{}
	i := 0
	for _, seg := range r.segments {
		if seg.param == "" {
			continue
		}
		v, err := url.PathUnescape(rawValues[i])
		i++
		if err != nil {
			return fail(op.key, PartPathParam, seg.param, fmt.Errorf("invalid percent-encoding: %w", err))
		}
		values[seg.param] = v
	}
	for _, p := range op.params {
		if p.in != "path" {
			continue
		}
		if err := p.schema.Validate(coerce(p.types, values[p.name])); err != nil {
			return fail(op.key, PartPathParam, p.name, err)
		}
	}

	// Query parameters.
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return fail(op.key, PartQuery, "", err)
	}
	known := map[string]bool{}
	for _, p := range op.params {
		if p.in != "query" {
			continue
		}
		known[p.name] = true
		vals, present := query[p.name]
		if !present {
			if p.required {
				return fail(op.key, PartQueryParam, p.name, errors.New("required but missing"))
			}
			continue
		}
		inst, err := p.queryInstance(vals)
		if err != nil {
			return fail(op.key, PartQueryParam, p.name, err)
		}
		if err := p.schema.Validate(inst); err != nil {
			return fail(op.key, PartQueryParam, p.name, err)
		}
	}
	var unknown []string
	for name := range query {
		if !known[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		allowed := make([]string, 0, len(known))
		for name := range known {
			allowed = append(allowed, name)
		}
		slices.Sort(allowed)
		return fail(op.key, PartQueryParam, unknown[0], fmt.Errorf("not defined by the spec (defined: %s)", strings.Join(allowed, ", ")))
	}

	// Body.
	if len(bytes.TrimSpace(body)) == 0 {
		if op.bodyRequired {
			return fail(op.key, PartBody, "", errors.New("a request body is required"))
		}
		return nil
	}
	if !op.hasBody {
		return fail(op.key, PartBody, "", fmt.Errorf("the operation defines no request body, got %d bytes", len(body)))
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fail(op.key, PartBody, "", fmt.Errorf("invalid JSON: %w", err))
	}
	if op.body != nil {
		if err := op.body.Validate(inst); err != nil {
			return fail(op.key, PartBody, "", err)
		}
	}
	return nil
}

// queryInstance turns the values of a query parameter into the JSON value its
// schema is checked against.
func (p *param) queryInstance(vals []string) (any, error) {
	isArray := slices.Contains(p.types, "array")
	scalarOK := slices.ContainsFunc(p.types, func(t string) bool { return t != "array" })
	if !isArray || (len(vals) == 1 && scalarOK && p.explode) {
		if len(vals) > 1 {
			return nil, fmt.Errorf("given %d times but its schema is not an array", len(vals))
		}
		return coerce(p.types, vals[0]), nil
	}
	if !p.explode {
		var split []string
		for _, v := range vals {
			split = append(split, strings.Split(v, ",")...)
		}
		vals = split
	}
	items := make([]any, len(vals))
	for i, v := range vals {
		items[i] = coerce(p.itemTypes, v)
	}
	return items, nil
}

// coerce converts a string from a URL to the first JSON type in types it can
// represent; otherwise it stays a string, and the schema reports the type
// mismatch ("got string, want boolean"). An integer is coerced like any
// number, so the schema can report 1.5 as "got number, want integer".
func coerce(types []string, raw string) any {
	for _, t := range types {
		switch t {
		case "boolean":
			if raw == "true" || raw == "false" {
				return raw == "true"
			}
		case "integer", "number":
			if isJSONNumber(raw) {
				return json.Number(raw)
			}
		case "null":
			if raw == "null" {
				return nil
			}
		}
	}
	return raw
}

// isJSONNumber reports whether s is exactly a JSON number (strconv would also
// accept "NaN", "Inf", "0x10" and "1_000"). A valid JSON text that starts with
// "-" or a digit and has no surrounding space can only be a number.
func isJSONNumber(s string) bool {
	return s != "" && (s[0] == '-' || '0' <= s[0] && s[0] <= '9') &&
		strings.TrimSpace(s) == s && json.Valid([]byte(s))
}
