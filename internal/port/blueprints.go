package port

import (
	"context"
	"net/http"
)

type blueprintResponse struct {
	envelope
	Blueprint Object `json:"blueprint"`
}

func (r *blueprintResponse) missing() string { return missingIf(r.Blueprint == nil, "blueprint") }

type pageResponse struct {
	envelope
	Page Object `json:"page"`
}

func (r *pageResponse) missing() string { return missingIf(r.Page == nil, "page") }

// GetBlueprint returns the blueprint id.
//
// Port API docs: https://docs.port.io/api-reference/get-a-blueprint
func (c *Client) GetBlueprint(ctx context.Context, id string) (Object, error) {
	req, err := c.newRequest(http.MethodGet, nil, "v1", "blueprints", id)
	if err != nil {
		return nil, err
	}
	var out blueprintResponse
	if err := c.do(ctx, req, &out); err != nil {
		return nil, err
	}
	return out.Blueprint, nil
}

// CreateBlueprint creates a blueprint from def (identifier, title and schema are required). Port also
// creates its catalog page. A relation whose target blueprint does not exist yet is refused.
//
// Port API docs: https://docs.port.io/api-reference/create-a-blueprint
func (c *Client) CreateBlueprint(ctx context.Context, def Object) (Object, error) {
	return c.blueprintCall(ctx, http.MethodPost, def, "v1", "blueprints")
}

// UpdateBlueprint replaces the blueprint id with def; what def leaves out is removed.
//
// Port API docs: https://docs.port.io/api-reference/change-a-blueprint
func (c *Client) UpdateBlueprint(ctx context.Context, id string, def Object) (Object, error) {
	return c.blueprintCall(ctx, http.MethodPut, def, "v1", "blueprints", id)
}

// PatchBlueprint changes the fields of the blueprint id that patch holds.
//
// Port API docs: https://docs.port.io/api-reference/patch-a-blueprint
func (c *Client) PatchBlueprint(ctx context.Context, id string, patch Object) (Object, error) {
	return c.blueprintCall(ctx, http.MethodPatch, patch, "v1", "blueprints", id)
}

func (c *Client) blueprintCall(ctx context.Context, method string, body Object, segments ...string) (Object, error) {
	if body == nil {
		body = Object{}
	}
	req, err := c.newRequest(method, body, segments...)
	if err != nil {
		return nil, err
	}
	var out blueprintResponse
	if err := c.do(ctx, req, &out); err != nil {
		return nil, err
	}
	return out.Blueprint, nil
}

// GetPage returns the page id. The Pages API is in beta.
//
// Port API docs: https://docs.port.io/api-reference/pages
func (c *Client) GetPage(ctx context.Context, id string) (Object, error) {
	req, err := c.newRequest(http.MethodGet, nil, "v1", "pages", id)
	if err != nil {
		return nil, err
	}
	var out pageResponse
	if err := c.do(ctx, req, &out); err != nil {
		return nil, err
	}
	return out.Page, nil
}

// CreatePage creates a page from def. Port answers with the page identifier only, not the page.
//
// Port API docs: https://docs.port.io/api-reference/pages
func (c *Client) CreatePage(ctx context.Context, def Object) error {
	if def == nil {
		def = Object{}
	}
	req, err := c.newRequest(http.MethodPost, def, "v1", "pages")
	if err != nil {
		return err
	}
	return c.do(ctx, req, &envelope{})
}

// PatchPage changes the fields of the page id that patch holds.
//
// Port API docs: https://docs.port.io/api-reference/pages
func (c *Client) PatchPage(ctx context.Context, id string, patch Object) error {
	if patch == nil {
		patch = Object{}
	}
	req, err := c.newRequest(http.MethodPatch, patch, "v1", "pages", id)
	if err != nil {
		return err
	}
	return c.do(ctx, req, &envelope{})
}
