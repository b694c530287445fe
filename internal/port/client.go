package port

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"
)

const (
	defaultTimeout   = 30 * time.Second
	defaultRetries   = 4
	defaultMinWait   = 500 * time.Millisecond
	defaultMaxWait   = 20 * time.Second
	defaultUserAgent = "port-roi-action/dev"

	// MaxRequestBody is Port's limit on request bodies: "The body of all requests is limited to 1 MiB"
	// (https://docs.port.io/api-reference/port-api). Larger bodies are refused before they are sent.
	MaxRequestBody = 1 << 20

	// maxErrorBody bounds how much of an error response is read; Port's error envelope is a few hundred bytes.
	maxErrorBody = 64 << 10
	// maxSuccessBody bounds a success response: a search page of 1000 entities is a few MiB at most.
	maxSuccessBody = 32 << 20
)

// ErrRequestTooLarge is returned, wrapped, for a request body over MaxRequestBody. Port would answer 413;
// a bulk caller can split the batch and try again.
var ErrRequestTooLarge = errors.New("request body is larger than Port's 1 MiB limit")

// Credentials are a Port client id and secret (Port app → … → Credentials). They are only ever sent in the
// body of POST /v1/auth/access_token.
type Credentials struct {
	ClientID     string
	ClientSecret string
}

// String redacts the secret, so that printing Credentials by mistake never leaks it.
func (c Credentials) String() string {
	return fmt.Sprintf("{ClientID:%s ClientSecret:REDACTED}", c.ClientID)
}

// GoString redacts the secret for %#v as well.
func (c Credentials) GoString() string {
	return fmt.Sprintf("port.Credentials{ClientID:%q, ClientSecret:\"REDACTED\"}", c.ClientID)
}

// Option configures a Client in New. An option that gets a bad value makes New fail.
type Option func(*Client) error

// WithTimeout bounds each request attempt (connect, send, and read the whole reply); retries get a fresh
// timeout each. The default is 30s. The caller's context bounds the call as a whole.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("timeout %s: must be positive", d)
		}
		c.timeout = d
		return nil
	}
}

// WithRetries sets how often a transient failure is retried (max; 0 disables retries) and the range of the
// exponential backoff between attempts. Every wait, including one asked for by Retry-After or
// x-ratelimit-reset, is capped at maxWait. The default is 4 retries between 500ms and 20s.
func WithRetries(max int, minWait, maxWait time.Duration) Option {
	return func(c *Client) error {
		switch {
		case max < 0:
			return fmt.Errorf("retries %d: must not be negative", max)
		case minWait < 0 || maxWait < 0:
			return fmt.Errorf("retry waits %s..%s: must not be negative", minWait, maxWait)
		case minWait > maxWait:
			return fmt.Errorf("retry waits %s..%s: the minimum is above the maximum", minWait, maxWait)
		}
		c.retries, c.minWait, c.maxWait = max, minWait, maxWait
		return nil
	}
}

// WithUserAgent sets the User-Agent header sent with every request; the default is "port-roi-action/dev".
func WithUserAgent(s string) Option {
	return func(c *Client) error {
		if strings.TrimSpace(s) == "" || strings.ContainsAny(s, "\r\n") {
			return fmt.Errorf("user agent %q: must be a non-empty single line", s)
		}
		c.userAgent = s
		return nil
	}
}

// WithTokenObserver registers f to be called with every new access token as soon as it is obtained and
// before it is used, so that the caller can mask it in CI logs. f runs while the client holds its token lock:
// it must not call the Client.
func WithTokenObserver(f func(token string)) Option {
	return func(c *Client) error {
		if f == nil {
			return errors.New("token observer: must not be nil")
		}
		c.onToken = f
		return nil
	}
}

// WithDebug registers f to receive one line per request attempt: method, path (without the query string),
// status or network error, duration, Port's trace id and the retry decision. Lines never hold request or
// response bodies, query strings, credentials or tokens.
func WithDebug(f func(msg string)) Option {
	return func(c *Client) error {
		if f == nil {
			return errors.New("debug function: must not be nil")
		}
		c.debug = f
		return nil
	}
}

// WithHTTPClient sets the HTTP client whose transport carries the requests. The client is copied: its
// Timeout is replaced by the WithTimeout value and redirects are never followed (a redirect would resend the
// token to wherever it points, and turn a POST into a GET).
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("http client: must not be nil")
		}
		c.httpClient = hc
		return nil
	}
}

