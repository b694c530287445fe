package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/port-roi/port-roi-action/internal/ghaction"
	"github.com/port-roi/port-roi-action/internal/input"
)

// Format is how a report is rendered.
type Format string

// Formats of a report.
const (
	FormatMarkdown Format = "markdown"
	FormatJSON     Format = "json"
	FormatText     Format = "text"
)

// InputFormat is the name of the input ParseFormat checks.
const InputFormat = "format"

// ParseFormat parses the format input; blank gives "" (the caller's default).
func ParseFormat(raw string) (Format, error) {
	switch f := Format(strings.ToLower(strings.TrimSpace(raw))); f {
	case "", FormatMarkdown, FormatJSON, FormatText:
		return f, nil
	}
	return "", &input.Error{Name: InputFormat, Value: raw, Expected: "expected markdown, json or text"}
}

// Render writes r to w in format f.
func Render(w io.Writer, r *Report, f Format) error {
	var out []byte
	switch f {
	case FormatJSON:
		b, err := r.JSON()
		if err != nil {
			return err
		}
		out = b
	case FormatMarkdown:
		out = []byte(Markdown(r))
	case FormatText, "":
		out = []byte(Text(r))
	default:
		return fmt.Errorf("unknown report format %q", f)
	}
	_, err := w.Write(out)
	return err
}

// maxRows bounds each table, keeping the job summary far below GitHub's 1 MiB; the JSON report has every row.
const maxRows = 50

// maxChartWeeks bounds the weekly chart to its last year.
const maxChartWeeks = 52

// style renders the few pieces that differ between Markdown and plain text.
type style struct {
	text func(string) string // untrusted text (a Port title)
	code func(string) string // an identifier
	em   func(string) string
	warn string // the mark of a total with negative savings
}

var (
	markdownStyle = style{text: ghaction.EscapeMarkdown, code: mdCode, em: func(s string) string { return "*" + s + "*" }, warn: "⚠️"}
	textStyle     = style{text: plain, code: func(s string) string { return plain(s) }, em: func(s string) string { return s }, warn: "!"}
)

// mdCode shows an identifier as a code span, or escaped when it holds characters Port identifiers cannot
// (a code span cannot escape a backtick or a table's pipe).
func mdCode(s string) string {
	if s != "" && input.ValidEntityIdentifier(s) {
		return "`" + s + "`"
	}
	return ghaction.EscapeMarkdown(s)
}

// plain makes untrusted text one printable line: control characters become spaces or U+FFFD.
func plain(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case unicode.IsControl(r):
			return '\uFFFD'
		}
		return r
	}, s)
}

// num shows a number rounded to 2 decimals, never "-0.00".
func num(v float64) string {
	r := math.Round(v*100) / 100
	if r == 0 {
		r = 0
	}
	return strconv.FormatFloat(r, 'f', 2, 64)
}

func hours(v float64) string   { return num(v) + " h" }
func percent(v float64) string { return num(v) + " %" }

// verb picks the singular or plural form for n.
func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// plural writes "1 run" or "3 runs".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func (s style) action(g Group) string {
	if g.Title == "" || g.Title == g.Identifier {
		return s.code(g.Identifier)
	}
	return s.text(g.Title) + " (" + s.code(g.Identifier) + ")"
}

func (s style) category(g Group) string {
	if g.Identifier == "" {
		return s.em("No category")
	}
	return s.text(g.Title)
}

func (s style) actionCategory(g Group) string {
	if g.Category == "" {
		return s.em("none")
	}
	return s.text(g.CategoryTitle)
}

// savedCell is a savings total, or why there is none.
func savedCell(sv Savings, warn string) string {
	switch {
	case sv.MeasuredRuns > 0 && sv.NegativeRuns > 0:
		return num(sv.Hours) + warn
	case sv.MeasuredRuns > 0:
		return num(sv.Hours)
	case sv.NoBaselineRuns > 0:
		return "no baseline"
	case sv.NotMeasuredRuns > 0:
		return "not measured"
	}
	return "–"
}

func perRunCell(sv Savings) string {
	if sv.MeasuredRuns == 0 {
		return "–"
	}
	return num(sv.HoursPerRun)
}

func waitCell(w Wait) string {
	if w.Runs == 0 && w.Hours == 0 {
		return "–"
	}
	return num(w.Hours) + " · " + num(w.AverageHours) + " · " + num(w.MaxHours)
}

func rateCell(st Stats) string {
	if st.Runs == 0 {
		return "–"
	}
	return percent(st.SuccessRate)
}

func otherRuns(st Stats) int {
	return st.InProgress + st.WaitingForApproval + st.Declined + st.OtherStatus
}

