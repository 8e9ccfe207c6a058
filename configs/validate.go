package configs

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/nyaruka/phonenumbers"
	"github.com/redis/go-redis/v9"
)

// Limits that Validate enforces.
const (
	MinBodyBytes         = 1 << 10             // http.max_body_bytes lower bound: 1 KiB
	MaxBodyBytes         = 64 << 20            // http.max_body_bytes upper bound: 64 MiB
	MaxReadHeaderTimeout = time.Minute         // http.read_header_timeout upper bound
	MaxShutdownGrace     = 10 * time.Minute    // http.shutdown_grace upper bound
	MaxDrainDelay        = time.Minute         // http.drain_delay upper bound
	MaxDialTimeout       = time.Minute         // redis.dial_timeout upper bound
	MinTokenTTL          = time.Minute         // auth.token_ttl lower bound
	MaxTokenTTL          = 30 * 24 * time.Hour // auth.token_ttl upper bound: 30 days
	MaxInstanceIDLen     = 64                  // instance_id length bound, in bytes
)

// Validate checks every value and returns all problems at once as Problems
// (nil when there is none), each as "FILE:LINE: field.path: what is wrong
// (allowed: ...)"; a value that came from the defaults or the environment is
// marked "(default)" or "(env NAME)" instead of a line. It reads the files
// that auth.jwks_file and directory.file name; the directory's content is
// checked by LoadDirectory (Check runs both).
func (c *Config) Validate() error { return c.problems().Err() }

// problems returns every problem of the values, unsorted.
func (c *Config) problems() Problems {
	v := &collector{file: c.File, where: c.origins, fallback: "default"}
	c.validateInstanceID(v)
	c.validateLog(v)
	c.validateHTTP(v)
	c.validateRedis(v)
	c.validateAuth(v)
	c.validateIdentity(v)
	c.validateDirectory(v)
	c.validateChannels(v)
	c.validateSIP(v)
	c.validateWebChat(v)
	c.validateVideo(v)
	c.validateSecrets(v)
	return v.list
}

func (c *Config) validateInstanceID(v *collector) {
	id := c.InstanceID
	if id == "" {
		return
	}
	ok := len(id) <= MaxInstanceIDLen
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			ok = false
		}
	}
	if !ok {
		v.invalid("instance_id", "%q is not a valid instance id (allowed: 1 to %d letters, digits, \".\", \"_\", \"-\"; or empty for hostname plus random suffix)", id, MaxInstanceIDLen)
	}
}

func (c *Config) validateLog(v *collector) {
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		v.invalid("log.level", "unknown level %q (allowed: debug, info, warn, error)", c.Log.Level)
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		v.invalid("log.format", "unknown format %q (allowed: json, text)", c.Log.Format)
	}
}

func (c *Config) validateHTTP(v *collector) {
	h := c.HTTP
	if err := checkHostPort(h.Addr, false); err != nil {
		v.invalid("http.addr", "%q: %v (allowed: host:port such as \":8080\" or \"127.0.0.1:8080\", port 0 to 65535)", h.Addr, err)
	}
	if h.PublicURL != "" {
		if msg := checkPublicURL(h.PublicURL); msg != "" {
			v.invalid("http.public_url", "%s (allowed: an absolute http or https URL without user, query or fragment, such as \"https://airbranch.bank.example\", or empty)", msg)
		}
	}
	if h.MaxBodyBytes < MinBodyBytes || h.MaxBodyBytes > MaxBodyBytes {
		v.invalid("http.max_body_bytes", "%d bytes is out of range (allowed: %d (1 KiB) to %d (64 MiB))", h.MaxBodyBytes, MinBodyBytes, MaxBodyBytes)
	}
	checkDuration(v, "http.read_header_timeout", h.ReadHeaderTimeout, MaxReadHeaderTimeout)
	checkDuration(v, "http.shutdown_grace", h.ShutdownGrace, MaxShutdownGrace)
	checkDurationRange(v, "http.drain_delay", h.DrainDelay, 0, MaxDrainDelay)
}

func (c *Config) validateRedis(v *collector) {
	r := c.Redis
	if r.DB < 0 || r.DB > 15 && len(r.Addrs) > 0 {
		v.invalid("redis.db", "%d is out of range (allowed: 0 to 15 with addrs; Cluster has only db 0)", r.DB)
	}
	if r.URL != "" && (r.Username != "" || r.DB != 0 || r.TLS) {
		v.invalid("redis.url", "username, db and tls are for addrs (allowed: put them in the URL: redis://user:password@host:port/db, rediss:// for TLS)")
	}
	if r.URL != "" {
		if msg := checkRedisURL(r.URL); msg != "" {
			v.invalid("redis.url", "%s (allowed: redis://[user:password@]host:port/db or rediss://... for TLS)", msg)
		}
		if len(r.Addrs) > 0 {
			v.invalid("redis.addrs", "both redis.url and redis.addrs are set (allowed: one of them; url for one server, addrs for Sentinel or Cluster)")
		}
	}
	for i, a := range r.Addrs {
		if err := checkHostPort(a, true); err != nil {
			v.invalid(fmt.Sprintf("redis.addrs[%d]", i), "%q: %v (allowed: host:port with a host and port 1 to 65535)", a, err)
		}
	}
	if r.MasterName != "" && len(r.Addrs) == 0 {
		v.invalid("redis.master_name", "master name %q needs Sentinel seeds in redis.addrs (allowed: master_name with addrs, or empty)", r.MasterName)
	}
	if !hasHashTag(r.KeyPrefix) {
		v.invalid("redis.key_prefix", "%q has no hash tag (allowed: a prefix containing a non-empty {tag}, such as \"{airbranch}:\")", r.KeyPrefix)
	}
	checkDuration(v, "redis.dial_timeout", r.DialTimeout, MaxDialTimeout)
}

