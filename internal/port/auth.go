package port

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// tokenMargin is how long before its expiry a token is replaced. Port hands back the same active token
// while it is valid (https://docs.port.io/api-reference/port-api), with less time left, so the margin is
// also capped at a tenth of the lifetime: a token fetched near its end is not refetched on every call.
const tokenMargin = time.Minute

type tokenRequest struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

type tokenResponse struct {
	envelope
	AccessToken string  `json:"accessToken"`
	ExpiresIn   float64 `json:"expiresIn"`
	TokenType   string  `json:"tokenType"`
}

func (r *tokenResponse) missing() string {
	if r.AccessToken == "" {
		return "accessToken"
	}
	return ""
}

// Authenticate makes sure the client holds a valid access token, fetching one if it has none: a way to
// check the credentials (and mask the token) before the first real call. Every call does this lazily.
//
// Port API docs: https://docs.port.io/api-reference/create-an-access-token
func (c *Client) Authenticate(ctx context.Context) error {
	_, err := c.accessToken(ctx)
	return err
}

// accessToken returns the current token, fetching a new one when there is none or it is about to expire.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	done := c.fetchesDone.Load()
	if err := c.lockToken(ctx); err != nil {
		return "", err
	}
	defer c.unlockToken()
	if c.token != "" && (c.tokenExpiry.IsZero() || c.now().Before(c.tokenExpiry)) {
		return c.token, nil
	}
	if err := c.waitedForFailure(done); err != nil {
		return "", err
	}
	return c.fetchToken(ctx)
}

// refreshToken replaces a token that Port rejected with a 401, unless another call already replaced it.
func (c *Client) refreshToken(ctx context.Context, rejected string) (string, error) {
	done := c.fetchesDone.Load()
	if err := c.lockToken(ctx); err != nil {
		return "", err
	}
	defer c.unlockToken()
	if c.token != "" && c.token != rejected {
		return c.token, nil
	}
	if err := c.waitedForFailure(done); err != nil {
		return "", err
	}
	return c.fetchToken(ctx)
}

// waitedForFailure returns the error of a token fetch that failed while the caller waited for tokenLock
// (done is the count of finished fetches when it started waiting). Calls that queue up behind a failing fetch
// share its error instead of each repeating the fetch and its retries: with Port down, a run of concurrent
// calls would otherwise send the token request, and wait out its backoff, once per call. The caller holds
// tokenLock.
func (c *Client) waitedForFailure(done int64) error {
	if c.fetchesDone.Load() == done {
		return nil
	}
	return c.fetchErr
}

func (c *Client) lockToken(ctx context.Context) error {
	select {
	case c.tokenLock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for the Port access token: %w", ctx.Err())
	}
}

func (c *Client) unlockToken() { <-c.tokenLock }

// fetchToken gets a token from POST /v1/auth/access_token. The caller holds tokenLock. Neither the secret
// nor the token can end up in an error: errors never carry bodies.
func (c *Client) fetchToken(ctx context.Context) (_ string, err error) {
	c.tokenFetches.Add(1)
	c.token, c.tokenExpiry = "", time.Time{}
	defer func() {
		// A failure is shared with the calls waiting for this fetch, unless it is only that this caller's
		// context ended: the others may still have time.
		c.fetchErr = err
		if ctx.Err() != nil {
			c.fetchErr = nil
		}
		c.fetchesDone.Add(1)
	}()
	req, err := c.newRequest(http.MethodPost, tokenRequest{c.creds.ClientID, c.creds.ClientSecret}, "v1", "auth", "access_token")
	if err != nil {
		return "", err
	}
	req.noAuth = true
	start := c.now()
	var out tokenResponse
	if err := c.do(ctx, req, &out); err != nil {
		return "", err
	}
	if out.AccessToken != c.announced && c.onToken != nil {
		c.onToken(out.AccessToken)
	}
	c.announced = out.AccessToken
	c.token = out.AccessToken
	if out.ExpiresIn > 0 {
		lifetime := seconds(out.ExpiresIn)
		c.tokenExpiry = start.Add(lifetime - min(tokenMargin, lifetime/10))
	}
	return c.token, nil
}
