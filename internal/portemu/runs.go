package portemu

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/port-roi/port-roi-action/internal/port"
)

// run is an action run.
type run struct {
	id               string
	status           string
	statusLabel      string
	actionID         string
	actionTitle      string
	actionIcon       string
	blueprintID      string
	blueprintTitle   string
	blueprintIcon    string
	entityID         string
	entityTitle      string
	entityIcon       string
	properties       map[string]any
	source           string // API or AUTOMATION
	requiredApproval any
	approval         map[string]any
	link             any
	summary          string
	externalRunID    string
	payload          any
	createdBy        string
	updatedBy        string
	createdAt        time.Time
	updatedAt        time.Time
	endedAt          time.Time
	seq              int64
}

type runLog struct {
	id                string
	runID             string
	message           string
	terminationStatus string
	statusLabel       string
	createdBy         string
	createdAt         time.Time
}

func (l *runLog) json() map[string]any {
	return map[string]any{"id": l.id, "runId": l.runID, "message": l.message, "createdBy": l.createdBy, "createdAt": timestamp(l.createdAt)}
}

func finished(status string) bool {
	return status == port.RunSuccess || status == port.RunFailure || status == port.RunDeclined
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// runJSON renders a run like GET /v1/actions/runs/{id}?version=v2 (port-api.md §5.2).
func (s *Server) runJSON(r *run) map[string]any {
	_, actionExists := s.actions[r.actionID]
	out := map[string]any{
		"id":          r.id,
		"status":      r.status,
		"statusLabel": nilIfEmpty(r.statusLabel),
		"action": map[string]any{
			"identifier": r.actionID, "title": nilIfEmpty(r.actionTitle), "icon": nilIfEmpty(r.actionIcon), "deleted": !actionExists,
		},
		"blueprint":        nil,
		"entity":           nil,
		"properties":       copyObject(r.properties),
		"source":           r.source,
		"requiredApproval": deepCopy(r.requiredApproval),
		"approval":         nil,
		"link":             deepCopy(r.link),
		"summary":          nilIfEmpty(r.summary),
		"externalRunId":    nilIfEmpty(r.externalRunID),
		"endedAt":          nil,
		"payload":          deepCopy(r.payload),
		"response":         nil,
		"createdBy":        r.createdBy,
		"updatedBy":        r.updatedBy,
		"createdAt":        timestamp(r.createdAt),
		"updatedAt":        timestamp(r.updatedAt),
	}
	if r.blueprintID != "" {
		_, exists := s.blueprints[r.blueprintID]
		out["blueprint"] = map[string]any{"identifier": r.blueprintID, "title": nilIfEmpty(r.blueprintTitle), "icon": nilIfEmpty(r.blueprintIcon), "deleted": !exists}
	}
	if r.entityID != "" {
		_, exists := s.entities[r.blueprintID][r.entityID]
		out["entity"] = map[string]any{"identifier": r.entityID, "title": nilIfEmpty(r.entityTitle), "icon": nilIfEmpty(r.entityIcon), "deleted": !exists}
	}
	if r.approval != nil {
		out["approval"] = copyObject(r.approval)
	}
	if !r.endedAt.IsZero() {
		out["endedAt"] = timestamp(r.endedAt)
	}
	return out
}

func (s *Server) portRun(r *run) port.Run {
	var out port.Run
	b, err := json.Marshal(s.runJSON(r))
	if err == nil {
		err = json.Unmarshal(b, &out)
	}
	if err != nil {
		// runJSON holds only JSON values, so this cannot happen; keep the identity at least.
		out.ID, out.Status = r.id, r.status
	}
	return out
}

// Run returns an action run.
func (s *Server) Run(id string) (port.Run, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.runs[id]
	if !ok {
		return port.Run{}, false
	}
	return s.portRun(r), true
}

// RunLogs returns the log lines of a run in arrival order.
func (s *Server) RunLogs(runID string) []port.RunLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []port.RunLog
	for _, l := range s.runLogs[runID] {
		out = append(out, port.RunLog{Message: l.message, TerminationStatus: l.terminationStatus, StatusLabel: l.statusLabel})
	}
	return out
}

