package configs

import (
	"slices"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sip"
)

// Environment variables of the voice channel's secrets.
const (
	// EnvSIPNonceSecret keys the digest nonces (Secrets.SIPNonceSecret).
	EnvSIPNonceSecret = "AIRBRANCH_SIP_NONCE_SECRET"
	// sipTrunkEnvPrefix and sipPhoneEnvPrefix start the per-trunk and
	// per-phone password variables; see SIPTrunkPasswordEnv and
	// SIPPhonePasswordEnv.
	sipTrunkEnvPrefix = "AIRBRANCH_SIP_TRUNK_"
	sipPhoneEnvPrefix = "AIRBRANCH_SIP_PHONE_"
	sipPasswordSuffix = "_PASSWORD"
)

// MinSIPNonceSecretBytes is the shortest AIRBRANCH_SIP_NONCE_SECRET: 128
// bits, so nonces cannot be forged.
const MinSIPNonceSecretBytes = 16

// SIPConfig configures the voice channel (package channels/sip): SIP
// listeners for the bank's trunks and the RMs' desk phones, RTP media
// anchored at the gateway, and how a waiting call reaches an RM's phone.
// It is enabled by a listener address (udp_addr, tcp_addr or tls_addr).
// Secrets come from the environment: AIRBRANCH_SIP_NONCE_SECRET, each
// trunk's AIRBRANCH_SIP_TRUNK_<NAME>_PASSWORD and each phone's
// AIRBRANCH_SIP_PHONE_<USERNAME>_PASSWORD. Field meanings follow
// sip.Config; SIPAdapter converts.
type SIPConfig struct {
	// UDPAddr, TCPAddr and TLSAddr are host:port listen addresses; ""
	// opens none. All empty: voice is off.
	UDPAddr string `yaml:"udp_addr"`
	TCPAddr string `yaml:"tcp_addr"`
	TLSAddr string `yaml:"tls_addr"`
	// TLSCertFile and TLSKeyFile are PEM files for tls_addr, relative to
	// the config file's folder (Load resolves them).
	TLSCertFile string `yaml:"tls_cert_file"`
	TLSKeyFile  string `yaml:"tls_key_file"`
	// PublicHost is the host put in Contact and Via; "": the listen IP.
	PublicHost string `yaml:"public_host"`
	// MediaIP is the local IP RTP sockets bind to; PublicMediaIP the IP
	// written in SDP ("": public_host when it is an IP, else media_ip).
	MediaIP       string `yaml:"media_ip"`
	PublicMediaIP string `yaml:"public_media_ip"`
	// RTPPortMin and RTPPortMax bound the RTP ports (even ones are used,
	// one per call leg); both 0 lets the kernel choose.
	RTPPortMin int `yaml:"rtp_port_min"`
	RTPPortMax int `yaml:"rtp_port_max"`
	// DefaultRegion reads caller ids without a country code; "":
	// identity.default_region.
	DefaultRegion string `yaml:"default_region"`
	// ChannelAccount is the bank's called number in E.164 recorded on
	// every call; "": each INVITE's dialled number.
	ChannelAccount string `yaml:"channel_account"`
	// Trunks are the carriers or SBCs allowed to send calls.
	Trunks []SIPTrunk `yaml:"trunks"`
	// DropUnknown drops requests from unknown sources instead of 403.
	DropUnknown bool `yaml:"drop_unknown"`
	// Realm is the digest realm (RFC 3261 §22.1).
	Realm string `yaml:"realm"`
	// RMPhones are the RMs' desk-phone accounts for REGISTER.
	RMPhones []SIPPhone `yaml:"rm_phones"`
	// Register expiry bounds (RFC 3261 §10.3).
	RegisterMinExpires     time.Duration `yaml:"register_min_expires"`
	RegisterMaxExpires     time.Duration `yaml:"register_max_expires"`
	RegisterDefaultExpires time.Duration `yaml:"register_default_expires"`
	// RingBeforeAnswer rings an inbound call this long before answering
	// (0s: answer at once).
	RingBeforeAnswer time.Duration `yaml:"ring_before_answer"`
	// AnnounceEvery is the music-on-hold time between announcements of the
	// caller's place in queue.
	AnnounceEvery time.Duration `yaml:"announce_every"`
	// RMRingTimeout bounds how long an RM's phone rings.
	RMRingTimeout time.Duration `yaml:"rm_ring_timeout"`
	// RTPTimeout ends a call whose caller sent no RTP for this long; 0s
	// turns the check off.
	RTPTimeout time.Duration `yaml:"rtp_timeout"`
	// DefaultLanguage is the first prompt language: en or zh.
	DefaultLanguage string `yaml:"default_language"`
	// RetryAfter is the Retry-After of 503 answers, whole seconds.
	RetryAfter time.Duration `yaml:"retry_after"`
	// PhoneFirst rings the offered RM's phone when routing offers a call:
	// answering accepts the offer, not answering declines it. false: the
	// RM accepts on the desk and then the phone rings.
	PhoneFirst bool `yaml:"phone_first"`
	// Recording records the calls of some segments.
	Recording SIPRecording `yaml:"recording"`
	// Outbound is the trunk callbacks call clients through.
	Outbound SIPOutbound `yaml:"outbound"`
}

