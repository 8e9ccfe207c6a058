package webchat

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/airbranch/airbranch/channels/conversation"
)

// testKeys are keys made for one test run: an RSA 2048 and a P-256 key.
type testKeys struct {
	rsa *rsa.PrivateKey
	ec  *ecdsa.PrivateKey
}

func newTestKeys(t *testing.T) testKeys {
	t.Helper()
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	e, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return testKeys{rsa: r, ec: e}
}

func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func pkixPEM(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func certPEM(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "bank app tokens"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func sign(t *testing.T, m jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestVerifierKeys: tokens signed with the configured key kinds verify
// (HS256 secret, PEM RSA and EC keys and certificates, JWKS by kid); the
// wrong algorithm for a key, an unknown kid, or HS256 signed with the
// public key's bytes (algorithm confusion) are refused.
func TestVerifierKeys(t *testing.T) {
	t.Parallel()
	k := newTestKeys(t)
	now := time.Now()
	claims := func(extra ...any) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "app-user-1", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "iss": "bank-app", "aud": "airbranch-chat"}
		for i := 0; i+1 < len(extra); i += 2 {
			c[extra[i].(string)] = extra[i+1]
		}
		return c
	}
	rsaPEM := pkixPEM(t, &k.rsa.PublicKey)
	jwks, err := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &k.rsa.PublicKey, KeyID: "rsa-1", Use: "sig", Algorithm: "RS256"},
		{Key: &k.ec.PublicKey, KeyID: "ec-1", Use: "sig"},
		{Key: &k.ec.PublicKey, KeyID: "enc-1", Use: "enc"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		cfg   TokenConfig
		token string
		want  error // nil: valid
	}{
		{"hs256", TokenConfig{Secret: testSecret}, sign(t, jwt.SigningMethodHS256, testSecret, "", claims()), nil},
		{"rsa pkix pem", TokenConfig{PublicKeyFile: writeFile(t, "rsa.pem", rsaPEM)}, sign(t, jwt.SigningMethodRS256, k.rsa, "", claims()), nil},
		{"rsa pkcs1 pem", TokenConfig{PublicKeyFile: writeFile(t, "rsa1.pem", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)}))},
			sign(t, jwt.SigningMethodRS256, k.rsa, "", claims()), nil},
		{"ec certificate", TokenConfig{PublicKeyFile: writeFile(t, "ec.crt", certPEM(t, k.ec))}, sign(t, jwt.SigningMethodES256, k.ec, "", claims()), nil},
		{"jwks rsa", TokenConfig{JWKSFile: writeFile(t, "k.json", jwks)}, sign(t, jwt.SigningMethodRS256, k.rsa, "rsa-1", claims()), nil},
		{"jwks ec", TokenConfig{JWKSFile: writeFile(t, "k.json", jwks)}, sign(t, jwt.SigningMethodES256, k.ec, "ec-1", claims()), nil},
		{"issuer and audience", TokenConfig{Secret: testSecret, Issuer: "bank-app", Audience: "airbranch-chat"}, sign(t, jwt.SigningMethodHS256, testSecret, "", claims()), nil},
		{"wrong issuer", TokenConfig{Secret: testSecret, Issuer: "other"}, sign(t, jwt.SigningMethodHS256, testSecret, "", claims()), ErrInvalidToken},
		{"wrong audience", TokenConfig{Secret: testSecret, Audience: "other"}, sign(t, jwt.SigningMethodHS256, testSecret, "", claims()), ErrInvalidToken},
		{"rs256 without a public key", TokenConfig{Secret: testSecret}, sign(t, jwt.SigningMethodRS256, k.rsa, "", claims()), ErrInvalidToken},
		{"es256 against an rsa key", TokenConfig{PublicKeyFile: writeFile(t, "rsa.pem", rsaPEM)}, sign(t, jwt.SigningMethodES256, k.ec, "", claims()), ErrInvalidToken},
		{"hs256 with the public key as secret", TokenConfig{PublicKeyFile: writeFile(t, "rsa.pem", rsaPEM)}, sign(t, jwt.SigningMethodHS256, rsaPEM, "", claims()), ErrInvalidToken},
		{"jwks unknown kid", TokenConfig{JWKSFile: writeFile(t, "k.json", jwks)}, sign(t, jwt.SigningMethodRS256, k.rsa, "nope", claims()), ErrInvalidToken},
		{"jwks encryption key", TokenConfig{JWKSFile: writeFile(t, "k.json", jwks)}, sign(t, jwt.SigningMethodES256, k.ec, "enc-1", claims()), ErrInvalidToken},
		{"jwks wrong alg for kid", TokenConfig{JWKSFile: writeFile(t, "k.json", jwks)}, sign(t, jwt.SigningMethodES256, k.ec, "rsa-1", claims()), ErrInvalidToken},
		{"expired beyond leeway", TokenConfig{Secret: testSecret}, sign(t, jwt.SigningMethodHS256, testSecret, "", claims("exp", now.Add(-Leeway-time.Second).Unix(), "iat", now.Add(-time.Hour).Unix())), ErrExpiredToken},
		{"expired within leeway", TokenConfig{Secret: testSecret}, sign(t, jwt.SigningMethodHS256, testSecret, "", claims("exp", now.Add(-Leeway+2*time.Second).Unix(), "iat", now.Add(-time.Hour).Unix())), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := (Config{Token: tt.cfg}).withDefaults()
			v, err := newVerifier(cfg.Token, cfg.Anonymous, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			p, err := v.verify(tt.token)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.want == nil && (p.Subject != "app-user-1" || p.Verification != conversation.VerificationStrong):
				t.Fatalf("principal %+v", p)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("err %v, want %v", err, tt.want)
			}
		})
	}
}

