package webchat

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Leeway is the clock skew allowed when a token's exp, nbf and iat are
// checked (RFC 7519 §4.1.4-4.1.6 allow "some small leeway"): 30 s.
const Leeway = 30 * time.Second

// maxTokenBytes bounds a token's text.
const maxTokenBytes = 16 << 10

// Anonymous tokens: signed by the adapter (HS256 with
// AnonymousConfig.Secret), told apart by their kid header and issuer.
const (
	anonKeyID  = "airbranch-webchat-anonymous"
	anonIssuer = "airbranch-webchat"
	anonPrefix = "anon-"
)

// VerificationClaim is the client token's claim naming how the bank
// verified the client: "none", "basic" or "strong" (absent:
// TokenConfig.DefaultVerification).
const VerificationClaim = "verification"

// tokenClaims is a client token's body: the registered claims (RFC 7519
// §4.1), the verification level, and the anonymous marker of the tokens
// this adapter issues.
type tokenClaims struct {
	Verification string `json:"verification,omitempty"`
	Anonymous    bool   `json:"anon,omitempty"`
	jwt.RegisteredClaims
}

// principal is who a valid token names.
type principal struct {
	Subject      string
	Verification conversation.Verification
	Anonymous    bool
	Expires      time.Time
}

// verifier checks client tokens; immutable and safe for concurrent use.
type verifier struct {
	cfg     TokenConfig
	secret  []byte
	pemKey  *publicKey
	jwks    map[string]publicKey
	skipped map[string]string
	anonKey []byte
	parser  *jwt.Parser
	anonP   *jwt.Parser
	now     func() time.Time
}

// newVerifier reads the key files of cfg once. Errors wrap ErrKeys.
func newVerifier(cfg TokenConfig, anon AnonymousConfig, now func() time.Time) (*verifier, error) {
	v := &verifier{cfg: cfg, secret: slices.Clone(cfg.Secret), now: now}
	var methods []string
	if len(v.secret) > 0 {
		methods = append(methods, jwt.SigningMethodHS256.Alg())
	}
	if cfg.PublicKeyFile != "" {
		k, err := loadPEMKey(cfg.PublicKeyFile)
		if err != nil {
			return nil, err
		}
		v.pemKey = &k
		methods = append(methods, k.alg)
	}
	if cfg.JWKSFile != "" {
		keys, skipped, err := loadJWKS(cfg.JWKSFile)
		if err != nil {
			return nil, err
		}
		v.jwks, v.skipped = keys, skipped
		methods = append(methods, jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg())
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(methods), jwt.WithTimeFunc(now), jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(), jwt.WithLeeway(Leeway),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(cfg.Audience))
	}
	v.parser = jwt.NewParser(opts...)
	if anon.Enabled {
		v.anonKey = slices.Clone(anon.Secret)
		v.anonP = jwt.NewParser(jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithTimeFunc(now),
			jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(Leeway), jwt.WithIssuer(anonIssuer))
	}
	return v, nil
}

// verify checks a compact JWT (RFC 7519 §3, RFC 7515 §7.1): a bank token
// signed with an accepted algorithm and key (HS256 with the secret; RS256
// or ES256 with the PEM key, or the JWKS key its kid names; never "none",
// never HS256 with a public key), exp in the future and nbf and iat not in
// the future (each within Leeway), a lifetime of at most MaxLifetime, iss
// and aud as configured, a sub, and a verification claim among none,
// basic, strong when present (and no "anon-" sub, kept for anonymous
// clients); or an anonymous token this adapter issued,
// while anonymous chat is enabled. Errors: ErrMissingToken,
// ErrExpiredToken, ErrInvalidToken with a short reason that never
// contains the token.
func (v *verifier) verify(token string) (principal, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return principal{}, ErrMissingToken
	}
	if len(token) > maxTokenBytes {
		return principal{}, fmt.Errorf("%w: longer than %d bytes", ErrInvalidToken, maxTokenBytes)
	}
	var head tokenClaims
	t, _, err := jwt.NewParser().ParseUnverified(token, &head)
	if err != nil {
		return principal{}, fmt.Errorf("%w: malformed (want header.payload.signature, RFC 7519 §3)", ErrInvalidToken)
	}
	if kid, _ := t.Header["kid"].(string); kid == anonKeyID {
		return v.verifyAnonymous(token)
	}
	var c tokenClaims
	if _, err := v.parser.ParseWithClaims(token, &c, v.key); err != nil {
		return principal{}, tokenError(err)
	}
	from, what := v.now(), "exp - now"
	if c.IssuedAt != nil {
		from, what = c.IssuedAt.Time, "exp - iat"
	}
	if life := c.ExpiresAt.Sub(from); life > v.cfg.MaxLifetime {
		return principal{}, fmt.Errorf("%w: lifetime (%s) of %s exceeds the maximum of %s", ErrInvalidToken, what, life.Round(time.Second), v.cfg.MaxLifetime)
	}
	p := principal{Subject: c.Subject, Verification: v.cfg.DefaultVerification, Expires: c.ExpiresAt.Time}
	if c.Verification != "" {
		p.Verification = conversation.Verification(c.Verification)
		if !p.Verification.Valid() {
			return principal{}, fmt.Errorf("%w: claim %s %s (allowed: %v)", ErrInvalidToken, VerificationClaim, printable(c.Verification), conversation.Verifications)
		}
	}
	if err := checkSubject(p.Subject); err != nil {
		return principal{}, err
	}
	if c.Anonymous || strings.HasPrefix(p.Subject, anonPrefix) {
		return principal{}, fmt.Errorf("%w: a bank token may not name an anonymous client", ErrInvalidToken)
	}
	return p, nil
}

