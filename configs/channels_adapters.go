package configs

import (
	"github.com/airbranch/airbranch/channels/sms/smpp"
	"github.com/airbranch/airbranch/channels/sms/twilio"
	"github.com/airbranch/airbranch/channels/wechat"
)

// maxWeChatBodyBytes is the most the WeChat adapter takes as its callback
// body limit (wechat.Config.MaxBodyBytes: 16 MiB).
const maxWeChatBodyBytes = 16 << 20

// TwilioAdapter returns the twilio.Config of sms.twilio: the secrets from
// the environment, public_base_url (or http.public_url), the webhook body
// limit http.max_body_bytes and the phone-number region
// identity.default_region. Validate reports its problems; the gateway
// builds the provider from it.
func (c *Config) TwilioAdapter() twilio.Config {
	t := c.SMS.Twilio
	out := twilio.Config{
		AccountSID:      c.Secrets.TwilioAccountSID,
		AuthToken:       c.Secrets.TwilioAuthToken,
		APIBaseURL:      t.APIBaseURL,
		PublicBaseURL:   t.PublicBaseURL,
		DefaultRegion:   c.Identity.DefaultRegion,
		MaxRequestBytes: c.HTTP.MaxBodyBytes,
		MaxTextRunes:    t.MaxTextRunes,
		RequestTimeout:  t.RequestTimeout,
	}
	if out.PublicBaseURL == "" {
		out.PublicBaseURL = c.HTTP.PublicURL
	}
	for _, a := range t.Accounts {
		out.Accounts = append(out.Accounts, twilio.Account{Name: a.Name, From: a.From, MessagingServiceSID: a.MessagingServiceSID})
	}
	return out
}

// SMPPAdapter returns the smpp.Config of sms.smpp, with the password from
// AIRBRANCH_SMPP_PASSWORD and the phone-number region
// identity.default_region.
func (c *Config) SMPPAdapter() smpp.Config {
	s := c.SMS.SMPP
	return smpp.Config{
		Addr:                  s.Addr,
		SystemID:              s.SystemID,
		Password:              c.Secrets.SMPPPassword,
		SystemType:            s.SystemType,
		Account:               s.Account,
		SourceAddr:            s.SourceAddr,
		SourceTON:             byte(s.SourceTON),
		SourceNPI:             byte(s.SourceNPI),
		DefaultRegion:         c.Identity.DefaultRegion,
		EnquireLink:           s.EnquireLink,
		ReadTimeout:           s.ReadTimeout,
		WriteTimeout:          s.WriteTimeout,
		BindTimeout:           s.BindTimeout,
		RebindMin:             s.RebindMin,
		RebindMax:             s.RebindMax,
		Window:                s.Window,
		Throughput:            s.Throughput,
		SubmitTimeout:         s.SubmitTimeout,
		SinkTimeout:           s.SinkTimeout,
		NoReceipts:            !s.DeliveryReceipts,
		MaxParts:              s.MaxParts,
		MaxInboundParts:       s.MaxInboundParts,
		ReassemblyTimeout:     s.ReassemblyTimeout,
		ReassemblyMaxMessages: s.ReassemblyMaxMessages,
		DedupWindow:           s.DedupWindow,
		DedupMaxEntries:       s.DedupMaxEntries,
	}
}

// WeChatAdapter returns the wechat.Config of the wechat section, each
// account with its credentials from the environment (WeChatCredentialsOf)
// and the callback body limit http.max_body_bytes (at most 16 MiB, the
// adapter's bound).
func (c *Config) WeChatAdapter() wechat.Config {
	w := c.WeChat
	out := wechat.Config{
		APIBaseURL:         w.APIBaseURL,
		MaxBodyBytes:       min(c.HTTP.MaxBodyBytes, maxWeChatBodyBytes),
		TimestampSkew:      w.TimestampSkew,
		AckTimeout:         w.AckTimeout,
		APITimeout:         w.APITimeout,
		TokenLockTTL:       w.TokenLockTTL,
		TokenRefreshMargin: w.TokenRefreshMargin,
		Window:             w.Window,
	}
	for i, a := range w.Accounts {
		cr := c.WeChatCredentialsOf(i)
		out.Accounts = append(out.Accounts, wechat.AccountConfig{
			Name: a.Name, OriginalID: a.OriginalID, SafeModeOnly: a.SafeModeOnly, WelcomeText: a.WelcomeText,
			MenuIntents: a.MenuIntents, Template: a.Template,
			Credentials: wechat.Credentials{AppID: cr.AppID, AppSecret: cr.Secret, Token: cr.Token, EncodingAESKey: cr.AESKey},
		})
	}
	return out
}

// WeChatCredentialsOf returns the credentials of wechat.accounts[i]: with
// one account, the AIRBRANCH_WECHAT_* variables; with several, the
// variables under the account's WeChatEnvPrefix.
func (c *Config) WeChatCredentialsOf(i int) WeChatCredentials {
	s := c.Secrets
	if len(c.WeChat.Accounts) == 1 {
		return WeChatCredentials{AppID: s.WeChatAppID, Secret: s.WeChatSecret, Token: s.WeChatToken, AESKey: s.WeChatAESKey}
	}
	if i < 0 || i >= len(c.WeChat.Accounts) {
		return WeChatCredentials{}
	}
	return s.WeChatAccounts[c.WeChat.Accounts[i].Name]
}
