package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/airbranch/airbranch/gateway/auth"
)

var (
	now    = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	secret = []byte("test-secret-of-at-least-32-bytes-for-hs256")
)

// keys is the signing side of an OIDC provider, made at test time: an RSA
// and a P-256 key published in a JWKS file, plus keys the file does not
// hold or cannot use.
type keys struct {
	rsa      *rsa.PrivateKey
	ec       *ecdsa.PrivateKey
	otherRSA *rsa.PrivateKey
	p384     *ecdsa.PrivateKey
	jwksFile string
}

func newKeys(t *testing.T) keys {
	t.Helper()
	var k keys
	var err error
	if k.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if k.otherRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if k.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	if k.p384, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	k.jwksFile = writeJWKS(t, []jose.JSONWebKey{
		{Key: &k.rsa.PublicKey, KeyID: "rsa-1", Algorithm: "RS256", Use: "sig"},
		{Key: &k.ec.PublicKey, KeyID: "ec-1", Use: "sig"},
		{Key: &k.p384.PublicKey, KeyID: "ec-384", Use: "sig"},
		{Key: &k.otherRSA.PublicKey, KeyID: "rsa-enc", Use: "enc"},
	})
	return k
}

func writeJWKS(t *testing.T, ks []jose.JSONWebKey) string {
	t.Helper()
	data, err := json.Marshal(jose.JSONWebKeySet{Keys: ks})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

type tokenClaims struct {
	Role string `json:"role,omitempty"`
	Team string `json:"team,omitempty"`
	jwt.RegisteredClaims
}

func goodClaims() tokenClaims {
	return tokenClaims{
		Role: "rm",
		Team: "private_bank",
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   "rm-pb-01",
			Issuer:    "https://sso.bank.example",
			Audience:  jwt.ClaimStrings{"airbranch"},
			IssuedAt:  jwt.NewNumericDate(now.Add(-time.Minute)),
			NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
		},
	}
}

func sign(t *testing.T, m jwt.SigningMethod, kid string, key any, c jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", m.Alg(), err)
	}
	return s
}

