package portemu

import "math"

// Layout rules of a dashboard page, as Port enforces them on the root dashboard-widget (port-api.md §8.1).
const (
	dashboardColumns   = 12  // the columns of a row sum to this
	maxRowColumns      = 4   // widgets side by side in one row
	minColumnSize      = 3   // the narrowest widget
	minDashboardHeight = 400 // the lowest row, in pixels
)

// checkDashboardLayout checks the dashboard-widgets of a dashboard page: their widgets have distinct ids and
// a type, and each layout row is at least 400 high and holds 1 to 4 columns of 3 to 12 that sum to 12, every
// column naming one of the dashboard-widget's widgets. Other page types are not checked.
func checkDashboardLayout(page string, def map[string]any) error {
	if str(def["type"]) != "dashboard" {
		return nil
	}
	widgets, _ := def["widgets"].([]any)
	for i, w := range widgets {
		root, ok := w.(map[string]any)
		if !ok {
			return invalidRequest("page %q: widgets[%d] must be an object", page, i)
		}
		if str(root["type"]) != "dashboard-widget" {
			continue
		}
		ids := map[string]bool{}
		children, _ := root["widgets"].([]any)
		for j, c := range children {
			child, ok := c.(map[string]any)
			id := str(child["id"])
			switch {
			case !ok || id == "":
				return invalidRequest("page %q: widget %d of the dashboard-widget has no id", page, j)
			case ids[id]:
				return invalidRequest("page %q: two widgets have the id %q", page, id)
			case str(child["type"]) == "":
				return invalidRequest("page %q: widget %q has no type", page, id)
			}
			ids[id] = true
		}
		layout, _ := root["layout"].([]any)
		for r, rv := range layout {
			row, _ := rv.(map[string]any)
			if h, ok := num(row["height"]); !ok || h < minDashboardHeight {
				return invalidRequest("page %q: layout row %d: height must be a number of at least %d, got %v", page, r, minDashboardHeight, row["height"])
			}
			cols, _ := row["columns"].([]any)
			if len(cols) < 1 || len(cols) > maxRowColumns {
				return invalidRequest("page %q: layout row %d must have 1 to %d columns, got %d", page, r, maxRowColumns, len(cols))
			}
			total := 0.0
			for _, cv := range cols {
				col, _ := cv.(map[string]any)
				size, ok := num(col["size"])
				if !ok || size != math.Trunc(size) || size < minColumnSize || size > dashboardColumns {
					return invalidRequest("page %q: layout row %d: column %q: size must be a whole number from %d to %d, got %v", page, r, str(col["id"]), minColumnSize, dashboardColumns, col["size"])
				}
				if !ids[str(col["id"])] {
					return invalidRequest("page %q: layout row %d: column %q names no widget of the dashboard-widget", page, r, str(col["id"]))
				}
				total += size
			}
			if total != dashboardColumns {
				return invalidRequest("page %q: layout row %d: column sizes must sum to %d, got %v", page, r, dashboardColumns, total)
			}
		}
	}
	return nil
}