// statusLine lists the runs by status: "36 succeeded, 4 failed, 2 in progress".
func statusLine(st Stats) string {
	parts := []string{fmt.Sprintf("%d succeeded", st.Successful), fmt.Sprintf("%d failed", st.Failed)}
	for _, p := range []struct {
		n    int
		what string
	}{{st.InProgress, "in progress"}, {st.WaitingForApproval, "waiting for approval"}, {st.Declined, "declined"}, {st.OtherStatus, "with another or no status"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	return strings.Join(parts, ", ")
}

// summaryLines are the sentences under the headline numbers.
func summaryLines(r *Report) []string {
	t := r.Totals
	lines := []string{fmt.Sprintf("%s: %s.", plural(t.Runs, "run", "runs"), statusLine(t))}
	var per []string
	if t.LeadTime.MeasuredRuns > 0 {
		per = append(per, hours(t.LeadTime.HoursPerRun)+" of lead time")
	}
	if t.CycleTime.MeasuredRuns > 0 {
		per = append(per, hours(t.CycleTime.HoursPerRun)+" of cycle time")
	}
	if len(per) > 0 {
		lines = append(lines, "Saved per successful run with a baseline: "+strings.Join(per, " and ")+".")
	}
	if w := t.ApprovalWait; w.Runs > 0 {
		lines = append(lines, fmt.Sprintf("%s waited for approval: %s on average, %s at most.",
			plural(w.Runs, "run", "runs"), hours(w.AverageHours), hours(w.MaxHours)))
	}
	return lines
}

// topLines are the top actions by lead time saved.
func topLines(r *Report, s style) []string {
	var out []string
	for _, id := range r.TopActions {
		for _, g := range r.Actions {
			if g.Identifier != id {
				continue
			}
			line := fmt.Sprintf("%s: %s of lead time", s.action(g), hours(g.LeadTime.Hours))
			if g.CycleTime.MeasuredRuns > 0 {
				line += ", " + hours(g.CycleTime.Hours) + " of cycle time"
			}
			out = append(out, line+" saved over "+plural(g.LeadTime.MeasuredRuns, "successful run", "successful runs"))
		}
	}
	return out
}

// notes explain where the report departs from the guide's dashboard, and what it could not count.
func notes(r *Report, s style) []string {
	var out []string
	list := func(gs []Group, pick func(Group) bool) string {
		var names []string
		n := 0
		for _, g := range gs {
			if !pick(g) {
				continue
			}
			if n++; n <= 10 {
				names = append(names, s.code(g.Identifier))
			}
		}
		if n > 10 {
			names = append(names, fmt.Sprintf("and %d more", n-10))
		}
		return plural(n, "action", "actions") + " (" + strings.Join(names, ", ") + ")"
	}
	baselines := []struct {
		sv       func(Stats) Savings
		what     string
		property string // the baseline on action
		measure  string // what the run records
	}{
		{func(st Stats) Savings { return st.LeadTime }, "lead-time", "lead_time_before", "duration"},
		{func(st Stats) Savings { return st.CycleTime }, "cycle-time", "cycle_time", "cycle_time"},
	}
	for _, b := range baselines {
		if known := b.sv(r.Totals).NoBaselineRuns - b.sv(r.UnknownAction).NoBaselineRuns; known > 0 {
			out = append(out, fmt.Sprintf("%s: %s of %s %s no %s baseline (the action's %s is not set, or 0, which the guide's workflow "+
				"stores for a blank field). %s counted as %s, not as savings; Port's dashboard counts a 0 baseline as negative savings.",
				s.em("No baseline"), plural(known, "successful run", "successful runs"),
				list(r.Actions, func(g Group) bool { return b.sv(g.Stats).NoBaselineRuns > 0 }), verb(known, "has", "have"), b.what,
				s.code(b.property), verb(known, "It is", "They are"), s.em("no baseline")))
		}
	}
	for _, b := range baselines {
		if neg := b.sv(r.Totals); neg.NegativeRuns > 0 {
			out = append(out, fmt.Sprintf("%s: %s of %s took longer than the %s baseline, %s in all. %s in the totals (marked %s in the tables), not hidden.",
				s.em("Slower than before"), plural(neg.NegativeRuns, "run", "runs"),
				list(r.Actions, func(g Group) bool { return b.sv(g.Stats).NegativeRuns > 0 }), b.what, hours(neg.NegativeHours),
				verb(neg.NegativeRuns, "It stays", "They stay"), s.warn))
		}
	}
	for _, b := range baselines {
		if nm := b.sv(r.Totals); nm.NotMeasuredRuns > 0 {
			out = append(out, fmt.Sprintf("%s: %s with a %s baseline %s no recorded %s, and no savings.",
				s.em("Not measured"), plural(nm.NotMeasuredRuns, "successful run", "successful runs"), b.what,
				verb(nm.NotMeasuredRuns, "has", "have"), s.code(b.measure)))
		}
	}
	if u := r.UnknownAction; u.Runs > 0 {
		var ids []string
		for _, id := range r.UnknownActionIDs {
			if id == "" {
				ids = append(ids, "no "+s.code("parent_action"))
			} else {
				ids = append(ids, s.code(id))
			}
		}
		if len(ids) == maxUnknownIDs {
			ids = append(ids, "…")
		}
		out = append(out, fmt.Sprintf("%s: %s %s a parent action that is not an %s entity (%s). %s in the totals "+
			"(%s) but %s nothing: there is no baseline to compare with.",
			s.em("Unknown action"), plural(u.Runs, "run", "runs"), verb(u.Runs, "names", "name"), s.code("action"), strings.Join(ids, ", "),
			verb(u.Runs, "It counts", "They count"), statusLine(u), verb(u.Runs, "saves", "save")))
	}
	if n := len(r.ActionsWithoutRuns); n > 0 {
		var names []string
		for i, a := range r.ActionsWithoutRuns {
			if i == 10 {
				names = append(names, fmt.Sprintf("and %d more", n-10))
				break
			}
			names = append(names, s.code(a.Identifier))
		}
		out = append(out, fmt.Sprintf("%s: %s had no run in this window: %s.", s.em("Unused"), plural(n, "action", "actions"), strings.Join(names, ", ")))
	}
	if r.UndatedRuns > 0 {
		out = append(out, fmt.Sprintf("%s: %s %s neither %s nor %s; counted, but in no week.",
			s.em("Undated"), plural(r.UndatedRuns, "run", "runs"), verb(r.UndatedRuns, "has", "have"), s.code("created_at"), s.code("$createdAt")))
	}
	return out
}

// chartWeeks are the weeks the chart shows: the last maxChartWeeks.
func chartWeeks(r *Report) []Week {
	if len(r.Weeks) > maxChartWeeks {
		return r.Weeks[len(r.Weeks)-maxChartWeeks:]
	}
	return r.Weeks
}