func TestVerify(t *testing.T) {
	t.Parallel()
	k := newKeys(t)
	rsaPubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&k.rsa.PublicKey))})
	with := func(edit func(*tokenClaims)) tokenClaims {
		c := goodClaims()
		edit(&c)
		return c
	}
	clock := func() time.Time { return now }
	full := auth.VerifierOptions{Secret: secret, JWKSFile: k.jwksFile, Issuer: "https://sso.bank.example", Audience: "airbranch", Now: clock}
	open := auth.VerifierOptions{Secret: secret, JWKSFile: k.jwksFile, Now: clock}
	jwksOnly := auth.VerifierOptions{JWKSFile: k.jwksFile, Now: clock}
	secretOnly := auth.VerifierOptions{Secret: secret, Now: clock}

	issued := func(p auth.Principal, ttl time.Duration, at time.Time, opts ...auth.IssueOption) string {
		s, err := auth.Issue(secret, p, ttl, at, opts...)
		if err != nil {
			t.Fatalf("Issue: %v", err)
		}
		return s
	}
	rm := auth.Principal{Subject: "rm-pb-01", Role: auth.RoleRM, Team: "private_bank"}

	tests := []struct {
		name    string
		opts    auth.VerifierOptions
		token   string
		want    auth.Principal
		wantErr error
		wantMsg string
	}{
		{name: "HS256 from Issue", opts: secretOnly, token: issued(rm, time.Hour, now), want: rm},
		{name: "HS256 with iss and aud", opts: full, token: issued(rm, time.Hour, now, auth.WithIssuer("https://sso.bank.example"), auth.WithAudience("airbranch")), want: rm},
		{name: "supervisor without team", opts: secretOnly, token: issued(auth.Principal{Subject: "sup-1", Role: auth.RoleSupervisor}, time.Hour, now), want: auth.Principal{Subject: "sup-1", Role: auth.RoleSupervisor}},
		{name: "admin", opts: secretOnly, token: issued(auth.Principal{Subject: "ops", Role: auth.RoleAdmin}, time.Hour, now), want: auth.Principal{Subject: "ops", Role: auth.RoleAdmin}},
		{name: "RS256 from JWKS", opts: full, token: sign(t, jwt.SigningMethodRS256, "rsa-1", k.rsa, goodClaims()), want: rm},
		{name: "ES256 from JWKS", opts: full, token: sign(t, jwt.SigningMethodES256, "ec-1", k.ec, goodClaims()), want: rm},
		{name: "RS256 with only a JWKS", opts: jwksOnly, token: sign(t, jwt.SigningMethodRS256, "rsa-1", k.rsa, goodClaims()), want: rm},

		{name: "empty", opts: full, token: "  ", wantErr: auth.ErrMissingToken},
		{name: "malformed", opts: full, token: "not.a.jwt", wantErr: auth.ErrInvalidToken, wantMsg: "malformed"},
		{name: "expired", opts: secretOnly, token: issued(rm, time.Hour, now.Add(-2*time.Hour)), wantErr: auth.ErrExpiredToken},
		{name: "not valid yet", opts: open, token: sign(t, jwt.SigningMethodHS256, "", secret, with(func(c *tokenClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Minute)) })), wantErr: auth.ErrInvalidToken, wantMsg: "nbf"},
		{name: "issued in the future", opts: open, token: sign(t, jwt.SigningMethodHS256, "", secret, with(func(c *tokenClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(time.Minute)) })), wantErr: auth.ErrInvalidToken, wantMsg: "iat"},
		{name: "no exp", opts: open, token: sign(t, jwt.SigningMethodHS256, "", secret, with(func(c *tokenClaims) { c.ExpiresAt = nil })), wantErr: auth.ErrInvalidToken, wantMsg: "exp"},
		{name: "wrong secret", opts: secretOnly, token: sign(t, jwt.SigningMethodHS256, "", []byte("another-secret-of-at-least-32-bytes!!"), goodClaims()), wantErr: auth.ErrInvalidToken, wantMsg: "signature"},
		{name: "alg none", opts: open, token: sign(t, jwt.SigningMethodNone, "", jwt.UnsafeAllowNoneSignatureType, goodClaims()), wantErr: auth.ErrInvalidToken, wantMsg: "none"},
		{name: "HS256 keyed with the RSA public key", opts: open, token: sign(t, jwt.SigningMethodHS256, "rsa-1", rsaPubPEM, goodClaims()), wantErr: auth.ErrInvalidToken, wantMsg: "signature"},
		{name: "HS256 without a configured secret", opts: jwksOnly, token: sign(t, jwt.SigningMethodHS256, "rsa-1", rsaPubPEM, goodClaims()), wantErr: auth.ErrInvalidToken, wantMsg: "HS256"},
		{name: "RS384 not allowed", opts: open, token: sign(t, jwt.SigningMethodRS384, "rsa-1", k.rsa, goodClaims()), wantErr: auth.ErrInvalidToken, wantMsg: "RS384"},
		{name: "RS256 without a JWKS", opts: secretOnly, token: sign(t, jwt.SigningMethodRS256, "rsa-1", k.rsa, goodClaims()), wantErr: auth.ErrInvalidToken, wantMsg: "RS256"},
		{name: "unknown kid", opts: full, token: sign(t, jwt.SigningMethodRS256, "rsa-2", k.rsa, goodClaims()), wantErr: auth.ErrInvalidToken, wantMsg: "unknown key id"},
		{name: "no kid", opts: full, token: sign(t, jwt.SigningMethodRS256, "", k.rsa, goodClaims()), wantErr: auth.ErrInvalidToken, wantMsg: "kid"},
		{name: "kid of a key for another algorithm", opts: full, token: sign(t, jwt.SigningMethodRS256, "ec-1", k.rsa, goodClaims()), wantErr: auth.ErrInvalidToken, wantMsg: "verifies ES256"},
		{name: "kid of a skipped P-384 key", opts: full, token: sign(t, jwt.SigningMethodES256, "ec-384", k.ec, goodClaims()), wantErr: auth.ErrInvalidToken, wantMsg: "P-256"},
		{name: "kid of an encryption key", opts: full, token: sign(t, jwt.SigningMethodRS256, "rsa-enc", k.otherRSA, goodClaims()), wantErr: auth.ErrInvalidToken, wantMsg: "use"},
		{name: "RS256 signed by another key", opts: full, token: sign(t, jwt.SigningMethodRS256, "rsa-1", k.otherRSA, goodClaims()), wantErr: auth.ErrInvalidToken, wantMsg: "signature"},
		{name: "issuer mismatch", opts: full, token: sign(t, jwt.SigningMethodRS256, "rsa-1", k.rsa, with(func(c *tokenClaims) { c.Issuer = "https://evil.example" })), wantErr: auth.ErrInvalidToken, wantMsg: "iss"},
		{name: "issuer missing", opts: full, token: issued(rm, time.Hour, now), wantErr: auth.ErrInvalidToken, wantMsg: "iss"},
		{name: "audience mismatch", opts: full, token: sign(t, jwt.SigningMethodES256, "ec-1", k.ec, with(func(c *tokenClaims) { c.Audience = jwt.ClaimStrings{"crm"} })), wantErr: auth.ErrInvalidToken, wantMsg: "aud"},
		{name: "unknown role", opts: open, token: sign(t, jwt.SigningMethodHS256, "", secret, with(func(c *tokenClaims) { c.Role = "superuser" })), wantErr: auth.ErrInvalidToken, wantMsg: "role"},
		{name: "no role", opts: open, token: sign(t, jwt.SigningMethodHS256, "", secret, with(func(c *tokenClaims) { c.Role = "" })), wantErr: auth.ErrInvalidToken, wantMsg: "role"},
		{name: "rm without team", opts: open, token: sign(t, jwt.SigningMethodHS256, "", secret, with(func(c *tokenClaims) { c.Team = "" })), wantErr: auth.ErrInvalidToken, wantMsg: "team"},
		{name: "no subject", opts: open, token: sign(t, jwt.SigningMethodHS256, "", secret, with(func(c *tokenClaims) { c.Subject = "" })), wantErr: auth.ErrInvalidToken, wantMsg: "subject"},
		{name: "expired within the clock skew", opts: secretOnly, token: issued(rm, time.Hour, now.Add(-time.Hour-20*time.Second)), want: rm},
		{name: "expired beyond the clock skew", opts: secretOnly, token: issued(rm, time.Hour, now.Add(-time.Hour-31*time.Second)), wantErr: auth.ErrExpiredToken},
		{name: "nbf ahead within the clock skew", opts: open, token: sign(t, jwt.SigningMethodHS256, "", secret, with(func(c *tokenClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(20 * time.Second)) })), want: rm},
		{name: "nbf ahead beyond the clock skew", opts: open, token: sign(t, jwt.SigningMethodHS256, "", secret, with(func(c *tokenClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(31 * time.Second)) })), wantErr: auth.ErrInvalidToken, wantMsg: "nbf"},
		{name: "iat ahead within the clock skew", opts: open, token: sign(t, jwt.SigningMethodHS256, "", secret, with(func(c *tokenClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(20 * time.Second)) })), want: rm},
		{name: "iat ahead beyond the clock skew", opts: open, token: sign(t, jwt.SigningMethodHS256, "", secret, with(func(c *tokenClaims) { c.IssuedAt = jwt.NewNumericDate(now.Add(31 * time.Second)) })), wantErr: auth.ErrInvalidToken, wantMsg: "iat"},
		{name: "lifetime of 30 days", opts: secretOnly, token: issued(rm, auth.MaxTokenLifetime, now.Add(-time.Minute)), want: rm},
		{name: "lifetime over 30 days", opts: open, token: sign(t, jwt.SigningMethodHS256, "", secret, with(func(c *tokenClaims) {
			c.ExpiresAt = jwt.NewNumericDate(c.IssuedAt.Add(auth.MaxTokenLifetime + time.Second))
		})), wantErr: auth.ErrInvalidToken, wantMsg: "lifetime (exp - iat) of 720h0m1s exceeds the maximum"},
		{name: "lifetime of a year issued long ago", opts: open, token: sign(t, jwt.SigningMethodHS256, "", secret, with(func(c *tokenClaims) {
			c.IssuedAt, c.NotBefore = jwt.NewNumericDate(now.Add(-360*24*time.Hour)), nil
			c.ExpiresAt = jwt.NewNumericDate(now.Add(5 * 24 * time.Hour))
		})), wantErr: auth.ErrInvalidToken, wantMsg: "exp - iat"},
		{name: "no iat, exp within 30 days", opts: open, token: sign(t, jwt.SigningMethodHS256, "", secret, with(func(c *tokenClaims) {
			c.IssuedAt, c.ExpiresAt = nil, jwt.NewNumericDate(now.Add(29*24*time.Hour))
		})), want: rm},
		{name: "no iat, exp beyond 30 days", opts: open, token: sign(t, jwt.SigningMethodHS256, "", secret, with(func(c *tokenClaims) {
			c.IssuedAt, c.ExpiresAt = nil, jwt.NewNumericDate(now.Add(31*24*time.Hour))
		})), wantErr: auth.ErrInvalidToken, wantMsg: "lifetime (exp - now)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := auth.NewVerifier(tc.opts)
			if err != nil {
				t.Fatalf("NewVerifier: %v", err)
			}
			got, err := v.Verify(tc.token)
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if got != tc.want {
					t.Fatalf("Verify = %+v, want %+v", got, tc.want)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Verify = %+v, %v; want an error wrapping %v", got, err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error %q does not mention %q", err, tc.wantMsg)
			}
			t.Log(err)
			if got != (auth.Principal{}) {
				t.Fatalf("Verify returned principal %+v with an error", got)
			}
		})
	}
}