// SIPRecording chooses the recorded calls: those of the customers of
// Segments, as WAV files under Dir (see sip.CallRecorder), each with a
// consent announcement to the caller before the bridge.
type SIPRecording struct {
	// Segments lists the recorded segments (conversation.Segments);
	// empty: no call is recorded.
	Segments []conversation.Segment `yaml:"segments"`
	// Dir is the folder of the WAV files, relative to the config file's
	// folder; created (mode 0700) when missing. Needed with Segments.
	Dir string `yaml:"dir"`
}

// Records reports whether calls of segment seg are recorded.
func (r SIPRecording) Records(seg conversation.Segment) bool {
	return r.Dir != "" && slices.Contains(r.Segments, seg)
}

// SIPOutbound is the trunk callbacks go out through (sip.OutboundConfig
// without its password, from AIRBRANCH_SIP_OUTBOUND_PASSWORD).
type SIPOutbound struct {
	// Addr is the trunk's host:port; "": callbacks are off.
	Addr string `yaml:"addr"`
	// Transport is udp, tcp or tls; "": udp.
	Transport string `yaml:"transport"`
	// CallerID is the bank's E.164 number the client sees.
	CallerID string `yaml:"caller_id"`
	// Username answers the trunk's digest challenges (RFC 3261 §22.2).
	Username string `yaml:"username"`
	// RingTimeout bounds how long the client's phone rings.
	RingTimeout time.Duration `yaml:"ring_timeout"`
}

// EnvSIPOutboundPassword holds the outbound trunk's digest password.
const EnvSIPOutboundPassword = "AIRBRANCH_SIP_OUTBOUND_PASSWORD"

// Enabled reports whether the voice channel is configured: a listener
// address is set.
func (s SIPConfig) Enabled() bool { return s.UDPAddr != "" || s.TCPAddr != "" || s.TLSAddr != "" }

// SIPTrunk is one trunk (sip.TrunkConfig without its password).
type SIPTrunk struct {
	// Name labels the trunk; letters, digits, "-", "_" and ".", unique
	// once upper-cased (it names the password variable).
	Name string `yaml:"name"`
	// Sources are allowed source IPs or CIDR prefixes.
	Sources []string `yaml:"sources"`
	// Username, when set, requires digest authentication with the password
	// in AIRBRANCH_SIP_TRUNK_<NAME>_PASSWORD.
	Username string `yaml:"username"`
	// TrustIdentity takes the trunk's P-Asserted-Identity as a caller id
	// verified at basic level (RFC 3325).
	TrustIdentity bool `yaml:"trust_identity"`
}

// SIPPhone is one RM desk phone's account (sip.RMPhoneConfig without its
// password).
type SIPPhone struct {
	// RM is the directory's RM id.
	RM conversation.RMID `yaml:"rm"`
	// Username is the digest user name the phone registers with; letters,
	// digits, "-", "_" and ".", unique once upper-cased (it names the
	// password variable).
	Username string `yaml:"username"`
}

// envName upper-cases name with "-" and "." as "_", for a variable name.
func envName(name string) string {
	return strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name))
}

// SIPTrunkPasswordEnv names the variable holding the digest password of
// trunk name: "AIRBRANCH_SIP_TRUNK_" + the name upper-cased with "-" and
// "." as "_" + "_PASSWORD" (carrier-a: AIRBRANCH_SIP_TRUNK_CARRIER_A_PASSWORD).
func SIPTrunkPasswordEnv(name string) string {
	return sipTrunkEnvPrefix + envName(name) + sipPasswordSuffix
}

