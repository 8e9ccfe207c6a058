package configs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
)

// Bounds of the sip section that Validate enforces beyond the adapter's
// own checks.
const (
	MaxSIPRingBeforeAnswer = time.Minute      // sip.ring_before_answer upper bound
	MinSIPAnnounceEvery    = 5 * time.Second  // sip.announce_every lower bound
	MaxSIPAnnounceEvery    = 10 * time.Minute // sip.announce_every upper bound
	MaxSIPRMRingTimeout    = 5 * time.Minute  // sip.rm_ring_timeout upper bound
	MinSIPRTPTimeout       = 5 * time.Second  // sip.rtp_timeout lower bound (0s: off)
	MaxSIPRTPTimeout       = time.Hour        // sip.rtp_timeout upper bound
	MaxSIPRetryAfter       = time.Hour        // sip.retry_after upper bound
	MaxSIPRegisterExpires  = 24 * time.Hour   // sip.register_max_expires upper bound
)

// validateSIP checks the sip section when voice is on: listener addresses
// and files, durations the adapter would silently replace when zero, the
// names that become variable names, the secrets (naming their variables),
// then the adapter's own problems (sip.Config.Problems) under the field
// that holds the value.
func (c *Config) validateSIP(v *collector) {
	s := c.SIP
	if !s.Enabled() {
		return
	}
	for _, l := range []struct{ field, addr string }{{"udp_addr", s.UDPAddr}, {"tcp_addr", s.TCPAddr}, {"tls_addr", s.TLSAddr}} {
		if l.addr == "" {
			continue
		}
		if err := checkHostPort(l.addr, false); err != nil {
			v.invalid("sip."+l.field, "%q: %v (allowed: host:port such as \"0.0.0.0:5060\", port 0 to 65535, or empty)", l.addr, err)
		}
	}
	if s.TLSAddr != "" {
		for _, f := range []struct{ field, path string }{{"tls_cert_file", s.TLSCertFile}, {"tls_key_file", s.TLSKeyFile}} {
			if f.path == "" {
				continue // the adapter reports the missing file
			}
			if _, err := os.Stat(f.path); err != nil {
				v.invalid("sip."+f.field, "%s: %v (allowed: a PEM file, relative to the config file's folder)", f.path, errors.Unwrap(err))
			}
		}
	}
	for _, p := range []struct {
		field string
		port  int
	}{{"rtp_port_min", s.RTPPortMin}, {"rtp_port_max", s.RTPPortMax}} {
		if p.port < 0 || p.port > 65535 {
			v.invalid("sip."+p.field, "%d is out of range (allowed: 0 to 65535; both 0 lets the kernel choose)", p.port)
		}
	}
	c.validateSIPDurations(v)
	c.validateSIPSecrets(v)
	c.validateSIPRecordingOutbound(v)

	a := c.SIPAdapter()
	// Missing secrets are reported above with their variables; the
	// adapter is checked as if they were set.
	for i := range a.Trunks {
		if a.Trunks[i].Username != "" && a.Trunks[i].Password == "" {
			a.Trunks[i].Password = "set"
		}
	}
	for i := range a.RMPhones {
		if a.RMPhones[i].Password == "" {
			a.RMPhones[i].Password = "set"
		}
	}
	if a.Outbound.Username != "" && a.Outbound.Password == "" {
		a.Outbound.Password = "set"
	}
	for _, p := range a.Problems() {
		field := "sip." + p.Field
		switch {
		case strings.HasSuffix(p.Field, ".password"):
			continue
		case p.Field == "default_region" && s.DefaultRegion == "":
			continue // identity.default_region, checked there
		case p.Field == "rtp_port_min" && (s.RTPPortMin < 0 || s.RTPPortMin > 65535 || s.RTPPortMax < 0 || s.RTPPortMax > 65535):
			continue // reported above
		case p.Field == "recording_dir":
			field = "sip.recording.dir"
		}
		v.invalid(field, "%s", p.Message)
	}
}

