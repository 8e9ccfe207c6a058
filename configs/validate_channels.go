package configs

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Bounds of the channel settings that Validate enforces beyond the
// adapters' own checks.
const (
	MaxChannelTimeout = time.Minute // sms.twilio.request_timeout and the SMPP timeouts, upper bound
	MaxTwilioText     = 10000       // sms.twilio.max_text_runes upper bound, in characters
)

// smppNPIs are the numbering plan indicators of SMPP 3.4 §5.2.6.
var smppNPIs = []int{0, 1, 3, 4, 6, 8, 9, 10, 14, 18}

// validateChannels checks the sms and wechat sections of the enabled
// channels: the secrets they need, the values the adapters' own checks
// leave to defaults (a zero written in the file is reported, never
// silently replaced), and each adapter's problems (its Config.Problems)
// under the field that holds the value.
func (c *Config) validateChannels(v *collector) {
	c.validateTwilio(v)
	c.validateSMPP(v)
	c.validateWeChat(v)
}

// missingEnv lists the variables of vars (name → value) that are empty, in
// the order given.
func missingEnv(vars ...[2]string) []string {
	var out []string
	for _, kv := range vars {
		if kv[1] == "" {
			out = append(out, kv[0])
		}
	}
	return out
}

// notSet phrases a list of unset variables: "A is not set", "A and B are
// not set".
func notSet(names []string) string {
	if len(names) == 1 {
		return names[0] + " is not set"
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " are not set"
}

func (c *Config) validateTwilio(v *collector) {
	t := c.SMS.Twilio
	if !t.Enabled() {
		return
	}
	if m := missingEnv([2]string{EnvTwilioAccountSID, c.Secrets.TwilioAccountSID}, [2]string{EnvTwilioAuthToken, c.Secrets.TwilioAuthToken}); len(m) > 0 {
		v.invalid("sms.twilio.accounts", "Twilio accounts are configured but %s (allowed: set them in the environment, or no accounts to turn the provider off)", notSet(m))
	}
	noURL := t.PublicBaseURL == "" && c.HTTP.PublicURL == ""
	if noURL {
		v.invalid("sms.twilio.public_base_url", "empty, and http.public_url is empty too; webhook signatures are computed over the URL the provider calls (allowed: the gateway's external scheme, host and port, such as \"https://sms.bank.example\")")
	}
	checkDuration(v, "sms.twilio.request_timeout", t.RequestTimeout, MaxChannelTimeout)
	if t.MaxTextRunes < 1 || t.MaxTextRunes > MaxTwilioText {
		v.invalid("sms.twilio.max_text_runes", "%d is out of range (allowed: 1 to %d characters; Twilio takes 1600)", t.MaxTextRunes, MaxTwilioText)
	}
	for _, p := range c.TwilioAdapter().Problems() {
		field := "sms.twilio." + p.Field
		switch p.Field {
		case "account_sid", "auth_token", // reported above, naming the variables
			"max_request_bytes", "default_region", // http.max_body_bytes and identity.default_region, checked there
			"request_timeout", "max_text_runes": // checked above
			continue
		case "public_base_url":
			if noURL {
				continue
			}
			if t.PublicBaseURL == "" {
				field = "http.public_url"
			}
		}
		v.invalid(field, "%s", p.Message)
	}
}

func (c *Config) validateSMPP(v *collector) {
	s := c.SMS.SMPP
	if !s.Enabled() {
		return
	}
	if c.Secrets.SMPPPassword == "" {
		v.invalid("sms.smpp.addr", "an SMSC is configured but %s is not set (allowed: the bind password in the environment, at most 8 characters; or addr \"\" to turn SMPP off)", EnvSMPPPassword)
	}
	for _, a := range c.SMS.Twilio.Accounts {
		if s.Account != "" && a.Name == s.Account {
			v.invalid("sms.smpp.account", "%q is also the name of a Twilio account (allowed: each SMS channel account served by one provider)", s.Account)
		}
	}
	if s.SourceTON < 0 || s.SourceTON > 6 {
		v.invalid("sms.smpp.source_ton", "%d is not a type of number (allowed: 0 to 6, SMPP 3.4 §5.2.5: 1 international, 3 network specific, 5 alphanumeric)", s.SourceTON)
	}
	if !slices.Contains(smppNPIs, s.SourceNPI) {
		v.invalid("sms.smpp.source_npi", "%d is not a numbering plan indicator (allowed: %v, SMPP 3.4 §5.2.6: 1 E.164)", s.SourceNPI, smppNPIs)
	}
	// Zeros that the adapter would replace by its defaults.
	for _, d := range []struct {
		field string
		d     time.Duration
	}{{"enquire_link", s.EnquireLink}, {"read_timeout", s.ReadTimeout}, {"write_timeout", s.WriteTimeout},
		{"bind_timeout", s.BindTimeout}, {"rebind_min", s.RebindMin}, {"rebind_max", s.RebindMax},
		{"submit_timeout", s.SubmitTimeout}, {"sink_timeout", s.SinkTimeout}, {"reassembly_timeout", s.ReassemblyTimeout},
		{"dedup_window", s.DedupWindow}} {
		if d.d == 0 {
			v.invalid("sms.smpp."+d.field, "0s is out of range (allowed: more than 0s)")
		}
	}
	for _, n := range []struct {
		field string
		n     float64
	}{{"window", float64(s.Window)}, {"throughput", s.Throughput}, {"max_parts", float64(s.MaxParts)},
		{"max_inbound_parts", float64(s.MaxInboundParts)}, {"reassembly_max_messages", float64(s.ReassemblyMaxMessages)},
		{"dedup_max_entries", float64(s.DedupMaxEntries)}} {
		if n.n == 0 {
			v.invalid("sms.smpp."+n.field, "0 is out of range (allowed: 1 or more)")
		}
	}
	for _, p := range c.SMPPAdapter().Problems() {
		switch p.Field {
		case "password":
			v.list = append(v.list, Problem{File: c.File, Source: "env " + EnvSMPPPassword, Field: "secrets.smpp_password", Message: p.Message, Err: ErrInvalid})
		case "default_region": // identity.default_region, checked there
		default:
			v.invalid("sms.smpp."+p.Field, "%s", p.Message)
		}
	}
}

func (c *Config) validateWeChat(v *collector) {
	w := c.WeChat
	if !w.Enabled() {
		return
	}
	c.validateWeChatSecrets(v)
	for _, d := range []struct {
		field string
		d     time.Duration
	}{{"timestamp_skew", w.TimestampSkew}, {"ack_timeout", w.AckTimeout}, {"api_timeout", w.APITimeout},
		{"token_lock_ttl", w.TokenLockTTL}, {"token_refresh_margin", w.TokenRefreshMargin}} {
		if d.d == 0 {
			v.invalid("wechat."+d.field, "0s is out of range (allowed: more than 0s)")
		}
	}
	for _, p := range c.WeChatAdapter().Problems() {
		switch {
		case strings.Contains(p.Field, ".credentials."), strings.HasSuffix(p.Field, ".safe_mode_only"):
			continue // the secrets, reported by validateWeChatSecrets with their variables
		case p.Field == "max_body_bytes", p.Field == "max_image_bytes":
			continue // from http.max_body_bytes, and a fixed default
		}
		v.invalid("wechat."+p.Field, "%s", p.Message)
	}
}

// validateWeChatSecrets reports the credentials each configured account
// lacks, naming the variables: the plain AIRBRANCH_WECHAT_* ones for a
// single account (their format is checked by validateSecrets), the ones
// under each account's WeChatEnvPrefix for several.
func (c *Config) validateWeChatSecrets(v *collector) {
	accounts := c.WeChat.Accounts
	single := len(accounts) == 1
	if !single {
		for _, e := range [][2]string{{EnvWeChatAppID, c.Secrets.WeChatAppID}, {EnvWeChatSecret, c.Secrets.WeChatSecret},
			{EnvWeChatToken, c.Secrets.WeChatToken}, {EnvWeChatAESKey, c.Secrets.WeChatAESKey}} {
			if e[1] != "" {
				v.list = append(v.list, Problem{File: c.File, Source: "env " + e[0], Field: "wechat.accounts",
					Message: fmt.Sprintf("%s is set but wechat.accounts has %d accounts, which read their credentials from AIRBRANCH_WECHAT_<NAME>_* (allowed: unset it, and set each account's variables)", e[0], len(accounts)),
					Err:     ErrInvalid})
			}
		}
	}
	prefixes := map[string]int{}
	for i, a := range accounts {
		field := fmt.Sprintf("wechat.accounts[%d]", i)
		prefix := EnvWeChatAppID[:len(EnvWeChatAppID)-len(weChatAppIDSuffix)] // AIRBRANCH_WECHAT_
		if !single {
			if a.Name == "" {
				continue // the adapter reports the missing name
			}
			prefix = WeChatEnvPrefix(a.Name)
			if j, dup := prefixes[prefix]; dup {
				v.invalid(field+".name", "%q reads its credentials from the same %s* variables as wechat.accounts[%d] (allowed: names that differ once upper-cased with \"-\" as \"_\")", a.Name, prefix, j)
				continue
			}
			prefixes[prefix] = i
		}
		cr := c.WeChatCredentialsOf(i)
		m := missingEnv([2]string{prefix + weChatAppIDSuffix, cr.AppID}, [2]string{prefix + weChatSecretSuffix, cr.Secret}, [2]string{prefix + weChatTokenSuffix, cr.Token})
		if a.SafeModeOnly && cr.AESKey == "" {
			m = append(m, prefix+weChatAESKeySuffix)
		}
		if len(m) > 0 {
			what := "the WeChat account is configured"
			if !single {
				what = fmt.Sprintf("WeChat account %q is configured", a.Name)
			}
			if a.SafeModeOnly && cr.AESKey == "" {
				what += " (safe mode only)"
			}
			v.invalid(field, "%s but %s (allowed: the account's credentials in the environment, or no accounts to turn WeChat off)", what, notSet(m))
		}
		if single {
			continue // format checked by validateSecrets
		}
		bad := func(env, key, format string, args ...any) {
			v.list = append(v.list, Problem{File: c.File, Source: "env " + env, Field: "secrets.wechat_accounts." + a.Name + "." + key,
				Message: fmt.Sprintf(format, args...), Err: ErrInvalid})
		}
		if cr.Token != "" && !isWeChatToken(cr.Token) {
			bad(prefix+weChatTokenSuffix, "token", "the token is %d characters or has other than letters and digits (allowed: 3 to 32 letters or digits)", len(cr.Token))
		}
		if k := cr.AESKey; k != "" {
			if raw, err := base64.StdEncoding.DecodeString(k + "="); len(k) != WeChatAESKeyLen || err != nil || len(raw) != 32 {
				bad(prefix+weChatAESKeySuffix, "aes_key", "not an EncodingAESKey (allowed: exactly %d base64 characters, decoding to a 32-byte AES key)", WeChatAESKeyLen)
			}
		}
	}
}
