// Package input parses and checks the values a user gives the action (action inputs, flags, the
// workflow_dispatch payload). Every problem is an *Error naming the input, quoting the value and saying what
// was expected, so that a command can report all of them at once before it sends anything to Port.
package input

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Error is a problem with one input.
type Error struct {
	Name     string // the input's name, as the user wrote it (e.g. "lead-time-before")
	Value    string // the value given; never shown when Secret is set
	Secret   bool
	Expected string // what would have been accepted
}

func (e *Error) Error() string {
	switch {
	case e.Secret:
		return fmt.Sprintf("input %q: %s", e.Name, e.Expected)
	case e.Value == "":
		return fmt.Sprintf("input %q is empty: %s", e.Name, e.Expected)
	default:
		return fmt.Sprintf("input %q = %s: %s", e.Name, Quote(e.Value), e.Expected)
	}
}

// IsInputError reports whether err is, or joins, input errors only.
func IsInputError(err error) bool {
	if err == nil {
		return false
	}
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range joined.Unwrap() {
			if !IsInputError(e) {
				return false
			}
		}
		return true
	}
	var ie *Error
	return errors.As(err, &ie)
}

// MaxValue bounds every input value. Port refuses request bodies over 1 MiB; no single input of ours has a
// reason to come near that, so anything larger is refused before a request is built.
const MaxValue = 64 << 10

// TooLarge returns an input error when raw is over MaxValue.
func TooLarge(name, raw string) error {
	if len(raw) <= MaxValue {
		return nil
	}
	return &Error{Name: name, Value: raw, Expected: fmt.Sprintf("the value is %d bytes long; at most %d bytes are accepted", len(raw), MaxValue)}
}

// maxQuoted bounds how much of a bad value an error message repeats.
const maxQuoted = 60

// Quote renders an untrusted value for a message: Go-quoted (so control characters, newlines and workflow
// command prefixes are visible, never interpreted) and cut after 60 characters.
func Quote(s string) string {
	if n := utf8.RuneCountInString(s); n > maxQuoted {
		runes := []rune(s)
		return strconv.Quote(string(runes[:maxQuoted])) + fmt.Sprintf("… (%d characters)", n)
	}
	return strconv.Quote(s)
}

// Bool parses a boolean input the way GitHub's toolkit does (YAML 1.2 core schema: true, True, TRUE, false,
// False, FALSE); blank gives def.
func Bool(name, raw string, def bool) (bool, error) {
	if err := TooLarge(name, raw); err != nil {
		return false, err
	}
	switch strings.TrimSpace(raw) {
	case "":
		return def, nil
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	}
	return false, &Error{Name: name, Value: raw, Expected: "expected true or false"}
}

// decimal is a plain decimal number: no sign, no hex, no Inf or NaN, no units, no digit separators.
var decimal = regexp.MustCompile(`^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$`)

// Hours parses an optional non-negative number of hours. Blank gives nil: a baseline nobody measured is
// left out, never sent as 0 (0 would make every run of the action show negative savings).
func Hours(name, raw string) (*float64, error) {
	if err := TooLarge(name, raw); err != nil {
		return nil, err
	}
	s := strings.TrimSpace(raw)
	if s == "" || s == "null" {
		return nil, nil
	}
	bad := &Error{Name: name, Value: raw, Expected: "expected a number of hours, 0 or more (e.g. 4 or 0.5), or blank if unknown"}
	if strings.HasPrefix(s, "-") {
		bad.Expected = "a baseline cannot be negative; " + bad.Expected
		return nil, bad
	}
	if !decimal.MatchString(s) {
		return nil, bad
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		bad.Expected = "the number is out of range; " + bad.Expected
		return nil, bad
	}
	return &v, nil
}

// maxDuration bounds the timeouts: GitHub ends a job after 6 hours anyway.
const maxDuration = 6 * time.Hour

// Duration parses a positive Go duration ("90s", "5m", "1h30m"); blank gives def.
func Duration(name, raw string, def time.Duration) (time.Duration, error) {
	if err := TooLarge(name, raw); err != nil {
		return 0, err
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return def, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 || d > maxDuration {
		return 0, &Error{Name: name, Value: raw, Expected: "expected a duration between 1ms and 6h, such as 30s, 5m or 1h30m"}
	}
	return d, nil
}

// entityIdentifier is Port's entity identifier pattern without its look-ahead (checked by hand).
var entityIdentifier = regexp.MustCompile(`^[\p{L}0-9@_.+:\\/=-]+$`)

// maxEntityIdentifier is Port's limit for entity identifiers.
const maxEntityIdentifier = 1000

// ValidEntityIdentifier reports whether Port accepts id as an entity identifier.
func ValidEntityIdentifier(id string) bool {
	return id != "." && id != ".." && utf8.RuneCountInString(id) <= maxEntityIdentifier && entityIdentifier.MatchString(id)
}

// Category parses the category of an action: the JSON entity object Port sends for a `format: entity` input
// ({"identifier": "security", "title": "Security", …}), a JSON string, or a bare identifier. It returns the
// category's identifier.
func Category(name, raw string) (string, error) {
	if err := TooLarge(name, raw); err != nil {
		return "", err
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", &Error{Name: name, Expected: "the category is required: an actions_categories identifier or the entity object Port sends"}
	}
	id := s
	switch s[0] {
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(s), &obj); err != nil {
			return "", &Error{Name: name, Value: raw, Expected: "expected a JSON entity object with an \"identifier\" or a bare identifier, but the JSON is invalid: " + jsonProblem(err)}
		}
		if err := json.Unmarshal(obj["identifier"], &id); err != nil || id == "" {
			return "", &Error{Name: name, Value: raw, Expected: "the entity object has no \"identifier\" string"}
		}
	case '"', '[':
		if err := json.Unmarshal([]byte(s), &id); err != nil {
			return "", &Error{Name: name, Value: raw, Expected: "expected a JSON entity object with an \"identifier\", or a bare identifier"}
		}
	}
	if !ValidEntityIdentifier(id) {
		return "", &Error{Name: name, Value: id, Expected: `not a valid Port entity identifier: use letters, digits and @ _ . + : \ / = - (at most 1000 characters)`}
	}
	return id, nil
}

