package portemu

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// handleToken is POST /v1/auth/access_token. Like Port, the same credentials get the same token back while
// it is still valid, with expiresIn counting down (https://docs.port.io/api-reference/port-api).
func (s *Server) handleToken(c *call) (int, any, error) {
	body, err := c.object()
	if err != nil {
		return 0, nil, err
	}
	if err := onlyKeys("body", body, "clientId", "clientSecret"); err != nil {
		return 0, nil, err
	}
	id, idOK := body["clientId"].(string)
	secret, secretOK := body["clientSecret"].(string)
	if !idOK || !secretOK {
		return 0, nil, invalidRequest("body must have required properties 'clientId' and 'clientSecret' (strings)")
	}
	if id != s.clientID || secret != s.clientSecret {
		return 0, nil, unauthorized("invalid client id or client secret")
	}
	now := s.now()
	exp, ok := s.tokens[s.current]
	if !ok || !now.Before(exp) {
		s.current = newID("emu_")
		s.issued = append(s.issued, s.current)
		exp = now.Add(s.tokenTTL)
		s.tokens[s.current] = exp
	}
	return http.StatusOK, map[string]any{
		"ok":          true,
		"accessToken": s.current,
		"expiresIn":   math.Floor(exp.Sub(now).Seconds()),
		"tokenType":   "Bearer",
	}, nil
}

// authenticate checks an Authorization header value.
func (s *Server) authenticate(header string) error {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return unauthorized("missing or malformed Authorization header; send \"Authorization: Bearer <accessToken>\"")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, known := s.tokens[token]
	if !known {
		return unauthorized("invalid access token")
	}
	if !s.now().Before(exp) {
		return unauthorized("access token expired")
	}
	return nil
}

// Tokens returns every access token handed out so far, expired or not, so that tests can check that none
// of them leaks into logs, outputs or files.
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// ExpireTokens invalidates every access token handed out so far; the next request with one gets 401 and
// the token route hands out a fresh token.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireTokensLocked()
}

func (s *Server) expireTokensLocked() {
	clear(s.tokens)
	s.current = ""
}

// rateLimit is a fixed-window counter of authenticated requests.
type rateLimit struct {
	limit   int
	period  time.Duration
	asEpoch bool

	windowStart time.Time
	count       int
}

// applyRateLimit counts one authenticated request, sets the x-ratelimit-* headers and returns a 429 error
// when the window is exhausted.
func (s *Server) applyRateLimit(h http.Header) error {
	if s.rate == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rl, now := s.rate, s.now()
	if rl.windowStart.IsZero() || !now.Before(rl.windowStart.Add(rl.period)) {
		rl.windowStart, rl.count = now, 0
	}
	rl.count++
	resetAt := rl.windowStart.Add(rl.period)
	untilReset := int(math.Ceil(resetAt.Sub(now).Seconds()))
	remaining := max(rl.limit-rl.count, 0)
	h.Set("x-ratelimit-limit", strconv.Itoa(rl.limit))
	h.Set("x-ratelimit-remaining", strconv.Itoa(remaining))
	h.Set("x-ratelimit-period", strconv.Itoa(int(math.Ceil(rl.period.Seconds()))))
	if rl.asEpoch {
		h.Set("x-ratelimit-reset", strconv.FormatInt(int64(math.Ceil(float64(resetAt.UnixMilli())/1000)), 10))
	} else {
		h.Set("x-ratelimit-reset", strconv.Itoa(untilReset))
	}
	if rl.count > rl.limit {
		h.Set("Retry-After", strconv.Itoa(max(untilReset, 1)))
		return &Error{Status: http.StatusTooManyRequests, Code: "rate_limit_exceeded", Message: "too many requests, retry after " + strconv.Itoa(max(untilReset, 1)) + "s"}
	}
	return nil
}