// CreateRun runs a self-service action as userEmail ("" for the token user, DemoUser by default), like
// POST /v1/actions/{id}/runs, automations included.
func (s *Server) CreateRun(actionID string, properties map[string]any, userEmail string) (port.Run, error) {
	props, err := normalizeJSON(properties)
	if err != nil {
		return port.Run{}, invalidRequest("run properties: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if userEmail == "" {
		userEmail = s.user()
	}
	m := obj(props)
	if m == nil {
		m = map[string]any{}
	}
	r, err := s.createRun(context.Background(), actionID, m, "", userEmail)
	if err != nil {
		return port.Run{}, err
	}
	return s.portRun(r), nil
}

// ApproveRun approves or declines a run that waits for approval, like PATCH …/runs/{id}/approval.
func (s *Server) ApproveRun(runID string, approve bool) (port.Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.approveRun(context.Background(), runID, approve, "", s.user())
	if err != nil {
		return port.Run{}, err
	}
	return s.portRun(r), nil
}

// FinishRun sets a run's final status (SUCCESS or FAILURE), like PATCH …/runs/{id} with a status.
func (s *Server) FinishRun(runID string, status string) (port.Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.patchRun(context.Background(), runID, map[string]any{"status": status}, s.user())
	if err != nil {
		return port.Run{}, err
	}
	return s.portRun(r), nil
}

// createRun validates the inputs, stores the run, fires automations and, when no approval is needed,
// executes an UPSERT_ENTITY backend.
func (s *Server) createRun(ctx context.Context, actionID string, props map[string]any, entityID, user string) (*run, error) {
	a, ok := s.actions[actionID]
	if !ok {
		return nil, notFound("action %q not found", actionID)
	}
	if a.isAutomation() {
		return nil, validationError("%q is an automation; only self-service actions can be run", actionID)
	}
	trig := a.trigger()
	bpID := str(trig["blueprintIdentifier"])
	var ent *entity
	if entityID != "" {
		if bpID == "" {
			return nil, validationError("action %q is not tied to a blueprint and cannot run on entity %q", actionID, entityID)
		}
		if ent = s.entities[bpID][entityID]; ent == nil {
			return nil, notFound("entity %q not found in blueprint %q", entityID, bpID)
		}
	} else if op := str(trig["operation"]); op == "DAY-2" || op == "DELETE" {
		return nil, validationError("action %q is a %s action and needs an entity", actionID, op)
	}

	ev := s.newEvaluator(ctx)
	var entJSON any
	if ent != nil {
		entJSON = ent.json(ev.properties(ent))
	}
	ui := obj(trig["userInputs"])
	inputs := obj(ui["properties"])
	out := map[string]any{}
	for _, k := range sortedKeys(props) {
		def, ok := inputs[k].(map[string]any)
		if !ok {
			return nil, validationError("run properties must NOT have additional properties: %q is not a user input of action %q", k, actionID)
		}
		if v := props[k]; v != nil {
			if err := checkInput(k, def, v); err != nil {
				return nil, err
			}
			out[k] = deepCopy(v)
		}
	}
	for _, k := range sortedKeys(inputs) {
		d, has := obj(inputs[k])["default"]
		if out[k] != nil || !has || d == nil {
			continue
		}
		if q, isQuery := obj(d)["jqQuery"].(string); isQuery {
			v, err := s.jq.Eval(ctx, q, map[string]any{"user": map[string]any{"email": user}, "entity": entJSON})
			if err != nil || v == nil {
				continue
			}
			out[k] = v
		} else {
			out[k] = deepCopy(d)
		}
	}
	if req, ok := stringList(ui["required"]); ok {
		for _, k := range req {
			if out[k] == nil {
				return nil, validationError("run properties must have required property %q", k)
			}
		}
	}

	now := s.clock()
	s.seq++
	r := &run{
		id: newID("r_"), status: port.RunInProgress, actionID: actionID, actionTitle: str(a.def["title"]), actionIcon: str(a.def["icon"]),
		properties: out, source: "API", requiredApproval: false, createdBy: user, updatedBy: user,
		createdAt: now, updatedAt: now, seq: s.seq,
	}
	if ra, ok := a.def["requiredApproval"]; ok {
		r.requiredApproval = deepCopy(ra)
	}
	if ra := r.requiredApproval; ra == true || obj(ra) != nil {
		r.status = port.RunWaitingForApproval
	}
	if b := s.blueprints[bpID]; b != nil {
		r.blueprintID, r.blueprintTitle, r.blueprintIcon = bpID, str(b.def["title"]), str(b.def["icon"])
	}
	if ent != nil {
		r.entityID, r.entityTitle, r.entityIcon = ent.Identifier, ent.Title, ent.Icon
	}
	s.runs[r.id] = r
	s.fireRunAutomations(ctx, r, "CREATE", nil, s.runJSON(r), user)
	if r.status == port.RunInProgress {
		s.execute(ctx, r, a, s.selfServiceData(r, a, entJSON, user), user)
	}
	return r, nil
}

// checkInput validates a run property against its user input definition. Entity, user and team inputs
// also take the selected object, as the UI sends it.
func checkInput(key string, def map[string]any, v any) error {
	switch str(def["format"]) {
	case "entity", "user", "team":
		if _, isObj := v.(map[string]any); isObj {
			return nil
		}
	}
	if err := checkValue(key, def, v); err != nil {
		return validationError("run properties: %s", asError(err).Message)
	}
	return nil
}

// changeRun applies one change to a run, stamps it and fires the RUN_UPDATED / ANY_RUN_CHANGE automations.
func (s *Server) changeRun(ctx context.Context, r *run, user string, mutate func()) {
	before := s.runJSON(r)
	mutate()
	r.updatedAt, r.updatedBy = s.clock(), user
	s.fireRunAutomations(ctx, r, "UPDATE", before, s.runJSON(r), user)
}

func (s *Server) finishRun(ctx context.Context, r *run, status, label, user string) {
	s.changeRun(ctx, r, user, func() {
		r.status, r.endedAt = status, s.clock()
		if label != "" {
			r.statusLabel = label
		}
	})
}

func (s *Server) addLog(r *run, message, termination, label, user string) *runLog {
	l := &runLog{id: newID("log_"), runID: r.id, message: message, terminationStatus: termination, statusLabel: label, createdBy: user, createdAt: s.clock()}
	s.runLogs[r.id] = append(s.runLogs[r.id], l)
	return l
}

func (s *Server) patchRun(ctx context.Context, id string, body map[string]any, user string) (*run, error) {
	r, ok := s.runs[id]
	if !ok {
		return nil, notFound("run %q not found", id)
	}
	if err := onlyKeys("body", body, "status", "statusLabel", "link", "summary", "externalRunId"); err != nil {
		return nil, err
	}
	status, hasStatus := body["status"]
	if hasStatus && status != port.RunSuccess && status != port.RunFailure {
		return nil, invalidRequest("body/status must be equal to one of the allowed values SUCCESS, FAILURE, got %v", status)
	}
	for _, k := range []string{"statusLabel", "summary", "externalRunId"} {
		if v, ok := body[k]; ok {
			if _, isStr := v.(string); !isStr {
				return nil, invalidRequest("body/%s must be string", k)
			}
		}
	}
	if v, ok := body["link"]; ok {
		if _, isStr := v.(string); !isStr {
			if list, ok := stringList(v); !ok || list == nil {
				return nil, invalidRequest("body/link must be a string or an array of strings")
			}
		}
	}
	if finished(r.status) {
		return nil, validationError("run %q has already ended with status %s and can no longer be updated", id, r.status)
	}
	if hasStatus && r.status != port.RunInProgress {
		return nil, validationError("run %q is %s; only a run that is IN_PROGRESS can be given a final status", id, r.status)
	}
	if len(body) == 0 {
		return r, nil
	}
	s.changeRun(ctx, r, user, func() {
		if hasStatus {
			r.status, r.endedAt = status.(string), s.clock()
		}
		if v, ok := body["statusLabel"]; ok {
			r.statusLabel = v.(string)
		}
		if v, ok := body["summary"]; ok {
			r.summary = v.(string)
		}
		if v, ok := body["externalRunId"]; ok {
			r.externalRunID = v.(string)
		}
		if v, ok := body["link"]; ok {
			if l, isStr := v.(string); isStr {
				r.link = []any{l}
			} else {
				r.link = deepCopy(v)
			}
		}
	})
	return r, nil
}

func (s *Server) approveRun(ctx context.Context, id string, approve bool, description, user string) (*run, error) {
	r, ok := s.runs[id]
	if !ok {
		return nil, notFound("run %q not found", id)
	}
	if r.status != port.RunWaitingForApproval {
		return nil, validationError("run %q is %s, not WAITING_FOR_APPROVAL", id, r.status)
	}
	s.changeRun(ctx, r, user, func() {
		state := "APPROVED"
		if approve {
			r.status = port.RunInProgress
		} else {
			state = "DECLINED"
			r.status, r.endedAt = port.RunDeclined, s.clock()
		}
		r.approval = map[string]any{"description": nilIfEmpty(description), "userId": user, "state": state}
	})
	if a, ok := s.actions[r.actionID]; ok && approve && r.status == port.RunInProgress {
		var entJSON any
		if e := s.entities[r.blueprintID][r.entityID]; e != nil {
			entJSON = e.json(s.newEvaluator(ctx).properties(e))
		}
		s.execute(ctx, r, a, s.selfServiceData(r, a, entJSON, user), user)
	}
	return r, nil
}

func (s *Server) handleCreateRun(c *call) (int, any, error) {
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	if err := onlyKeys("body", body, "properties", "entity"); err != nil {
		return 0, nil, err
	}
	props, ok := body["properties"].(map[string]any)
	if !ok {
		return 0, nil, invalidRequest("body must have required property 'properties' (an object)")
	}
	entityID := ""
	if v, ok := body["entity"]; ok && v != nil {
		if entityID, ok = v.(string); !ok {
			return 0, nil, invalidRequest("body/entity must be an entity identifier (string)")
		}
	}
	user := c.user
	if as := c.query.Get("run_as"); as != "" {
		if _, ok := s.entities[userBlueprint][as]; !ok {
			return 0, nil, validationError("run_as: user %q does not exist", as)
		}
		user = as
	}
	r, err := s.createRun(c.ctx, c.params[0], props, entityID, user)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusAccepted, map[string]any{"ok": true, "run": s.runJSON(r)}, nil
}

func (s *Server) handleGetRun(c *call) (int, any, error) {
	r, ok := s.runs[c.params[0]]
	if !ok {
		return 0, nil, notFound("run %q not found", c.params[0])
	}
	return http.StatusOK, map[string]any{"ok": true, "run": s.runJSON(r)}, nil
}

func (s *Server) handleListRuns(c *call) (int, any, error) {
	q := c.query
	limit := 1000
	if l := q.Get("limit"); l != "" {
		n, _ := strconv.Atoi(l)
		if n < 1 || n > 1000 {
			return 0, nil, invalidRequest("querystring/limit must be from 1 to 1000")
		}
		limit = n
	}
	var list []*run
	for _, r := range s.runs {
		switch {
		case q.Get("entity") != "" && r.entityID != q.Get("entity"),
			q.Get("blueprint") != "" && r.blueprintID != q.Get("blueprint"),
			q.Get("active") == "true" && finished(r.status),
			q.Get("active") == "false" && !finished(r.status),
			q.Get("user_email") != "" && r.createdBy != q.Get("user_email"),
			q.Get("user_id") != "" && r.createdBy != q.Get("user_id"),
			q.Get("external_run_id") != "" && r.externalRunID != q.Get("external_run_id"),
			q.Get("action") != "" && r.actionID != q.Get("action"),
			len(q["source"]) > 0 && !slices.Contains(q["source"], r.source):
			continue
		}
		list = append(list, r)
	}
	slices.SortFunc(list, func(a, b *run) int { return int(b.seq - a.seq) }) // newest first
	out := []any{}
	for i := 0; i < len(list) && i < limit; i++ {
		out = append(out, s.runJSON(list[i]))
	}
	return http.StatusOK, map[string]any{"ok": true, "runs": out}, nil
}

func (s *Server) handlePatchRun(c *call) (int, any, error) {
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	r, err := s.patchRun(c.ctx, c.params[0], body, c.user)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]any{"ok": true, "run": s.runJSON(r)}, nil
}

