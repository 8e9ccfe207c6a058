package sip

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Config configures the voice channel. Zero durations and ports take the
// defaults documented per field (see WithDefaults).
type Config struct {
	// UDPAddr, TCPAddr and TLSAddr are the SIP listen addresses
	// ("host:port"); an empty one is not opened. TLS needs TLSCertFile and
	// TLSKeyFile (PEM). At least one listener is needed.
	UDPAddr     string `yaml:"udp_addr"`
	TCPAddr     string `yaml:"tcp_addr"`
	TLSAddr     string `yaml:"tls_addr"`
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// PublicHost is the host (name or IP) put in Contact and Via headers;
	// default: the UDP (else TCP) listen IP, or 127.0.0.1 when that is
	// unspecified.
	PublicHost string `yaml:"public_host"`
	// MediaIP is the local IP RTP sockets bind to; default 0.0.0.0.
	MediaIP string `yaml:"media_ip"`
	// PublicMediaIP is the IP written in SDP c= lines (the address callers
	// and phones send RTP to, e.g. behind 1:1 NAT); default PublicHost when
	// it is an IP, else MediaIP.
	PublicMediaIP string `yaml:"public_media_ip"`
	// RTPPortMin and RTPPortMax bound the RTP ports (even ports are used);
	// both 0 lets the kernel choose.
	RTPPortMin uint16 `yaml:"rtp_port_min"`
	RTPPortMax uint16 `yaml:"rtp_port_max"`
	// DefaultRegion is the ISO 3166-1 alpha-2 region for caller ids without
	// a country code, e.g. "HK".
	DefaultRegion string `yaml:"default_region"`
	// ChannelAccount is the bank's called number in E.164, reported on
	// every Incoming; default: the dialled number of each INVITE.
	ChannelAccount string `yaml:"channel_account"`
	// Trunks lists who may send calls. Empty: nobody.
	Trunks []TrunkConfig `yaml:"trunks"`
	// DropUnknown drops requests from sources that match no trunk instead of
	// answering 403 Forbidden.
	DropUnknown bool `yaml:"drop_unknown"`
	// Realm is the digest realm (RFC 3261 §22.1); default "airbranch".
	Realm string `yaml:"realm"`
	// NonceSecret keys the digest nonces (from the environment, never YAML);
	// empty: a random secret per process, which is fine for one instance.
	NonceSecret string `yaml:"-"`
	// RMPhones lists the RMs' desk-phone credentials for REGISTER.
	RMPhones []RMPhoneConfig `yaml:"rm_phones"`
	// RegisterMinExpires, RegisterMaxExpires and RegisterDefaultExpires
	// bound REGISTER expiries (RFC 3261 §10.3): shorter asks get 423 with
	// Min-Expires, longer ones are cut to the max. Defaults 60 s, 3600 s,
	// 600 s.
	RegisterMinExpires     time.Duration `yaml:"register_min_expires"`
	RegisterMaxExpires     time.Duration `yaml:"register_max_expires"`
	RegisterDefaultExpires time.Duration `yaml:"register_default_expires"`
	// RingBeforeAnswer sends 180 Ringing and waits this long before
	// answering an inbound call (0: answer at once).
	RingBeforeAnswer time.Duration `yaml:"ring_before_answer"`
	// AnnounceEvery is the music-on-hold time between queue announcements;
	// default 30 s.
	AnnounceEvery time.Duration `yaml:"announce_every"`
	// RMRingTimeout bounds how long an RM's phone rings on Bridge; default
	// 20 s.
	RMRingTimeout time.Duration `yaml:"rm_ring_timeout"`
	// RTPTimeout ends a call when no RTP arrived from the caller for this
	// long; default 30 s; negative disables.
	RTPTimeout time.Duration `yaml:"rtp_timeout"`
	// DefaultLanguage is the first prompt language: "en" or "zh"; default
	// "en".
	DefaultLanguage string `yaml:"default_language"`
	// RetryAfter is the Retry-After of 503 answers (RFC 3261 §20.33);
	// default 5 s.
	RetryAfter time.Duration `yaml:"retry_after"`
	// RecordingDir is the existing folder where recorded calls are written
	// as WAV files named <conversation id>-<UTC time>.wav; empty records
	// nothing. Which calls are recorded is the CallSink's choice (see
	// CallRecorder).
	RecordingDir string `yaml:"recording_dir"`
	// Outbound is the trunk callbacks call clients through (Callback);
	// Addr empty: no callbacks.
	Outbound OutboundConfig `yaml:"outbound"`
}