// maxRunID bounds a run id; Port's look like "r_0123456789abcdef".
const maxRunID = 200

// RunID parses the port-context input: the JSON object Port sends as `port_context` (with a "runId"). Blank
// gives "". A bare run id ("r_…") is accepted too.
func RunID(name, raw string) (string, error) {
	if err := TooLarge(name, raw); err != nil {
		return "", err
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", nil
	}
	runID := s
	if s[0] == '{' {
		var ctx struct {
			RunID json.RawMessage `json:"runId"`
		}
		if err := json.Unmarshal([]byte(s), &ctx); err != nil {
			return "", &Error{Name: name, Value: raw, Expected: `expected the JSON object Port sends, like {"runId": "r_…"}, but the JSON is invalid: ` + jsonProblem(err)}
		}
		if len(ctx.RunID) == 0 || string(ctx.RunID) == "null" {
			return "", &Error{Name: name, Value: raw, Expected: `the object has no "runId"; pass {"runId": "{{ .run.id }}"} in the action's workflowInputs`}
		}
		if err := json.Unmarshal(ctx.RunID, &runID); err != nil {
			return "", &Error{Name: name, Value: raw, Expected: `"runId" must be a string`}
		}
	}
	if runID == "" || len(runID) > maxRunID || strings.IndexFunc(runID, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
		return "", &Error{Name: name, Value: runID, Expected: "not a Port run id (expected something like r_0123abcd, without spaces)"}
	}
	return runID, nil
}

// jsonProblem describes a JSON decoding error without repeating the input.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	if errors.As(err, &syntax) {
		return fmt.Sprintf("%s at byte %d", syntax.Error(), syntax.Offset)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return fmt.Sprintf("%s must be %s, not %s", orRoot(typ.Field), typ.Type, typ.Value)
	}
	return err.Error()
}

func orRoot(field string) string {
	if field == "" {
		return "the value"
	}
	return strconv.Quote(field)
}

// maxSecret bounds credentials; Port's are short.
const maxSecret = 1024

// Secret checks a credential without ever repeating it.
func Secret(name, raw, hint string) (string, error) {
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return "", &Error{Name: name, Secret: true, Expected: "is required: " + hint}
	case len(s) > maxSecret || strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0:
		return "", &Error{Name: name, Secret: true, Expected: "contains spaces, line breaks or control characters, or is too long; copy it again from Port (… menu → Credentials)"}
	}
	return s, nil
}

// Endpoint is where Port's API and app are for an organisation.
type Endpoint struct {
	APIURL string // e.g. https://api.port.io, without a trailing slash
	AppURL string // e.g. https://app.port.io, for links in summaries
	Region string // "eu" or "us"
}

// ParseEndpoint resolves the port-region and port-base-url inputs. The base URL, when given, wins over the
// region; it must be https, except on a loopback address (the emulator, a local proxy).
func ParseEndpoint(regionName, region, baseURLName, baseURL string) (Endpoint, error) {
	var ep Endpoint
	switch strings.ToLower(strings.TrimSpace(region)) {
	case "", "eu":
		ep = Endpoint{APIURL: "https://api.port.io", AppURL: "https://app.port.io", Region: "eu"}
	case "us":
		ep = Endpoint{APIURL: "https://api.us.port.io", AppURL: "https://app.us.port.io", Region: "us"}
	default:
		return ep, &Error{Name: regionName, Value: region, Expected: "expected eu or us (or set port-base-url)"}
	}
	raw := strings.TrimSpace(baseURL)
	if raw == "" {
		return ep, nil
	}
	bad := func(why string) (Endpoint, error) {
		return ep, &Error{Name: baseURLName, Value: raw, Expected: why}
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return bad("expected an absolute URL like https://api.port.io")
	}
	switch {
	case u.User != nil:
		return bad("must not contain credentials; use port-client-id and port-client-secret")
	case u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#"):
		return bad("must not have a query or a fragment")
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	case u.Scheme == "http":
		return bad("must use https (plain http is allowed only on a loopback address such as 127.0.0.1)")
	default:
		return bad("expected an http(s) URL like https://api.port.io")
	}
	ep.APIURL = strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/")
	switch strings.ToLower(u.Hostname()) {
	case "api.port.io", "api.getport.io":
		ep.AppURL, ep.Region = "https://app.port.io", "eu"
	case "api.us.port.io", "api.us.getport.io":
		ep.AppURL, ep.Region = "https://app.us.port.io", "us"
	}
	return ep, nil
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
