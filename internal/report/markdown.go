package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Markdown renders the report for a GitHub job summary: the headline numbers, the top actions, a table per
// category and per action, a Mermaid chart of the hours saved per ISO week, and notes. Every text that comes
// from Port is escaped.
func Markdown(r *Report) string {
	s := markdownStyle
	var b strings.Builder
	t := r.Totals
	fmt.Fprintf(&b, "## Port actions ROI: %s\n\n", r.Window)
	fmt.Fprintf(&b, "Window: %s · generated %s\n\n", r.Window.Range(), r.GeneratedAt.Format("2006-01-02 15:04 UTC"))
	b.WriteString("| Hours saved (lead time) | Processing hours saved (cycle time) | Time waiting for approval | Runs | Success rate |\n")
	b.WriteString("| ---: | ---: | ---: | ---: | ---: |\n")
	fmt.Fprintf(&b, "| **%s** | **%s** | **%s** | **%d** | **%s** |\n\n",
		hours(t.LeadTime.Hours), hours(t.CycleTime.Hours), hours(t.ApprovalWait.Hours), t.Runs, rateCell(t))
	if t.Runs == 0 {
		b.WriteString("No action runs were recorded in this window.\n")
	} else {
		b.WriteString(strings.Join(summaryLines(r), " ") + "\n")
	}

	if top := topLines(r, s); len(top) > 0 {
		b.WriteString("\n### Top actions by hours saved\n\n")
		for i, l := range top {
			fmt.Fprintf(&b, "%d. %s\n", i+1, l)
		}
	}

	if len(r.Categories) > 0 || r.UnknownAction.Runs > 0 {
		b.WriteString("\n### By category\n\n")
		b.WriteString("| Category | Actions | Runs | Succeeded | Failed | Success rate | Hours saved (lead time) | Processing hours saved (cycle time) | Approval wait (h) |\n")
		b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for i, g := range r.Categories {
			if i == maxRows {
				fmt.Fprintf(&b, "| *and %d more categories, in the JSON report* | | | | | | | | |\n", len(r.Categories)-maxRows)
				break
			}
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %s | %s | %s | %s |\n", s.category(g), g.Actions, g.Runs, g.Successful, g.Failed,
				rateCell(g.Stats), savedCell(g.LeadTime, " "+s.warn), savedCell(g.CycleTime, " "+s.warn), num(g.ApprovalWait.Hours))
		}
		if u := r.UnknownAction; u.Runs > 0 {
			fmt.Fprintf(&b, "| *Unknown action* | – | %d | %d | %d | %s | – | – | %s |\n", u.Runs, u.Successful, u.Failed, rateCell(u), num(u.ApprovalWait.Hours))
		}

		b.WriteString("\n### By action\n\n")
		b.WriteString("| Action | Category | Runs | Succeeded | Failed | Other | Success rate | Lead time saved (h) | per run | Cycle time saved (h) | per run | Approval wait (h): total · average · max |\n")
		b.WriteString("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
		for i, g := range r.Actions {
			if i == maxRows {
				fmt.Fprintf(&b, "| *and %d more actions, in the JSON report* | | | | | | | | | | | |\n", len(r.Actions)-maxRows)
				break
			}
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %s | %s | %s | %s | %s | %s |\n", s.action(g), s.actionCategory(g),
				g.Runs, g.Successful, g.Failed, otherRuns(g.Stats), rateCell(g.Stats),
				savedCell(g.LeadTime, " "+s.warn), perRunCell(g.LeadTime), savedCell(g.CycleTime, " "+s.warn), perRunCell(g.CycleTime), waitCell(g.ApprovalWait))
		}
		if u := r.UnknownAction; u.Runs > 0 {
			fmt.Fprintf(&b, "| *Unknown action* | – | %d | %d | %d | %d | %s | – | – | – | – | %s |\n",
				u.Runs, u.Successful, u.Failed, otherRuns(u), rateCell(u), waitCell(u.ApprovalWait))
		}
	}

	if weeks := chartWeeks(r); len(weeks) > 0 && t.Runs > 0 {
		b.WriteString("\n### Hours saved per ISO week\n\n")
		if len(weeks) < len(r.Weeks) {
			fmt.Fprintf(&b, "The last %d of %d weeks; the JSON report has them all.\n\n", len(weeks), len(r.Weeks))
		}
		b.WriteString(mermaidChart(weeks))
	}

	if ns := notes(r, s); len(ns) > 0 {
		b.WriteString("\n### Notes\n\n")
		for _, n := range ns {
			b.WriteString("- " + n + "\n")
		}
	}
	b.WriteString("\n<sub>Savings follow the guide's calculation properties: a successful run saves its action's baseline " +
		"(`lead_time_before`, `cycle_time`, in hours) minus its `duration` or `cycle_time`. Success rate: successful runs " +
		"out of all runs, in-progress ones included, as the guide's `success_rate`. Numbers are rounded to 2 decimals; " +
		"the JSON report (output `report-path`) has the exact values.</sub>\n")
	return b.String()
}

// mermaidChart is a Mermaid xychart-beta bar chart of the lead time saved per week, which GitHub renders in
// Markdown. Every label is generated here; nothing from Port reaches the chart.
func mermaidChart(weeks []Week) string {
	labels := make([]string, len(weeks))
	values := make([]string, len(weeks))
	lo, hi := 0.0, 0.0
	for i, w := range weeks {
		v := math.Round(w.LeadTimeHours*100) / 100
		if v == 0 {
			v = 0 // no "-0"
		}
		labels[i] = strconv.Quote(w.Week)
		values[i] = strconv.FormatFloat(v, 'f', -1, 64)
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	lo, hi = math.Floor(lo), math.Ceil(hi)
	if hi == lo {
		hi = lo + 1
	}
	var b strings.Builder
	b.WriteString("```mermaid\nxychart-beta\n")
	b.WriteString("    title \"Hours saved per ISO week (lead time)\"\n")
	fmt.Fprintf(&b, "    x-axis [%s]\n", strings.Join(labels, ", "))
	fmt.Fprintf(&b, "    y-axis \"Hours saved\" %s --> %s\n", strconv.FormatFloat(lo, 'f', -1, 64), strconv.FormatFloat(hi, 'f', -1, 64))
	fmt.Fprintf(&b, "    bar [%s]\n", strings.Join(values, ", "))
	b.WriteString("```\n")
	return b.String()
}
