package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/port-roi/port-roi-action/internal/ghaction"
	"github.com/port-roi/port-roi-action/internal/input"
	"github.com/port-roi/port-roi-action/internal/register"
)

// The inputs of register's manifest mode.
const (
	inputManifest    = "manifest"
	inputConcurrency = "concurrency"
)

const (
	// maxManifestFile bounds a manifest file: 10 000 actions take about a megabyte.
	maxManifestFile = 4 << 20
	// maxSummaryRows bounds the job summary's table; GitHub refuses summaries over 1 MiB. Failed items are
	// always listed.
	maxSummaryRows = 1000
	// maxFailureAnnotations bounds the error annotations of failed items; the table has all of them.
	maxFailureAnnotations = 10
)

// runManifest is register with the manifest input: every action of a YAML or JSON list registered at once
// (register.ParseManifest, register.RunBulk). Every input, and every item of the manifest, is checked before
// the first request; the exit code is ExitOK when every item was registered, ExitFailure when any failed.
func runManifest(ctx context.Context, env Env, gh *ghaction.Env, v *values) int {
	sess, err := parseSession(env, gh, v)
	errs := []error{err}
	items, err := readManifest(gh, v.get(inputManifest))
	errs = append(errs, err)
	for _, name := range []string{register.InputTitle, register.InputCategory, register.InputLeadTime, register.InputCycleTime} {
		if v.explicit(name) {
			errs = append(errs, &input.Error{Name: name, Value: v.get(name), Expected: "not with manifest: each action of the manifest has its own; give one or the other"})
		}
	}
	runID, err := input.RunID(register.InputPortContext, v.get(register.InputPortContext))
	errs = append(errs, err)
	concurrency, err := parseConcurrency(v.get(inputConcurrency))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return reportInputErrors(gh, err)
	}

	ctx, client, rep, err := sess.open(ctx, runID)
	if err != nil {
		gh.Error("%v", err)
		return ExitFailure
	}
	res := register.RunBulk(ctx, client, rep, items, register.BulkOptions{
		AppURL: sess.conn.endpoint.AppURL, DryRun: sess.dryRun, Concurrency: concurrency,
	})
	failed := res.Failed()
	sess.close(manifestFinalLine(res, failed, sess.cancelled()), failed > 0)

	printManifestTable(gh, res)
	code := ExitOK
	if failed > 0 {
		code = ExitFailure
		reportItemFailures(gh, res)
	}
	if err := errors.Join(gh.SetOutput("registered", strconv.Itoa(len(res.Items)-failed)), gh.SetOutput("failed", strconv.Itoa(failed))); err != nil {
		gh.Error("write outputs: %v", err)
		code = ExitFailure
	}
	if err := gh.AppendSummary(manifestSummary(res, failed)); err != nil {
		gh.Warning("write job summary: %v", err)
	}
	return code
}

// explicit reports whether input name was given as a flag or an action input (not from the dispatch
// payload, the environment or a default).
func (v *values) explicit(name string) bool {
	if f := v.flags[name]; f != nil && f.set {
		return true
	}
	return v.gh.Input(name) != ""
}

// readManifest reads the manifest input: the list itself when it starts like one ("- ", "[" or "{", or
// spans lines), else the path of a file, relative to the workspace (GITHUB_WORKSPACE; the working directory
// outside Actions).
func readManifest(gh *ghaction.Env, raw string) ([]register.Item, error) {
	s := strings.TrimSpace(raw)
	if inlineManifest(s) {
		if err := input.TooLarge(inputManifest, raw); err != nil {
			return nil, err
		}
		return register.ParseManifest(inputManifest, []byte(s))
	}
	path := s
	if ws := gh.Getenv("GITHUB_WORKSPACE"); ws != "" && !filepath.IsAbs(path) {
		path = filepath.Join(ws, path)
	}
	data, err := readFileLimited(path, maxManifestFile)
	if err != nil {
		return nil, &input.Error{Name: inputManifest, Value: s, Expected: "the manifest file cannot be read (" + err.Error() + "); " +
			"give a path relative to the repository root, or the YAML list itself"}
	}
	return register.ParseManifest(inputManifest, data)
}

func inlineManifest(s string) bool {
	return strings.ContainsAny(s, "\n\r") || strings.HasPrefix(s, "[") || strings.HasPrefix(s, "{") ||
		s == "-" || strings.HasPrefix(s, "- ") || strings.HasPrefix(s, "-\t")
}

func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("larger than %d MiB", limit>>20)
	}
	return data, nil
}

// parseConcurrency reads the concurrency input: 1 to register.MaxConcurrency requests at a time.
func parseConcurrency(raw string) (int, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return register.DefaultConcurrency, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > register.MaxConcurrency {
		return 0, &input.Error{Name: inputConcurrency, Value: raw, Expected: fmt.Sprintf("expected a whole number from 1 to %d", register.MaxConcurrency)}
	}
	return n, nil
}

