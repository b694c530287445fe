package port

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
)

// Self-service actions and automations share the /v1/actions routes; trigger.type tells them apart.

type actionResponse struct {
	envelope
	Action Object `json:"action"`
}

func (r *actionResponse) missing() string { return missingIf(r.Action == nil, "action") }

type actionsResponse struct {
	envelope
	Actions []Object `json:"actions"`
}

func (r *actionsResponse) missing() string { return missingIf(r.Actions == nil, "actions") }

func missingIf(absent bool, key string) string {
	if absent {
		return key
	}
	return ""
}

// GetAction returns the action or automation id, as Port stores it (metadata included).
//
// Port API docs: https://docs.port.io/api-reference/get-an-action-automation
func (c *Client) GetAction(ctx context.Context, id string) (Object, error) {
	req, err := c.newRequest(http.MethodGet, nil, "v1", "actions", id)
	if err != nil {
		return nil, err
	}
	var out actionResponse
	if err := c.do(ctx, req, &out); err != nil {
		return nil, err
	}
	return out.Action, nil
}

// ListActions returns the actions and automations that match q (all of its filters at once).
//
// Port API docs: https://docs.port.io/api-reference/get-actions-automations
func (c *Client) ListActions(ctx context.Context, q ListActionsQuery) ([]Object, error) {
	req, err := c.newRequest(http.MethodGet, nil, "v1", "actions")
	if err != nil {
		return nil, err
	}
	req.query = q.values()
	var out actionsResponse
	if err := c.do(ctx, req, &out); err != nil {
		return nil, err
	}
	return out.Actions, nil
}

func (q ListActionsQuery) values() url.Values {
	v := url.Values{}
	add := func(key string, values ...string) {
		for _, s := range values {
			if s != "" {
				v.Add(key, s)
			}
		}
	}
	add("action_identifier", q.ActionIdentifiers...)
	add("blueprint_identifier", q.BlueprintIdentifiers...)
	add("operation", q.Operations...)
	add("trigger_type", q.TriggerType)
	add("trigger_event", q.TriggerEvents...)
	add("trigger_event_action_identifier", q.TriggerEventActionIdentifiers...)
	if q.Published != nil {
		v.Set("published", strconv.FormatBool(*q.Published))
	}
	// "Set the version parameter to v2 for the latest version of the API" (get-actions-automations).
	if q.Version == "" {
		q.Version = "v2"
	}
	v.Set("version", q.Version)
	return v
}

// CreateAction creates an action or automation from def, sending only the fields the route accepts
// (ActionBody). An existing identifier is an error; callers check IsConflict and read the action back.
//
// Port API docs: https://docs.port.io/api-reference/create-an-action-automation
func (c *Client) CreateAction(ctx context.Context, def Object) (Object, error) {
	req, err := c.newRequest(http.MethodPost, ActionBody(def), "v1", "actions")
	if err != nil {
		return nil, err
	}
	var out actionResponse
	if err := c.do(ctx, req, &out); err != nil {
		return nil, err
	}
	return out.Action, nil
}

// UpdateAction replaces the action or automation id with def. Server metadata in def (createdAt, …) is
// stripped, since the route rejects unknown fields.
//
// Port API docs: https://docs.port.io/api-reference/change-an-action-automation
func (c *Client) UpdateAction(ctx context.Context, id string, def Object) (Object, error) {
	req, err := c.newRequest(http.MethodPut, ActionBody(def), "v1", "actions", id)
	if err != nil {
		return nil, err
	}
	var out actionResponse
	if err := c.do(ctx, req, &out); err != nil {
		return nil, err
	}
	return out.Action, nil
}

// DeleteAction deletes the action or automation id.
//
// Port API docs: https://docs.port.io/api-reference/delete-an-action-automation
func (c *Client) DeleteAction(ctx context.Context, id string) error {
	req, err := c.newRequest(http.MethodDelete, nil, "v1", "actions", id)
	if err != nil {
		return err
	}
	return c.do(ctx, req, &envelope{})
}
