package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/airbranch/airbranch/gateway/state"
)

// Error codes of the {"error":{"code":...}} body.
const (
	codeBadRequest           = "bad_request"
	codeUnauthorized         = "unauthorized"
	codeForbidden            = "forbidden"
	codeNotFound             = "not_found"
	codeMethodNotAllowed     = "method_not_allowed"
	codePayloadTooLarge      = "payload_too_large"
	codeUnsupportedMediaType = "unsupported_media_type"
	codeUnavailable          = "unavailable"
	codeInternal             = "internal"
)

// retryAfterSeconds is the Retry-After (RFC 9110 §10.2.3) sent with 503.
const retryAfterSeconds = "5"

// httpError is an answer decided by a handler: its status, code and a
// message safe to show the caller (no personal data beyond what the caller
// sent, no internals).
type httpError struct {
	status  int
	code    string
	message string
}

// Error returns the message.
func (e *httpError) Error() string { return e.message }

// errorf returns an httpError with a formatted message.
func errorf(status int, code, format string, args ...any) *httpError {
	return &httpError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *httpError {
	return errorf(http.StatusBadRequest, codeBadRequest, format, args...)
}

func forbidden(format string, args ...any) *httpError {
	return errorf(http.StatusForbidden, codeForbidden, format, args...)
}

func notFound(format string, args ...any) *httpError {
	return errorf(http.StatusNotFound, codeNotFound, format, args...)
}

// classify turns err into the answer to send: an httpError as it is; the
// store's ErrUnavailable as 503; a request the caller cancelled as 503
// (nobody reads it); anything else as a 500 whose detail stays in the log.
func classify(err error) (e *httpError, internal bool) {
	if errors.As(err, &e) {
		return e, false
	}
	switch {
	case errors.Is(err, state.ErrUnavailable):
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "the state store is unavailable; retry after %s s", retryAfterSeconds), false
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "the request was cancelled or timed out; retry after %s s", retryAfterSeconds), false
	}
	return errorf(http.StatusInternalServerError, codeInternal, "internal error"), true
}
