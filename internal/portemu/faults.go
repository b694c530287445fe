package portemu

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"time"
)

// Fault is a failure to inject into matching requests. Faults are matched in the order they were injected;
// the first one that matches and is not used up applies.
type Fault struct {
	// Method matches the request method; "" matches any.
	Method string
	// Path matches the escaped request path exactly, or as a prefix when it ends in "*".
	Path string
	// Times is how many matching requests the fault applies to; 0 means forever.
	Times int

	// Status answers with this status instead of handling the request. Without Body the answer is Port's
	// error envelope for that status.
	Status int
	Body   string
	// Header is added to the fault's answer (e.g. Retry-After, x-ratelimit-*).
	Header http.Header
	// Drop hijacks the connection and closes it without answering.
	Drop bool
	// Delay waits before answering normally, or with Status if set. The wait ends when the client goes away.
	Delay time.Duration
	// ExpireToken invalidates every access token, then handles the request normally (so it gets 401).
	ExpireToken bool
	// AfterHandling handles the request for real, state changes included, and then drops the connection
	// (Drop) or answers Status instead of the real answer: a lost response.
	AfterHandling bool
}

type faultState struct {
	Fault
	used int
}

// InjectFault queues a fault.
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.Header = f.Header.Clone()
	s.faults = append(s.faults, &faultState{Fault: f})
}

// matchFault finds and uses up the first matching fault.
func (s *Server) matchFault(method, path string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.Times > 0 && f.used >= f.Times {
			continue
		}
		if f.Method != "" && !strings.EqualFold(f.Method, method) {
			continue
		}
		if prefix, ok := strings.CutSuffix(f.Path, "*"); ok {
			if !strings.HasPrefix(path, prefix) {
				continue
			}
		} else if f.Path != path {
			continue
		}
		f.used++
		out := f.Fault
		out.Header = f.Header.Clone()
		return &out
	}
	return nil
}

// applyFault answers a request that matched f and returns the status answered (0 when none was).
func (s *Server) applyFault(ctx context.Context, w http.ResponseWriter, r *http.Request, body []byte, f *Fault) int {
	if f.Delay > 0 && !sleepCtx(ctx, f.Delay) {
		return 0
	}
	if f.ExpireToken {
		s.ExpireTokens()
	}
	if f.AfterHandling {
		real := s.handle(ctx, r, body)
		switch {
		case f.Drop:
			drop(w)
			return 0
		case f.Status != 0:
			resp := s.faultResponse(f)
			resp.write(w)
			return resp.status
		default:
			real.write(w)
			return real.status
		}
	}
	switch {
	case f.Drop:
		drop(w)
		return 0
	case f.Status != 0:
		resp := s.faultResponse(f)
		resp.write(w)
		return resp.status
	default:
		resp := s.handle(ctx, r, body)
		resp.write(w)
		return resp.status
	}
}

func (s *Server) faultResponse(f *Fault) *response {
	var resp *response
	if f.Body != "" {
		h := http.Header{}
		h.Set("Content-Type", "application/json; charset=utf-8")
		h.Set("X-Trace-Id", newID(""))
		resp = &response{status: f.Status, header: h, body: bytes.Clone([]byte(f.Body))}
	} else {
		code := "internal_error"
		switch {
		case f.Status == http.StatusTooManyRequests:
			code = "rate_limit_exceeded"
		case f.Status == http.StatusUnauthorized:
			code = "unauthorized"
		case f.Status == http.StatusNotFound:
			code = "not_found"
		case f.Status < 500:
			code = "invalid_request"
		}
		resp = s.errorResponse(&Error{Status: f.Status, Code: code, Message: "injected fault: " + http.StatusText(f.Status)})
	}
	for k, vs := range f.Header {
		resp.header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	return resp
}

// drop closes the connection without an answer. When the connection cannot be hijacked (HTTP/2), aborting
// the handler makes the server reset the stream instead.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}
