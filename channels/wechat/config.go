package wechat

import (
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"time"
)

// Defaults and bounds of Config.
const (
	// DefaultAPIBaseURL is WeChat's API host.
	DefaultAPIBaseURL = "https://api.weixin.qq.com"
	// DefaultMaxBodyBytes bounds a callback body (64 KiB; WeChat's bodies are
	// a few hundred bytes).
	DefaultMaxBodyBytes = 64 << 10
	// DefaultTimestampSkew is how far a callback's timestamp may be from now.
	DefaultTimestampSkew = 300 * time.Second
	// DefaultAckTimeout bounds the Sink and the window/opt-out writes of one
	// callback, below WeChat's 5-second reply limit.
	DefaultAckTimeout = 4 * time.Second
	// MaxAckTimeout is WeChat's limit: a callback not answered within 5 s is
	// retried.
	MaxAckTimeout = 5 * time.Second
	// DefaultAPITimeout bounds one WeChat API request.
	DefaultAPITimeout = 10 * time.Second
	// DefaultTokenLockTTL is how long one instance may hold the token
	// refresh lock.
	DefaultTokenLockTTL = 10 * time.Second
	// DefaultTokenRefreshMargin: a token is cached for expires_in minus this.
	DefaultTokenRefreshMargin = 300 * time.Second
	// DefaultMaxImageBytes is WeChat's limit for an uploaded image (10 MB,
	// "Adding temporary assets": image up to 10M, bmp/png/jpeg/jpg/gif).
	DefaultMaxImageBytes = 10 << 20
)

// Config configures the adapter. It carries no secrets in YAML: each
// account's Credentials come from the environment (the gateway reads
// AIRBRANCH_WECHAT_APPID, AIRBRANCH_WECHAT_SECRET, AIRBRANCH_WECHAT_TOKEN and
// AIRBRANCH_WECHAT_AES_KEY). Zero fields take the defaults above.
type Config struct {
	// Accounts are the bank's official accounts; at least one. With more
	// than one, each needs a Name and WeChat posts to /webhooks/wechat/{name}.
	Accounts []AccountConfig `yaml:"accounts"`
	// APIBaseURL is the WeChat API origin, "https://api.weixin.qq.com" by
	// default (a local fake in tests).
	APIBaseURL string `yaml:"api_base_url"`
	// MaxBodyBytes bounds a callback body in bytes; larger → 413.
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	// TimestampSkew is the largest allowed distance between a callback's
	// timestamp and now (default 300 s); further → 403.
	TimestampSkew time.Duration `yaml:"timestamp_skew"`
	// AckTimeout bounds storing one callback (default 4 s, below 5 s).
	AckTimeout time.Duration `yaml:"ack_timeout"`
	// APITimeout bounds one WeChat API request (default 10 s).
	APITimeout time.Duration `yaml:"api_timeout"`
	// TokenLockTTL is the expiry of the refresh lock (default 10 s).
	TokenLockTTL time.Duration `yaml:"token_lock_ttl"`
	// TokenRefreshMargin: tokens are cached for expires_in minus this
	// (default 300 s).
	TokenRefreshMargin time.Duration `yaml:"token_refresh_margin"`
	// MaxImageBytes bounds an image sent by SendImage (default 10 MiB).
	MaxImageBytes int64 `yaml:"max_image_bytes"`
	// Window holds the customer-service window rules.
	Window WindowConfig `yaml:"window"`
}

// AccountConfig is one official account.
type AccountConfig struct {
	// Name is the account's URL segment (/webhooks/wechat/{name}):
	// lower-case letters, digits, '-' and '_', at most 64. Needed when more
	// than one account is configured.
	Name string `yaml:"name"`
	// OriginalID is the account's original id ("gh_…"), the ToUserName of
	// every callback and the ChannelAccount of its Incomings. Required.
	OriginalID string `yaml:"original_id"`
	// SafeModeOnly refuses plain-mode callbacks (403): set it once the
	// account runs in safe mode, where msg_signature covers the body (a
	// plain-mode signature covers only token, timestamp and nonce).
	SafeModeOnly bool `yaml:"safe_mode_only"`
	// WelcomeText, when set, is sent as a passive text reply to a subscribe
	// event (encrypted in safe mode).
	WelcomeText string `yaml:"welcome_text"`
	// MenuIntents maps a menu CLICK EventKey (e.g. "TALK_TO_RM") to the
	// routing hints of the Incoming it becomes.
	MenuIntents map[string]MenuIntent `yaml:"menu_intents"`
	// Template is the template message SendTemplate sends outside the
	// service window; optional.
	Template TemplateConfig `yaml:"template"`
	// Credentials come from the environment, never from YAML.
	Credentials Credentials `yaml:"-"`
}

// Credentials are an account's secrets, from the WeChat platform's
// "Basic configuration" page.
type Credentials struct {
	// AppID is the developer id ("wx…").
	AppID string
	// AppSecret is the developer password, for the access token.
	AppSecret string
	// Token is the server configuration token used in signatures.
	Token string
	// EncodingAESKey is the 43-character message encryption key; needed for
	// safe and compatible mode, empty in plain mode.
	EncodingAESKey string
}

