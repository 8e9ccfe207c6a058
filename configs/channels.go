package configs

import (
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/wechat"
)

// SMSConfig configures the SMS channel: a Twilio-compatible HTTP provider,
// an SMSC spoken to over SMPP 3.4, or both, each serving channel accounts
// of its own. Both are off by default.
type SMSConfig struct {
	Twilio TwilioConfig `yaml:"twilio"`
	SMPP   SMPPConfig   `yaml:"smpp"`
}

// TwilioConfig configures the Twilio-compatible provider (package
// channels/sms/twilio). It is enabled by having accounts; the account SID
// and auth token come from AIRBRANCH_TWILIO_ACCOUNT_SID and
// AIRBRANCH_TWILIO_AUTH_TOKEN.
type TwilioConfig struct {
	// Accounts are the bank's sending numbers or messaging services; each
	// one's inbound webhook is /webhooks/sms/twilio/{name}. Empty: off.
	Accounts []TwilioAccount `yaml:"accounts"`
	// PublicBaseURL is the scheme, host and port at which the provider
	// reaches the gateway, without a path (the signed webhook URL is this
	// plus the request's path). "" uses http.public_url.
	PublicBaseURL string `yaml:"public_base_url"`
	// APIBaseURL is the REST API's scheme and host, e.g.
	// "https://api.twilio.com".
	APIBaseURL string `yaml:"api_base_url"`
	// RequestTimeout bounds one REST call.
	RequestTimeout time.Duration `yaml:"request_timeout"`
	// MaxTextRunes bounds the text of one inbound or outbound message, in
	// characters (Unicode code points).
	MaxTextRunes int `yaml:"max_text_runes"`
}

// Enabled reports whether the Twilio-compatible provider is configured.
func (t TwilioConfig) Enabled() bool { return len(t.Accounts) > 0 }

// TwilioAccount is one Twilio channel account (twilio.Account).
type TwilioAccount struct {
	// Name names the account in its webhook URL and in conversations: often
	// the number in E.164 ("+85230001234"). Letters, digits and "+-_.".
	Name string `yaml:"name"`
	// From is the sender in E.164 (or a short code or sender id); "" with
	// an E.164 name and no messaging service means the name.
	From string `yaml:"from"`
	// MessagingServiceSID ("MG…") sends through a messaging service
	// instead of From.
	MessagingServiceSID string `yaml:"messaging_service_sid"`
}

// SMPPConfig configures one transceiver bind to an SMSC (package
// channels/sms/smpp) for one channel account. It is enabled by Addr; the
// bind password comes from AIRBRANCH_SMPP_PASSWORD. Field names follow
// smpp.Config.
type SMPPConfig struct {
	// Addr is the SMSC's host:port. "": off.
	Addr string `yaml:"addr"`
	// SystemID and SystemType are the bind's system_id (1 to 15
	// characters) and system_type (at most 12).
	SystemID   string `yaml:"system_id"`
	SystemType string `yaml:"system_type"`
	// Account is the channel account the bind serves: the bank's number in
	// E.164 or a short code.
	Account string `yaml:"account"`
	// SourceAddr, SourceTON and SourceNPI are the sender of submit_sm
	// (SMPP 3.4 §5.2.5-§5.2.8); "" with an E.164 account means the account
	// without "+", TON 1, NPI 1.
	SourceAddr string `yaml:"source_addr"`
	SourceTON  int    `yaml:"source_ton"`
	SourceNPI  int    `yaml:"source_npi"`
	// Window is the most submit_sm awaiting their resp at once (1 to 255).
	Window int `yaml:"window"`
	// Throughput is the most submit_sm per second (the SMSC contract's TPS).
	Throughput float64 `yaml:"throughput"`
	// DeliveryReceipts asks the SMSC for delivery receipts.
	DeliveryReceipts bool `yaml:"delivery_receipts"`
	// MaxParts is the most parts an outbound message may take (1 to 255);
	// MaxInboundParts the most an incoming one may announce.
	MaxParts        int `yaml:"max_parts"`
	MaxInboundParts int `yaml:"max_inbound_parts"`
	// EnquireLink is the keep-alive interval; ReadTimeout (more than
	// EnquireLink) drops a silent link; WriteTimeout bounds writing a PDU;
	// BindTimeout bounds connecting and binding; RebindMin..RebindMax bound
	// the backoff between binds; SubmitTimeout bounds waiting for a
	// submit_sm_resp (and for a bind when there is none); SinkTimeout
	// bounds storing one deliver_sm.
	EnquireLink   time.Duration `yaml:"enquire_link"`
	ReadTimeout   time.Duration `yaml:"read_timeout"`
	WriteTimeout  time.Duration `yaml:"write_timeout"`
	BindTimeout   time.Duration `yaml:"bind_timeout"`
	RebindMin     time.Duration `yaml:"rebind_min"`
	RebindMax     time.Duration `yaml:"rebind_max"`
	SubmitTimeout time.Duration `yaml:"submit_timeout"`
	SinkTimeout   time.Duration `yaml:"sink_timeout"`
	// ReassemblyTimeout is how long the parts of an incoming long message
	// wait for the rest; ReassemblyMaxMessages bounds those being
	// reassembled at once.
	ReassemblyTimeout     time.Duration `yaml:"reassembly_timeout"`
	ReassemblyMaxMessages int           `yaml:"reassembly_max_messages"`
	// DedupWindow is how long a stored incoming message is remembered to
	// recognise the SMSC delivering it again; DedupMaxEntries bounds that
	// memory.
	DedupWindow     time.Duration `yaml:"dedup_window"`
	DedupMaxEntries int           `yaml:"dedup_max_entries"`
}