// OutboundConfig is the trunk outbound calls go through: each INVITE goes
// to Addr with Request-URI sip:<client E.164>@<Addr's host>, From and
// P-Asserted-Identity (RFC 3325) carrying CallerID.
type OutboundConfig struct {
	// Addr is the trunk's "host:port".
	Addr string `yaml:"addr"`
	// Transport is "udp", "tcp" or "tls"; default "udp".
	Transport string `yaml:"transport"`
	// CallerID is the bank's number in E.164 shown to the client.
	CallerID string `yaml:"caller_id"`
	// Username and Password answer a 401 or 407 digest challenge (RFC
	// 3261 §22.2); the password comes from the environment.
	Username string `yaml:"username"`
	Password string `yaml:"-"`
	// RingTimeout bounds how long the client's phone rings; default 45 s.
	RingTimeout time.Duration `yaml:"ring_timeout"`
}

// TrunkConfig is one carrier trunk or SBC allowed to send calls: by source
// address, digest credentials, or both (then both must match).
type TrunkConfig struct {
	// Name labels the trunk in logs, e.g. "carrier-a".
	Name string `yaml:"name"`
	// Sources lists allowed source IPs or CIDR prefixes ("192.0.2.10",
	// "198.51.100.0/24"). Empty: any source with valid credentials.
	Sources []string `yaml:"sources"`
	// Username and Password, when Username is set, require digest
	// authentication (RFC 3261 §22.4, 401 challenge). The password comes
	// from the environment.
	Username string `yaml:"username"`
	Password string `yaml:"-"`
	// TrustIdentity marks caller ids from this trunk (P-Asserted-Identity,
	// RFC 3325) as verified at basic level.
	TrustIdentity bool `yaml:"trust_identity"`

	prefixes []netip.Prefix
}

// RMPhoneConfig is one RM's desk-phone account for REGISTER.
type RMPhoneConfig struct {
	RM       conversation.RMID `yaml:"rm"`
	Username string            `yaml:"username"`
	Password string            `yaml:"-"`
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.RegisterMinExpires, 60*time.Second)
	def(&c.RegisterMaxExpires, time.Hour)
	def(&c.RegisterDefaultExpires, 10*time.Minute)
	def(&c.AnnounceEvery, 30*time.Second)
	def(&c.RMRingTimeout, 20*time.Second)
	def(&c.RTPTimeout, 30*time.Second)
	def(&c.RetryAfter, 5*time.Second)
	def(&c.Outbound.RingTimeout, 45*time.Second)
	if c.Outbound.Transport == "" {
		c.Outbound.Transport = "udp"
	}
	if c.Realm == "" {
		c.Realm = "airbranch"
	}
	if c.DefaultLanguage == "" {
		c.DefaultLanguage = "en"
	}
	if c.MediaIP == "" {
		c.MediaIP = "0.0.0.0"
	}
	if c.PublicHost == "" {
		c.PublicHost = "127.0.0.1"
		for _, a := range []string{c.UDPAddr, c.TCPAddr, c.TLSAddr} {
			if ap, err := netip.ParseAddrPort(a); err == nil && !ap.Addr().IsUnspecified() {
				c.PublicHost = ap.Addr().String()
				break
			}
		}
	}
	if c.PublicMediaIP == "" {
		if ip, err := netip.ParseAddr(c.PublicHost); err == nil {
			c.PublicMediaIP = ip.String()
		} else {
			c.PublicMediaIP = c.MediaIP
		}
	}
	return c
}

// FieldProblem is one problem of a Config: Field is the key path of the
// value in the YAML names of Config ("udp_addr", "trunks[1].sources"),
// Message says what is wrong and what is allowed.
type FieldProblem struct {
	Field   string
	Message string
}

// Problems applies WithDefaults to a copy of c and returns every problem
// of the result, each with its field, in a stable order; nil when New
// would accept c. c is not changed. Validate reports the same problems as
// errors.
func (c Config) Problems() []FieldProblem {
	d := c.WithDefaults()
	d.Trunks = slices.Clone(d.Trunks)
	for i := range d.Trunks {
		d.Trunks[i].prefixes = nil
	}
	return d.problems()
}

// Validate reports every problem of c (after WithDefaults) at once; each
// wraps ErrConfig and names its field ("sip.udp_addr: ...").
func (c *Config) Validate() error {
	var errs []error
	for _, p := range c.problems() {
		errs = append(errs, fmt.Errorf("sip.%s: %w: %s", p.Field, ErrConfig, p.Message))
	}
	return errors.Join(errs...)
}

