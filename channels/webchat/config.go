package webchat

import (
	"errors"
	"fmt"
	"mime"
	"net/url"
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Defaults and bounds of Config.
const (
	// DefaultAccount is the ChannelAccount of web chat messages: the bank's
	// app.
	DefaultAccount = "app"
	// DefaultMaxFrameBytes bounds one client frame: 16 KiB (a 4 KiB text
	// in JSON with escapes and attachment references). A larger frame
	// closes the connection with 1009 (RFC 6455 §7.4.1).
	DefaultMaxFrameBytes = 16 << 10
	// DefaultMaxTextBytes bounds a client message's text: 4,096 bytes of
	// UTF-8, as an RM's (outbox.MaxTextBytes).
	DefaultMaxTextBytes = 4096
	// DefaultMessagesPerSecond is how many message frames a session may
	// send per second (in a burst of as many); more get rate_limited.
	DefaultMessagesPerSecond = 5
	// DefaultFramesPerSecond is how many frames of any type a session may
	// send per second (receipts, typing, messages).
	DefaultFramesPerSecond = 20
	// DefaultPingInterval: the server pings every 10 s (RFC 6455 §5.5.2);
	// a client silent for three intervals is taken for gone.
	DefaultPingInterval = 10 * time.Second
	// DefaultSendQueue is how many frames may wait for a slow client
	// before its session is closed with CloseSlowClient.
	DefaultSendQueue = 256
	// DefaultHistoryMessages is how many of the open conversation's latest
	// messages a fresh state carries.
	DefaultHistoryMessages = 50
	// DefaultQueueRefresh is how often a waiting client's queue position
	// and estimated wait are recomputed.
	DefaultQueueRefresh = 15 * time.Second
	// DefaultWaitPerPosition is the estimated wait per queue position
	// before any answered wait has been observed.
	DefaultWaitPerPosition = 60 * time.Second
	// DefaultAckTimeout bounds storing one client message (Sink.Receive).
	DefaultAckTimeout = 5 * time.Second
	// DefaultReceiptWait is how long a delivered or read receipt waits for
	// its message to be indexed under its provider id (the outbox indexes
	// a message just after Send returns).
	DefaultReceiptWait = 2 * time.Second
	// DefaultTokenMaxLifetime is the longest lifetime (exp − iat, or
	// exp − now without iat) a bank-issued client token may claim.
	DefaultTokenMaxLifetime = 24 * time.Hour
	// DefaultAnonymousTTL is the lifetime of an anonymous token: 30 days,
	// so a device keeps its anonymous identity and history.
	DefaultAnonymousTTL = 30 * 24 * time.Hour
	// DefaultAnonymousPerMinute is how many anonymous tokens one instance
	// issues per minute (each may become a prospect).
	DefaultAnonymousPerMinute = 60
	// DefaultAttachmentMaxBytes bounds one upload: 2 MiB.
	DefaultAttachmentMaxBytes = 2 << 20
	// MaxAttachmentBytes is the largest Attachments.MaxBytes allowed:
	// 16 MiB (uploads are held in memory and, on Redis, as one value).
	MaxAttachmentBytes = 16 << 20
	// DefaultAttachmentTTL is how long an upload is kept: 7 days.
	DefaultAttachmentTTL = 7 * 24 * time.Hour
	// DefaultAttachmentsPerMessage bounds the attachments of one message.
	DefaultAttachmentsPerMessage = 4
	// DefaultMemoryAttachmentBytes bounds the memory store's total: 64 MiB.
	DefaultMemoryAttachmentBytes = 64 << 20
)

// DefaultAttachmentTypes are the MIME types accepted for uploads by
// default: photos and PDF documents.
var DefaultAttachmentTypes = []string{"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"}

// Subject kinds: what a client token's sub names.
const (
	// SubjectAppUser: sub is the bank's app user id, the client's address
	// of kind app_user, which the gateway maps to a customer (directory,
	// else a prospect).
	SubjectAppUser = "app_user"
	// SubjectCustomer: sub is the customer id; the customer's first
	// app_user address in the directory is their chat address (a customer
	// without one is refused with 403).
	SubjectCustomer = "customer"
)

// Config configures the adapter. Secrets are not read from YAML
// (`yaml:"-"`): the gateway fills Token.Secret and Anonymous.Secret from
// the environment (suggested: AIRBRANCH_WEBCHAT_TOKEN_SECRET and
// AIRBRANCH_WEBCHAT_ANONYMOUS_SECRET). Zero fields take the defaults above.
type Config struct {
	// Account is the ChannelAccount of every web chat Incoming and of the
	// receipts (default "app"): the bank's app, as the conversation shows it.
	Account string `yaml:"account"`
	// Token says how client tokens are verified.
	Token TokenConfig `yaml:"token"`
	// Anonymous lets prospects chat without a bank token (off by default).
	Anonymous AnonymousConfig `yaml:"anonymous"`
	// Attachments limits uploads.
	Attachments AttachmentConfig `yaml:"attachments"`
	// MaxFrameBytes bounds one client frame in bytes (default 16384); a
	// larger one closes the connection with 1009.
	MaxFrameBytes int64 `yaml:"max_frame_bytes"`
	// MaxTextBytes bounds a message's text in bytes (default 4096).
	MaxTextBytes int `yaml:"max_text_bytes"`
	// MessagesPerSecond is the message frames a session may send per
	// second (default 5); beyond it a message is answered rate_limited
	// and not stored.
	MessagesPerSecond int `yaml:"messages_per_second"`
	// FramesPerSecond is the frames of every type a session may send per
	// second (default 20).
	FramesPerSecond int `yaml:"frames_per_second"`
	// PingInterval is how often the server pings (default 10 s).
	PingInterval time.Duration `yaml:"ping_interval"`
	// SendQueue is the frames that may wait for a slow client (default
	// 256) before it is closed with 4008.
	SendQueue int `yaml:"send_queue"`
	// HistoryMessages is the messages of a fresh state (default 50).
	HistoryMessages int `yaml:"history_messages"`
	// QueueRefresh is how often a waiting client's queue position is
	// recomputed (default 15 s).
	QueueRefresh time.Duration `yaml:"queue_refresh"`
	// WaitPerPosition is the estimated wait per queue position until
	// answered waits have been observed (default 60 s).
	WaitPerPosition time.Duration `yaml:"wait_per_position"`
	// AckTimeout bounds storing one message (default 5 s); a message not
	// stored in time is answered unavailable and the client re-sends it.
	AckTimeout time.Duration `yaml:"ack_timeout"`
	// ReceiptWait is how long a receipt waits for its message to be
	// indexed (default 2 s).
	ReceiptWait time.Duration `yaml:"receipt_wait"`
	// AllowedOrigins are the browser origins (scheme://host[:port]) of the
	// bank's online banking pages that may open the chat and upload,
	// besides the gateway's own origin; "*" allows any. Native apps send
	// no Origin and are always allowed.
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// TokenConfig says how bank-issued client tokens (JWT, RFC 7519) are
// verified: HS256 with Secret (at least 32 bytes, RFC 7518 §3.2), and/or
// RS256 or ES256 (P-256) with the public key in PublicKeyFile (PEM: a
// "PUBLIC KEY", "RSA PUBLIC KEY" or "CERTIFICATE" block) or the keys of
// JWKSFile (RFC 7517, chosen by the token's kid). At least one of Secret,
// PublicKeyFile, JWKSFile; not both files. exp is required; exp, nbf and
// iat are checked with Leeway (30 s).
type TokenConfig struct {
	// Secret is the HS256 key, from the environment.
	Secret []byte `yaml:"-"`
	// PublicKeyFile is a PEM file with one RSA (2048 bits or more) or
	// P-256 public key or certificate.
	PublicKeyFile string `yaml:"public_key_file"`
	// JWKSFile is a JSON Web Key Set of RS256 and ES256 public keys.
	JWKSFile string `yaml:"jwks_file"`
	// Issuer, when set, must equal the token's iss.
	Issuer string `yaml:"issuer"`
	// Audience, when set, must be one of the token's aud.
	Audience string `yaml:"audience"`
	// Subject is what sub names: "app_user" (default) or "customer".
	Subject string `yaml:"subject"`
	// DefaultVerification is the verification level of a token without a
	// "verification" claim (default strong: the app logged the user in).
	DefaultVerification conversation.Verification `yaml:"default_verification"`
	// MaxLifetime is the longest lifetime a token may claim (default 24 h).
	MaxLifetime time.Duration `yaml:"max_lifetime"`
}

// AnonymousConfig lets prospects chat without a bank token: POST
// /chat/anonymous issues a token for a new anonymous app user id
// ("anon-<UUIDv7>"), kept by the device; the gateway makes it an
// unverified prospect in segment mass.
type AnonymousConfig struct {
	// Enabled turns anonymous chat on.
	Enabled bool `yaml:"enabled"`
	// Secret signs anonymous tokens (HS256, at least 32 bytes), from the
	// environment; shared by every instance. Required when Enabled.
	Secret []byte `yaml:"-"`
	// TokenTTL is an anonymous token's lifetime (default 720 h).
	TokenTTL time.Duration `yaml:"token_ttl"`
	// PerMinute is how many anonymous tokens one instance issues per
	// minute (default 60); more get 429.
	PerMinute int `yaml:"per_minute"`
}

// AttachmentConfig limits uploads.
type AttachmentConfig struct {
	// MaxBytes bounds one upload in bytes (default 2 MiB, at most 16 MiB).
	MaxBytes int64 `yaml:"max_bytes"`
	// Types are the accepted MIME types (default DefaultAttachmentTypes).
	Types []string `yaml:"types"`
	// TTL is how long an upload is kept (default 168 h).
	TTL time.Duration `yaml:"ttl"`
	// PerMessage bounds the attachments of one message (default 4).
	PerMessage int `yaml:"per_message"`
}

// DefaultConfig returns a Config with every default and no key.
func DefaultConfig() Config { return Config{}.withDefaults() }

// withDefaults fills zero fields with their defaults.
func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	dur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Account == "" {
		c.Account = DefaultAccount
	}
	if c.MaxFrameBytes == 0 {
		c.MaxFrameBytes = DefaultMaxFrameBytes
	}
	def(&c.MaxTextBytes, DefaultMaxTextBytes)
	def(&c.MessagesPerSecond, DefaultMessagesPerSecond)
	def(&c.FramesPerSecond, DefaultFramesPerSecond)
	def(&c.SendQueue, DefaultSendQueue)
	def(&c.HistoryMessages, DefaultHistoryMessages)
	dur(&c.PingInterval, DefaultPingInterval)
	dur(&c.QueueRefresh, DefaultQueueRefresh)
	dur(&c.WaitPerPosition, DefaultWaitPerPosition)
	dur(&c.AckTimeout, DefaultAckTimeout)
	dur(&c.ReceiptWait, DefaultReceiptWait)
	if c.Token.Subject == "" {
		c.Token.Subject = SubjectAppUser
	}
	if c.Token.DefaultVerification == "" {
		c.Token.DefaultVerification = conversation.VerificationStrong
	}
	dur(&c.Token.MaxLifetime, DefaultTokenMaxLifetime)
	dur(&c.Anonymous.TokenTTL, DefaultAnonymousTTL)
	def(&c.Anonymous.PerMinute, DefaultAnonymousPerMinute)
	if c.Attachments.MaxBytes == 0 {
		c.Attachments.MaxBytes = DefaultAttachmentMaxBytes
	}
	if c.Attachments.Types == nil {
		c.Attachments.Types = slices.Clone(DefaultAttachmentTypes)
	}
	dur(&c.Attachments.TTL, DefaultAttachmentTTL)
	def(&c.Attachments.PerMessage, DefaultAttachmentsPerMessage)
	return c
}

// FieldProblem is one problem of a Config: Field is the key path in its
// YAML names ("token.subject", "attachments.max_bytes"; secrets as
// "token.secret"), Message says what is wrong and what is allowed.
type FieldProblem struct {
	Field   string
	Message string
}

// Problems applies the defaults New applies and returns every problem of
// the result in a stable order; nil when New would accept c. Key files are
// only checked for being named here; New reads them.
func (c Config) Problems() []FieldProblem { return c.withDefaults().problems() }

// Validate reports every problem at once (errors.Join), each wrapping
// ErrConfig and naming its field. Call it on a Config with defaults
// applied (New does).
func (c Config) Validate() error {
	var errs []error
	for _, p := range c.problems() {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrConfig, p.Field, p.Message))
	}
	return errors.Join(errs...)
}

