package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sms"
	"github.com/airbranch/airbranch/channels/wechat"
	"github.com/airbranch/airbranch/gateway/outbox"
)

// ErrCannotCarry: the message has something its channel cannot carry
// (attachments on SMPP or WeChat, media that is not a public URL on MMS),
// or its conversation's address or channel account is not one this
// channel can send to. The message is kept failed with the code of the
// wrapped *conversation.ProviderError, which tells the RM what to do.
var ErrCannotCarry = errors.New("gateway: the channel cannot carry this message")

// Codes of the refusals wrapped by ErrCannotCarry, kept as the failed
// message's error code.
const (
	CodeAttachmentsUnsupported = "attachments_unsupported"
	CodeAttachmentNotURL       = "attachment_not_url"
	CodeUnknownAccount         = "unknown_channel_account"
	CodeWrongAddress           = "wrong_address_kind"
)

// cannotCarry is the error of a message its channel cannot carry.
func cannotCarry(ch conversation.Channel, code, format string, args ...any) error {
	return fmt.Errorf("%w: %w", ErrCannotCarry, &conversation.ProviderError{Channel: ch, Code: code, Message: fmt.Sprintf(format, args...)})
}

// smsRoute is the provider that serves one SMS channel account.
type smsRoute struct {
	sender sms.Sender
	// media: the provider sends attachments (MMS by public URL).
	media bool
	// hold, for the SMPP account, holds replies while the bind is down.
	hold *smppHold
}

// smsSender is the outbox's Sender of the SMS channel: it turns a message
// into an sms.Outbound from the conversation's channel account and hands
// it to the provider serving that account (Twilio-compatible or SMPP).
type smsSender struct {
	accounts map[string]smsRoute
}

var _ outbox.Sender = (*smsSender)(nil)

// smsSender returns the SMS Sender over the enabled SMS providers, or nil
// when both are off.
func (c *channels) smsSender() *smsSender {
	s := &smsSender{accounts: map[string]smsRoute{}}
	if c.twilio != nil {
		for _, a := range c.twilio.Accounts() {
			s.accounts[a] = smsRoute{sender: c.twilio, media: true}
		}
	}
	if c.smpp != nil {
		s.accounts[c.smpp.Account()] = smsRoute{sender: c.smpp, hold: c.hold}
	}
	if len(s.accounts) == 0 {
		return nil
	}
	return s
}

// Send implements outbox.Sender. Before any provider call it refuses,
// with ErrCannotCarry: a conversation account no provider serves, an
// address that is not a phone number, attachments on SMPP, and MMS media
// that is not an http(s) URL the provider can fetch. The providers' own
// errors pass through (sms.ErrSuppressed, *conversation.ProviderError,
// conversation.ErrUnavailable). A reply on the SMPP account while its
// bind is down is held (outbox.ErrHeld, see smppHold).
func (s *smsSender) Send(ctx context.Context, m conversation.Message, to conversation.Address) (conversation.Sent, error) {
	route, ok := s.accounts[m.ChannelAccount]
	switch {
	case !ok:
		return conversation.Sent{}, cannotCarry(conversation.ChannelSMS, CodeUnknownAccount,
			"no SMS provider serves channel account %q (configured in sms.twilio.accounts or sms.smpp.account)", m.ChannelAccount)
	case to.Kind != conversation.AddressPhone:
		return conversation.Sent{}, cannotCarry(conversation.ChannelSMS, CodeWrongAddress, "SMS goes to a phone number, not a %s address", to.Kind)
	case len(m.Attachments) > 0 && !route.media:
		return conversation.Sent{}, cannotCarry(conversation.ChannelSMS, CodeAttachmentsUnsupported,
			"this SMS account (SMPP) carries text only: send the text alone, or a link to the file in it")
	}
	for i, a := range m.Attachments {
		if u, err := url.Parse(a.Ref); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return conversation.Sent{}, cannotCarry(conversation.ChannelSMS, CodeAttachmentNotURL,
				"attachment %d: MMS media must be a public http(s) URL the provider can fetch", i)
		}
	}
	out := sms.Outbound{Account: m.ChannelAccount, To: to.Value, Text: m.Text, Attachments: m.Attachments}
	if route.hold != nil {
		return route.hold.send(ctx, m, out)
	}
	return route.sender.Send(ctx, out)
}

// wechatSender is the outbox's Sender of the WeChat channel: a reply goes
// as a customer-service text message (wechat.Adapter.SendText) from the
// conversation's official account (its original id); when the user's
// service window is closed or its quota used and the account has a
// template message, it goes as that template instead (SendTemplate, with
// the message id as client_msg_id so a repeat is dropped by WeChat).
type wechatSender struct {
	adapter *wechat.Adapter
}

var _ outbox.Sender = wechatSender{}

// Send implements outbox.Sender. Attachments are refused with
// ErrCannotCarry (replies carry text only here); the adapter's errors pass
// through (conversation.ErrOptedOut, wechat.ErrWindowClosed and
// ErrQuotaUsed with WeChat's errcode as a *conversation.ProviderError).
func (s wechatSender) Send(ctx context.Context, m conversation.Message, to conversation.Address) (conversation.Sent, error) {
	if len(m.Attachments) > 0 {
		return conversation.Sent{}, cannotCarry(conversation.ChannelWeChat, CodeAttachmentsUnsupported,
			"WeChat replies carry text only: send the text alone, or a link to the file in it")
	}
	if to.Kind != conversation.AddressWeChat {
		return conversation.Sent{}, cannotCarry(conversation.ChannelWeChat, CodeWrongAddress, "WeChat replies go to an openid, not a %s address", to.Kind)
	}
	sent, err := s.adapter.SendText(ctx, m.ChannelAccount, to, m.Text)
	if (errors.Is(err, wechat.ErrWindowClosed) || errors.Is(err, wechat.ErrQuotaUsed)) && s.adapter.HasTemplate(m.ChannelAccount) {
		return s.adapter.SendTemplate(ctx, m.ChannelAccount, to, m.Text, string(m.ID))
	}
	return sent, err
}
