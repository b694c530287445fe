package ghaction

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/google/go-github/v62/github"
)

// maxEventBytes caps how much of $GITHUB_EVENT_PATH is read. A
// workflow_dispatch payload is a few kilobytes; GitHub caps dispatch inputs at
// 65,535 characters in total.
const maxEventBytes = 1 << 20

// EventError reports a problem reading or decoding the event payload file. It
// names the file but never quotes its content.
type EventError struct {
	Path string
	Err  error
}

func (e *EventError) Error() string {
	return fmt.Sprintf("read event payload %s: %v", e.Path, e.Err)
}

func (e *EventError) Unwrap() error { return e.Err }

// DispatchInputs returns the workflow_dispatch inputs from the event payload
// at $GITHUB_EVENT_PATH, decoded as a workflow_dispatch event.
//
// GitHub sends every input as a JSON string, but a payload written by hand, by
// act or by Port may hold numbers, booleans, arrays or objects: those are
// returned as their compact JSON text (2, true, {"runId":"r_1"}). A JSON null
// is returned as "", which is what GitHub gives for an optional input left
// empty. Without GITHUB_EVENT_PATH, or when the payload has no "inputs", the
// map is empty and the error nil. An unreadable file, a file over 1 MiB,
// invalid JSON or an "inputs" that is not an object is an *EventError.
func (e *Env) DispatchInputs() (map[string]string, error) {
	path := e.getenv("GITHUB_EVENT_PATH")
	if path == "" {
		return map[string]string{}, nil
	}
	data, err := readLimited(path, maxEventBytes)
	if err != nil {
		return nil, &EventError{Path: path, Err: err}
	}
	var ev github.WorkflowDispatchEvent
	if err := json.Unmarshal(data, &ev); err != nil {
		// encoding/json keeps decoding after a type mismatch; a mismatch in a
		// field we do not use (repository, sender, …) must not hide the inputs. Inputs is a json.RawMessage
		// and cannot mismatch; a mismatch at the top (Field "") means the
		// payload is not an object.
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typeErr) && typeErr.Field == "":
			return nil, &EventError{Path: path, Err: errors.New("the payload is not a JSON object")}
		case !errors.As(err, &typeErr):
			return nil, &EventError{Path: path, Err: describeJSONError(err)}
		}
	}
	inputs := map[string]string{}
	if len(ev.Inputs) == 0 || bytes.Equal(bytes.TrimSpace(ev.Inputs), []byte("null")) {
		return inputs, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(ev.Inputs, &raw); err != nil {
		return nil, &EventError{Path: path, Err: errors.New(`"inputs" is not a JSON object`)}
	}
	for name, v := range raw {
		s, err := inputText(v)
		if err != nil {
			return nil, &EventError{Path: path, Err: fmt.Errorf("input %q: %w", name, err)}
		}
		inputs[name] = s
	}
	return inputs, nil
}

// inputText returns a JSON string's value, "" for null, and the compact JSON
// text of any other value.
func inputText(v json.RawMessage) (string, error) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) > 0 && v[0] == '"':
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return "", describeJSONError(err)
		}
		return s, nil
	case string(v) == "null":
		return "", nil
	}
	var b bytes.Buffer
	if err := json.Compact(&b, v); err != nil {
		return "", describeJSONError(err)
	}
	return b.String(), nil
}

// describeJSONError drops the offending character that encoding/json quotes,
// keeping the offset, so an error never echoes payload content.
func describeJSONError(err error) error {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Errorf("invalid JSON at byte offset %d", syn.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("invalid JSON: unexpected end of input")
	}
	return err
}

// readLimited reads the file at path, failing if it is larger than limit.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, pe.Err // EventError names the path already
		}
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("the file is larger than the limit of %d KiB", limit>>10)
	}
	return data, nil
}