// WithClock sets the clock used for token expiry and for Retry-After dates and epoch rate-limit resets.
// Context deadlines and waits use the real clock.
func WithClock(now func() time.Time) Option {
	return func(c *Client) error {
		if now == nil {
			return errors.New("clock: must not be nil")
		}
		c.now = now
		return nil
	}
}

// Client is a Port API client. It is safe for concurrent use; one Client holds one access token.
type Client struct {
	baseURL   string // scheme://host[/prefix], without a trailing slash
	creds     Credentials
	userAgent string
	timeout   time.Duration
	retries   int
	minWait   time.Duration
	maxWait   time.Duration

	httpClient *http.Client
	onToken    func(string)
	debug      func(string)
	now        func() time.Time

	rc    *resty.Client
	pacer *pacer // holds requests while Port's rate-limit window is spent (ratelimit.go)

	// tokenLock is a mutex that a caller whose context ends can stop waiting for.
	tokenLock   chan struct{}
	token       string       // guarded by tokenLock; memory only
	tokenExpiry time.Time    // guarded by tokenLock; zero when Port did not say
	announced   string       // guarded by tokenLock; the last token given to onToken
	fetchErr    error        // guarded by tokenLock; why the last token fetch failed (nil if it did not)
	fetchesDone atomic.Int64 // token fetches finished, whatever their outcome

	requests     atomic.Int64
	retried      atomic.Int64
	tokenFetches atomic.Int64
}

// Stats counts what a Client has done so far.
type Stats struct {
	Requests     int64 // request attempts sent, token requests and retries included
	Retries      int64 // attempts that repeated a failed one (429, 5xx, network error); not the repeat after a 401
	TokenFetches int64 // calls to the token route
}

// New returns a client for the Port API at baseURL, such as https://api.port.io (EU) or
// https://api.us.port.io (US); a path prefix is kept (http://127.0.0.1:8080/port). No request is made until
// the first call.
func New(baseURL string, creds Credentials, opts ...Option) (*Client, error) {
	base, err := parseBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	var errs []error
	if strings.TrimSpace(creds.ClientID) == "" {
		errs = append(errs, errors.New("port client id is empty"))
	}
	if strings.TrimSpace(creds.ClientSecret) == "" {
		errs = append(errs, errors.New("port client secret is empty"))
	}
	c := &Client{
		baseURL:   base,
		creds:     creds,
		userAgent: defaultUserAgent,
		timeout:   defaultTimeout,
		retries:   defaultRetries,
		minWait:   defaultMinWait,
		maxWait:   defaultMaxWait,
		now:       time.Now,
		tokenLock: make(chan struct{}, 1),
	}
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(c); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("new port client: %w", err)
	}

	hc := &http.Client{}
	if c.httpClient != nil {
		copied := *c.httpClient
		hc = &copied
	}
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
		if t, ok := rt.(*http.Transport); ok {
			rt = t.Clone() // a pool of connections of our own
		}
	}
	c.pacer = newPacer(time.Now, c.now, c.maxWait, c.debug)
	hc.Transport = &meteredTransport{base: rt, requests: &c.requests, pacer: c.pacer}
	hc.Timeout = c.timeout
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.httpClient = hc

	c.rc = resty.NewWithClient(hc).
		SetLogger(nopLogger{}).
		SetResponseBodyLimit(maxSuccessBody).
		SetRetryCount(c.retries).
		SetRetryWaitTime(c.minWait).
		SetRetryMaxWaitTime(c.maxWait).
		SetRetryAfter(c.retryAfter).
		AddRetryCondition(c.retryCondition).
		OnBeforeRequest(c.pace)
	return c, nil
}

// parseBaseURL checks that s is an absolute http(s) URL without query, fragment or user info, and returns it
// without a trailing slash so that API paths ("/v1/…") can be appended.
func parseBaseURL(s string) (string, error) {
	const want = "an absolute http or https URL such as https://api.port.io"
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("invalid Port base URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("invalid Port base URL %q: expected %s", u.Redacted(), want)
	case u.Host == "" || u.Opaque != "":
		return "", fmt.Errorf("invalid Port base URL %q: expected %s", u.Redacted(), want)
	case u.User != nil:
		return "", fmt.Errorf("invalid Port base URL %q: must not contain user info", u.Redacted())
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("invalid Port base URL %q: must not have a query or fragment", u.Redacted())
	}
	p := strings.TrimRight(u.EscapedPath(), "/")
	if strings.HasSuffix(p, "/v1") {
		return "", fmt.Errorf("invalid Port base URL %q: leave out the /v1 suffix (API paths add it)", u.Redacted())
	}
	return u.Scheme + "://" + u.Host + p, nil
}

