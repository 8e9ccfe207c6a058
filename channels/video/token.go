package video

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Role is what a participant may do in a room.
type Role string

// Roles.
const (
	// RoleClient is the bank's client: waits in the lobby until an RM
	// admits them.
	RoleClient Role = "client"
	// RoleRM is a relationship manager: joins directly, admits from the
	// lobby, removes participants, ends the room.
	RoleRM Role = "rm"
	// RoleSpecialist is a product specialist, wealth adviser or portfolio
	// manager invited by the RM: joins directly.
	RoleSpecialist Role = "specialist"
	// RoleObserver joins directly and receives only (a supervisor, a
	// compliance officer): its media is not forwarded.
	RoleObserver Role = "observer"
)

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	return r == RoleClient || r == RoleRM || r == RoleSpecialist || r == RoleObserver
}

// RoomID names a video room.
type RoomID string

// Token issuer and audience.
const (
	// TokenIssuer is the "iss" of join tokens.
	TokenIssuer = "airbranch"
	// TokenAudience is the "aud" of join tokens.
	TokenAudience = "airbranch.video"
)

// Grant is what a join token allows: Identity (the JWT "sub": an RM id,
// a customer id, a specialist's id) may join Room as Role, shown as Name,
// until ExpiresAt.
type Grant struct {
	Room      RoomID    `json:"room"`
	Role      Role      `json:"role"`
	Identity  string    `json:"identity"`
	Name      string    `json:"name,omitempty"`
	ExpiresAt time.Time `json:"expires_at"`
}

// String describes the grant for logs: ids only, never the name.
func (g Grant) String() string { return fmt.Sprintf("%s as %s in %s", g.Identity, g.Role, g.Room) }

type claims struct {
	jwt.RegisteredClaims
	Room RoomID `json:"room"`
	Role Role   `json:"role"`
	Name string `json:"name,omitempty"`
}

// Tokens issues and verifies join tokens: HS256 JWTs (RFC 7519, RFC
// 7518 §3.2) with iss TokenIssuer, aud TokenAudience, sub the identity,
// and the claims room, role and name.
type Tokens struct {
	secret []byte
	leeway time.Duration
}

// NewTokens returns Tokens signing with secret (at least 32 bytes, RFC
// 7518 §3.2). leeway is the clock skew allowed on exp, nbf and iat.
func NewTokens(secret []byte, leeway time.Duration) (*Tokens, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("%w: token secret: at least 32 bytes", ErrConfig)
	}
	return &Tokens{secret: append([]byte(nil), secret...), leeway: leeway}, nil
}

// Issue signs a token for g valid from now for ttl; g.ExpiresAt is
// ignored. It returns the token and its expiry.
func (t *Tokens) Issue(g Grant, ttl time.Duration, now time.Time) (string, time.Time, error) {
	if g.Room == "" || g.Identity == "" || !g.Role.Valid() || ttl <= 0 {
		return "", time.Time{}, errors.New("video: a token needs a room, an identity, a role and a ttl > 0")
	}
	exp := now.Add(ttl).Truncate(time.Second)
	c := claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: TokenIssuer, Audience: jwt.ClaimStrings{TokenAudience}, Subject: g.Identity,
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp), ID: conversation.NewUUIDv7(now)},
		Room: g.Room, Role: g.Role, Name: g.Name}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("video: sign token: %w", err)
	}
	return s, exp, nil
}

// Verify checks a token at now and returns its grant. Errors wrap
// ErrExpiredToken or ErrInvalidToken.
func (t *Tokens) Verify(token string, now time.Time) (Grant, error) {
	if token == "" {
		return Grant{}, fmt.Errorf("%w: missing bearer token", ErrInvalidToken)
	}
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithIssuer(TokenIssuer), jwt.WithAudience(TokenAudience),
		jwt.WithExpirationRequired(), jwt.WithLeeway(t.leeway), jwt.WithTimeFunc(func() time.Time { return now }))
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Grant{}, ErrExpiredToken
	case err != nil:
		return Grant{}, fmt.Errorf("%w: %w", ErrInvalidToken, err)
	case c.Subject == "" || c.Room == "" || !c.Role.Valid():
		return Grant{}, fmt.Errorf("%w: sub, room and a role (client, rm, specialist, observer) are required", ErrInvalidToken)
	}
	return Grant{Room: c.Room, Role: c.Role, Identity: c.Subject, Name: c.Name, ExpiresAt: c.ExpiresAt.Time}, nil
}
