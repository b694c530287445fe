package port

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DecodeError is a 2xx response whose body could not be used: not JSON, not Port's envelope, without the
// expected payload, or too large to read.
type DecodeError struct {
	Method     string
	Path       string // the request path, without the query string
	StatusCode int
	TraceID    string // the X-Trace-Id response header, for Port support
	Err        error  // what was wrong; never holds body content
}

func (e *DecodeError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s: could not decode the response: %v",
		e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode), e.Err)
	if e.TraceID != "" {
		msg += " (trace id " + e.TraceID + ")"
	}
	return msg
}

func (e *DecodeError) Unwrap() error { return e.Err }

// newAPIError builds the error for a non-2xx response from its (size-limited) body.
func newAPIError(req *request, status int, traceID string, body []byte) *APIError {
	e := &APIError{Method: req.method, Path: req.path, StatusCode: status, TraceID: traceID}
	var eb ErrorBody
	if err := json.Unmarshal(body, &eb); err == nil {
		e.Code, e.Message = flattenError(eb.Error, eb.Message)
	} else {
		// Not Port's envelope: a proxy or load balancer page. Keep its start, on one line.
		e.Message = snippet(body, 200)
	}
	return e
}

// flattenError reads Port's "error" field: a code string on core routes, an object
// {"name": …, "message": …} on AI routes. The top-level message wins over the object's.
func flattenError(raw json.RawMessage, message string) (code, msg string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", message
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, message
	}
	var obj struct {
		Name    string `json:"name"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(raw, &obj); err == nil && (obj.Name != "" || obj.Code != "" || obj.Message != "") {
		code = obj.Name
		if code == "" {
			code = obj.Code
		}
		if message == "" {
			message = obj.Message
		}
		return code, message
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err == nil {
		return snippet(compact.Bytes(), 200), message
	}
	return "", message
}

// snippet returns the start of b as one line of printable text, at most n bytes long.
func snippet(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	truncated := false
	if len(b) > n {
		b, truncated = b[:n], true
		for len(b) > 0 { // drop the bytes of a rune that was cut in two
			if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size > 1 {
				break
			}
			b = b[:len(b)-1]
		}
	}
	s := strings.Join(strings.FieldsFunc(strings.ToValidUTF8(string(b), "?"), func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if truncated && s != "" {
		s += "…"
	}
	return s
}
