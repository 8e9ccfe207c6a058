package auth

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/airbranch/airbranch/channels/conversation"
)

// MinSecretBytes is the shortest HS256 secret accepted: 32 bytes, the size
// of the SHA-256 output (RFC 7518 §3.2).
const MinSecretBytes = 32

// maxTokenBytes bounds the token text read from a header.
const maxTokenBytes = 16 << 10

// ClockSkew is the leeway allowed between the issuer's clock and ours when
// exp, nbf and iat are checked (RFC 7519 §4.1.4-4.1.6 allow "some small
// leeway"): 30 s.
const ClockSkew = 30 * time.Second

// MaxTokenLifetime is the longest lifetime a token may claim: exp − iat,
// or exp − now for a token without iat. 30 days, the upper bound of the
// configuration's auth.token_ttl; a token meant to live longer is refused
// even before it expires.
const MaxTokenLifetime = 30 * 24 * time.Hour

// VerifierOptions configures a Verifier. Secret (at least MinSecretBytes)
// enables HS256; JWKSFile, a JSON Web Key Set (RFC 7517) from the bank's
// OIDC provider, enables RS256 and ES256. At least one is required. Issuer,
// when set, must equal the token's iss; Audience, when set, must be one of
// its aud. Now is the clock (time.Now when nil).
type VerifierOptions struct {
	Secret   []byte
	JWKSFile string
	Issuer   string
	Audience string
	Now      func() time.Time
}

// Verifier checks bearer tokens. It is immutable and safe for concurrent
// use.
type Verifier struct {
	secret  []byte
	keys    *keySet
	methods []string
	parser  *jwt.Parser
	now     func() time.Time
}

// claims is the token body: the registered claims (RFC 7519 §4.1) and
// Airbranch's role and team.
type claims struct {
	Role string `json:"role"`
	Team string `json:"team,omitempty"`
	jwt.RegisteredClaims
}

