// Package auth authenticates callers of the gateway's HTTP API with bearer
// tokens (RFC 6750): JSON Web Tokens (RFC 7519) signed HS256 with a shared
// secret (tokens printed by `airbranch token`), or RS256/ES256 by the bank's
// OIDC single sign-on, verified against the keys of a JWKS file (RFC 7517)
// selected by kid. A verified token becomes a Principal: who (sub), in which
// role (rm, supervisor, admin) and team.
package auth

import (
	"context"
	"fmt"
	"slices"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Role is what a principal may do, from the token's "role" claim.
type Role string

// The roles the API knows.
const (
	// RoleRM is a relationship manager (or specialist): sees their team's
	// conversations and those assigned to or involving them.
	RoleRM Role = "rm"
	// RoleSupervisor watches queues and RMs: of their team when the token
	// has a team claim, of every team when it has none.
	RoleSupervisor Role = "supervisor"
	// RoleAdmin sees and does everything.
	RoleAdmin Role = "admin"
)

// Roles lists every role.
var Roles = []Role{RoleRM, RoleSupervisor, RoleAdmin}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Principal is the authenticated caller: Subject is the token's sub (an RM
// id for role rm, a user id otherwise), Team its team claim (required for
// role rm, optional for supervisors, ignored for admins).
type Principal struct {
	Subject string              `json:"sub"`
	Role    Role                `json:"role"`
	Team    conversation.TeamID `json:"team,omitempty"`
}

// RMID returns the subject as an RM id.
func (p Principal) RMID() conversation.RMID { return conversation.RMID(p.Subject) }

// HasRole reports whether the principal's role is one of roles.
func (p Principal) HasRole(roles ...Role) bool { return slices.Contains(roles, p.Role) }

// Validate checks that the subject is set (at most 256 bytes), the role is
// one of Roles, and role rm has a team. Errors wrap ErrInvalidPrincipal.
func (p Principal) Validate() error {
	switch {
	case p.Subject == "":
		return fmt.Errorf("%w: empty subject (sub)", ErrInvalidPrincipal)
	case len(p.Subject) > maxClaimBytes:
		return fmt.Errorf("%w: subject longer than %d bytes", ErrInvalidPrincipal, maxClaimBytes)
	case !p.Role.Valid():
		return fmt.Errorf("%w: role %q (allowed: %v)", ErrInvalidPrincipal, p.Role, Roles)
	case p.Role == RoleRM && p.Team == "":
		return fmt.Errorf("%w: role rm needs a team claim", ErrInvalidPrincipal)
	case len(p.Team) > maxClaimBytes:
		return fmt.Errorf("%w: team longer than %d bytes", ErrInvalidPrincipal, maxClaimBytes)
	}
	return nil
}

// maxClaimBytes bounds the sub and team claims.
const maxClaimBytes = 256

type principalKey struct{}

// NewContext returns ctx carrying p; Middleware does this for every
// authenticated request.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal NewContext stored in ctx, and whether
// there is one.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