func TestNewVerifierErrors(t *testing.T) {
	t.Parallel()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	notJSON := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(notJSON, []byte("{keys"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    auth.VerifierOptions
		wantErr error
		wantMsg string
	}{
		{"nothing configured", auth.VerifierOptions{}, auth.ErrNoKeys, "no HS256 secret"},
		{"short secret", auth.VerifierOptions{Secret: []byte("short")}, auth.ErrWeakSecret, "32 bytes"},
		{"missing JWKS file", auth.VerifierOptions{JWKSFile: filepath.Join(dir, "absent.json")}, auth.ErrKeySet, "absent.json"},
		{"JWKS not JSON", auth.VerifierOptions{JWKSFile: notJSON}, auth.ErrKeySet, "keys"},
		{"private key in JWKS", auth.VerifierOptions{JWKSFile: writeJWKS(t, []jose.JSONWebKey{{Key: priv, KeyID: "p", Use: "sig"}})}, auth.ErrKeySet, "public keys only"},
		{"symmetric key in JWKS", auth.VerifierOptions{JWKSFile: writeJWKS(t, []jose.JSONWebKey{{Key: secret, KeyID: "s"}})}, auth.ErrKeySet, "public keys only"},
		{"key without kid", auth.VerifierOptions{JWKSFile: writeJWKS(t, []jose.JSONWebKey{{Key: &priv.PublicKey}})}, auth.ErrKeySet, "no kid"},
		{"kid twice", auth.VerifierOptions{JWKSFile: writeJWKS(t, []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: "a"}, {Key: &priv.PublicKey, KeyID: "a"}})}, auth.ErrKeySet, "twice"},
		{"only a weak RSA key", auth.VerifierOptions{JWKSFile: writeJWKS(t, []jose.JSONWebKey{{Key: &small.PublicKey, KeyID: "small"}})}, auth.ErrKeySet, "2048"},
		{"only a key for another alg", auth.VerifierOptions{JWKSFile: writeJWKS(t, []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: "e", Algorithm: "ES384"}})}, auth.ErrKeySet, "ES384"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := auth.NewVerifier(tc.opts)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("NewVerifier = %v, %v; want an error wrapping %v", v, err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("error %q does not mention %q", err, tc.wantMsg)
			}
		})
	}
}

