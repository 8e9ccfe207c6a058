package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
)

// openAPIPattern is the one route served without a token.
const openAPIPattern = "GET /api/v1/openapi.yaml"

// authenticate wraps the router: every request that would not reach the
// OpenAPI document goes through auth.Middleware (401 without a valid
// token) and checkPrincipal (403 for a token the directory does not
// confirm) before the router sees it. So an unauthenticated caller learns
// nothing of the routes (no 404 or 405 before the 401). Paths the router
// would clean (redirect) are authenticated too.
func (s *server) authenticate(v *auth.Verifier, next http.Handler) http.Handler {
	checked := s.checkPrincipal(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := s.mux.Handler(r); pattern == openAPIPattern {
			next.ServeHTTP(w, r)
			return
		}
		// The request's logger, so refusals carry the request id.
		auth.Middleware(v, logger(r.Context(), s.log))(checked).ServeHTTP(w, r)
	})
}

// checkPrincipal lets a request through when its principal (put there by
// auth.Middleware) agrees with the directory (principalInDirectory), and
// answers 403 otherwise.
func (s *server) checkPrincipal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := principal(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.principalInDirectory(r.Context(), p); err != nil {
			s.fail(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// principalInDirectory checks a verified token's claims against the
// directory, which the access rules (access.go) rely on. Role rm: the
// subject must be an RM of the directory and the team claim that RM's
// team, so a token issued before the RM moved team no longer opens the old
// team's conversations and customers. Role supervisor with a team claim:
// the team must exist. Admins, and supervisors without a team claim, are
// not checked. A mismatch is a 403 that says what to do; directory errors
// other than not found are returned.
func (s *server) principalInDirectory(ctx context.Context, p auth.Principal) error {
	switch {
	case p.Role == auth.RoleRM:
		rm, err := s.dir.RM(ctx, p.RMID())
		switch {
		case errors.Is(err, conversation.ErrNotFound):
			return forbidden("the token's subject %q is not an RM in the directory; role rm needs an RM id from the directory (ask for a new token)", p.Subject)
		case err != nil:
			return fmt.Errorf("api: token check: rm %s: %w", p.Subject, err)
		case rm.TeamID != p.Team:
			return forbidden("the token's team claim %q is not the team of rm %s in the directory (%s); ask for a new token", p.Team, p.Subject, rm.TeamID)
		}
	case p.Role == auth.RoleSupervisor && p.Team != "":
		_, err := s.dir.Team(ctx, p.Team)
		switch {
		case errors.Is(err, conversation.ErrNotFound):
			return forbidden("the token's team claim %q is not a team in the directory; ask for a new token (one without a team claim covers every team)", p.Team)
		case err != nil:
			return fmt.Errorf("api: token check: team %s: %w", p.Team, err)
		}
	}
	return nil
}