// Bounds of sip.outbound.ring_timeout.
const (
	MinSIPOutboundRingTimeout = 5 * time.Second
	MaxSIPOutboundRingTimeout = 5 * time.Minute
)

// validateSIPRecordingOutbound checks sip.recording (known segments, a
// folder when any is recorded) and sip.outbound (its ring timeout and
// its password variable); the adapter checks the rest of sip.outbound.
func (c *Config) validateSIPRecordingOutbound(v *collector) {
	r := c.SIP.Recording
	for i, seg := range r.Segments {
		if !slices.Contains(conversation.Segments, seg) {
			v.invalid(fmt.Sprintf("sip.recording.segments[%d]", i), "unknown segment %q (allowed: %v)", seg, conversation.Segments)
		}
	}
	if len(r.Segments) > 0 && r.Dir == "" {
		v.invalid("sip.recording.dir", "segments are recorded but no folder is set (allowed: a folder, relative to the config file's folder; created when missing)")
	}
	o := c.SIP.Outbound
	if o.Addr == "" {
		return
	}
	if o.RingTimeout != 0 && (o.RingTimeout < MinSIPOutboundRingTimeout || o.RingTimeout > MaxSIPOutboundRingTimeout) {
		v.invalid("sip.outbound.ring_timeout", "%s is out of range (allowed: %s to %s)", o.RingTimeout, MinSIPOutboundRingTimeout, MaxSIPOutboundRingTimeout)
	}
	if o.Username != "" && c.Secrets.SIPOutboundPassword == "" {
		v.invalid("sip.outbound.username", "the outbound trunk authenticates with digest but %s is not set (allowed: the password in the environment, or no username)", EnvSIPOutboundPassword)
	}
}

// validateSIPDurations reports durations out of their bounds, zeros the
// adapter would replace by its defaults among them.
func (c *Config) validateSIPDurations(v *collector) {
	s := c.SIP
	for _, d := range []struct {
		field    string
		d        time.Duration
		min, max time.Duration
		zeroOK   string // what 0s means when allowed
	}{
		{"register_min_expires", s.RegisterMinExpires, time.Second, MaxSIPRegisterExpires, ""},
		{"register_max_expires", s.RegisterMaxExpires, time.Second, MaxSIPRegisterExpires, ""},
		{"register_default_expires", s.RegisterDefaultExpires, time.Second, MaxSIPRegisterExpires, ""},
		{"ring_before_answer", s.RingBeforeAnswer, 0, MaxSIPRingBeforeAnswer, "answer at once"},
		{"announce_every", s.AnnounceEvery, MinSIPAnnounceEvery, MaxSIPAnnounceEvery, ""},
		{"rm_ring_timeout", s.RMRingTimeout, time.Second, MaxSIPRMRingTimeout, ""},
		{"rtp_timeout", s.RTPTimeout, MinSIPRTPTimeout, MaxSIPRTPTimeout, "off"},
		{"retry_after", s.RetryAfter, time.Second, MaxSIPRetryAfter, ""},
	} {
		if d.d == 0 && d.zeroOK != "" {
			continue
		}
		if d.d < d.min || d.d > d.max {
			allowed := fmt.Sprintf("%s to %s", d.min, d.max)
			if d.zeroOK != "" {
				allowed = fmt.Sprintf("0s (%s), or %s", d.zeroOK, allowed)
			}
			v.invalid("sip."+d.field, "%s is out of range (allowed: %s)", d.d, allowed)
		}
	}
	if s.RetryAfter%time.Second != 0 {
		v.invalid("sip.retry_after", "%s is not whole seconds (allowed: whole seconds, as Retry-After carries, RFC 3261 §20.33)", s.RetryAfter)
	}
}