// MenuIntent is what a menu key means for routing.
type MenuIntent struct {
	// Intent is the routing intent, e.g. "wealth".
	Intent string `yaml:"intent"`
	// StartConversation asks the gateway to open a routed conversation.
	StartConversation bool `yaml:"start_conversation"`
}

// TemplateConfig is a template message ("Template message interface",
// cgi-bin/message/template/send).
type TemplateConfig struct {
	// TemplateID is the template's id on the platform; empty means none.
	TemplateID string `yaml:"template_id"`
	// URL is opened when the user taps the message; optional.
	URL string `yaml:"url"`
	// Data maps the template's keys (e.g. "first", "keyword1", "remark")
	// to values; "{text}" in a value is replaced by the text given to
	// SendTemplate.
	Data map[string]string `yaml:"data"`
}

// WindowConfig holds how long, and for how many messages, each kind of user
// interaction opens the customer-service window. Defaults follow WeChat's
// "Customer service messages" rules: a user message 5 messages in 48 h; a
// menu click, a follow and a QR scan 3 messages in 1 minute each.
type WindowConfig struct {
	Message   WindowRule `yaml:"message"`
	MenuClick WindowRule `yaml:"menu_click"`
	Subscribe WindowRule `yaml:"subscribe"`
	Scan      WindowRule `yaml:"scan"`
}

// WindowRule is one interaction's grant: Quota messages within Duration of
// the interaction. Quota 0 means this interaction opens nothing.
type WindowRule struct {
	Duration time.Duration `yaml:"duration"`
	Quota    int           `yaml:"quota"`
}

// DefaultWindow returns WeChat's documented customer-service rules.
func DefaultWindow() WindowConfig {
	return WindowConfig{
		Message:   WindowRule{Duration: 48 * time.Hour, Quota: 5},
		MenuClick: WindowRule{Duration: time.Minute, Quota: 3},
		Subscribe: WindowRule{Duration: time.Minute, Quota: 3},
		Scan:      WindowRule{Duration: time.Minute, Quota: 3},
	}
}

// DefaultConfig returns a Config with every default and no account.
func DefaultConfig() Config {
	return Config{}.withDefaults()
}