func TestVerifierReportsKeys(t *testing.T) {
	t.Parallel()
	k := newKeys(t)
	v, err := auth.NewVerifier(auth.VerifierOptions{Secret: secret, JWKSFile: k.jwksFile})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(v.KeyIDs(), ","); got != "rsa-1,ec-1" {
		t.Fatalf("KeyIDs = %s, want rsa-1,ec-1 (the P-384 and encryption keys are unusable)", got)
	}
	if got := strings.Join(v.Algorithms(), ","); got != "HS256,RS256,ES256" {
		t.Fatalf("Algorithms = %s", got)
	}
}

func TestIssueErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		secret  []byte
		p       auth.Principal
		ttl     time.Duration
		wantErr error
	}{
		{"unknown role", secret, auth.Principal{Subject: "x", Role: "root"}, time.Hour, auth.ErrInvalidPrincipal},
		{"rm without team", secret, auth.Principal{Subject: "rm-1", Role: auth.RoleRM}, time.Hour, auth.ErrInvalidPrincipal},
		{"no subject", secret, auth.Principal{Role: auth.RoleAdmin}, time.Hour, auth.ErrInvalidPrincipal},
		{"short secret", []byte("0123456789"), auth.Principal{Subject: "ops", Role: auth.RoleAdmin}, time.Hour, auth.ErrWeakSecret},
		{"zero ttl", secret, auth.Principal{Subject: "ops", Role: auth.RoleAdmin}, 0, nil},
		{"ttl over the maximum lifetime", secret, auth.Principal{Subject: "ops", Role: auth.RoleAdmin}, auth.MaxTokenLifetime + time.Second, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := auth.Issue(tc.secret, tc.p, tc.ttl, now)
			if err == nil {
				t.Fatalf("Issue = %q, want an error", tok)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("Issue: %v, want an error wrapping %v", err, tc.wantErr)
			}
		})
	}
}

func TestIssueClaims(t *testing.T) {
	t.Parallel()
	p := auth.Principal{Subject: "rm-pb-01", Role: auth.RoleRM, Team: "private_bank"}
	tok, err := auth.Issue(secret, p, 8*time.Hour, now, auth.WithIssuer("airbranch"), auth.WithAudience("desk"))
	if err != nil {
		t.Fatal(err)
	}
	var c tokenClaims
	parsed, err := jwt.NewParser(jwt.WithTimeFunc(func() time.Time { return now })).ParseWithClaims(tok, &c, func(*jwt.Token) (any, error) { return secret, nil })
	if err != nil {
		t.Fatal(err)
	}
	if parsed.Method.Alg() != "HS256" || c.Subject != p.Subject || c.Role != "rm" || c.Team != "private_bank" ||
		!c.ExpiresAt.Equal(now.Add(8*time.Hour)) || !c.IssuedAt.Equal(now) || !c.NotBefore.Equal(now) ||
		c.Issuer != "airbranch" || len(c.Audience) != 1 || c.Audience[0] != "desk" || len(c.ID) != 32 {
		t.Fatalf("claims = %+v (alg %s)", c, parsed.Method.Alg())
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
