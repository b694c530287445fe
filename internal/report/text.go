package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Text renders the report for a terminal: the same content as Markdown, in aligned columns, with a bar per
// week instead of a chart. Text from Port is reduced to one printable line.
func Text(r *Report) string {
	s := textStyle
	var b strings.Builder
	t := r.Totals
	fmt.Fprintf(&b, "Port actions ROI: %s (%s)\n\n", r.Window, r.Window.Range())
	w := tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
	fmt.Fprintf(w, "  Hours saved (lead time)\t%s\n", hours(t.LeadTime.Hours))
	fmt.Fprintf(w, "  Processing hours saved (cycle time)\t%s\n", hours(t.CycleTime.Hours))
	fmt.Fprintf(w, "  Time waiting for approval\t%s\n", hours(t.ApprovalWait.Hours))
	fmt.Fprintf(w, "  Runs\t%d\n", t.Runs)
	fmt.Fprintf(w, "  Success rate\t%s\n", rateCell(t))
	w.Flush()
	b.WriteString("\n")
	if t.Runs == 0 {
		b.WriteString("No action runs were recorded in this window.\n")
	} else {
		for _, l := range summaryLines(r) {
			b.WriteString(l + "\n")
		}
	}

	if top := topLines(r, s); len(top) > 0 {
		b.WriteString("\nTop actions by hours saved\n")
		for i, l := range top {
			fmt.Fprintf(&b, "  %d. %s\n", i+1, l)
		}
	}

	if len(r.Categories) > 0 || r.UnknownAction.Runs > 0 {
		b.WriteString("\nBy category\n")
		w = tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, "  CATEGORY\tACTIONS\tRUNS\tOK\tFAILED\tSUCCESS\tLEAD TIME SAVED (h)\tCYCLE TIME SAVED (h)\tAPPROVAL WAIT (h)")
		for _, g := range r.Categories {
			fmt.Fprintf(w, "  %s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\n", s.category(g), g.Actions, g.Runs, g.Successful, g.Failed,
				rateCell(g.Stats), savedCell(g.LeadTime, " "+s.warn), savedCell(g.CycleTime, " "+s.warn), num(g.ApprovalWait.Hours))
		}
		if u := r.UnknownAction; u.Runs > 0 {
			fmt.Fprintf(w, "  Unknown action\t–\t%d\t%d\t%d\t%s\t–\t–\t%s\n", u.Runs, u.Successful, u.Failed, rateCell(u), num(u.ApprovalWait.Hours))
		}
		w.Flush()

		b.WriteString("\nBy action\n")
		w = tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
		fmt.Fprintln(w, "  ACTION\tCATEGORY\tRUNS\tOK\tFAILED\tOTHER\tSUCCESS\tLEAD TIME SAVED (h)\tPER RUN\tCYCLE TIME SAVED (h)\tPER RUN\tAPPROVAL WAIT (h) TOTAL · AVG · MAX")
		for _, g := range r.Actions {
			fmt.Fprintf(w, "  %s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\n", s.action(g), s.actionCategory(g),
				g.Runs, g.Successful, g.Failed, otherRuns(g.Stats), rateCell(g.Stats),
				savedCell(g.LeadTime, " "+s.warn), perRunCell(g.LeadTime), savedCell(g.CycleTime, " "+s.warn), perRunCell(g.CycleTime), waitCell(g.ApprovalWait))
		}
		if u := r.UnknownAction; u.Runs > 0 {
			fmt.Fprintf(w, "  Unknown action\t–\t%d\t%d\t%d\t%d\t%s\t–\t–\t–\t–\t%s\n", u.Runs, u.Successful, u.Failed, otherRuns(u), rateCell(u), waitCell(u.ApprovalWait))
		}
		w.Flush()
	}

	if weeks := chartWeeks(r); len(weeks) > 0 && t.Runs > 0 {
		b.WriteString("\nHours saved per ISO week (lead time)\n")
		peak := 0.0
		for _, wk := range weeks {
			peak = math.Max(peak, math.Abs(wk.LeadTimeHours))
		}
		w = tabwriter.NewWriter(&b, 2, 4, 2, ' ', 0)
		for _, wk := range weeks {
			bar := ""
			if peak > 0 {
				n := int(math.Round(math.Abs(wk.LeadTimeHours) / peak * 40))
				bar = strings.Repeat("#", n)
				if wk.LeadTimeHours < 0 {
					bar = strings.Repeat("-", n)
				}
			}
			fmt.Fprintf(w, "  %s\t%s\t%s\t%s\n", wk.Week, strconv.Itoa(wk.Runs)+" runs", hours(wk.LeadTimeHours), bar)
		}
		w.Flush()
	}

	if ns := notes(r, s); len(ns) > 0 {
		b.WriteString("\nNotes\n")
		for _, n := range ns {
			b.WriteString("  - " + n + "\n")
		}
	}
	return b.String()
}