func (c *Config) validateAuth(v *collector) {
	a := c.Auth
	if a.JWKSFile != "" {
		if msg := checkJWKSFile(a.JWKSFile); msg != "" {
			v.invalid("auth.jwks_file", "%s: %s (allowed: a JSON Web Key Set file (RFC 7517) with public RSA, EC or OKP keys, or empty)", a.JWKSFile, msg)
		}
	}
	checkDurationRange(v, "auth.token_ttl", a.TokenTTL, MinTokenTTL, MaxTokenTTL)
}

func (c *Config) validateIdentity(v *collector) {
	r := c.Identity.DefaultRegion
	if !phonenumbers.GetSupportedRegions()[r] {
		hint := ""
		if up := strings.ToUpper(r); up != r && phonenumbers.GetSupportedRegions()[up] {
			hint = fmt.Sprintf("; did you mean %q?", up)
		}
		v.invalid("identity.default_region", "%q is not a region known to the phone number library (allowed: an upper-case ISO 3166-1 alpha-2 code such as HK, GB, SG, CN)%s", r, hint)
	}
}

func (c *Config) validateDirectory(v *collector) {
	f := c.Directory.File
	if f == "" {
		return
	}
	st, err := os.Stat(f)
	switch {
	case err != nil:
		v.invalid("directory.file", "%s: %v (allowed: a directory YAML file, relative to the config file's folder, or empty for the demo)", f, errors.Unwrap(err))
	case !st.Mode().IsRegular():
		v.invalid("directory.file", "%s is not a regular file (allowed: a directory YAML file, or empty for the demo)", f)
	}
}

// checkHostPort checks "host:port"; needHost also requires a host and a
// port above 0.
func checkHostPort(addr string, needHost bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		var ae *net.AddrError
		if errors.As(err, &ae) {
			return errors.New(ae.Err)
		}
		return err
	}
	n, err := strconv.Atoi(port)
	lo := 0
	if needHost {
		lo = 1
	}
	if err != nil || n < lo || n > 65535 {
		return fmt.Errorf("port %q is not a number from %d to 65535", port, lo)
	}
	if needHost && host == "" {
		return errors.New("missing host")
	}
	if strings.ContainsAny(host, " /\\@") {
		return fmt.Errorf("host %q has a character not allowed in a host name", host)
	}
	return nil
}

// checkPublicURL returns what is wrong with an external base URL, or "".
func checkPublicURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		var ue *url.Error
		if errors.As(err, &ue) {
			return "does not parse: " + ue.Err.Error()
		}
		return "does not parse"
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("%q has scheme %q", u.Redacted(), u.Scheme)
	case u.Host == "" || u.Opaque != "":
		return fmt.Sprintf("%q has no host", u.Redacted())
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return fmt.Sprintf("%q has user info, a query or a fragment", u.Redacted())
	}
	return ""
}

// checkRedisURL returns what is wrong with a Redis URL, or "". It never
// repeats a password.
func checkRedisURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return "does not parse: " + ue.Err.Error()
		}
		return "does not parse"
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return fmt.Sprintf("%q has scheme %q", u.Redacted(), u.Scheme)
	}
	if _, err := redis.ParseURL(s); err != nil {
		return fmt.Sprintf("%q: %s", u.Redacted(), strings.TrimPrefix(err.Error(), "redis: "))
	}
	return ""
}

// hasHashTag reports whether a Redis key prefix contains a non-empty hash
// tag, the part of a key Redis Cluster hashes (the first "{...}").
func hasHashTag(prefix string) bool {
	open := strings.IndexByte(prefix, '{')
	if open < 0 {
		return false
	}
	end := strings.IndexByte(prefix[open+1:], '}')
	return end > 0
}

// checkJWKSFile returns what is wrong with a JWKS file, or "".
func checkJWKSFile(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("cannot read: %v", errors.Unwrap(err))
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(data, &set); err != nil {
		return fmt.Sprintf("not a JSON Web Key Set: %v", err)
	}
	if len(set.Keys) == 0 {
		return "the key set has no keys"
	}
	var bad []string
	for i, k := range set.Keys {
		switch {
		case !k.Valid():
			bad = append(bad, fmt.Sprintf("key %d (kid %q) is not a valid key", i, k.KeyID))
		case !k.IsPublic():
			bad = append(bad, fmt.Sprintf("key %d (kid %q) is not a public key", i, k.KeyID))
		}
	}
	return strings.Join(bad, "; ")
}

// checkDuration reports a duration that is not above 0 and at most hi.
func checkDuration(v *collector, field string, d, hi time.Duration) {
	if d > 0 && d <= hi {
		return
	}
	v.invalid(field, "%s is out of range (allowed: more than 0s, at most %s)", shortDuration(d), shortDuration(hi))
}

// checkDurationRange reports a duration outside lo..hi (inclusive).
func checkDurationRange(v *collector, field string, d, lo, hi time.Duration) {
	if d >= lo && d <= hi {
		return
	}
	v.invalid(field, "%s is out of range (allowed: %s to %s)", shortDuration(d), shortDuration(lo), shortDuration(hi))
}

// shortDuration formats d without zero trailing units: 1m, 12h, 1m30s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
