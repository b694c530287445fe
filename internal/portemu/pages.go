package portemu

import (
	"net/http"
	"slices"
	"time"
)

// page is a stored page (the Pages API is in beta; only basic validation is done).
type page struct {
	def       map[string]any
	createdAt time.Time
	updatedAt time.Time
	createdBy string
	updatedBy string
}

func (p *page) json() map[string]any {
	out := copyObject(p.def)
	out["createdAt"] = timestamp(p.createdAt)
	out["updatedAt"] = timestamp(p.updatedAt)
	out["createdBy"] = p.createdBy
	out["updatedBy"] = p.updatedBy
	return out
}

var pageTypes = []string{"dashboard", "blueprint-entities", "entity", "home"}

// Page returns a page as GET /v1/pages/{id} returns it.
func (s *Server) Page(id string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.pages[id]
	if !ok {
		return nil, false
	}
	return p.json(), true
}

func validatePage(def map[string]any) error {
	id, err := checkIdentifier("page", def["identifier"], entityIDPattern, 100)
	if err != nil {
		return err
	}
	if !slices.Contains(pageTypes, str(def["type"])) {
		return invalidRequest("page %q: type must be one of dashboard, blueprint-entities, entity, home, got %v", id, def["type"])
	}
	if err := checkDashboardLayout(id, def); err != nil { // dashboards.go
		return err
	}
	for _, k := range []string{"title", "icon", "description", "parent", "after", "blueprint"} {
		if v, ok := def[k]; ok && v != nil {
			if _, isStr := v.(string); !isStr {
				return invalidRequest("page %q: %s must be a string", id, k)
			}
		}
	}
	for _, k := range []string{"widgets", "pageFilters"} {
		if v, ok := def[k]; ok && v != nil {
			if _, isArr := v.([]any); !isArr {
				return invalidRequest("page %q: %s must be an array", id, k)
			}
		}
	}
	return nil
}

func (s *Server) handleListPages(c *call) (int, any, error) {
	out := []any{}
	for _, id := range sortedKeys(s.pages) {
		out = append(out, s.pages[id].json())
	}
	return http.StatusOK, map[string]any{"ok": true, "pages": out}, nil
}

func (s *Server) handleCreatePage(c *call) (int, any, error) {
	def, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	stripMeta(def)
	if err := validatePage(def); err != nil {
		return 0, nil, err
	}
	id := str(def["identifier"])
	if _, exists := s.pages[id]; exists {
		return 0, nil, conflict("page %q already exists", id)
	}
	now := s.clock()
	s.pages[id] = &page{def: def, createdAt: now, updatedAt: now, createdBy: c.user, updatedBy: c.user}
	return http.StatusCreated, map[string]any{"ok": true, "identifier": id}, nil
}

func (s *Server) handleGetPage(c *call) (int, any, error) {
	p, ok := s.pages[c.params[0]]
	if !ok {
		return 0, nil, notFound("page %q not found", c.params[0])
	}
	return http.StatusOK, map[string]any{"ok": true, "page": p.json()}, nil
}

func (s *Server) handlePatchPage(c *call) (int, any, error) {
	return s.replacePage(c, func(old, body map[string]any) map[string]any {
		merged := copyObject(old)
		for k, v := range body {
			merged[k] = v
		}
		return merged
	})
}

func (s *Server) handlePutPage(c *call) (int, any, error) {
	return s.replacePage(c, func(_, body map[string]any) map[string]any { return body })
}

func (s *Server) replacePage(c *call, build func(old, body map[string]any) map[string]any) (int, any, error) {
	id := c.params[0]
	old, ok := s.pages[id]
	if !ok {
		return 0, nil, notFound("page %q not found", id)
	}
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	def := build(old.def, body)
	if v, ok := def["identifier"]; ok && v != id {
		return 0, nil, invalidRequest("page identifier %v in the body does not match %q in the path", v, id)
	}
	def["identifier"] = id
	if _, ok := def["type"]; !ok {
		def["type"] = old.def["type"]
	}
	stripMeta(def)
	if err := validatePage(def); err != nil {
		return 0, nil, err
	}
	s.pages[id] = &page{def: def, createdAt: old.createdAt, createdBy: old.createdBy, updatedAt: s.clock(), updatedBy: c.user}
	return http.StatusOK, map[string]any{"ok": true, "identifier": id, "page": s.pages[id].json()}, nil
}

func (s *Server) handleDeletePage(c *call) (int, any, error) {
	id := c.params[0]
	if _, ok := s.pages[id]; !ok {
		return 0, nil, notFound("page %q not found", id)
	}
	delete(s.pages, id)
	return http.StatusOK, map[string]any{"ok": true}, nil
}
