package webchat

import (
	"errors"
	"fmt"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Sentinel errors of the web chat adapter. Callers match them with
// errors.Is.
var (
	// ErrConfig: the configuration is invalid; Validate joins one error
	// per problem, each naming its field.
	ErrConfig = errors.New("invalid webchat configuration")
	// ErrMissingToken: no bearer token in the Authorization header nor in
	// a "bearer.<token>" subprotocol (HTTP 401).
	ErrMissingToken = errors.New("webchat: missing bearer token")
	// ErrInvalidToken: the token is malformed, badly signed, not yet
	// valid, of another issuer or audience, or lacks a claim (HTTP 401).
	ErrInvalidToken = errors.New("webchat: invalid token")
	// ErrExpiredToken: the token's exp has passed by more than Leeway
	// (HTTP 401; the app asks its backend for a new token).
	ErrExpiredToken = fmt.Errorf("%w: expired", ErrInvalidToken)
	// ErrForbidden: a valid token whose client cannot chat (a customer id
	// with no app_user address in customer-subject mode) (HTTP 403).
	ErrForbidden = errors.New("webchat: forbidden")
	// ErrKeys: the public key file (PEM) or JWKS file cannot be read or
	// holds no usable key.
	ErrKeys = errors.New("webchat: token keys")
	// ErrAttachmentNotFound: no stored attachment with that id (never
	// uploaded, expired, or another client's). It wraps
	// conversation.ErrNotFound.
	ErrAttachmentNotFound = fmt.Errorf("webchat: attachment: %w", conversation.ErrNotFound)
	// ErrAttachmentTooLarge: an upload over Config.Attachments.MaxBytes
	// (HTTP 413).
	ErrAttachmentTooLarge = errors.New("webchat: attachment too large")
	// ErrAttachmentType: an upload whose MIME type is not allowed, or
	// whose content is not of the type it claims (HTTP 415).
	ErrAttachmentType = errors.New("webchat: attachment type not allowed")
	// ErrStoreFull: the memory attachment store holds its maximum bytes
	// (HTTP 507).
	ErrStoreFull = errors.New("webchat: attachment store full")
)

// FrameError is a client frame refused by the server, sent back as an
// error frame with Code (see PROTOCOL.md: bad_frame, unknown_type,
// bad_request, rate_limited, attachment_not_found, forbidden, not_found,
// unavailable, internal). RetryAfterMS, when > 0, says when the same
// frame may be sent again (rate_limited, unavailable).
type FrameError struct {
	Code         string
	Message      string
	RetryAfterMS int64
}

// Error implements error.
func (e *FrameError) Error() string { return "webchat frame " + e.Code + ": " + e.Message }
