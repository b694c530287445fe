package report

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/port-roi/port-roi-action/internal/input"
)

func TestParseWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 9, 9, 30, 0, 0, time.UTC)
	day := func(d int) time.Time { return time.Date(2026, 3, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		since, from, to string
		want            Window
		label           string
	}{
		{"", "", "", Window{}, "all time"},
		{"30d", "", "", Window{From: now.AddDate(0, 0, -30), To: now, Since: "30d"}, "last 30d"},
		{" 12w ", "", "", Window{From: now.AddDate(0, 0, -84), To: now, Since: "12w"}, "last 12w"},
		{"24h", "", "", Window{From: now.Add(-24 * time.Hour), To: now, Since: "24h"}, "last 24h"},
		{"", "2026-03-01", "2026-03-07", Window{From: day(1), To: day(8)}, "2026-03-01 → 2026-03-07"},
		{"", "2026-03-01", "", Window{From: day(1), To: now}, "2026-03-01 → 2026-03-09 09:30 UTC"},
		{"", "", "2026-03-07", Window{To: day(8)}, "until 2026-03-07"},
		{"", "2026-03-01T08:00:00+01:00", "2026-03-02T07:00:00Z", Window{From: time.Date(2026, 3, 1, 7, 0, 0, 0, time.UTC),
			To: time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)}, "2026-03-01 07:00 UTC → 2026-03-02 07:00 UTC"},
	}
	for _, tt := range tests {
		got, err := ParseWindow(tt.since, tt.from, tt.to, now)
		if err != nil {
			t.Errorf("ParseWindow(%q, %q, %q): %v", tt.since, tt.from, tt.to, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseWindow(%q, %q, %q) (-want +got):\n%s", tt.since, tt.from, tt.to, diff)
		}
		if got.String() != tt.label {
			t.Errorf("ParseWindow(%q, %q, %q).String() = %q, want %q", tt.since, tt.from, tt.to, got.String(), tt.label)
		}
	}
}

func TestParseWindowErrors(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 9, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		since, from, to string
		want            []string
	}{
		{"30 days", "", "", []string{`input "since" = "30 days": expected a whole number followed by h (hours), d (days) or w (weeks), e.g. 24h, 30d or 12w`}},
		{"-3d", "", "", []string{`input "since" = "-3d": expected a whole number followed by h (hours), d (days) or w (weeks), e.g. 24h, 30d or 12w`}},
		{"0d", "", "", []string{`input "since" = "0d": expected a window longer than 0 and at most 100 years, e.g. 30d`}},
		{"999999w", "", "", []string{`input "since" = "999999w": expected a window longer than 0 and at most 100 years, e.g. 30d`}},
		{"7d", "2026-03-01", "", []string{`input "since" = "7d": cannot be combined with from or to: give either since, or from and/or to`}},
		{"", "2026-03-10", "2026-03-01", []string{`input "from" = "2026-03-10": is not before to ("2026-03-01"); the window would be empty`}},
		{"", "2026-04-01", "", []string{`input "from" = "2026-04-01": is not before now (2026-03-09T09:30:00Z); the window would be empty`}},
		{"", "last monday", "03/01/2026", []string{
			`input "from" = "last monday": expected a date (YYYY-MM-DD, in UTC) or an RFC 3339 time (e.g. 2026-03-01T09:00:00Z)`,
			`input "to" = "03/01/2026": expected a date (YYYY-MM-DD, in UTC) or an RFC 3339 time (e.g. 2026-03-01T09:00:00Z)`}},
	}
	for _, tt := range tests {
		_, err := ParseWindow(tt.since, tt.from, tt.to, now)
		if !input.IsInputError(err) {
			t.Errorf("ParseWindow(%q, %q, %q) = %v, want input errors", tt.since, tt.from, tt.to, err)
			continue
		}
		var got []string
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				got = append(got, e.Error())
			}
		} else {
			got = append(got, err.Error())
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseWindow(%q, %q, %q) errors (-want +got):\n%s", tt.since, tt.from, tt.to, diff)
		}
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]Format{"": "", "markdown": FormatMarkdown, " JSON ": FormatJSON, "text": FormatText} {
		if got, err := ParseFormat(raw); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", raw, got, err, want)
		}
	}
	if _, err := ParseFormat("html"); err == nil || err.Error() != `input "format" = "html": expected markdown, json or text` {
		t.Errorf("ParseFormat(html) = %v", err)
	}
}

func TestWindowJSON(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		w    Window
		want string
	}{
		{Window{}, `{"from":null,"to":null,"label":"all time"}`},
		{Window{From: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), Since: "7d"},
			`{"from":"2026-03-02T00:00:00Z","to":"2026-03-09T00:00:00Z","since":"7d","label":"last 7d"}`},
	} {
		b, err := json.Marshal(tt.w)
		if err != nil || string(b) != tt.want {
			t.Errorf("json = %s, %v; want %s", b, err, tt.want)
		}
	}
}
