package port

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Object is a Port definition (an action, automation, blueprint or page) as free-form JSON. Definitions are
// kept untyped on purpose: Port fills in defaults and metadata we do not model, and we compare and merge
// definitions field by field rather than through a struct that would silently drop what it does not know.
type Object = map[string]any

// actionFields are the top-level keys that POST and PUT /v1/actions accept (the body schema sets
// additionalProperties: false). Everything else Port returns (createdAt, createdBy, updatedAt, updatedBy, id…)
// is server metadata that must be stripped before a definition is sent back.
var actionFields = []string{
	"identifier", "title", "icon", "description", "trigger", "invocationMethod",
	"requiredApproval", "approvalNotification", "publish", "allowAnyoneToViewRuns",
}

// ActionBody returns the part of an action definition that Port's action routes accept, dropping server
// metadata. The map is a shallow copy; nested values are shared with def.
func ActionBody(def Object) Object {
	out := make(Object, len(actionFields))
	for _, k := range actionFields {
		if v, ok := def[k]; ok {
			out[k] = v
		}
	}
	return out
}

// Entity is a catalog entity as sent to and returned by the entity routes.
// See https://docs.port.io/build-your-software-catalog/sync-data-to-catalog/.
type Entity struct {
	Identifier string         `json:"identifier"`
	Title      string         `json:"title,omitempty"`
	Icon       string         `json:"icon,omitempty"`
	Team       any            `json:"team,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
	Relations  map[string]any `json:"relations,omitempty"`

	// Set by Port in responses only; never sent.
	Blueprint string     `json:"blueprint,omitempty"`
	CreatedAt *time.Time `json:"createdAt,omitempty"`
	UpdatedAt *time.Time `json:"updatedAt,omitempty"`
}

// UpsertOptions are the query parameters of POST /v1/blueprints/{bp}/entities.
type UpsertOptions struct {
	// Merge updates only the fields sent instead of replacing the whole entity (merge=true).
	Merge bool
	// RunID ties the change to an action run while that run is IN_PROGRESS (run_id=…).
	RunID string
	// CreateMissingRelated creates related entities that do not exist yet.
	CreateMissingRelated bool
}

// RunLog is one line of an action run's log (POST /v1/actions/runs/{id}/logs).
type RunLog struct {
	Message string `json:"message"`
	// TerminationStatus ends the run with SUCCESS or FAILURE; after it the run cannot change.
	TerminationStatus string `json:"terminationStatus,omitempty"`
	StatusLabel       string `json:"statusLabel,omitempty"`
}

// Run statuses of an action run.
const (
	RunInProgress         = "IN_PROGRESS"
	RunSuccess            = "SUCCESS"
	RunFailure            = "FAILURE"
	RunWaitingForApproval = "WAITING_FOR_APPROVAL"
	RunDeclined           = "DECLINED"
)

// Run is an action run as returned by the v2 run routes.
type Run struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Action struct {
		Identifier string `json:"identifier"`
		Title      string `json:"title,omitempty"`
	} `json:"action"`
	// RequiredApproval is a bool or an object {"type": "ANY"|"ALL"}.
	RequiredApproval any            `json:"requiredApproval,omitempty"`
	Properties       map[string]any `json:"properties,omitempty"`
	StatusLabel      string         `json:"statusLabel,omitempty"`
	Link             any            `json:"link,omitempty"`
	CreatedAt        string         `json:"createdAt,omitempty"`
	UpdatedAt        string         `json:"updatedAt,omitempty"`
}

// RunPatch is the body of PATCH /v1/actions/runs/{id}; empty fields are not sent.
type RunPatch struct {
	Status        string `json:"status,omitempty"`
	StatusLabel   string `json:"statusLabel,omitempty"`
	Link          string `json:"link,omitempty"`
	Summary       string `json:"summary,omitempty"`
	ExternalRunID string `json:"externalRunId,omitempty"`
}

// SearchQuery is Port's rule-based query ({"combinator": "and", "rules": […]}).
type SearchQuery struct {
	Combinator string `json:"combinator"`
	Rules      []any  `json:"rules"`
}

// SearchRequest is the body of POST /v1/blueprints/{bp}/entities/search.
type SearchRequest struct {
	Query   SearchQuery `json:"query"`
	Include []string    `json:"include,omitempty"`
	Exclude []string    `json:"exclude,omitempty"`
	Limit   int         `json:"limit,omitempty"`
	From    string      `json:"from,omitempty"`
}

// SearchPage is one page of a blueprint search; Next is empty on the last page.
type SearchPage struct {
	Entities []Entity `json:"entities"`
	Next     string   `json:"next,omitempty"`
}

// APIError is a non-2xx answer from Port, or a 2xx whose body says ok:false.
type APIError struct {
	Method     string
	Path       string // the request path, without the query string
	StatusCode int
	Code       string // Port's "error" field; for AI routes it may have been an object, flattened here
	Message    string // Port's "message" field, verbatim
	TraceID    string // the X-Trace-Id response header, for Port support
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.TraceID != "" {
		msg += " (trace id " + e.TraceID + ")"
	}
	return msg
}

// IsNotFound reports whether err is a Port 404.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsConflict reports whether err is a Port 409.
func IsConflict(err error) bool { return hasStatus(err, http.StatusConflict) }

// IsUnauthorized reports whether err is a Port 401 that survived a token refresh.
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

func hasStatus(err error, code int) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.StatusCode == code
}

// ErrorBody is Port's error envelope. Error is a string on core routes and an object on AI routes.
type ErrorBody struct {
	OK      bool            `json:"ok"`
	Error   json.RawMessage `json:"error,omitempty"`
	Message string          `json:"message,omitempty"`
}

// ListActionsQuery filters GET /v1/actions. Empty fields are not sent; slices become repeated keys
// (?action_identifier=a&action_identifier=b).
type ListActionsQuery struct {
	ActionIdentifiers    []string // action_identifier
	BlueprintIdentifiers []string // blueprint_identifier
	Operations           []string // operation: CREATE, DAY-2, DELETE
	TriggerType          string   // trigger_type: "self-service" or "automation"
	TriggerEvents        []string // trigger_event, e.g. ANY_RUN_CHANGE
	// TriggerEventActionIdentifiers selects automations triggered by runs of these actions
	// (trigger_event_action_identifier).
	TriggerEventActionIdentifiers []string
	Published                     *bool  // published (automations only)
	Version                       string // version: "v1" or "v2"; empty sends "v2", as Port advises
}

// BulkResult is the answer of POST /v1/blueprints/{bp}/entities/bulk: the entities Port wrote and, when it
// answered 207, the ones it refused.
type BulkResult struct {
	Entities []BulkEntity    `json:"entities"`
	Errors   []BulkItemError `json:"errors"`
}

// BulkEntity is one entity a bulk upsert wrote; Index is its position in the request.
type BulkEntity struct {
	Identifier     string         `json:"identifier"`
	Index          int            `json:"index"`
	Created        bool           `json:"created"`
	AdditionalData map[string]any `json:"additionalData,omitempty"`
}

// BulkItemError is one entity a bulk upsert refused; Index is its position in the request.
type BulkItemError struct {
	Identifier string `json:"identifier"`
	Index      int    `json:"index"`
	StatusCode int    `json:"statusCode"`
	Code       string `json:"error"` // Port's "error" code, e.g. "not_found"
	Message    string `json:"message"`
}

func (e *BulkItemError) Error() string {
	msg := fmt.Sprintf("entity %q (#%d): %d %s", e.Identifier, e.Index, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// UnmarshalJSON accepts "error" as a string or as an object, like the rest of Port's errors.
func (e *BulkItemError) UnmarshalJSON(b []byte) error {
	var wire struct {
		Identifier string          `json:"identifier"`
		Index      int             `json:"index"`
		StatusCode int             `json:"statusCode"`
		Error      json.RawMessage `json:"error"`
		Message    string          `json:"message"`
	}
	if err := json.Unmarshal(b, &wire); err != nil {
		return err
	}
	*e = BulkItemError{Identifier: wire.Identifier, Index: wire.Index, StatusCode: wire.StatusCode}
	e.Code, e.Message = flattenError(wire.Error, wire.Message)
	return nil
}
