package portemu

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is a request the emulator refused, as Port would answer it: the HTTP status and Port's error
// envelope fields. The run methods (CreateRun, ApproveRun, FinishRun) return it too.
//
// Codes used: not_found (404), unauthorized (401), conflict (409), body_too_large (413),
// invalid_request (422: the body or query string does not fit the route's schema — malformed JSON, an
// unknown or mistyped field or parameter), validation_error (422: the request is well formed but breaks a
// rule of the data model or of a run's life cycle), rate_limit_exceeded (429), internal_error (500).
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: http.StatusInternalServerError, Code: "internal_error", Message: err.Error()}
}

func notFound(format string, a ...any) *Error {
	return &Error{Status: http.StatusNotFound, Code: "not_found", Message: fmt.Sprintf(format, a...)}
}

func invalidRequest(format string, a ...any) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "invalid_request", Message: fmt.Sprintf(format, a...)}
}

func validationError(format string, a ...any) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: "validation_error", Message: fmt.Sprintf(format, a...)}
}

func conflict(format string, a ...any) *Error {
	return &Error{Status: http.StatusConflict, Code: "conflict", Message: fmt.Sprintf(format, a...)}
}

func unauthorized(format string, a ...any) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: fmt.Sprintf(format, a...)}
}