// validateSIPSecrets reports the trunk and phone names that cannot name a
// variable (or name the same one twice), the passwords that are not set,
// naming their variables, and a missing or short nonce secret where
// several instances must share it.
func (c *Config) validateSIPSecrets(v *collector) {
	s := c.SIP
	trunkVars := map[string]int{}
	for i, t := range s.Trunks {
		field := fmt.Sprintf("sip.trunks[%d]", i)
		if t.Name != "" && !isEnvNamePart(t.Name) {
			v.invalid(field+".name", "%q has a character other than letters, digits, \"-\", \"_\" and \".\" (allowed: those; the name names the trunk's password variable)", t.Name)
			continue
		}
		if t.Name == "" {
			continue // the adapter reports it
		}
		env := SIPTrunkPasswordEnv(t.Name)
		if j, dup := trunkVars[env]; dup {
			v.invalid(field+".name", "%q reads its password from %s, as sip.trunks[%d] does (allowed: names that differ once upper-cased with \"-\" and \".\" as \"_\")", t.Name, env, j)
			continue
		}
		trunkVars[env] = i
		if t.Username != "" && c.Secrets.SIPTrunkPasswords[t.Name] == "" {
			v.invalid(field+".username", "trunk %q authenticates with digest but %s is not set (allowed: the password in the environment, or no username to admit the trunk by its sources alone)", t.Name, env)
		}
	}
	phoneVars := map[string]int{}
	for i, p := range s.RMPhones {
		field := fmt.Sprintf("sip.rm_phones[%d]", i)
		if p.Username == "" {
			continue // the adapter reports it
		}
		if !isEnvNamePart(p.Username) {
			v.invalid(field+".username", "%q has a character other than letters, digits, \"-\", \"_\" and \".\" (allowed: those; the user name names the phone's password variable)", p.Username)
			continue
		}
		env := SIPPhonePasswordEnv(p.Username)
		if j, dup := phoneVars[env]; dup {
			v.invalid(field+".username", "%q reads its password from %s, as sip.rm_phones[%d] does (allowed: user names that differ once upper-cased with \"-\" and \".\" as \"_\")", p.Username, env, j)
			continue
		}
		phoneVars[env] = i
		if c.Secrets.SIPPhonePasswords[p.Username] == "" {
			v.invalid(field, "RM phone %q is configured but %s is not set (allowed: the phone's password in the environment, or remove the phone)", p.Username, env)
		}
	}
	secret := c.Secrets.SIPNonceSecret
	digestField := "sip.rm_phones"
	if len(s.RMPhones) == 0 {
		digestField = "sip.trunks"
	}
	digest := len(s.RMPhones) > 0 || slices.ContainsFunc(s.Trunks, func(t SIPTrunk) bool { return t.Username != "" })
	switch {
	case secret != "" && len(secret) < MinSIPNonceSecretBytes:
		v.list = append(v.list, Problem{File: c.File, Source: "env " + EnvSIPNonceSecret, Field: "secrets.sip_nonce_secret",
			Message: fmt.Sprintf("the secret is %d bytes (allowed: at least %d bytes)", len(secret), MinSIPNonceSecretBytes), Err: ErrInvalid})
	case secret == "" && digest && c.Redis.Enabled():
		v.invalid(digestField, "digest authentication with redis (several instances) needs %s set, the same on every instance, so a challenge from one instance verifies on another (allowed: at least %d random bytes in the environment)", EnvSIPNonceSecret, MinSIPNonceSecretBytes)
	}
}

// isEnvNamePart reports whether s is letters, digits, "-", "_" and ".".
func isEnvNamePart(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return s != ""
}

// checkSIPPhones reports each RM phone whose rm the directory does not
// know, at its line.
func checkSIPPhones(cfg *Config, dir directory.Directory) Problems {
	if !cfg.SIP.Enabled() {
		return nil
	}
	v := &collector{file: cfg.File, where: cfg.origins, fallback: "default"}
	for i, p := range cfg.SIP.RMPhones {
		if p.RM == "" {
			continue // the adapter reports it
		}
		if _, err := dir.RM(context.Background(), p.RM); err != nil {
			v.invalid(fmt.Sprintf("sip.rm_phones[%d].rm", i), "RM %q is not in the directory (allowed: an RM id of the directory's rms)", p.RM)
		}
	}
	return v.list
}