// String describes the client by its base URL only, so that printing a Client (%v, %+v) never shows the
// credentials or the token held in its fields.
func (c *Client) String() string { return "port.Client(" + c.baseURL + ")" }

// GoString does the same for %#v.
func (c *Client) GoString() string { return c.String() }

// Stats returns the counters so far. It is safe for concurrent use.
func (c *Client) Stats() Stats {
	return Stats{
		Requests:     c.requests.Load(),
		Retries:      c.retried.Load(),
		TokenFetches: c.tokenFetches.Load(),
	}
}

// request is one API call before it is sent.
type request struct {
	method string
	path   string // escaped and relative to the base URL, e.g. /v1/blueprints/a%2Fb/entities
	query  url.Values
	body   []byte // encoded JSON, or nil

	noAuth    bool // the token route: no Authorization header, no refresh on 401
	once      bool // not idempotent: retried only when it cannot have reached Port
	partialOK bool // a 207 is a success whatever "ok" says (bulk upserts report per-item errors)
}

// newRequest builds a request for the path made of segments, each escaped on its own, with body (if not nil)
// encoded as JSON without HTML escaping.
func (c *Client) newRequest(method string, body any, segments ...string) (*request, error) {
	var p strings.Builder
	var bad error
	for _, s := range segments {
		p.WriteByte('/')
		p.WriteString(url.PathEscape(s))
		switch {
		case bad != nil:
		case s == "":
			bad = errors.New("an identifier is empty")
		case s == "." || s == "..":
			bad = fmt.Errorf("identifier %q cannot be used in a URL path", s)
		}
	}
	req := &request{method: method, path: p.String()}
	if bad != nil {
		return nil, fmt.Errorf("%s %s: %w", method, req.path, bad)
	}
	if body != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(body); err != nil {
			return nil, fmt.Errorf("%s %s: encode request body: %w", method, req.path, err)
		}
		req.body = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		if len(req.body) > MaxRequestBody {
			return nil, fmt.Errorf("%s %s: %d bytes: %w", method, req.path, len(req.body), ErrRequestTooLarge)
		}
	}
	return req, nil
}

// envelope is the part of every Port response that says whether the call worked.
type envelope struct {
	OK      *bool           `json:"ok"`
	Error   json.RawMessage `json:"error"`
	Message string          `json:"message"`
}

func (e *envelope) base() *envelope { return e }

// response is a decoded Port response: the envelope plus the route's payload.
type response interface{ base() *envelope }

// payloadChecker is implemented by responses that must carry a payload key; missing names the absent key.
type payloadChecker interface{ missing() string }

// do sends req with a token, refreshes the token once on a 401 and repeats the request once, then decodes
// the answer into v.
func (c *Client) do(ctx context.Context, req *request, v response) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s %s: %w", req.method, req.path, err)
	}
	var token string
	if !req.noAuth {
		var err error
		if token, err = c.accessToken(ctx); err != nil {
			return err
		}
	}
	resp, cl, err := c.send(ctx, req, token)
	if err == nil && !req.noAuth && resp.StatusCode() == http.StatusUnauthorized {
		if token, err = c.refreshToken(ctx, token); err != nil {
			return err
		}
		resp, cl, err = c.send(ctx, req, token)
	}
	if err != nil {
		return err
	}
	if err := c.checkResponse(req, resp, v); err != nil {
		return cl.wrap(err)
	}
	return nil
}

