package configs

import (
	"github.com/airbranch/airbranch/channels/webchat"
)

// Environment variables of web chat's secrets.
const (
	// EnvWebChatTokenSecret is the HS256 key of the bank app backend's
	// client tokens (Secrets.WebChatTokenSecret; at least 32 bytes).
	EnvWebChatTokenSecret = "AIRBRANCH_WEBCHAT_TOKEN_SECRET"
	// EnvWebChatAnonymousSecret signs anonymous chat tokens
	// (Secrets.WebChatAnonymousSecret; at least 32 bytes).
	EnvWebChatAnonymousSecret = "AIRBRANCH_WEBCHAT_ANONYMOUS_SECRET"
)

// WebChatConfig configures web chat for the bank's mobile and online
// banking (package channels/webchat): the client WebSocket /ws/chat, the
// /chat/ page and attachment uploads. Client tokens are verified with
// AIRBRANCH_WEBCHAT_TOKEN_SECRET (HS256) or public_key_file / jwks_file
// (RS256, ES256). The embedded demo turns it on with a public development
// secret and anonymous chat.
type WebChatConfig struct {
	// Enabled turns web chat on.
	Enabled bool `yaml:"enabled"`
	// Account is the channel account of web chat conversations (the app).
	Account string `yaml:"account"`
	// PublicKeyFile (PEM) or JWKSFile verify RS256/ES256 client tokens,
	// relative to the config file's folder.
	PublicKeyFile string `yaml:"public_key_file"`
	JWKSFile      string `yaml:"jwks_file"`
	// Issuer and Audience, when set, must match the token's iss and aud.
	Issuer   string `yaml:"issuer"`
	Audience string `yaml:"audience"`
	// Subject is what a token's sub names: app_user or customer.
	Subject string `yaml:"subject"`
	// Anonymous lets prospects chat without a bank token
	// (AIRBRANCH_WEBCHAT_ANONYMOUS_SECRET signs their tokens).
	Anonymous bool `yaml:"anonymous"`
	// MaxAttachmentBytes bounds one upload in bytes.
	MaxAttachmentBytes int64 `yaml:"max_attachment_bytes"`
	// AllowedOrigins are the bank's web origins that may open the chat
	// besides the gateway's own ("*": any).
	AllowedOrigins []string `yaml:"allowed_origins"`
}

// WebChatAdapter returns the adapter's configuration for c.WebChat, with
// the secrets from the environment.
func (c *Config) WebChatAdapter() webchat.Config {
	w := webchat.DefaultConfig()
	wc := c.WebChat
	if wc.Account != "" {
		w.Account = wc.Account
	}
	w.Token.PublicKeyFile, w.Token.JWKSFile = wc.PublicKeyFile, wc.JWKSFile
	w.Token.Issuer, w.Token.Audience = wc.Issuer, wc.Audience
	if wc.Subject != "" {
		w.Token.Subject = wc.Subject
	}
	w.Token.Secret = []byte(c.Secrets.WebChatTokenSecret)
	w.Anonymous.Enabled = wc.Anonymous
	w.Anonymous.Secret = []byte(c.Secrets.WebChatAnonymousSecret)
	if wc.MaxAttachmentBytes > 0 {
		w.Attachments.MaxBytes = wc.MaxAttachmentBytes
	}
	w.AllowedOrigins = wc.AllowedOrigins
	return w
}

// validateWebChat reports the web chat problems: the adapter's own, each
// at its field under "webchat", and a missing secret by variable name.
func (c *Config) validateWebChat(v *collector) {
	if !c.WebChat.Enabled {
		return
	}
	w := c.WebChatAdapter()
	if len(w.Token.Secret) == 0 && w.Token.PublicKeyFile == "" && w.Token.JWKSFile == "" && !c.Demo() {
		v.invalid("webchat.enabled", "web chat is on but no client token key is set (allowed: %s, or public_key_file, or jwks_file)", EnvWebChatTokenSecret)
		return
	}
	if w.Anonymous.Enabled && len(w.Anonymous.Secret) == 0 && !c.Demo() {
		v.invalid("webchat.anonymous", "anonymous chat is on but %s is not set (at least 32 bytes)", EnvWebChatAnonymousSecret)
		return
	}
	if c.Demo() {
		return // the gateway fills the development secrets
	}
	fields := map[string]string{"token.public_key_file": "public_key_file", "token.jwks_file": "jwks_file", "token.issuer": "issuer",
		"token.audience": "audience", "token.subject": "subject", "attachments.max_bytes": "max_attachment_bytes",
		"allowed_origins": "allowed_origins", "account": "account", "anonymous.enabled": "anonymous"}
	for _, p := range w.Problems() {
		field := "webchat"
		if f, ok := fields[p.Field]; ok {
			field += "." + f
		}
		v.invalid(field, "%s", p.Message)
	}
}

// Demo reports whether c is the embedded demo: no configuration file and
// no Redis. The gateway then signs RM tokens and web chat client tokens
// with public development secrets.
func (c *Config) Demo() bool { return c.File == "" && !c.Redis.Enabled() }