// problems lists every problem of c and parses the trunks' sources into
// their prefixes.
func (c *Config) problems() []FieldProblem {
	var out []FieldProblem
	bad := func(field, format string, a ...any) {
		out = append(out, FieldProblem{Field: field, Message: fmt.Sprintf(format, a...)})
	}
	if c.UDPAddr == "" && c.TCPAddr == "" && c.TLSAddr == "" {
		bad("udp_addr", "at least one of udp_addr, tcp_addr, tls_addr is needed")
	}
	if c.TLSAddr != "" && (c.TLSCertFile == "" || c.TLSKeyFile == "") {
		bad("tls_cert_file", "tls_addr needs tls_cert_file and tls_key_file")
	}
	if _, err := netip.ParseAddr(c.MediaIP); err != nil {
		bad("media_ip", "%q is not an IP address", c.MediaIP)
	}
	if _, err := netip.ParseAddr(c.PublicMediaIP); err != nil {
		bad("public_media_ip", "%q is not an IP address", c.PublicMediaIP)
	}
	if (c.RTPPortMin == 0) != (c.RTPPortMax == 0) || c.RTPPortMin > c.RTPPortMax || (c.RTPPortMax != 0 && c.RTPPortMax-c.RTPPortMin < 1) {
		bad("rtp_port_min", "range %d-%d: give both, min < max (or both 0)", c.RTPPortMin, c.RTPPortMax)
	}
	if c.DefaultRegion != "" && !phonenumbers.GetSupportedRegions()[strings.ToUpper(c.DefaultRegion)] {
		bad("default_region", "%q is not an ISO 3166-1 alpha-2 region with a numbering plan (e.g. HK, CN, GB)", c.DefaultRegion)
	}
	if c.ChannelAccount != "" && !conversation.IsE164(c.ChannelAccount) {
		bad("channel_account", "must be E.164, e.g. +85221234567")
	}
	for i := range c.Trunks {
		t := &c.Trunks[i]
		t.prefixes = t.prefixes[:0]
		if t.Name == "" {
			bad(fmt.Sprintf("trunks[%d].name", i), "empty")
		}
		if len(t.Sources) == 0 && t.Username == "" {
			bad(fmt.Sprintf("trunks[%d]", i), "needs sources, username, or both")
		}
		if t.Username != "" && t.Password == "" {
			bad(fmt.Sprintf("trunks[%d].password", i), "username set without a password")
		}
		for _, s := range t.Sources {
			p, err := parsePrefix(s)
			if err != nil {
				bad(fmt.Sprintf("trunks[%d].sources", i), "%q is neither an IP nor a CIDR prefix", s)
				continue
			}
			t.prefixes = append(t.prefixes, p)
		}
	}
	seen := map[string]bool{}
	for i, p := range c.RMPhones {
		if p.RM == "" || p.Username == "" || p.Password == "" {
			bad(fmt.Sprintf("rm_phones[%d]", i), "rm, username and password are all needed")
		}
		if seen[p.Username] {
			bad(fmt.Sprintf("rm_phones[%d].username", i), "%q used twice", p.Username)
		}
		seen[p.Username] = true
	}
	if c.RegisterMinExpires <= 0 || c.RegisterMinExpires > c.RegisterMaxExpires ||
		c.RegisterDefaultExpires < c.RegisterMinExpires || c.RegisterDefaultExpires > c.RegisterMaxExpires {
		bad("register_min_expires", "need 0 < min (%s) <= default (%s) <= max (%s)", c.RegisterMinExpires, c.RegisterDefaultExpires, c.RegisterMaxExpires)
	}
	if c.RecordingDir != "" {
		if st, err := os.Stat(c.RecordingDir); err == nil && !st.IsDir() {
			bad("recording_dir", "%q is not a folder (a missing one is created)", c.RecordingDir)
		}
	}
	if o := c.Outbound; o.Addr != "" {
		if _, _, err := net.SplitHostPort(o.Addr); err != nil {
			bad("outbound.addr", "%q is not host:port", o.Addr)
		}
		if o.Transport != "udp" && o.Transport != "tcp" && o.Transport != "tls" {
			bad("outbound.transport", "%q: allowed udp, tcp, tls", o.Transport)
		}
		if !conversation.IsE164(o.CallerID) {
			bad("outbound.caller_id", "must be E.164, e.g. +85221234567")
		}
		if o.Username != "" && o.Password == "" {
			bad("outbound.password", "username set without a password")
		}
	}
	if c.DefaultLanguage != "en" && c.DefaultLanguage != "zh" {
		bad("default_language", "%q: allowed en, zh", c.DefaultLanguage)
	}
	return out
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), nil
}