// minSecretBytes is the shortest HS256 key accepted: the SHA-256 output
// size (RFC 7518 §3.2).
const minSecretBytes = 32

// problems lists every problem of c as it is (defaults not applied).
func (c Config) problems() []FieldProblem {
	var out []FieldProblem
	bad := func(field, format string, args ...any) {
		out = append(out, FieldProblem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	intRange := func(field string, v, lo, hi int) {
		if v < lo || v > hi {
			bad(field, "%d is out of range (allowed: %d to %d)", v, lo, hi)
		}
	}
	durRange := func(field string, v, lo, hi time.Duration) {
		if v < lo || v > hi {
			bad(field, "%s is out of range (allowed: %s to %s)", v, lo, hi)
		}
	}
	if c.Account == "" || len(c.Account) > 64 {
		bad("account", "%q: 1 to 64 characters", c.Account)
	}
	t := c.Token
	if len(t.Secret) == 0 && t.PublicKeyFile == "" && t.JWKSFile == "" {
		bad("token", "no key: set the HS256 secret (AIRBRANCH_WEBCHAT_TOKEN_SECRET), public_key_file or jwks_file")
	}
	if len(t.Secret) > 0 && len(t.Secret) < minSecretBytes {
		bad("token.secret", "%d bytes; at least %d (AIRBRANCH_WEBCHAT_TOKEN_SECRET)", len(t.Secret), minSecretBytes)
	}
	if t.PublicKeyFile != "" && t.JWKSFile != "" {
		bad("token.public_key_file", "set public_key_file or jwks_file, not both")
	}
	if t.Subject != SubjectAppUser && t.Subject != SubjectCustomer {
		bad("token.subject", "%q (allowed: app_user, customer)", t.Subject)
	}
	if !t.DefaultVerification.Valid() {
		bad("token.default_verification", "%q (allowed: %v)", t.DefaultVerification, conversation.Verifications)
	}
	durRange("token.max_lifetime", t.MaxLifetime, time.Minute, 30*24*time.Hour)
	a := c.Anonymous
	if a.Enabled && len(a.Secret) < minSecretBytes {
		bad("anonymous.secret", "%d bytes; at least %d when anonymous chat is enabled (AIRBRANCH_WEBCHAT_ANONYMOUS_SECRET)", len(a.Secret), minSecretBytes)
	}
	durRange("anonymous.token_ttl", a.TokenTTL, time.Minute, 365*24*time.Hour)
	intRange("anonymous.per_minute", a.PerMinute, 1, 100000)
	at := c.Attachments
	if at.MaxBytes < 1 || at.MaxBytes > MaxAttachmentBytes {
		bad("attachments.max_bytes", "%d is out of range (allowed: 1 to %d)", at.MaxBytes, MaxAttachmentBytes)
	}
	for i, typ := range at.Types {
		if mt, params, err := mime.ParseMediaType(typ); err != nil || mt != typ || len(params) > 0 {
			bad(fmt.Sprintf("attachments.types[%d]", i), "%q is not a bare MIME type such as image/png", typ)
		}
	}
	durRange("attachments.ttl", at.TTL, time.Minute, 365*24*time.Hour)
	intRange("attachments.per_message", at.PerMessage, 0, 20)
	if c.MaxFrameBytes < 1024 || c.MaxFrameBytes > 1<<20 {
		bad("max_frame_bytes", "%d is out of range (allowed: 1024 to 1048576)", c.MaxFrameBytes)
	}
	intRange("max_text_bytes", c.MaxTextBytes, 1, 65536)
	if int64(c.MaxTextBytes) > c.MaxFrameBytes {
		bad("max_text_bytes", "%d is more than max_frame_bytes (%d)", c.MaxTextBytes, c.MaxFrameBytes)
	}
	intRange("messages_per_second", c.MessagesPerSecond, 1, 1000)
	intRange("frames_per_second", c.FramesPerSecond, c.MessagesPerSecond, 10000)
	durRange("ping_interval", c.PingInterval, time.Second, 5*time.Minute)
	intRange("send_queue", c.SendQueue, 16, 65536)
	intRange("history_messages", c.HistoryMessages, 1, 1000)
	durRange("queue_refresh", c.QueueRefresh, time.Second, 10*time.Minute)
	durRange("wait_per_position", c.WaitPerPosition, time.Second, time.Hour)
	durRange("ack_timeout", c.AckTimeout, 100*time.Millisecond, time.Minute)
	durRange("receipt_wait", c.ReceiptWait, 0, 30*time.Second)
	for i, o := range c.AllowedOrigins {
		if o == "*" {
			continue
		}
		if u, err := url.Parse(o); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Path != "" || u.RawQuery != "" {
			bad(fmt.Sprintf("allowed_origins[%d]", i), "%q is not an origin such as https://ebank.example.com (or *)", o)
		}
	}
	return out
}
