package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
)

// realm is the protection space named in WWW-Authenticate challenges.
const realm = "airbranch"

// Middleware authenticates every request with v. It reads the token from
// "Authorization: Bearer <token>" (RFC 6750 §2.1; the scheme is matched
// without regard to case, RFC 9110 §11.1) and puts the Principal in the
// request context (see FromContext). A missing, malformed, invalid or
// expired token is answered 401 with a WWW-Authenticate challenge (RFC 6750
// §3: `Bearer realm="airbranch"`, plus error="invalid_token" and a
// description when a token was given) and a JSON body
// {"error":{"code":"unauthorized","message":"..."}}, marked
// "Cache-Control: no-store" like every refusal of this package. Refusals
// are logged at info level with the reason, never with the token.
func Middleware(v *Verifier, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := v.Verify(bearerToken(r))
			if err != nil {
				log.LogAttrs(r.Context(), slog.LevelInfo, "bearer token refused",
					slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("reason", err.Error()))
				Unauthorized(w, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), p)))
		})
	}
}

// bearerToken returns the token of an "Authorization: Bearer" header, or
// "" when there is none (or another scheme is used).
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// RequireRole lets a request through when the principal in its context
// (put there by Middleware) has one of roles. Otherwise it answers 403 with
// `WWW-Authenticate: Bearer realm="airbranch", error="insufficient_scope"`
// (RFC 6750 §3.1) and a JSON error naming the allowed roles, or 401 when
// there is no principal at all.
func RequireRole(roles ...Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, ok := FromContext(r.Context())
			if !ok {
				Unauthorized(w, ErrMissingToken)
				return
			}
			if !p.HasRole(roles...) {
				Forbidden(w, fmt.Errorf("%w: role %s may not %s %s (allowed: %v)", ErrForbidden, p.Role, r.Method, r.URL.Path, roles))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// Unauthorized writes a 401 answer for err (from Verify) with the RFC 6750
// §3 challenge: no error code when the token was missing (§3.1),
// error="invalid_token" and a description otherwise. The answer is
// "Cache-Control: no-store".
func Unauthorized(w http.ResponseWriter, err error) {
	challenge := `Bearer realm="` + realm + `"`
	msg := "a bearer token is required (Authorization: Bearer <token>)"
	if !errors.Is(err, ErrMissingToken) {
		msg = challengeText(err.Error())
		challenge += `, error="invalid_token", error_description="` + msg + `"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	writeError(w, http.StatusUnauthorized, "unauthorized", msg)
}

// Forbidden writes a 403 answer for err with the RFC 6750 §3.1
// insufficient_scope challenge, "Cache-Control: no-store".
func Forbidden(w http.ResponseWriter, err error) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="`+realm+`", error="insufficient_scope"`)
	writeError(w, http.StatusForbidden, "forbidden", err.Error())
}

// challengeText keeps only the characters RFC 6750 §3 allows in
// error_description (%x20-21 / %x23-5B / %x5D-7E): "§" and "…" are spelt
// out, quotes become "'", backslashes and anything else outside printable
// ASCII become "?".
func challengeText(s string) string {
	s = strings.NewReplacer("§", "section ", "…", "...").Replace(s)
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r == '\\' || r < 0x20 || r > 0x7e:
			return '?'
		}
		return r
	}, s)
}

// writeError writes {"error":{"code","message"}} with status. Refusals are
// not to be stored by caches (RFC 9111 §5.2.2.5): a shared cache must not
// answer another caller's request with them.
func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]map[string]string{"error": {"code": code, "message": msg}})
}
