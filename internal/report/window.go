package report

import (
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/port-roi/port-roi-action/internal/input"
)

// Window is the time range a report covers: runs created at or after From and before To. A zero From or To
// leaves that side open; the zero Window is all time.
type Window struct {
	From time.Time
	To   time.Time
	// Since is the relative length the user asked for ("7d"), empty for explicit dates.
	Since string
}

// Contains reports whether t is in the window.
func (w Window) Contains(t time.Time) bool {
	return (w.From.IsZero() || !t.Before(w.From)) && (w.To.IsZero() || t.Before(w.To))
}

// Bounded reports whether the window has a start or an end.
func (w Window) Bounded() bool { return !w.From.IsZero() || !w.To.IsZero() }

// String describes the window for a heading: "all time", "last 7d", "2026-03-01 → 2026-03-31".
func (w Window) String() string {
	switch {
	case w.Since != "":
		return "last " + w.Since
	case !w.Bounded():
		return "all time"
	case w.From.IsZero():
		return "until " + displayTime(w.To, true)
	case w.To.IsZero():
		return "since " + displayTime(w.From, false)
	}
	return displayTime(w.From, false) + " → " + displayTime(w.To, true)
}

// Range describes the window's bounds exactly, in UTC ("2026-02-23 09:00 UTC → 2026-03-02 09:00 UTC").
func (w Window) Range() string {
	from, to := "the first run", "now"
	if !w.From.IsZero() {
		from = w.From.UTC().Format("2006-01-02 15:04 UTC")
	}
	if !w.To.IsZero() {
		to = w.To.UTC().Format("2006-01-02 15:04 UTC")
	}
	return from + " → " + to
}

// displayTime shows a bound as a date when it is a UTC midnight; an exclusive end at midnight shows as the
// day before, the last day it includes.
func displayTime(t time.Time, end bool) string {
	t = t.UTC()
	if t.Equal(t.Truncate(24 * time.Hour)) {
		if end {
			t = t.AddDate(0, 0, -1)
		}
		return t.Format(time.DateOnly)
	}
	return t.Format("2006-01-02 15:04 UTC")
}

// MarshalJSON writes the bounds as RFC 3339 times, null when open.
func (w Window) MarshalJSON() ([]byte, error) {
	var out struct {
		From  *time.Time `json:"from"`
		To    *time.Time `json:"to"`
		Since string     `json:"since,omitempty"`
		Label string     `json:"label"`
	}
	if !w.From.IsZero() {
		f := w.From.UTC()
		out.From = &f
	}
	if !w.To.IsZero() {
		t := w.To.UTC()
		out.To = &t
	}
	out.Since, out.Label = w.Since, w.String()
	return json.Marshal(out)
}

// Names of the inputs ParseWindow checks.
const (
	InputSince = "since"
	InputFrom  = "from"
	InputTo    = "to"
)

var sincePattern = regexp.MustCompile(`^([0-9]{1,6})([hdw])$`)

// maxSince bounds a relative window (about 100 years), far beyond any Port organisation's history.
const maxSince = 100 * 365 * 24 * time.Hour

// ParseWindow resolves the since, from and to inputs against now. since is a whole number of hours, days
// or weeks ("24h", "30d", "12w") ending now; from and to are dates (YYYY-MM-DD, UTC; to includes its whole
// day) or RFC 3339 times. since cannot be combined with from or to; from alone runs until now; nothing at
// all is all time. Every problem is an *input.Error; they are joined.
func ParseWindow(since, from, to string, now time.Time) (Window, error) {
	since, from, to = strings.TrimSpace(since), strings.TrimSpace(from), strings.TrimSpace(to)
	var w Window
	var errs []error
	if since != "" {
		m := sincePattern.FindStringSubmatch(since)
		var d time.Duration
		if m != nil {
			n, _ := strconv.Atoi(m[1])
			unit := map[string]time.Duration{"h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
			d = time.Duration(n) * unit
		}
		switch {
		case m == nil:
			errs = append(errs, &input.Error{Name: InputSince, Value: since,
				Expected: "expected a whole number followed by h (hours), d (days) or w (weeks), e.g. 24h, 30d or 12w"})
		case d <= 0 || d > maxSince:
			errs = append(errs, &input.Error{Name: InputSince, Value: since,
				Expected: "expected a window longer than 0 and at most 100 years, e.g. 30d"})
		case from != "" || to != "":
			errs = append(errs, &input.Error{Name: InputSince, Value: since,
				Expected: "cannot be combined with from or to: give either since, or from and/or to"})
		default:
			w = Window{From: now.Add(-d), To: now, Since: since}
		}
		return w, errors.Join(errs...)
	}
	var fromT, toT time.Time
	var err error
	if from != "" {
		if fromT, err = parseBound(InputFrom, from, false); err != nil {
			errs = append(errs, err)
		}
	}
	if to != "" {
		if toT, err = parseBound(InputTo, to, true); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return Window{}, errors.Join(errs...)
	}
	if !fromT.IsZero() && toT.IsZero() {
		toT = now
	}
	if !fromT.IsZero() && !fromT.Before(toT) {
		bound := "now (" + now.UTC().Format(time.RFC3339) + ")"
		if to != "" {
			bound = "to (" + input.Quote(to) + ")"
		}
		return Window{}, &input.Error{Name: InputFrom, Value: from,
			Expected: "is not before " + bound + "; the window would be empty"}
	}
	return Window{From: fromT, To: toT}, nil
}

// parseBound parses a date or an RFC 3339 time. A date that ends a window includes its whole day.
func parseBound(name, s string, end bool) (time.Time, error) {
	if d, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, &input.Error{Name: name, Value: s,
		Expected: "expected a date (YYYY-MM-DD, in UTC) or an RFC 3339 time (e.g. 2026-03-01T09:00:00Z)"}
}
