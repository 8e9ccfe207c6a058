package auth

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// IssueOption adds a registered claim to a token made by Issue.
type IssueOption func(*jwt.RegisteredClaims)

// WithIssuer sets the token's iss claim (RFC 7519 §4.1.1), for a gateway
// whose Verifier checks the issuer.
func WithIssuer(iss string) IssueOption {
	return func(c *jwt.RegisteredClaims) { c.Issuer = iss }
}

// WithAudience sets the token's aud claim (RFC 7519 §4.1.3), for a gateway
// whose Verifier checks the audience.
func WithAudience(aud string) IssueOption {
	return func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{aud} }
}

// Issue returns a compact JWT for p signed HS256 with secret (RFC 7519,
// RFC 7518 §3.2): sub, role, team (when set), iat and nbf at now, exp at
// now+ttl, and a random jti. Errors: ErrInvalidPrincipal for a principal
// Verify would refuse, ErrWeakSecret for a secret shorter than
// MinSecretBytes, and an error for ttl <= 0 or over MaxTokenLifetime
// (which Verify would refuse too).
func Issue(secret []byte, p Principal, ttl time.Duration, now time.Time, opts ...IssueOption) (string, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	if len(secret) < MinSecretBytes {
		return "", fmt.Errorf("%w: got %d bytes", ErrWeakSecret, len(secret))
	}
	if ttl <= 0 || ttl > MaxTokenLifetime {
		return "", fmt.Errorf("auth: token lifetime %s: must be positive and at most %s (30 days)", ttl, MaxTokenLifetime)
	}
	var jti [16]byte
	_, _ = rand.Read(jti[:]) // crypto/rand.Read never returns an error (Go 1.24+)
	c := claims{
		Role: string(p.Role),
		Team: string(p.Team),
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   p.Subject,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        hex.EncodeToString(jti[:]),
		},
	}
	for _, o := range opts {
		o(&c.RegisteredClaims)
	}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return tok, nil
}
