// Package configs holds Airbranch's configuration: the types, the embedded
// defaults and demo directory, strict loading (unknown keys are errors) and
// Validate, which reports every problem at once with file, line and field.
package configs

import (
	"time"

	"github.com/airbranch/airbranch/routing"
)

// Config is the whole gateway configuration (configs/airbranch.yaml).
// Secrets never come from the file: see Secrets.
type Config struct {
	// InstanceID names this gateway instance in leases and logs; empty means
	// hostname plus a random suffix, chosen at start.
	InstanceID string          `yaml:"instance_id"`
	Log        LogConfig       `yaml:"log"`
	HTTP       HTTPConfig      `yaml:"http"`
	Redis      RedisConfig     `yaml:"redis"`
	Auth       AuthConfig      `yaml:"auth"`
	Identity   IdentityConfig  `yaml:"identity"`
	Directory  DirectoryConfig `yaml:"directory"`
	// SMS and WeChat are the messaging channels' adapters; both are off
	// until accounts (or an SMSC address) are configured.
	SMS    SMSConfig    `yaml:"sms"`
	WeChat WeChatConfig `yaml:"wechat"`
	// SIP is the voice channel; off until a listener address is set.
	SIP SIPConfig `yaml:"sip"`
	// WebChat is web chat for the bank's app; off unless enabled (the
	// embedded demo enables it).
	WebChat WebChatConfig `yaml:"webchat"`
	// Video is WebRTC video for private-bank clients; off unless enabled
	// (the embedded demo enables it).
	Video VideoConfig `yaml:"video"`
	// Routing is the skills-based routing configuration (policies, costs,
	// offer timeouts, wrap-up, queue priorities); the embedded defaults
	// equal routing.DefaultConfig(). It is compiled against the directory
	// by CompileRouting (and by Check), not by Validate.
	Routing routing.Config `yaml:"routing"`

	// Secrets are read from the environment by Load, never from YAML.
	Secrets Secrets `yaml:"-"`
	// File is the path the config was loaded from ("" for embedded defaults).
	File string `yaml:"-"`

	// origins records where each value was written (file line or
	// environment variable), so Validate can point at it. Read-only after
	// Load.
	origins origins
}

// LogConfig sets logging.
type LogConfig struct {
	// Level: debug, info, warn or error.
	Level string `yaml:"level"`
	// Format: json or text.
	Format string `yaml:"format"`
}

// HTTPConfig sets the HTTP listener (API, webhooks, WebSockets, console).
type HTTPConfig struct {
	// Addr is host:port; AIRBRANCH_HTTP_ADDR overrides it. Default ":8080".
	Addr string `yaml:"addr"`
	// PublicURL is the external base URL (for webhook signatures), e.g.
	// "https://airbranch.bank.example".
	PublicURL string `yaml:"public_url"`
	// MaxBodyBytes caps request bodies; larger ones get 413. Default 1 MiB.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// ReadHeaderTimeout bounds reading request headers. Default 5s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ShutdownGrace is how long in-flight work may finish after SIGTERM.
	// Default 20s.
	ShutdownGrace time.Duration `yaml:"shutdown_grace"`
	// DrainDelay is how long, after SIGTERM, the instance keeps serving with
	// /readyz at 503 before it stops accepting connections, so load
	// balancers see it leave. Default 2s; 0 stops at once.
	DrainDelay time.Duration `yaml:"drain_delay"`
}

// RedisConfig selects the Redis store. With no URL and no Addrs the
// in-memory store is used (one instance only).
type RedisConfig struct {
	// URL is a redis:// or rediss:// URL; AIRBRANCH_REDIS_URL overrides it.
	URL string `yaml:"url"`
	// Addrs lists host:port seeds for Sentinel (with MasterName) or Cluster.
	Addrs []string `yaml:"addrs"`
	// MasterName is the Sentinel master name.
	MasterName string `yaml:"master_name"`
	// KeyPrefix starts every key; it is a hash tag ("{airbranch}") so that
	// multi-key scripts run on Redis Cluster.
	KeyPrefix string `yaml:"key_prefix"`
	// DialTimeout bounds connecting. Default 2s.
	DialTimeout time.Duration `yaml:"dial_timeout"`
	// Username is the Redis ACL user for Addrs (a URL carries its own);
	// the password comes from AIRBRANCH_REDIS_PASSWORD.
	Username string `yaml:"username"`
	// DB is the database on one server or a Sentinel primary given as
	// Addrs; Cluster has only db 0.
	DB int `yaml:"db"`
	// TLS connects to Addrs over TLS 1.2+ (a URL says rediss:// instead).
	TLS bool `yaml:"tls"`
}

