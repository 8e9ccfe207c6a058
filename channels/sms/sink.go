package sms

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Sink is where the SMS adapters deliver what arrives: the gateway's
// inbound path, which stores before the adapter acknowledges.
//
// Receive stores one incoming message or event (insert-if-absent by
// Channel, ChannelAccount and ProviderID); a repeat of a stored one returns
// a Receipt with Duplicate set and no error. Status moves an outbound
// message's delivery status forward, found by the provider id Send
// returned.
//
// Errors wrapping conversation.ErrUnavailable mean "not stored now": the
// adapter does not acknowledge (HTTP 503, an SMPP error command_status) so
// the provider retries. conversation.ErrInvalid means the input is bad and
// retrying will not help; conversation.ErrNotFound from Status means no
// message has that provider id.
type Sink interface {
	Receive(ctx context.Context, in conversation.Incoming) (conversation.Receipt, error)
	Status(ctx context.Context, st conversation.StatusUpdate) error
}

// Sender is what both providers implement for outbound SMS.
//
// Send refuses a suppressed recipient with an error wrapping
// ErrSuppressed (and so conversation.ErrOptedOut) before any provider call;
// it returns the provider's ids (one per part for SMPP, the MessageSid for
// Twilio) with status sent, a *conversation.ProviderError (wrapped) when
// the provider refuses the message, and an error wrapping
// conversation.ErrUnavailable when the provider cannot be reached now (the
// gateway keeps the message queued and retries).
type Sender interface {
	Send(ctx context.Context, m Outbound) (conversation.Sent, error)
}

// Outbound is one SMS to send.
type Outbound struct {
	// Account is the channel account to send from (a configured account
	// name, often the bank's number in E.164).
	Account string
	// To is the recipient in E.164, e.g. "+85291234567".
	To string
	// Text is the message body (any length up to the adapter's limit; it
	// is split into parts as Split says).
	Text string
	// Attachments are media by reference (URLs), for providers that send
	// MMS; an SMPP provider refuses them.
	Attachments []conversation.Attachment
}

// Validate checks the account, the recipient and that there is a text or
// an attachment. Errors wrap ErrInvalidMessage.
func (m Outbound) Validate() error {
	switch {
	case strings.TrimSpace(m.Account) == "":
		return fmt.Errorf("outbound: %w: empty channel account", ErrInvalidMessage)
	case !conversation.IsE164(m.To):
		return fmt.Errorf("outbound to %s: %w: recipient is not E.164", conversation.MaskPhone(m.To), ErrInvalidMessage)
	case m.Text == "" && len(m.Attachments) == 0:
		return fmt.Errorf("outbound to %s: %w: no text and no attachment", conversation.MaskPhone(m.To), ErrInvalidMessage)
	}
	return nil
}

// LogValue implements slog.LogValuer: the recipient masked, the text only
// as its length.
func (m Outbound) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("account", m.Account),
		slog.String("to", conversation.MaskPhone(m.To)),
		slog.String("text", conversation.MaskText(m.Text)),
		slog.Int("attachments", len(m.Attachments)),
	)
}