// TestKeyFilesRefused: unusable key files fail New with ErrKeys.
func TestKeyFilesRefused(t *testing.T) {
	t.Parallel()
	k := newTestKeys(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(k.ec)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	privJWKS, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k.ec, KeyID: "priv"}}})
	noKid, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &k.ec.PublicKey}}})
	tests := []struct{ name, pemFile, jwksFile string }{
		{"missing file", filepath.Join(t.TempDir(), "none.pem"), ""},
		{"not pem", writeFile(t, "x.pem", []byte("hello")), ""},
		{"private key pem", writeFile(t, "p.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER})), ""},
		{"rsa 1024", writeFile(t, "s.pem", pkixPEM(t, &small.PublicKey)), ""},
		{"p-384", writeFile(t, "p384.pem", pkixPEM(t, &p384.PublicKey)), ""},
		{"jwks not json", "", writeFile(t, "k.json", []byte("{"))},
		{"jwks private key", "", writeFile(t, "k.json", privJWKS)},
		{"jwks without kid", "", writeFile(t, "k.json", noKid)},
	}
	for _, tt := range tests {
		_, err := New(Config{Token: TokenConfig{PublicKeyFile: tt.pemFile, JWKSFile: tt.jwksFile}},
			Deps{Sink: &fakeBank{}, Streams: newMemStreams(10), Conversations: &fakeBank{}, Customers: &fakeBank{}})
		if !errors.Is(err, ErrKeys) {
			t.Errorf("%s: %v, want ErrKeys", tt.name, err)
		}
	}
}

// TestAnonymousTokens: an anonymous token verifies only while anonymous
// chat is on and with its own secret; it cannot be forged with the bank's.
func TestAnonymousTokens(t *testing.T) {
	t.Parallel()
	now := time.Now()
	tok, exp, err := issueAnonymous(anonSecret, time.Hour, now)
	if err != nil || exp.Before(now.Add(59*time.Minute)) {
		t.Fatal(err, exp)
	}
	on := (Config{Token: TokenConfig{Secret: testSecret}, Anonymous: AnonymousConfig{Enabled: true, Secret: anonSecret}}).withDefaults()
	v, err := newVerifier(on.Token, on.Anonymous, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	p, err := v.verify(tok)
	if err != nil || !p.Anonymous || p.Verification != conversation.VerificationNone || p.Subject[:5] != "anon-" {
		t.Fatalf("%+v %v", p, err)
	}
	forged, _, _ := issueAnonymous(testSecret, time.Hour, now)
	if _, err := v.verify(forged); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("anonymous token signed with the bank's secret: %v", err)
	}
	off := (Config{Token: TokenConfig{Secret: testSecret}}).withDefaults()
	v, _ = newVerifier(off.Token, off.Anonymous, time.Now)
	if _, err := v.verify(tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("anonymous token while off: %v", err)
	}
}