// Enabled reports whether a Redis store is configured.
func (r RedisConfig) Enabled() bool { return r.URL != "" || len(r.Addrs) > 0 }

// AuthConfig sets how bearer tokens are verified. HS256 tokens use
// AIRBRANCH_JWT_SECRET; RS256/ES256 tokens are checked against JWKSFile.
type AuthConfig struct {
	// JWKSFile is a JSON Web Key Set (RFC 7517) file from the bank's OIDC
	// provider; "" disables RS256/ES256. Written relative to the config
	// file's folder; Load resolves it, so the value is ready to open.
	JWKSFile string `yaml:"jwks_file"`
	// Issuer, when set, must equal the token's iss claim.
	Issuer string `yaml:"issuer"`
	// Audience, when set, must be in the token's aud claim.
	Audience string `yaml:"audience"`
	// TokenTTL is the lifetime of tokens printed by `airbranch token`.
	// Default 12h.
	TokenTTL time.Duration `yaml:"token_ttl"`
}

// IdentityConfig sets identity resolution.
type IdentityConfig struct {
	// DefaultRegion is the ISO 3166-1 alpha-2 region used to read phone
	// numbers without a country code, e.g. "HK". Default "HK".
	DefaultRegion string `yaml:"default_region"`
}

// DirectoryConfig selects the directory of teams, RMs and customers.
type DirectoryConfig struct {
	// File is a directory YAML file (see DirectoryFile), written relative
	// to the config file's folder; Load resolves it, so the value is ready
	// to open. "" uses the embedded demo directory.
	File string `yaml:"file"`
}

// Secrets come from the environment only.
type Secrets struct {
	// JWTSecret signs and verifies HS256 tokens (AIRBRANCH_JWT_SECRET). When
	// empty a development secret is used and a warning logged.
	JWTSecret string
	// WeChat official account (AIRBRANCH_WECHAT_APPID, _SECRET, _TOKEN,
	// _AES_KEY): the credentials of the single account in wechat.accounts.
	WeChatAppID, WeChatSecret, WeChatToken, WeChatAESKey string
	// WeChatAccounts holds, when wechat.accounts has several accounts, each
	// one's credentials by account name, read from the variables under its
	// WeChatEnvPrefix (AIRBRANCH_WECHAT_<NAME>_APPID, ...); nil otherwise.
	WeChatAccounts map[string]WeChatCredentials
	// Twilio-compatible SMS (AIRBRANCH_TWILIO_ACCOUNT_SID, _AUTH_TOKEN).
	TwilioAccountSID, TwilioAuthToken string
	// SMPPPassword is the SMSC bind password (AIRBRANCH_SMPP_PASSWORD; at
	// most 8 characters, SMPP 3.4 §5.2.2).
	SMPPPassword string
	// WebChatTokenSecret and WebChatAnonymousSecret are web chat's HS256
	// keys (AIRBRANCH_WEBCHAT_TOKEN_SECRET, AIRBRANCH_WEBCHAT_ANONYMOUS_SECRET).
	WebChatTokenSecret     string
	WebChatAnonymousSecret string
	// SIPNonceSecret keys the voice channel's digest nonces
	// (AIRBRANCH_SIP_NONCE_SECRET); every instance needs the same one.
	// Empty: a random one per process.
	SIPNonceSecret string
	// SIPTrunkPasswords holds the digest password of each sip.trunks item
	// with a username, by trunk name (AIRBRANCH_SIP_TRUNK_<NAME>_PASSWORD);
	// SIPPhonePasswords each RM phone's, by user name
	// (AIRBRANCH_SIP_PHONE_<USERNAME>_PASSWORD). Nil when none is set.
	SIPTrunkPasswords, SIPPhonePasswords map[string]string
	// SIPOutboundPassword answers the outbound trunk's digest challenges
	// (AIRBRANCH_SIP_OUTBOUND_PASSWORD).
	SIPOutboundPassword string
	// VideoTokenSecret signs video join tokens
	// (AIRBRANCH_VIDEO_TOKEN_SECRET); VideoTURNCredential is handed to
	// clients with the TURN servers (AIRBRANCH_VIDEO_TURN_CREDENTIAL).
	VideoTokenSecret, VideoTURNCredential string
	// Redis passwords for Addrs (AIRBRANCH_REDIS_PASSWORD, and
	// AIRBRANCH_REDIS_SENTINEL_PASSWORD for Sentinels that require one).
	RedisPassword, RedisSentinelPassword string
}