// verifyAnonymous checks a token this adapter issued (see issueAnonymous).
func (v *verifier) verifyAnonymous(token string) (principal, error) {
	if v.anonKey == nil {
		return principal{}, fmt.Errorf("%w: anonymous chat is not enabled", ErrInvalidToken)
	}
	var c tokenClaims
	if _, err := v.anonP.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return v.anonKey, nil }); err != nil {
		return principal{}, tokenError(err)
	}
	if !c.Anonymous || !strings.HasPrefix(c.Subject, anonPrefix) {
		return principal{}, fmt.Errorf("%w: not an anonymous token", ErrInvalidToken)
	}
	if err := checkSubject(c.Subject); err != nil {
		return principal{}, err
	}
	return principal{Subject: c.Subject, Verification: conversation.VerificationNone, Anonymous: true, Expires: c.ExpiresAt.Time}, nil
}

// checkSubject refuses an empty subject, or one longer than 128 bytes or
// with control characters.
func checkSubject(s string) error {
	if s == "" {
		return fmt.Errorf("%w: no sub", ErrInvalidToken)
	}
	if len(s) > 128 || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%w: sub longer than 128 bytes or with control characters", ErrInvalidToken)
	}
	return nil
}

// key returns the key that verifies t, chosen by its algorithm and kid.
func (v *verifier) key(t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	switch alg {
	case jwt.SigningMethodHS256.Alg():
		if len(v.secret) == 0 {
			return nil, errors.New("HS256 is not accepted: no shared secret is configured")
		}
		return v.secret, nil
	case jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg():
		if v.pemKey != nil {
			if v.pemKey.alg != alg {
				return nil, fmt.Errorf("the public key verifies %s, not %s", v.pemKey.alg, alg)
			}
			return v.pemKey.key, nil
		}
		if v.jwks == nil {
			return nil, fmt.Errorf("%s is not accepted: no public key is configured", alg)
		}
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, fmt.Errorf("%s token without a kid header", alg)
		}
		if reason, ok := v.skipped[kid]; ok {
			return nil, fmt.Errorf("key %s cannot verify tokens: %s", printable(kid), reason)
		}
		k, ok := v.jwks[kid]
		switch {
		case !ok:
			return nil, fmt.Errorf("unknown key id %s", printable(kid))
		case k.alg != alg:
			return nil, fmt.Errorf("key %s verifies %s, not %s", printable(kid), k.alg, alg)
		}
		return k.key, nil
	}
	return nil, fmt.Errorf("algorithm %s is not accepted", printable(alg))
}

// issueAnonymous returns a new anonymous token for a new app user id
// "anon-<UUIDv7>", valid for ttl from now, and its expiry.
func issueAnonymous(secret []byte, ttl time.Duration, now time.Time) (string, time.Time, error) {
	exp := now.Add(ttl).Truncate(time.Second)
	c := tokenClaims{
		Anonymous:    true,
		Verification: string(conversation.VerificationNone),
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: anonIssuer, Subject: anonPrefix + conversation.NewUUIDv7(now),
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	t.Header["kid"] = anonKeyID
	s, err := t.SignedString(secret)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("webchat: sign anonymous token: %w", err)
	}
	return s, exp, nil
}

// bearerToken returns the token of r: the Authorization header's Bearer
// credentials (RFC 6750 §2.1), or the "bearer.<token>" WebSocket
// subprotocol a browser sends. A header of another scheme is an error.
func bearerToken(r *http.Request) (string, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", fmt.Errorf("%w: Authorization: use the Bearer scheme", ErrInvalidToken)
		}
		return rest, nil
	}
	for _, proto := range websocket.Subprotocols(r) {
		if t, ok := strings.CutPrefix(proto, "bearer."); ok {
			return t, nil
		}
	}
	return "", ErrMissingToken
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
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return fmt.Errorf("%w: a required claim (exp) is missing", ErrInvalidToken)
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return fmt.Errorf("%w: bad signature", ErrInvalidToken)
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