// withDefaults fills zero fields with their defaults.
func (c Config) withDefaults() Config {
	if c.APIBaseURL == "" {
		c.APIBaseURL = DefaultAPIBaseURL
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.TimestampSkew == 0 {
		c.TimestampSkew = DefaultTimestampSkew
	}
	if c.AckTimeout == 0 {
		c.AckTimeout = DefaultAckTimeout
	}
	if c.APITimeout == 0 {
		c.APITimeout = DefaultAPITimeout
	}
	if c.TokenLockTTL == 0 {
		c.TokenLockTTL = DefaultTokenLockTTL
	}
	if c.TokenRefreshMargin == 0 {
		c.TokenRefreshMargin = DefaultTokenRefreshMargin
	}
	if c.MaxImageBytes == 0 {
		c.MaxImageBytes = DefaultMaxImageBytes
	}
	if c.Window == (WindowConfig{}) {
		c.Window = DefaultWindow()
	}
	return c
}

var accountNameRE = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// FieldProblem is one problem of a Config: Field is the key path of the
// value in its YAML names ("accounts[1].original_id", "window.scan.quota";
// secrets as "accounts[0].credentials.app_id"), Message says what is wrong
// and what is allowed.
type FieldProblem struct {
	Field   string
	Message string
}

// Problems applies the defaults New applies and returns every problem of
// the result, each with its field, in a stable order; nil when New would
// accept c. Validate reports the same problems as errors.
func (c Config) Problems() []FieldProblem { return c.withDefaults().problems() }

// Validate reports every problem at once (errors.Join), each wrapping
// ErrConfig and naming its field, e.g. "accounts[1].original_id: empty".
// Call it on a Config with defaults applied (New does).
func (c Config) Validate() error {
	var errs []error
	for _, p := range c.problems() {
		errs = append(errs, fmt.Errorf("%w: %s: %s", ErrConfig, p.Field, p.Message))
	}
	return errors.Join(errs...)
}

// problems lists every problem of c as it is (defaults not applied).
func (c Config) problems() []FieldProblem {
	var out []FieldProblem
	bad := func(field, format string, args ...any) {
		out = append(out, FieldProblem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if len(c.Accounts) == 0 {
		bad("accounts", "at least one account is needed")
	}
	names, ids := map[string]bool{}, map[string]bool{}
	for i, a := range c.Accounts {
		f := fmt.Sprintf("accounts[%d]", i)
		switch {
		case a.Name == "" && len(c.Accounts) > 1:
			bad(f+".name", "empty (each of several accounts needs a name for its URL)")
		case a.Name != "" && !accountNameRE.MatchString(a.Name):
			bad(f+".name", "%q is not allowed (lower-case letters, digits, '-', '_'; at most 64)", a.Name)
		case a.Name != "" && names[a.Name]:
			bad(f+".name", "%q is used twice", a.Name)
		}
		names[a.Name] = true
		switch {
		case a.OriginalID == "":
			bad(f+".original_id", "empty (the account's original id, gh_…)")
		case ids[a.OriginalID]:
			bad(f+".original_id", "%q is used twice", a.OriginalID)
		}
		ids[a.OriginalID] = true
		cr := a.Credentials
		if cr.AppID == "" {
			bad(f+".credentials.app_id", "empty (AIRBRANCH_WECHAT_APPID)")
		}
		if cr.AppSecret == "" {
			bad(f+".credentials.app_secret", "empty (AIRBRANCH_WECHAT_SECRET)")
		}
		if cr.Token == "" {
			bad(f+".credentials.token", "empty (AIRBRANCH_WECHAT_TOKEN)")
		}
		if a.SafeModeOnly && cr.EncodingAESKey == "" {
			bad(f+".safe_mode_only", "needs credentials.encoding_aes_key (AIRBRANCH_WECHAT_AES_KEY)")
		}
		if cr.EncodingAESKey != "" {
			if _, err := parseAESKey(cr.EncodingAESKey); err != nil {
				bad(f+".credentials.encoding_aes_key", "%v (AIRBRANCH_WECHAT_AES_KEY)", err)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(a.MenuIntents)) {
			if mi := a.MenuIntents[k]; k == "" || mi.Intent == "" && !mi.StartConversation {
				bad(f+".menu_intents", "key %q: needs a key and an intent or start_conversation", k)
			}
		}
		if a.Template.TemplateID == "" && (len(a.Template.Data) > 0 || a.Template.URL != "") {
			bad(f+".template.template_id", "empty while template data or url is set")
		}
	}
	if u, err := url.Parse(c.APIBaseURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("api_base_url", "%q is not an http(s) URL", c.APIBaseURL)
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 16<<20 {
		bad("max_body_bytes", "%d is out of range (allowed: 1024 to 16777216)", c.MaxBodyBytes)
	}
	if c.TimestampSkew < time.Second || c.TimestampSkew > time.Hour {
		bad("timestamp_skew", "%s is out of range (allowed: 1s to 1h)", c.TimestampSkew)
	}
	if c.AckTimeout <= 0 || c.AckTimeout >= MaxAckTimeout {
		bad("ack_timeout", "%s is out of range (allowed: more than 0s, less than 5s: WeChat's reply limit)", c.AckTimeout)
	}
	if c.APITimeout <= 0 || c.APITimeout > time.Minute {
		bad("api_timeout", "%s is out of range (allowed: more than 0s, at most 1m)", c.APITimeout)
	}
	if c.TokenLockTTL < time.Second || c.TokenLockTTL > time.Minute {
		bad("token_lock_ttl", "%s is out of range (allowed: 1s to 1m)", c.TokenLockTTL)
	}
	if c.TokenRefreshMargin < 0 || c.TokenRefreshMargin > time.Hour {
		bad("token_refresh_margin", "%s is out of range (allowed: 0s to 1h)", c.TokenRefreshMargin)
	}
	if c.MaxImageBytes <= 0 || c.MaxImageBytes > DefaultMaxImageBytes {
		bad("max_image_bytes", "%d is out of range (allowed: 1 to %d, WeChat's image limit)", c.MaxImageBytes, DefaultMaxImageBytes)
	}
	for _, r := range []struct {
		field string
		rule  WindowRule
	}{{"window.message", c.Window.Message}, {"window.menu_click", c.Window.MenuClick}, {"window.subscribe", c.Window.Subscribe}, {"window.scan", c.Window.Scan}} {
		if r.rule.Quota < 0 || r.rule.Quota > 1000 {
			bad(r.field+".quota", "%d is out of range (allowed: 0 to 1000)", r.rule.Quota)
		}
		if r.rule.Quota > 0 && (r.rule.Duration <= 0 || r.rule.Duration > 30*24*time.Hour) {
			bad(r.field+".duration", "%s is out of range (allowed: more than 0s, at most 720h)", r.rule.Duration)
		}
	}
	return out
}

// parseAESKey decodes an EncodingAESKey: 43 base64 characters, which with
// a trailing "=" decode to the 32-byte AES-256 key ("Message encryption and
// decryption": AESKey = Base64_Decode(EncodingAESKey + "=")).
func parseAESKey(encoded string) ([]byte, error) {
	if len(encoded) != 43 {
		return nil, fmt.Errorf("encoding aes key has %d characters, want 43", len(encoded))
	}
	key, err := base64.StdEncoding.DecodeString(encoded + "=")
	if err != nil || len(key) != 32 {
		return nil, errors.New("encoding aes key is not 43 base64 characters of a 32-byte key")
	}
	return key, nil
}
