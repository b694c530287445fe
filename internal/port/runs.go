package port

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Run routes are always called with version=v2, as Port's own clients do: the v1 run shape differs
// (action is a string there).

type runResponse struct {
	envelope
	Run Run `json:"run"`
}

func (r *runResponse) missing() string { return missingIf(r.Run.ID == "", "run") }

func runV2() url.Values { return url.Values{"version": {"v2"}} }

// CreateRun starts a run of the self-service action actionID with properties as its inputs. It is not
// idempotent, so it is retried only when it cannot have reached Port (the connection failed, or a 429).
//
// Port API docs: https://docs.port.io/api-reference/execute-a-self-service-action
func (c *Client) CreateRun(ctx context.Context, actionID string, properties map[string]any) (Run, error) {
	if properties == nil {
		properties = map[string]any{} // required by the route, even when the action has no inputs
	}
	body := struct {
		Properties map[string]any `json:"properties"`
	}{properties}
	req, err := c.newRequest(http.MethodPost, body, "v1", "actions", actionID, "runs")
	if err != nil {
		return Run{}, err
	}
	req.once = true
	var out runResponse
	if err := c.do(ctx, req, &out); err != nil {
		return Run{}, err
	}
	return out.Run, nil
}

// GetRun returns the run runID.
//
// Port API docs: https://docs.port.io/api-reference/get-an-action-runs-details
func (c *Client) GetRun(ctx context.Context, runID string) (Run, error) {
	req, err := c.newRequest(http.MethodGet, nil, "v1", "actions", "runs", runID)
	if err != nil {
		return Run{}, err
	}
	req.query = runV2()
	var out runResponse
	if err := c.do(ctx, req, &out); err != nil {
		return Run{}, err
	}
	return out.Run, nil
}

// PatchRun changes the run runID; a Status of SUCCESS or FAILURE ends it. An empty patch is refused
// before it is sent, since Port would accept it and change nothing.
//
// Port API docs: https://docs.port.io/api-reference/patch-an-action-run
func (c *Client) PatchRun(ctx context.Context, runID string, p RunPatch) (Run, error) {
	if p == (RunPatch{}) {
		return Run{}, fmt.Errorf("patch run %q: nothing to change", runID)
	}
	req, err := c.newRequest(http.MethodPatch, p, "v1", "actions", "runs", runID)
	if err != nil {
		return Run{}, err
	}
	req.query = runV2()
	var out runResponse
	if err := c.do(ctx, req, &out); err != nil {
		return Run{}, err
	}
	return out.Run, nil
}

// ApproveRun approves (approve=true) or declines the run runID, which waits for approval; description is
// optional.
//
// Port API docs: https://docs.port.io/api-reference/approve-an-action-run
func (c *Client) ApproveRun(ctx context.Context, runID string, approve bool, description string) (Run, error) {
	body := struct {
		Status      string `json:"status"`
		Description string `json:"description,omitempty"`
	}{"DECLINE", description}
	if approve {
		body.Status = "APPROVE"
	}
	req, err := c.newRequest(http.MethodPatch, body, "v1", "actions", "runs", runID, "approval")
	if err != nil {
		return Run{}, err
	}
	var out runResponse
	if err := c.do(ctx, req, &out); err != nil {
		return Run{}, err
	}
	return out.Run, nil
}

// AddRunLog appends a line to the log of the run runID. A TerminationStatus ends the run; after that the run
// cannot change.
//
// Port API docs: https://docs.port.io/api-reference/add-a-log-to-an-action-run
func (c *Client) AddRunLog(ctx context.Context, runID string, l RunLog) error {
	req, err := c.newRequest(http.MethodPost, l, "v1", "actions", "runs", runID, "logs")
	if err != nil {
		return err
	}
	return c.do(ctx, req, &envelope{})
}