// SIPPhonePasswordEnv names the variable holding the password of the RM
// phone registering as username, as SIPTrunkPasswordEnv does
// (rm-pb-01: AIRBRANCH_SIP_PHONE_RM_PB_01_PASSWORD).
func SIPPhonePasswordEnv(username string) string {
	return sipPhoneEnvPrefix + envName(username) + sipPasswordSuffix
}

// applySIPEnv reads the password of each trunk with a username and of each
// RM phone from its variable.
func (c *Config) applySIPEnv(getenv func(string) string) {
	for _, t := range c.SIP.Trunks {
		if t.Username == "" || t.Name == "" {
			continue
		}
		if v := getenv(SIPTrunkPasswordEnv(t.Name)); v != "" {
			if c.Secrets.SIPTrunkPasswords == nil {
				c.Secrets.SIPTrunkPasswords = map[string]string{}
			}
			c.Secrets.SIPTrunkPasswords[t.Name] = v
		}
	}
	if v := getenv(EnvSIPOutboundPassword); v != "" {
		c.Secrets.SIPOutboundPassword = v
	}
	for _, p := range c.SIP.RMPhones {
		if p.Username == "" {
			continue
		}
		if v := getenv(SIPPhonePasswordEnv(p.Username)); v != "" {
			if c.Secrets.SIPPhonePasswords == nil {
				c.Secrets.SIPPhonePasswords = map[string]string{}
			}
			c.Secrets.SIPPhonePasswords[p.Username] = v
		}
	}
}

// SIPAdapter returns the sip.Config of the sip section: the passwords and
// nonce secret from the environment, identity.default_region when
// sip.default_region is empty, and rtp_timeout 0s as "off" (sip.Config
// takes a negative duration for that). Validate reports its problems; the
// gateway builds the voice channel from it.
func (c *Config) SIPAdapter() sip.Config {
	s := c.SIP
	out := sip.Config{
		UDPAddr: s.UDPAddr, TCPAddr: s.TCPAddr, TLSAddr: s.TLSAddr, TLSCertFile: s.TLSCertFile, TLSKeyFile: s.TLSKeyFile,
		PublicHost: s.PublicHost, MediaIP: s.MediaIP, PublicMediaIP: s.PublicMediaIP,
		RTPPortMin: clampPort(s.RTPPortMin), RTPPortMax: clampPort(s.RTPPortMax),
		DefaultRegion: s.DefaultRegion, ChannelAccount: s.ChannelAccount, DropUnknown: s.DropUnknown,
		Realm: s.Realm, NonceSecret: c.Secrets.SIPNonceSecret,
		RegisterMinExpires: s.RegisterMinExpires, RegisterMaxExpires: s.RegisterMaxExpires, RegisterDefaultExpires: s.RegisterDefaultExpires,
		RingBeforeAnswer: s.RingBeforeAnswer, AnnounceEvery: s.AnnounceEvery, RMRingTimeout: s.RMRingTimeout,
		RTPTimeout: s.RTPTimeout, DefaultLanguage: s.DefaultLanguage, RetryAfter: s.RetryAfter,
		Outbound: sip.OutboundConfig{Addr: s.Outbound.Addr, Transport: s.Outbound.Transport, CallerID: s.Outbound.CallerID,
			Username: s.Outbound.Username, Password: c.Secrets.SIPOutboundPassword, RingTimeout: s.Outbound.RingTimeout},
	}
	if len(s.Recording.Segments) > 0 {
		out.RecordingDir = s.Recording.Dir
	}
	if out.DefaultRegion == "" {
		out.DefaultRegion = c.Identity.DefaultRegion
	}
	if out.RTPTimeout == 0 {
		out.RTPTimeout = -1
	}
	for _, t := range s.Trunks {
		out.Trunks = append(out.Trunks, sip.TrunkConfig{Name: t.Name, Sources: t.Sources, Username: t.Username,
			Password: c.Secrets.SIPTrunkPasswords[t.Name], TrustIdentity: t.TrustIdentity})
	}
	for _, p := range s.RMPhones {
		out.RMPhones = append(out.RMPhones, sip.RMPhoneConfig{RM: p.RM, Username: p.Username, Password: c.Secrets.SIPPhonePasswords[p.Username]})
	}
	return out
}

// clampPort keeps an out-of-range port (reported by Validate) from
// wrapping around in the uint16 of sip.Config.
func clampPort(p int) uint16 {
	return uint16(min(max(p, 0), 65535))
}
