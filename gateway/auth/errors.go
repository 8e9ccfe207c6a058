package auth

import (
	"errors"
	"fmt"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Sentinel errors of bearer-token authentication; match them with
// errors.Is.
var (
	// ErrMissingToken: the request has no "Authorization: Bearer" token.
	ErrMissingToken = errors.New("auth: no bearer token")
	// ErrInvalidToken: the token is malformed, signed with an algorithm or
	// key that is not accepted, has a bad signature, fails the iss/aud/nbf/
	// iat checks, or carries claims that are not allowed.
	ErrInvalidToken = errors.New("auth: invalid token")
	// ErrExpiredToken: the token's exp has passed. It wraps ErrInvalidToken.
	ErrExpiredToken = fmt.Errorf("%w: expired", ErrInvalidToken)
	// ErrForbidden: the principal's role or team does not allow the request.
	ErrForbidden = errors.New("auth: forbidden")
	// ErrInvalidPrincipal: a principal without a subject, with an unknown
	// role, or with role rm and no team. It wraps conversation.ErrInvalid.
	ErrInvalidPrincipal = fmt.Errorf("auth: invalid principal: %w", conversation.ErrInvalid)
	// ErrWeakSecret: an HS256 secret shorter than MinSecretBytes.
	ErrWeakSecret = fmt.Errorf("auth: HS256 secret shorter than %d bytes (RFC 7518 §3.2)", MinSecretBytes)
	// ErrKeySet: the JWKS file cannot be read or holds no usable key.
	ErrKeySet = errors.New("auth: JSON Web Key Set")
	// ErrNoKeys: neither a secret nor a JWKS file was configured, so no
	// token could ever be verified.
	ErrNoKeys = errors.New("auth: no HS256 secret and no JWKS file")
)
