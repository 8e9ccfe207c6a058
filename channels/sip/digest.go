package sip

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/icholy/digest"
)

// nonceLifetime is how long a digest nonce is accepted; later ones get a
// new challenge with stale=true (RFC 2617 §3.2.1).
const nonceLifetime = 5 * time.Minute

// digestAuth checks HTTP digest credentials (RFC 2617 with MD5, qop auth or
// none, as used by SIP, RFC 3261 §22.4) against stateless nonces: a nonce
// is its issue time and an HMAC of it, so any instance sharing the secret
// can check it.
type digestAuth struct {
	realm  string
	secret []byte
	now    func() time.Time
}

func newDigestAuth(realm, secret string, now func() time.Time) *digestAuth {
	key := []byte(secret)
	if secret == "" {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	return &digestAuth{realm: realm, secret: key, now: now}
}

func (d *digestAuth) mac(ts string) string {
	m := hmac.New(sha256.New, d.secret)
	m.Write([]byte(ts))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// challenge returns a WWW-Authenticate value with a fresh nonce.
func (d *digestAuth) challenge(stale bool) string {
	ts := strconv.FormatInt(d.now().Unix(), 16)
	c := digest.Challenge{Realm: d.realm, Nonce: ts + "." + d.mac(ts), Algorithm: "MD5", QOP: []string{"auth"}, Stale: stale}
	return c.String()
}

// authResult is the outcome of checking an Authorization header.
type authResult int

const (
	authMissing authResult = iota // no or unreadable credentials: challenge
	authOK
	authStale // right password, old nonce: challenge with stale=true
	authWrong // wrong user, password or realm: challenge again
)

// check verifies the Authorization header value hdr of a request with
// method for the user whose password lookup returns; lookup gets the
// username and returns the password and true when known.
func (d *digestAuth) check(hdr, method string, lookup func(user string) (string, bool)) (authResult, string) {
	if hdr == "" {
		return authMissing, ""
	}
	cr, err := digest.ParseCredentials(hdr)
	if err != nil || cr.Realm != d.realm {
		return authMissing, ""
	}
	pass, ok := lookup(cr.Username)
	if !ok {
		return authWrong, cr.Username
	}
	if alg := strings.ToUpper(cr.Algorithm); alg != "" && alg != "MD5" {
		return authWrong, cr.Username
	}
	ha1 := md5hex(cr.Username + ":" + d.realm + ":" + pass)
	ha2 := md5hex(method + ":" + cr.URI)
	var want string
	switch cr.QOP {
	case "":
		want = md5hex(ha1 + ":" + cr.Nonce + ":" + ha2)
	case "auth":
		want = md5hex(fmt.Sprintf("%s:%s:%08x:%s:auth:%s", ha1, cr.Nonce, cr.Nc, cr.Cnonce, ha2))
	default:
		return authWrong, cr.Username
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(strings.ToLower(cr.Response))) != 1 {
		return authWrong, cr.Username
	}
	ts, mac, ok := strings.Cut(cr.Nonce, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(d.mac(ts))) {
		return authWrong, cr.Username
	}
	issued, err := strconv.ParseInt(ts, 16, 64)
	if err != nil || d.now().Sub(time.Unix(issued, 0)) > nonceLifetime {
		return authStale, cr.Username
	}
	return authOK, cr.Username
}

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
