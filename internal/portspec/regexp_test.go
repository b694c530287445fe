package portspec

import (
	"strconv"
	"strings"
	"testing"
)

func TestCompilePattern(t *testing.T) {
	t.Parallel()
	const identifier = `^(?!\.{1,2}$)[\p{L}0-9@_.+:=-]+$`
	tests := []struct {
		name    string
		pattern string
		match   []string
		reject  []string
		wantErr string
	}{
		{
			name:    "Port identifier with the dots look-ahead",
			pattern: identifier,
			match:   []string{"setup_new_action", "Sécurité", "a.b", "...", ".a", "a..", "x@y+z:1=2-3"},
			reject:  []string{".", "..", "a/b", "a b", ""},
		},
		{
			name:    "Go syntax passes through",
			pattern: `^[^\s].*[^\s]$`,
			match:   []string{"Go", "Create it"},
			reject:  []string{"G", " Go", "Go "},
		},
		{
			name:    "unanchored",
			pattern: `[0-9]`,
			match:   []string{"a1"},
			reject:  []string{"ab"},
		},
		{name: "other negative look-ahead", pattern: `^(?!foo)`, wantErr: "not supported by Go's regexp"},
		{name: "positive look-ahead", pattern: `^(?=a)a`, wantErr: "not supported by Go's regexp"},
		{name: "look-behind", pattern: `(?<=a)b`, wantErr: "not supported by Go's regexp"},
		{name: "back-reference", pattern: `(a)\1`, wantErr: "not supported by Go's regexp"},
		{name: "dots look-ahead without the anchor", pattern: `(?!\.{1,2}$)[a-z]+`, wantErr: "not supported by Go's regexp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			re, err := compilePattern(tt.pattern)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), strconv.Quote(tt.pattern)) {
					t.Fatalf("compilePattern(%q) error = %v, want one quoting the pattern and containing %q", tt.pattern, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if re.String() != tt.pattern {
				t.Errorf("String() = %q, want the original %q", re.String(), tt.pattern)
			}
			for _, s := range tt.match {
				if !re.MatchString(s) {
					t.Errorf("%q does not match %q", s, tt.pattern)
				}
			}
			for _, s := range tt.reject {
				if re.MatchString(s) {
					t.Errorf("%q matches %q", s, tt.pattern)
				}
			}
		})
	}
}
