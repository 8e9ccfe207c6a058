package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"os"

	"github.com/go-jose/go-jose/v4"
)

// minRSABits is the smallest RSA modulus accepted for RS256 (RFC 7518 §3.3).
const minRSABits = 2048

// keySet holds the usable verification keys of a JWKS file by kid, the
// algorithm each one verifies, and why each unusable key was skipped.
type keySet struct {
	keys    jose.JSONWebKeySet
	alg     map[string]string
	skipped map[string]string
}

// loadKeySet reads a JSON Web Key Set (RFC 7517 §5) from path. Keys that
// cannot verify RS256 or ES256 signatures (encryption keys, other
// algorithms or curves, RSA under 2048 bits, unknown key types) are skipped
// and remembered with the reason, so that a token naming one is refused
// with it. A private key in the file, a key without kid, a kid used twice,
// or a file with no usable key is an error wrapping ErrKeySet.
func loadKeySet(path string) (*keySet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrKeySet, err)
	}
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%w: %s: not JSON with a \"keys\" array: %v", ErrKeySet, path, err)
	}
	ks := &keySet{alg: make(map[string]string), skipped: make(map[string]string)}
	seen := make(map[string]bool)
	for i, msg := range raw.Keys {
		var head struct {
			Kid string `json:"kid"`
			Kty string `json:"kty"`
		}
		if err := json.Unmarshal(msg, &head); err != nil {
			return nil, fmt.Errorf("%w: %s: key %d: %v", ErrKeySet, path, i, err)
		}
		if head.Kid == "" {
			return nil, fmt.Errorf("%w: %s: key %d has no kid; tokens select keys by kid", ErrKeySet, path, i)
		}
		if seen[head.Kid] {
			return nil, fmt.Errorf("%w: %s: kid %q used twice", ErrKeySet, path, head.Kid)
		}
		seen[head.Kid] = true
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(msg); err != nil {
			ks.skipped[head.Kid] = fmt.Sprintf("key type %q cannot be read: %v", head.Kty, err)
			continue
		}
		if !k.IsPublic() {
			return nil, fmt.Errorf("%w: %s: kid %q is a private or symmetric key; the file must hold public keys only", ErrKeySet, path, k.KeyID)
		}
		alg, reason := verifyAlg(k)
		if reason != "" {
			ks.skipped[k.KeyID] = reason
			continue
		}
		ks.keys.Keys = append(ks.keys.Keys, k)
		ks.alg[k.KeyID] = alg
	}
	if len(ks.keys.Keys) == 0 {
		return nil, fmt.Errorf("%w: %s: no RS256 or ES256 signing key (skipped: %v)", ErrKeySet, path, ks.skipped)
	}
	return ks, nil
}

// verifyAlg returns the JWS algorithm (RFC 7518 §3.1) public key k verifies,
// or why it cannot be used.
func verifyAlg(k jose.JSONWebKey) (alg, reason string) {
	if k.Use != "" && k.Use != "sig" {
		return "", fmt.Sprintf("use %q is not \"sig\"", k.Use)
	}
	switch pub := k.Key.(type) {
	case *rsa.PublicKey:
		alg = "RS256"
		if bits := pub.N.BitLen(); bits < minRSABits {
			return "", fmt.Sprintf("RSA key of %d bits; at least %d needed (RFC 7518 §3.3)", bits, minRSABits)
		}
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return "", fmt.Sprintf("EC curve %s; ES256 needs P-256", pub.Curve.Params().Name)
		}
		alg = "ES256"
	default:
		return "", fmt.Sprintf("key type %T is not RSA or EC", k.Key)
	}
	if k.Algorithm != "" && k.Algorithm != alg {
		return "", fmt.Sprintf("alg %q; accepted: %s", k.Algorithm, alg)
	}
	return alg, ""
}
