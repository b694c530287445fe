package ghaction

import (
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxSummaryBytes is GitHub's limit for one step's job summary; a larger
// summary is not uploaded and the runner reports an error.
// https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands#step-isolation-and-limits
const maxSummaryBytes = 1 << 20

// SetOutput appends the step output name=value to $GITHUB_OUTPUT using the
// heredoc form name<<DELIM / value / DELIM with a random delimiter that does
// not occur in value, so a value cannot end the heredoc early and inject
// other outputs. It returns an error, and never panics, when the file cannot
// be written, when GITHUB_OUTPUT is unset inside Actions, or when name is not
// a valid output id. Outside Actions without GITHUB_OUTPUT the output is only
// recorded for Outputs.
func (e *Env) SetOutput(name, value string) error {
	value = e.Redact(value)
	if !validOutputName(name) {
		return fmt.Errorf("set output %q: the name must start with a letter or _ and contain only letters, digits, - and _", name)
	}
	path := e.getenv("GITHUB_OUTPUT")
	if path == "" {
		if e.inActions {
			return fmt.Errorf("set output %q: GITHUB_OUTPUT is not set although GITHUB_ACTIONS is true", name)
		}
		e.record(name, value)
		return nil
	}
	delim, err := e.delimiter(value)
	if err != nil {
		return fmt.Errorf("set output %q: %w", name, err)
	}
	entry := name + "<<" + delim + "\n" + value + "\n" + delim + "\n"
	if err := appendFile(path, entry); err != nil {
		return fmt.Errorf("set output %q: %w", name, err)
	}
	e.record(name, value)
	return nil
}

// validOutputName reports whether name has the shape GitHub accepts for step
// output ids: a letter or _ followed by letters, digits, - and _.
func validOutputName(name string) bool {
	for i, r := range name {
		switch {
		case r == '_', 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case i > 0 && (r == '-' || '0' <= r && r <= '9'):
		default:
			return false
		}
	}
	return name != ""
}

func (e *Env) record(name, value string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.outputs[name] = value
}

// delimiter returns "ghadelimiter_" and 32 random hex digits (the shape
// actions/toolkit uses) that is not a substring of value.
func (e *Env) delimiter(value string) (string, error) {
	const attempts = 8
	buf := make([]byte, 16)
	for range attempts {
		if _, err := io.ReadFull(e.rand, buf); err != nil {
			return "", fmt.Errorf("generate heredoc delimiter: %w", err)
		}
		d := "ghadelimiter_" + hex.EncodeToString(buf)
		if !strings.Contains(value, d) {
			return d, nil
		}
	}
	return "", fmt.Errorf("generate heredoc delimiter: every candidate occurred in the value (%d attempts)", attempts)
}

// AppendSummary appends markdown (and a final newline if it has none) to the
// job summary file $GITHUB_STEP_SUMMARY. It does nothing when the variable is
// unset, and returns an error when the file cannot be written or the summary
// would exceed GitHub's 1 MiB limit.
func (e *Env) AppendSummary(markdown string) error {
	markdown = e.Redact(markdown)
	path := e.getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return nil
	}
	if !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Size()+int64(len(markdown)) > maxSummaryBytes {
		return fmt.Errorf("append job summary: %d bytes would exceed GitHub's limit of %d bytes", fi.Size()+int64(len(markdown)), maxSummaryBytes)
	}
	if err := appendFile(path, markdown); err != nil {
		return fmt.Errorf("append job summary: %w", err)
	}
	return nil
}

// appendFile appends s to the file at path in one write, creating the file if
// needed (the runner creates it; tests and local runs may not).
func appendFile(path, s string) (err error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	_, err = f.WriteString(s)
	return err
}

// ParseOutputs parses the contents of a GitHub outputs (or env) file as the
// runner does: lines "name=value" and heredocs "name<<DELIM", the value lines,
// then a line equal to DELIM. Lines end in LF; empty lines between entries are
// skipped; a later entry for the same name wins. It reports an entry without a
// name, a line that is neither form, and a heredoc that never ends.
func ParseOutputs(data []byte) (map[string]string, error) {
	out := map[string]string{}
	lines := strings.Split(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if line == "" {
			continue
		}
		eq := strings.Index(line, "=")
		hd := strings.Index(line, "<<")
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			name := line[:eq]
			if name == "" {
				return nil, fmt.Errorf("line %d: an entry without a name", i+1)
			}
			out[name] = line[eq+1:]
		case hd >= 0:
			name, delim := line[:hd], line[hd+2:]
			if name == "" {
				return nil, fmt.Errorf("line %d: an entry without a name", i+1)
			}
			if delim == "" {
				return nil, fmt.Errorf("line %d: output %q has an empty heredoc delimiter", i+1, name)
			}
			start := i + 1
			end := -1
			for j := start; j < len(lines); j++ {
				if lines[j] == delim {
					end = j
					break
				}
			}
			if end < 0 {
				return nil, fmt.Errorf("line %d: output %q: heredoc delimiter %q never closed", i+1, name, delim)
			}
			out[name] = strings.Join(lines[start:end], "\n")
			i = end
		default:
			return nil, fmt.Errorf("line %d: neither name=value nor name<<delimiter", i+1)
		}
	}
	return out, nil
}
