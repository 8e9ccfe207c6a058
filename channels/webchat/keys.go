package webchat

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/go-jose/go-jose/v4"
)

// minRSABits is the smallest RSA modulus accepted for RS256 (RFC 7518 §3.3).
const minRSABits = 2048

// publicKey is one verification key and the JWS algorithm (RFC 7518 §3.1)
// it verifies.
type publicKey struct {
	key any
	alg string
}

// keyAlg returns the algorithm a public key verifies (RS256 for RSA of
// 2048 bits or more, ES256 for P-256), or an error saying why it cannot.
func keyAlg(k any) (string, error) {
	switch pub := k.(type) {
	case *rsa.PublicKey:
		if bits := pub.N.BitLen(); bits < minRSABits {
			return "", fmt.Errorf("RSA key of %d bits; at least %d needed (RFC 7518 §3.3)", bits, minRSABits)
		}
		return "RS256", nil
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() {
			return "", fmt.Errorf("EC curve %s; ES256 needs P-256", pub.Curve.Params().Name)
		}
		return "ES256", nil
	}
	return "", fmt.Errorf("key type %T is not RSA or EC", k)
}

// loadPEMKey reads the first PEM block of path: a "PUBLIC KEY" (PKIX,
// RFC 5280 §4.1.2.7), an "RSA PUBLIC KEY" (PKCS #1, RFC 8017 §A.1.1) or a
// "CERTIFICATE" whose key is used. Errors wrap ErrKeys.
func loadPEMKey(path string) (publicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return publicKey{}, fmt.Errorf("%w: %v", ErrKeys, err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return publicKey{}, fmt.Errorf("%w: %s: no PEM block", ErrKeys, path)
	}
	var key any
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		if cert, err = x509.ParseCertificate(block.Bytes); err == nil {
			key = cert.PublicKey
		}
	default:
		return publicKey{}, fmt.Errorf("%w: %s: PEM block %q (allowed: PUBLIC KEY, RSA PUBLIC KEY, CERTIFICATE; never a private key)", ErrKeys, path, block.Type)
	}
	if err != nil {
		return publicKey{}, fmt.Errorf("%w: %s: %v", ErrKeys, path, err)
	}
	alg, err := keyAlg(key)
	if err != nil {
		return publicKey{}, fmt.Errorf("%w: %s: %v", ErrKeys, path, err)
	}
	return publicKey{key: key, alg: alg}, nil
}

// loadJWKS reads a JSON Web Key Set (RFC 7517 §5) and returns its usable
// signature keys by kid. Keys that cannot verify RS256 or ES256 are
// skipped with the reason (a token naming one is refused with it); a
// private key, a key without kid, a kid used twice, or no usable key is
// an error wrapping ErrKeys.
func loadJWKS(path string) (map[string]publicKey, map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrKeys, err)
	}
	var raw struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, nil, fmt.Errorf("%w: %s: not JSON with a \"keys\" array: %v", ErrKeys, path, err)
	}
	keys, skipped := map[string]publicKey{}, map[string]string{}
	for i, msg := range raw.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(msg); err != nil {
			var head struct {
				Kid string `json:"kid"`
			}
			if json.Unmarshal(msg, &head) != nil || head.Kid == "" {
				return nil, nil, fmt.Errorf("%w: %s: key %d cannot be read: %v", ErrKeys, path, i, err)
			}
			skipped[head.Kid] = fmt.Sprintf("cannot be read: %v", err)
			continue
		}
		switch {
		case k.KeyID == "":
			return nil, nil, fmt.Errorf("%w: %s: key %d has no kid; tokens select keys by kid", ErrKeys, path, i)
		case keys[k.KeyID].key != nil || skipped[k.KeyID] != "":
			return nil, nil, fmt.Errorf("%w: %s: kid %q used twice", ErrKeys, path, k.KeyID)
		case !k.IsPublic():
			return nil, nil, fmt.Errorf("%w: %s: kid %q is a private or symmetric key; the file must hold public keys only", ErrKeys, path, k.KeyID)
		case k.Use != "" && k.Use != "sig":
			skipped[k.KeyID] = fmt.Sprintf("use %q is not \"sig\"", k.Use)
			continue
		}
		alg, err := keyAlg(k.Key)
		if err == nil && k.Algorithm != "" && k.Algorithm != alg {
			err = fmt.Errorf("alg %q; this key verifies %s", k.Algorithm, alg)
		}
		if err != nil {
			skipped[k.KeyID] = err.Error()
			continue
		}
		keys[k.KeyID] = publicKey{key: k.Key, alg: alg}
	}
	if len(keys) == 0 {
		return nil, nil, fmt.Errorf("%w: %s: no RS256 or ES256 signing key (skipped: %v)", ErrKeys, path, skipped)
	}
	return keys, skipped, nil
}