// manifestFinalLine is the run's last log line.
func manifestFinalLine(res register.BulkResult, failed int, cancelled bool) string {
	n := len(res.Items)
	switch {
	case cancelled:
		return fmt.Sprintf("⏹️ Registering %d actions from the manifest was %v; %d failed or did not start", n, errCancelled, failed)
	case failed > 0:
		return fmt.Sprintf("❌ Registered %d of %d actions from the manifest; %d failed (see the job summary)", n-failed, n, failed)
	case res.DryRun:
		return fmt.Sprintf("🏁 Dry run for %d actions from the manifest: nothing was written", n)
	}
	return fmt.Sprintf("🏁 Registered %d actions from the manifest", n)
}

// reportItemFailures annotates the first failed items, with a hint for the first failure that has one.
func reportItemFailures(gh *ghaction.Env, res register.BulkResult) {
	shown, hint := 0, ""
	for _, r := range res.Items {
		err := r.Err()
		if err == nil {
			continue
		}
		if hint == "" {
			hint = hintFor(err)
		}
		if shown++; shown <= maxFailureAnnotations {
			gh.Error("%s %s (%s): %v", r.Name(), input.Quote(r.Title), r.ActionID, err)
		}
	}
	if shown > maxFailureAnnotations {
		gh.Info("%d more actions failed; the table above lists every one.", shown-maxFailureAnnotations)
	}
	if hint != "" {
		gh.Info("Hint: %s", hint)
	}
}

// outcomeText renders a step's outcome for a table cell, with the fields that drifted.
func outcomeText(ch register.Change) string {
	s := string(ch.Outcome)
	if len(ch.Drift) > 0 {
		s += " (" + strings.Join(ch.Drift, ", ") + ")"
	}
	return s
}

// oneLine flattens an error for a table cell.
func oneLine(err error) string {
	if err == nil {
		return ""
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// printManifestTable prints one line per item: the same table as the job summary, as plain text.
func printManifestTable(gh *ghaction.Env, res register.BulkResult) {
	header := []string{"Item", "Identifier", "Action", "Automation", "Entity", "Error"}
	rows := [][]string{header}
	for _, r := range res.Items {
		rows = append(rows, []string{r.Name() + " " + clip(r.Title, 40), r.ActionID,
			outcomeText(r.Action), outcomeText(r.Automation), outcomeText(r.Entity), oneLine(r.Err())})
	}
	width := make([]int, len(header)-1) // the last column is not padded
	for _, row := range rows {
		for i := range width {
			width[i] = max(width[i], utf8.RuneCountInString(row[i]))
		}
	}
	gh.Group(fmt.Sprintf("Registered from the manifest: %d actions, %d failed", len(res.Items), res.Failed()))
	for _, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			b.WriteString(cell)
			if i < len(width) {
				b.WriteString(strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell)+2))
			}
		}
		gh.Info("%s", strings.TrimRight(b.String(), " "))
	}
	gh.EndGroup()
}

// manifestSummary renders the job summary: counts, then one row per item (failed items first when there are
// too many to list).
func manifestSummary(res register.BulkResult, failed int) string {
	var b strings.Builder
	title := fmt.Sprintf("Port ROI tracking for %d actions from the manifest", len(res.Items))
	if res.DryRun {
		title += " (dry run: nothing was written)"
	}
	fmt.Fprintf(&b, "### %s\n\n%d registered, %d failed.\n\n", title, len(res.Items)-failed, failed)
	b.WriteString("| Item | Identifier | Action | Automation | Entity | Error |\n| --- | --- | --- | --- | --- | --- |\n")
	listed := 0
	row := func(r register.ItemResult) {
		listed++
		cells := []string{fmt.Sprintf("`%s` %s", r.Name(), ghaction.EscapeMarkdown(clip(r.Title, 80))), "`" + r.ActionID + "`",
			ghaction.EscapeMarkdown(outcomeText(r.Action)), ghaction.EscapeMarkdown(outcomeText(r.Automation)),
			ghaction.EscapeMarkdown(outcomeText(r.Entity)), ghaction.EscapeMarkdown(clip(oneLine(r.Err()), 300))}
		fmt.Fprintf(&b, "| %s |\n", strings.Join(cells, " | "))
	}
	all := len(res.Items) <= maxSummaryRows
	for _, r := range res.Items {
		if all || (r.Err() != nil && listed < maxSummaryRows) {
			row(r)
		}
	}
	if rest := len(res.Items) - listed; rest > 0 {
		fmt.Fprintf(&b, "\n%d more actions are not listed here; the step's log lists every one.\n", rest)
	}
	return b.String()
}

// clip cuts s to n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
