// Package port is a typed client for the Port REST API (https://docs.port.io/api-reference/port-api): the
// access token, actions and automations, action runs and their logs, entities, blueprints and pages.
//
// Every call goes through one path (newRequest → do → checkResponse) built on resty: path segments are
// escaped, bodies are JSON without HTML escaping, transient failures (network errors, 429, 500, 502, 503,
// 504) are retried with Retry-After / x-ratelimit-reset / exponential backoff, a 401 refreshes the token once,
// and every failure Port reports comes back as an *APIError. Requests are paced by Port's x-ratelimit-*
// headers: once a window is spent, new requests of all goroutines wait for its reset (ratelimit.go). The package reads no environment and prints
// nothing; an optional debug callback receives one line per request attempt, without bodies or tokens.
package port