// NewVerifier returns a Verifier for opts. It reads the JWKS file once.
// Errors: ErrNoKeys when neither Secret nor JWKSFile is set, ErrWeakSecret
// for a short secret, ErrKeySet for an unreadable file or one without a
// usable key.
func NewVerifier(opts VerifierOptions) (*Verifier, error) {
	if len(opts.Secret) == 0 && opts.JWKSFile == "" {
		return nil, ErrNoKeys
	}
	v := &Verifier{}
	if len(opts.Secret) > 0 {
		if len(opts.Secret) < MinSecretBytes {
			return nil, fmt.Errorf("%w: got %d bytes", ErrWeakSecret, len(opts.Secret))
		}
		v.secret = append([]byte(nil), opts.Secret...)
		v.methods = append(v.methods, jwt.SigningMethodHS256.Alg())
	}
	if opts.JWKSFile != "" {
		ks, err := loadKeySet(opts.JWKSFile)
		if err != nil {
			return nil, err
		}
		v.keys = ks
		v.methods = append(v.methods, jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg())
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	parserOpts := []jwt.ParserOption{
		jwt.WithValidMethods(v.methods),
		jwt.WithTimeFunc(now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
	}
	if opts.Issuer != "" {
		parserOpts = append(parserOpts, jwt.WithIssuer(opts.Issuer))
	}
	if opts.Audience != "" {
		parserOpts = append(parserOpts, jwt.WithAudience(opts.Audience))
	}
	parserOpts = append(parserOpts, jwt.WithLeeway(ClockSkew))
	v.parser = jwt.NewParser(parserOpts...)
	v.now = now
	return v, nil
}

// Algorithms returns the JWS algorithms this verifier accepts, e.g.
// [HS256 RS256 ES256].
func (v *Verifier) Algorithms() []string { return append([]string(nil), v.methods...) }

// KeyIDs returns the kids of the usable JWKS keys, in file order.
func (v *Verifier) KeyIDs() []string {
	if v.keys == nil {
		return nil
	}
	ids := make([]string, 0, len(v.keys.keys.Keys))
	for _, k := range v.keys.keys.Keys {
		ids = append(ids, k.KeyID)
	}
	return ids
}

// Verify checks a compact-serialised JWT (RFC 7519 §3, RFC 7515 §7.1) and
// returns its principal. The token must be signed with an accepted
// algorithm (HS256 with the secret; RS256 or ES256 with the JWKS key named
// by its kid header, of the matching type: never "none", never HS256 with a
// public key), have exp in the future, nbf and iat (when present) not in
// the future, each within ClockSkew, a lifetime (exp − iat, or exp − now
// without iat) of at most MaxTokenLifetime, iss and aud as configured, a
// sub, a role among Roles and, for role rm, a team. Errors:
// ErrMissingToken for an empty token, ErrExpiredToken once exp has passed
// (by more than ClockSkew), ErrInvalidToken for anything else; messages
// never contain the token.
func (v *Verifier) Verify(token string) (Principal, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return Principal{}, ErrMissingToken
	}
	if len(token) > maxTokenBytes {
		return Principal{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, maxTokenBytes)
	}
	var c claims
	if _, err := v.parser.ParseWithClaims(token, &c, v.key); err != nil {
		return Principal{}, tokenError(err)
	}
	from, what := v.now(), "exp - now"
	if c.IssuedAt != nil {
		from, what = c.IssuedAt.Time, "exp - iat"
	}
	if life := c.ExpiresAt.Sub(from); life > MaxTokenLifetime {
		return Principal{}, fmt.Errorf("%w: lifetime (%s) of %s exceeds the maximum of %s (30 days)", ErrInvalidToken, what, life.Round(time.Second), MaxTokenLifetime)
	}
	p := Principal{Subject: c.Subject, Role: Role(c.Role), Team: conversation.TeamID(c.Team)}
	if err := p.Validate(); err != nil {
		return Principal{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return p, nil
}

// key returns the key that verifies t, chosen by its algorithm and kid.
func (v *Verifier) key(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	switch alg {
	case jwt.SigningMethodHS256.Alg():
		if len(v.secret) == 0 {
			return nil, errors.New("HS256 is not accepted: no shared secret is configured")
		}
		return v.secret, nil
	case jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg():
		if v.keys == nil {
			return nil, fmt.Errorf("%s is not accepted: no JWKS file is configured", alg)
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, fmt.Errorf("%s token without a kid header", alg)
		}
		if reason, ok := v.keys.skipped[kid]; ok {
			return nil, fmt.Errorf("key %s cannot verify tokens: %s", printable(kid), reason)
		}
		found := v.keys.keys.Key(kid)
		if len(found) == 0 {
			return nil, fmt.Errorf("unknown key id %s", printable(kid))
		}
		if want := v.keys.alg[kid]; want != alg {
			return nil, fmt.Errorf("key %s verifies %s, not %s", printable(kid), want, alg)
		}
		return found[0].Key, nil
	}
	return nil, fmt.Errorf("algorithm %s is not accepted (allowed: %v)", printable(alg), v.methods)
}

// tokenError maps the JWT library's error to ErrExpiredToken or
// ErrInvalidToken with a short reason.
func tokenError(err error) error {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return ErrExpiredToken
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fmt.Errorf("%w: malformed (want header.payload.signature, RFC 7519 §3)", ErrInvalidToken)
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return fmt.Errorf("%w: not valid yet (nbf)", ErrInvalidToken)
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return fmt.Errorf("%w: issued in the future (iat)", ErrInvalidToken)
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return fmt.Errorf("%w: issuer (iss) not accepted", ErrInvalidToken)
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return fmt.Errorf("%w: audience (aud) not accepted", ErrInvalidToken)
	}
	return fmt.Errorf("%w: %v", ErrInvalidToken, err)
}

// printable quotes s for an error message, cut to 64 bytes: header values
// come from the caller.
func printable(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return fmt.Sprintf("%q", s)
}
