package twilio

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/nyaruka/phonenumbers"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Defaults applied by Config.withDefaults.
const (
	DefaultAPIBaseURL      = "https://api.twilio.com"
	DefaultMaxRequestBytes = 64 << 10 // bytes
	DefaultMaxTextRunes    = 1600     // Twilio's limit on Body (characters)
	DefaultRequestTimeout  = 10 * time.Second
)

// Config configures the Twilio-compatible provider. Secrets (AccountSID,
// AuthToken) come from the environment (AIRBRANCH_TWILIO_ACCOUNT_SID,
// AIRBRANCH_TWILIO_AUTH_TOKEN), read by the caller, never from YAML.
type Config struct {
	// AccountSID is the provider account ("AC…"): the user of HTTP basic
	// auth and the {sid} of the Messages URL. Required.
	AccountSID string
	// AuthToken is the provider auth token: the basic-auth password and
	// the HMAC-SHA1 key of X-Twilio-Signature. Required.
	AuthToken string
	// APIBaseURL is the REST API's scheme and host (no trailing slash
	// needed); outbound messages go to
	// APIBaseURL + "/2010-04-01/Accounts/{sid}/Messages.json".
	// Default DefaultAPIBaseURL; tests point it at a local fake.
	APIBaseURL string
	// PublicBaseURL is the scheme, host and port at which the provider
	// reaches this gateway, e.g. "https://sms.bank.example" (no path). The
	// signed webhook URL is PublicBaseURL + the request's path and query,
	// and the StatusCallback URL of each outbound message is
	// PublicBaseURL + "/webhooks/sms/twilio/{account}/status". Required.
	PublicBaseURL string
	// Accounts are the channel accounts served; a webhook for any other
	// {account} path segment is answered 404. At least one.
	Accounts []Account
	// DefaultRegion is the ISO 3166-1 alpha-2 region (e.g. "HK") used to
	// read a From number written without a country code. Empty: such
	// numbers are refused (400).
	DefaultRegion string
	// MaxRequestBytes bounds a webhook request body, in bytes; larger
	// bodies are answered 413. Default DefaultMaxRequestBytes (64 KiB).
	MaxRequestBytes int64
	// MaxTextRunes bounds the Body of an inbound or outbound message, in
	// characters (Unicode code points); larger inbound bodies are answered
	// 413, larger outbound texts refused with sms.ErrTooLong. Default
	// DefaultMaxTextRunes (1600).
	MaxTextRunes int
	// RequestTimeout bounds one REST call (connect to last byte).
	// Default DefaultRequestTimeout (10 s).
	RequestTimeout time.Duration
	// HTTPClient makes the REST calls; nil means a client of its own with
	// RequestTimeout as its timeout.
	HTTPClient *http.Client
}

// Account is one channel account: a sending number or messaging service,
// named in the webhook path.
type Account struct {
	// Name identifies the account in webhook URLs
	// (/webhooks/sms/twilio/{Name}) and in conversations
	// (Incoming.ChannelAccount): often the number in E.164
	// ("+85230001234"), or a name such as "hk-alerts". Letters, digits
	// and "+-_." only. Required, unique.
	Name string
	// From is the sender of outbound messages in E.164 (or a short code or
	// alphanumeric sender id the provider allows). Default: Name, when
	// Name is E.164 and MessagingServiceSID is empty.
	From string
	// MessagingServiceSID ("MG…") sends through a messaging service instead
	// of From; one of the two is required.
	MessagingServiceSID string
}

// withDefaults returns c with the defaults applied.
func (c Config) withDefaults() Config {
	if c.APIBaseURL == "" {
		c.APIBaseURL = DefaultAPIBaseURL
	}
	c.APIBaseURL = strings.TrimRight(c.APIBaseURL, "/")
	c.PublicBaseURL = strings.TrimRight(c.PublicBaseURL, "/")
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if c.MaxTextRunes == 0 {
		c.MaxTextRunes = DefaultMaxTextRunes
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	accounts := make([]Account, len(c.Accounts))
	for i, a := range c.Accounts {
		if a.From == "" && a.MessagingServiceSID == "" && conversation.IsE164(a.Name) {
			a.From = a.Name
		}
		accounts[i] = a
	}
	c.Accounts = accounts
	return c
}

// FieldProblem is one problem of a Config: Field is the key path of the
// value in the snake_case names the gateway's YAML uses ("public_base_url",
// "accounts[1].name"), Message says what is wrong and what is allowed.
type FieldProblem struct {
	Field   string
	Message string
}

// Problems applies the defaults New applies and returns every problem of
// the result, each with its field, in a stable order; nil when New would
// accept c. Validate reports the same problems as errors.
func (c Config) Problems() []FieldProblem { return c.withDefaults().problems() }

// Validate reports every problem of c (after defaults) at once, each
// wrapping ErrConfig as "twilio config: field: message".
func (c Config) Validate() error {
	var errs []error
	for _, p := range c.problems() {
		errs = append(errs, fmt.Errorf("twilio config: %s: %s: %w", p.Field, p.Message, ErrConfig))
	}
	return errors.Join(errs...)
}

// problems lists every problem of c as it is (defaults not applied).
func (c Config) problems() []FieldProblem {
	var out []FieldProblem
	bad := func(field, format string, args ...any) {
		out = append(out, FieldProblem{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if c.AccountSID == "" {
		bad("account_sid", "account SID is empty (set AIRBRANCH_TWILIO_ACCOUNT_SID)")
	}
	if c.AuthToken == "" {
		bad("auth_token", "auth token is empty (set AIRBRANCH_TWILIO_AUTH_TOKEN)")
	}
	for _, f := range []struct{ name, raw string }{{"api_base_url", c.APIBaseURL}, {"public_base_url", c.PublicBaseURL}} {
		u, err := url.Parse(f.raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad(f.name, "%q is not an http(s) URL with a host", f.raw)
		} else if u.Path != "" || u.RawQuery != "" {
			bad(f.name, "%q must have no path or query (allowed: scheme, host and port only)", f.raw)
		}
	}
	if c.MaxRequestBytes < 1024 {
		bad("max_request_bytes", "%d is below 1024 bytes", c.MaxRequestBytes)
	}
	if c.MaxTextRunes < 1 {
		bad("max_text_runes", "%d is below 1 character", c.MaxTextRunes)
	}
	if c.RequestTimeout < 0 {
		bad("request_timeout", "%s is negative", c.RequestTimeout)
	}
	if c.DefaultRegion != "" && !phonenumbers.GetSupportedRegions()[strings.ToUpper(c.DefaultRegion)] {
		bad("default_region", "%q is not an ISO 3166-1 alpha-2 region with a numbering plan", c.DefaultRegion)
	}
	if len(c.Accounts) == 0 {
		bad("accounts", "no accounts (allowed: at least one)")
	}
	seen := map[string]bool{}
	for i, a := range c.Accounts {
		f := fmt.Sprintf("accounts[%d]", i)
		switch {
		case !validName(a.Name):
			bad(f+".name", "name %q must be 1 to 64 letters, digits and \"+-_.\"", a.Name)
		case seen[a.Name]:
			bad(f+".name", "name %q appears twice", a.Name)
		}
		seen[a.Name] = true
		if a.From == "" && a.MessagingServiceSID == "" {
			bad(f+".from", "account %q: needs from (E.164) or messaging_service_sid", a.Name)
		}
	}
	return out
}

func validName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("+-_.", r)
		if !ok {
			return false
		}
	}
	return true
}
