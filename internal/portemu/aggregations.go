package portemu

// checkAggregationSource checks where an aggregation property's values come from, beyond the property's own
// fields: the target blueprint must relate to this one (Port aggregates "on any blueprint that is related" to
// the current one; a pathFilter names the path instead). Like a mirror property, an aggregation therefore
// comes after the relation it follows (port-api.md §7.3). Whether Port also requires the aggregated property
// to exist on the target is not documented, so it is not checked.
func (s *Server) checkAggregationSource(id string, def map[string]any, key string, agg map[string]any) error {
	target := str(agg["target"])
	tdef := def
	if target != id {
		tb := s.blueprints[target]
		if tb == nil {
			return nil // reported by checkAggregations
		}
		tdef = tb.def
	}
	if pf, ok := agg["pathFilter"].([]any); !ok || len(pf) == 0 {
		related := false
		for _, r := range relationsOf(tdef) {
			related = related || r.target == id
		}
		if !related {
			return validationError("blueprint %q: aggregation property %q: blueprint %q has no relation to %q; create the relation first", id, key, target, id)
		}
	}
	return nil
}
