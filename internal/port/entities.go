package port

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// MaxBulkEntities is how many entities one bulk upsert may carry ("No more than 20 entities per request").
const MaxBulkEntities = 20

type entityResponse struct {
	envelope
	Entity Entity `json:"entity"`
}

func (r *entityResponse) missing() string { return missingIf(r.Entity.Identifier == "", "entity") }

type searchResponse struct {
	envelope
	SearchPage
}

func (r *searchResponse) missing() string { return missingIf(r.Entities == nil, "entities") }

type bulkResponse struct {
	envelope
	BulkResult
}

// entityBody is what the entity routes accept: an Entity without the fields only Port sets.
type entityBody struct {
	Identifier string         `json:"identifier"`
	Title      string         `json:"title,omitempty"`
	Icon       string         `json:"icon,omitempty"`
	Team       any            `json:"team,omitempty"`
	Properties map[string]any `json:"properties,omitempty"`
	Relations  map[string]any `json:"relations,omitempty"`
}

func bodyOf(e Entity) entityBody {
	return entityBody{
		Identifier: e.Identifier, Title: e.Title, Icon: e.Icon, Team: e.Team,
		Properties: e.Properties, Relations: e.Relations,
	}
}

func (o UpsertOptions) values() url.Values {
	v := url.Values{"upsert": {"true"}}
	if o.Merge {
		v.Set("merge", "true")
	}
	if o.RunID != "" {
		v.Set("run_id", o.RunID)
	}
	if o.CreateMissingRelated {
		v.Set("create_missing_related_entities", "true")
	}
	return v
}

// GetEntity returns the entity id of blueprint.
//
// Port API docs: https://docs.port.io/api-reference/get-an-entity
func (c *Client) GetEntity(ctx context.Context, blueprint, id string) (Entity, error) {
	req, err := c.newRequest(http.MethodGet, nil, "v1", "blueprints", blueprint, "entities", id)
	if err != nil {
		return Entity{}, err
	}
	var out entityResponse
	if err := c.do(ctx, req, &out); err != nil {
		return Entity{}, err
	}
	return out.Entity, nil
}

// UpsertEntity creates e in blueprint or, if it exists, replaces it (or, with o.Merge, updates the fields
// sent). The response-only fields of e (Blueprint, CreatedAt, UpdatedAt) are not sent. A relation to an
// entity that does not exist fails with a 404 "not_found" unless o.CreateMissingRelated.
//
// Port API docs: https://docs.port.io/api-reference/create-an-entity
func (c *Client) UpsertEntity(ctx context.Context, blueprint string, e Entity, o UpsertOptions) (Entity, error) {
	req, err := c.newRequest(http.MethodPost, bodyOf(e), "v1", "blueprints", blueprint, "entities")
	if err != nil {
		return Entity{}, err
	}
	req.query = o.values()
	var out entityResponse
	if err := c.do(ctx, req, &out); err != nil {
		return Entity{}, err
	}
	return out.Entity, nil
}

// BulkUpsertEntities upserts up to MaxBulkEntities entities of blueprint in one call. Port answers 207 when
// some of them failed: that is not an error here; the failures are in BulkResult.Errors. No entities, no
// request.
//
// Port API docs: https://docs.port.io/api-reference/create-multiple-entities
func (c *Client) BulkUpsertEntities(ctx context.Context, blueprint string, es []Entity, o UpsertOptions) (BulkResult, error) {
	if len(es) == 0 {
		return BulkResult{}, nil
	}
	if len(es) > MaxBulkEntities {
		return BulkResult{}, fmt.Errorf("bulk upsert into blueprint %q: %d entities, at most %d per call", blueprint, len(es), MaxBulkEntities)
	}
	body := struct {
		Entities []entityBody `json:"entities"`
	}{make([]entityBody, len(es))}
	for i, e := range es {
		body.Entities[i] = bodyOf(e)
	}
	req, err := c.newRequest(http.MethodPost, body, "v1", "blueprints", blueprint, "entities", "bulk")
	if err != nil {
		return BulkResult{}, err
	}
	req.query = o.values()
	req.partialOK = true
	var out bulkResponse
	if err := c.do(ctx, req, &out); err != nil {
		return BulkResult{}, err
	}
	return out.BulkResult, nil
}

// SearchEntities returns one page of the entities of blueprint that match r; pass the page's Next as r.From
// to get the next one. An empty combinator means "and", and no rules match every entity.
//
// Port API docs: https://docs.port.io/api-reference/search-a-blueprints-entities
func (c *Client) SearchEntities(ctx context.Context, blueprint string, r SearchRequest) (SearchPage, error) {
	if r.Query.Combinator == "" {
		r.Query.Combinator = "and"
	}
	if r.Query.Rules == nil {
		r.Query.Rules = []any{} // required by the route; null is refused
	}
	req, err := c.newRequest(http.MethodPost, r, "v1", "blueprints", blueprint, "entities", "search")
	if err != nil {
		return SearchPage{}, err
	}
	var out searchResponse
	if err := c.do(ctx, req, &out); err != nil {
		return SearchPage{}, err
	}
	return out.SearchPage, nil
}

// DeleteEntity deletes the entity id of blueprint.
//
// Port API docs: https://docs.port.io/api-reference/delete-an-entity
func (c *Client) DeleteEntity(ctx context.Context, blueprint, id string) error {
	req, err := c.newRequest(http.MethodDelete, nil, "v1", "blueprints", blueprint, "entities", id)
	if err != nil {
		return err
	}
	return c.do(ctx, req, &envelope{})
}