// Enabled reports whether the SMPP provider is configured.
func (s SMPPConfig) Enabled() bool { return s.Addr != "" }

// WeChatConfig configures the WeChat official-account channel (package
// channels/wechat). It is enabled by having accounts. Credentials come from
// the environment: the single account's from AIRBRANCH_WECHAT_APPID,
// _SECRET, _TOKEN and _AES_KEY; each of several accounts' from
// AIRBRANCH_WECHAT_<NAME>_APPID and so on (WeChatEnvPrefix).
type WeChatConfig struct {
	// Accounts are the bank's official accounts. Empty: off.
	Accounts []WeChatAccount `yaml:"accounts"`
	// APIBaseURL is the WeChat API origin, "https://api.weixin.qq.com".
	APIBaseURL string `yaml:"api_base_url"`
	// TimestampSkew is the largest distance between a callback's timestamp
	// and now (1s to 1h).
	TimestampSkew time.Duration `yaml:"timestamp_skew"`
	// AckTimeout bounds storing one callback, below WeChat's 5 s limit.
	AckTimeout time.Duration `yaml:"ack_timeout"`
	// APITimeout bounds one WeChat API request.
	APITimeout time.Duration `yaml:"api_timeout"`
	// TokenLockTTL is the expiry of the access-token refresh lock shared by
	// the instances; TokenRefreshMargin is taken off expires_in when a
	// token is cached.
	TokenLockTTL       time.Duration `yaml:"token_lock_ttl"`
	TokenRefreshMargin time.Duration `yaml:"token_refresh_margin"`
	// Window holds how long, and for how many messages, each kind of user
	// interaction opens the customer-service window.
	Window wechat.WindowConfig `yaml:"window"`
}

// Enabled reports whether the WeChat channel is configured.
func (w WeChatConfig) Enabled() bool { return len(w.Accounts) > 0 }

// WeChatAccount is one official account (wechat.AccountConfig without its
// credentials).
type WeChatAccount struct {
	// Name is the account's URL segment (/webhooks/wechat/{name}), needed
	// with several accounts: lower-case letters, digits, "-" and "_".
	Name string `yaml:"name"`
	// OriginalID is the account's original id ("gh_…").
	OriginalID string `yaml:"original_id"`
	// SafeModeOnly refuses plain-mode callbacks.
	SafeModeOnly bool `yaml:"safe_mode_only"`
	// WelcomeText is the passive reply to a follow (subscribe) event; "":
	// none.
	WelcomeText string `yaml:"welcome_text"`
	// MenuIntents maps a menu CLICK key to routing hints.
	MenuIntents map[string]wechat.MenuIntent `yaml:"menu_intents"`
	// Template is the template message sent outside the service window.
	Template wechat.TemplateConfig `yaml:"template"`
}

// WeChatEnvPrefix returns the prefix of the environment variables holding
// the credentials of the WeChat account named name when several accounts
// are configured: "AIRBRANCH_WECHAT_" + the name upper-cased with "-" as
// "_" + "_", e.g. "AIRBRANCH_WECHAT_HK_MAIN_" for "hk-main"; the variables
// are that prefix followed by APPID, SECRET, TOKEN and AES_KEY.
func WeChatEnvPrefix(name string) string {
	return "AIRBRANCH_WECHAT_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + "_"
}

// WeChatCredentials are one official account's secrets from the
// environment.
type WeChatCredentials struct {
	AppID, Secret, Token, AESKey string
}

// Suffixes of the WeChat credential variables, after "AIRBRANCH_WECHAT_"
// or a WeChatEnvPrefix.
const (
	weChatAppIDSuffix  = "APPID"
	weChatSecretSuffix = "SECRET"
	weChatTokenSuffix  = "TOKEN"
	weChatAESKeySuffix = "AES_KEY"
)
