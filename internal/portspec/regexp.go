package portspec

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// dotsLookahead is the one ECMAScript construct in Port's identifier patterns
// that Go's RE2 engine cannot compile: a negative look-ahead right after "^"
// that rejects the values "." and "..", e.g. ^(?!\.{1,2}$)[\p{L}0-9@_.+:=-]+$.
const dotsLookahead = `^(?!\.{1,2}$)`

// compilePattern is the schema compiler's regular-expression engine: Go's
// regexp, plus exactly one rewrite. A pattern that starts with dotsLookahead
// is compiled without it and additionally rejects "." and "..". Any other
// pattern Go cannot compile (another look-around, a back-reference) is an
// error naming the pattern, which fails compilation of the operation loudly
// instead of skipping the check.
func compilePattern(pattern string) (jsonschema.Regexp, error) {
	expr, rejectDots := pattern, false
	if rest, ok := strings.CutPrefix(pattern, dotsLookahead); ok {
		expr, rejectDots = "^"+rest, true
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("pattern %q is not supported by Go's regexp (only a leading %s look-ahead is rewritten): %w", pattern, dotsLookahead, err)
	}
	return &portRegexp{re: re, pattern: pattern, rejectDots: rejectDots}, nil
}

// portRegexp implements jsonschema.Regexp.
type portRegexp struct {
	re         *regexp.Regexp
	pattern    string
	rejectDots bool
}

// MatchString reports whether s matches the original pattern.
func (r *portRegexp) MatchString(s string) bool {
	if r.rejectDots && (s == "." || s == "..") {
		return false
	}
	return r.re.MatchString(s)
}

// String returns the pattern as written in the spec, so validation errors
// quote it unchanged.
func (r *portRegexp) String() string { return r.pattern }