func (s *Server) handleApproval(c *call) (int, any, error) {
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	if _, ok := s.runs[c.params[0]]; !ok {
		return 0, nil, notFound("run %q not found", c.params[0])
	}
	if err := onlyKeys("body", body, "status", "description"); err != nil {
		return 0, nil, err
	}
	status := body["status"]
	if status != "APPROVE" && status != "DECLINE" {
		return 0, nil, invalidRequest("body/status must be equal to one of the allowed values APPROVE, DECLINE")
	}
	desc, ok := body["description"].(string)
	if _, has := body["description"]; has && !ok {
		return 0, nil, invalidRequest("body/description must be string")
	}
	r, err := s.approveRun(c.ctx, c.params[0], status == "APPROVE", desc, c.user)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, map[string]any{"ok": true, "run": s.runJSON(r)}, nil
}

// handlePostLog appends a log line. A terminationStatus ends the run (an automation-firing change); a
// statusLabel alone relabels it; a plain message changes nothing about the run.
func (s *Server) handlePostLog(c *call) (int, any, error) {
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	id := c.params[0]
	r, ok := s.runs[id]
	if !ok {
		return 0, nil, notFound("run %q not found", id)
	}
	if err := onlyKeys("body", body, "message", "terminationStatus", "statusLabel"); err != nil {
		return 0, nil, err
	}
	msg, ok := body["message"].(string)
	if !ok {
		return 0, nil, invalidRequest("body must have required property 'message' (a string)")
	}
	term, hasTerm := body["terminationStatus"]
	if hasTerm && term != port.RunSuccess && term != port.RunFailure {
		return 0, nil, invalidRequest("body/terminationStatus must be equal to one of the allowed values SUCCESS, FAILURE")
	}
	label, hasLabel := body["statusLabel"]
	if _, isStr := label.(string); hasLabel && !isStr {
		return 0, nil, invalidRequest("body/statusLabel must be string")
	}
	if hasTerm || hasLabel {
		if finished(r.status) {
			return 0, nil, validationError("run %q has already ended with status %s and can no longer be updated", id, r.status)
		}
		if hasTerm && r.status != port.RunInProgress {
			return 0, nil, validationError("run %q is %s; only a run that is IN_PROGRESS can be terminated", id, r.status)
		}
	}
	l := s.addLog(r, msg, str(term), str(label), c.user)
	switch {
	case hasTerm:
		s.finishRun(c.ctx, r, str(term), str(label), c.user)
	case hasLabel:
		s.changeRun(c.ctx, r, c.user, func() { r.statusLabel = str(label) })
	}
	return http.StatusCreated, map[string]any{"ok": true, "runLog": l.json()}, nil
}

func (s *Server) handleGetLogs(c *call) (int, any, error) {
	id := c.params[0]
	if _, ok := s.runs[id]; !ok {
		return 0, nil, notFound("run %q not found", id)
	}
	logs := s.runLogs[id]
	offset := 0
	if o := c.query.Get("offset"); o != "" {
		offset, _ = strconv.Atoi(o)
		if offset < 0 {
			return 0, nil, invalidRequest("querystring/offset must be >= 0")
		}
	}
	limit := len(logs)
	if l := c.query.Get("limit"); l != "" {
		limit, _ = strconv.Atoi(l)
		if limit < 1 || limit > 50 {
			return 0, nil, invalidRequest("querystring/limit must be from 1 to 50")
		}
	}
	out := []any{}
	for i := offset; i < len(logs) && i < offset+limit; i++ {
		out = append(out, logs[i].json())
	}
	return http.StatusOK, map[string]any{"ok": true, "runLogs": out}, nil
}