// send runs one resty execution of req (the first attempt and its retries). An error means no usable
// response: the context ended, the network failed, or the body was too large to read.
func (c *Client) send(ctx context.Context, req *request, token string) (*resty.Response, *call, error) {
	cl := &call{req: req}
	r := c.rc.R().
		SetContext(context.WithValue(ctx, callKey{}, cl)).
		SetHeader("Accept", "application/json").
		SetHeader("User-Agent", c.userAgent)
	if token != "" {
		r.SetHeader("Authorization", "Bearer "+token)
	}
	if req.body != nil {
		r.SetHeader("Content-Type", "application/json").SetBody(req.body)
	}
	u := c.baseURL + req.path
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
	}
	resp, err := r.Execute(req.method, u)
	c.pacer.done(&cl.ticket, nil) // an attempt that never reached the transport
	if r.Attempt > 1 {
		c.retried.Add(int64(r.Attempt - 1))
	}
	// A retry was decided but its attempt never started: the context ended during the wait.
	interruptedWait := cl.waiting && cl.logged == r.Attempt
	if cl.logged < r.Attempt {
		c.logAttempt(cl, resp, err, r.Attempt, "")
	}
	if err == nil {
		return resp, cl, nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		if interruptedWait {
			return nil, cl, fmt.Errorf("%s %s: %w while waiting to retry after %s", req.method, req.path, ctxErr, cl.lastOutcome)
		}
		return nil, cl, fmt.Errorf("%s %s: %w", req.method, req.path, ctxErr)
	}
	if errors.Is(err, resty.ErrResponseBodyTooLarge) && resp != nil && resp.RawResponse != nil {
		return nil, cl, &DecodeError{
			Method: req.method, Path: req.path, StatusCode: resp.StatusCode(), TraceID: traceID(resp),
			Err: fmt.Errorf("the body is larger than %d bytes", maxSuccessBody),
		}
	}
	return nil, cl, cl.wrap(fmt.Errorf("%s %s: %w", req.method, req.path, connectionClosed(unwrapURLError(err))))
}

// closedError is a request whose connection was closed before the whole answer arrived. The transport only
// says "EOF"; this says what happened, and is a net.Error like the other network failures, so that callers
// treat it as Port being unreachable.
type closedError struct{ err error }

func (e *closedError) Error() string {
	return "the connection was closed before Port answered (" + e.err.Error() + ")"
}
func (e *closedError) Unwrap() error   { return e.err }
func (e *closedError) Timeout() bool   { return false }
func (e *closedError) Temporary() bool { return false }

// connectionClosed wraps the transport's EOF errors in a closedError.
func connectionClosed(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return &closedError{err}
	}
	return err
}

// checkResponse turns a response into nil (a 2xx with ok:true, decoded into v), an *APIError or a
// *DecodeError.
func (c *Client) checkResponse(req *request, resp *resty.Response, v response) error {
	status := resp.StatusCode()
	if status < 200 || status > 299 {
		return newAPIError(req, status, traceID(resp), resp.Body())
	}
	decodeErr := func(err error) error {
		return &DecodeError{Method: req.method, Path: req.path, StatusCode: status, TraceID: traceID(resp), Err: err}
	}
	if err := json.Unmarshal(resp.Body(), v); err != nil {
		return decodeErr(err)
	}
	env := v.base()
	switch {
	case req.partialOK && status == http.StatusMultiStatus:
	case env.OK == nil:
		return decodeErr(errors.New(`the body has no "ok" field`))
	case !*env.OK:
		e := &APIError{Method: req.method, Path: req.path, StatusCode: status, TraceID: traceID(resp)}
		e.Code, e.Message = flattenError(env.Error, env.Message)
		return e
	}
	if pc, ok := v.(payloadChecker); ok {
		if key := pc.missing(); key != "" {
			return decodeErr(fmt.Errorf("the body has no %q", key))
		}
	}
	return nil
}

func traceID(resp *resty.Response) string { return resp.Header().Get("X-Trace-Id") }

// unwrapURLError drops the *url.Error layer, whose text repeats the method and the full URL (host and
// query string included); the caller prefixes method and path itself.
func unwrapURLError(err error) error {
	if ue, ok := errors.AsType[*url.Error](err); ok && ue.Err != nil {
		return ue.Err
	}
	return err
}

// meteredTransport counts request attempts, hands each answer's rate-limit headers to the pacer and bounds
// how much of an error response can be read.
type meteredTransport struct {
	base     http.RoundTripper
	requests *atomic.Int64
	pacer    *pacer
}

func (t *meteredTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	t.requests.Add(1)
	resp, err := t.base.RoundTrip(r)
	if cl, ok := r.Context().Value(callKey{}).(*call); ok {
		t.pacer.done(&cl.ticket, resp)
	}
	if err == nil && (resp.StatusCode < 200 || resp.StatusCode > 299) {
		resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, maxErrorBody), Closer: resp.Body}
	}
	return resp, err
}

type limitedBody struct {
	io.Reader
	io.Closer
}

// nopLogger keeps resty quiet: its warnings would go to stderr, outside the caller's control.
type nopLogger struct{}

func (nopLogger) Errorf(string, ...any) {}
func (nopLogger) Warnf(string, ...any)  {}
func (nopLogger) Debugf(string, ...any) {}
