package bootstrap

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/port-roi/port-roi-action/internal/port"
	"github.com/port-roi/port-roi-action/internal/register"
	"github.com/port-roi/port-roi-action/internal/roimodel"
)

// pageKeys are the top-level page fields bootstrap may write; Port's metadata and the fields users set
// (parent, after, locked, pageFilters…) are left alone.
var pageKeys = []string{"title", "icon", "description", "widgets"}

// dashboard converges the "Actions ROI" dashboard page. An existing page (say, one made by hand following the
// guide) keeps its widgets and layout: our widgets are merged into its root dashboard-widget by id, and a
// layout row is appended only for our widgets not already placed. withAgent includes the AI agent widget.
// blocked names the blueprint the charts need when it failed.
func (r *runner) dashboard(ctx context.Context, withAgent bool, blocked string) Object {
	id := roimodel.DashboardID
	obj := Object{Kind: KindDashboard, ID: id}
	step := r.rep.Step(fmt.Sprintf("Dashboard %q", id))
	defer step.End()
	if blocked != "" {
		return skip(step, obj, blocked)
	}
	want := normalizeObject(roimodel.Dashboard(withAgent))
	if !withAgent {
		step.Detail("without the AI agent widget: the organisation has no AI agent %q", roimodel.AgentID)
	}

	got, err := r.c.GetPage(ctx, id)
	switch {
	case port.IsNotFound(err):
		if r.o.DryRun {
			step.Log("➕ Dashboard %q would be created with %s", id, widgetList(want))
			obj.Outcome = register.WouldCreate
			return obj
		}
		err := r.c.CreatePage(ctx, want)
		if err == nil {
			step.Log("📦 Created dashboard %q with %s", id, widgetList(want))
			obj.Outcome = register.Created
			return obj
		}
		if !isCreateConflict(err) {
			return fail(step, obj, fmt.Errorf("create dashboard %q: %w", id, err))
		}
		if got, err = r.c.GetPage(ctx, id); err != nil {
			return fail(step, obj, fmt.Errorf("create dashboard %q: %w", id, err))
		}
	case err != nil:
		return fail(step, obj, fmt.Errorf("read dashboard %q: %w", id, err))
	}

	theirs := normalizeObject(got)
	if typ, _ := theirs["type"].(string); typ != "dashboard" {
		return fail(step, obj, fmt.Errorf("page %q exists but is a %q page, not a dashboard: rename or delete it, "+
			"then run bootstrap again", id, typ))
	}
	merged, changes := mergePage(theirs, want)
	if len(changes) == 0 {
		step.Log("✅ Dashboard %q is up to date", id)
		obj.Outcome = register.Unchanged
		return obj
	}
	step.Log("🔄 Dashboard %q %s:", id, r.would("differs from the guide; updating", "would be updated"))
	logChanges(step, changes)
	obj.Outcome, obj.Drift = r.outcome(register.Updated), changes
	if r.o.DryRun {
		return obj
	}
	patch := port.Object{}
	for _, k := range pageKeys {
		if v, ok := merged[k]; ok && !equal(v, theirs[k]) {
			patch[k] = v
		}
	}
	if err := r.c.PatchPage(ctx, id, patch); err != nil {
		return fail(step, obj, fmt.Errorf("update dashboard %q: %w", id, err))
	}
	step.Log("🔄 Updated dashboard %q", id)
	return obj
}

// mergePage merges our dashboard page into theirs. Top-level fields merge like any definition. Our widgets
// go into their first dashboard-widget, merged by id (a widget with our id is ours: its fields are set to
// ours, other fields kept); each of our layout rows is appended with the columns of our widgets that no row
// of theirs places yet, resized to fill the row. A page without a dashboard-widget gets ours whole.
func mergePage(theirs, ours map[string]any) (map[string]any, []string) {
	out := make(map[string]any, len(theirs))
	for k, v := range theirs {
		out[k] = v
	}
	var changes []string
	for _, k := range sortedKeys(ours) {
		if k == "widgets" || k == "identifier" {
			continue
		}
		v, ch := mergePath(theirs[k], ours[k], k)
		out[k] = v
		changes = append(changes, ch...)
	}
	ourRoot := ours["widgets"].([]any)[0].(map[string]any)
	theirWidgets, _ := theirs["widgets"].([]any)
	idx := slices.IndexFunc(theirWidgets, func(w any) bool {
		m, _ := w.(map[string]any)
		return m["type"] == "dashboard-widget"
	})
	if idx < 0 {
		out["widgets"] = append(slices.Clone(theirWidgets), ourRoot)
		return out, append(changes, "+ widgets: the dashboard-widget with "+widgetList(ours))
	}

	root := map[string]any{}
	for k, v := range theirWidgets[idx].(map[string]any) {
		root[k] = v
	}
	children, _ := root["widgets"].([]any)
	children = slices.Clone(children)
	for _, w := range ourRoot["widgets"].([]any) {
		wid := widgetID(w)
		j := slices.IndexFunc(children, func(c any) bool { return widgetID(c) == wid })
		if j < 0 {
			children = append(children, w)
			changes = append(changes, fmt.Sprintf("+ widgets.%s (%s)", wid, widgetTitle(w)))
			continue
		}
		v, ch := mergePath(children[j], w, "widgets."+wid)
		children[j] = v
		changes = append(changes, ch...)
	}
	root["widgets"] = children

	layout, _ := root["layout"].([]any)
	layout = slices.Clone(layout)
	placed := map[string]bool{}
	for _, row := range layout {
		for _, id := range columnIDs(row) {
			placed[id] = true
		}
	}
	for _, row := range ourRoot["layout"].([]any) {
		var missing []string
		for _, id := range columnIDs(row) {
			if !placed[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			continue
		}
		columns := make([]any, len(missing))
		for i, id := range missing {
			// 1 to 4 missing widgets share the 12 columns evenly: 12, 6, 4 or 3 each.
			columns[i] = map[string]any{"id": id, "size": float64(12 / len(missing))}
		}
		layout = append(layout, map[string]any{"height": row.(map[string]any)["height"], "columns": columns})
		changes = append(changes, "+ layout row: "+strings.Join(missing, ", "))
	}
	root["layout"] = layout

	widgets := slices.Clone(theirWidgets)
	widgets[idx] = root
	out["widgets"] = widgets
	return out, changes
}

func widgetID(w any) string {
	m, _ := w.(map[string]any)
	id, _ := m["id"].(string)
	return id
}

func widgetTitle(w any) string {
	m, _ := w.(map[string]any)
	t, _ := m["title"].(string)
	return t
}

func columnIDs(row any) []string {
	m, _ := row.(map[string]any)
	cols, _ := m["columns"].([]any)
	var ids []string
	for _, c := range cols {
		if id := widgetID(c); id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// widgetList names the widgets of a page's root dashboard-widget, for a log line.
func widgetList(page map[string]any) string {
	root := page["widgets"].([]any)[0].(map[string]any)
	var titles []string
	for _, w := range root["widgets"].([]any) {
		titles = append(titles, fmt.Sprintf("%q", widgetTitle(w)))
	}
	return "the widgets " + strings.Join(titles, ", ")
}
