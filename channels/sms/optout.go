package sms

import (
	"context"
	"fmt"

	"github.com/airbranch/airbranch/channels/conversation"
)

// ApplyKeyword applies the opt-out rules to an incoming SMS before it is
// given to the Sink: when in.Text is an opt-out keyword (DetectKeyword) the
// sender's number is suppressed on in.ChannelAccount and in becomes an
// event "opt_out"; START removes it and makes in the event "opt_in". The
// text is kept, so the desk shows what the client wrote. Any other text
// leaves in unchanged. It returns the keyword found.
//
// A suppression store that cannot answer gives an error wrapping
// ErrStoreUnavailable (conversation.ErrUnavailable): the adapter must then
// not acknowledge the message, so the provider retries it.
func ApplyKeyword(ctx context.Context, s Suppressions, in *conversation.Incoming) (Keyword, error) {
	return ApplyOptOut(ctx, s, in, DetectKeyword(in.Text))
}

// ApplyOptOut is ApplyKeyword with the keyword already known (a provider
// that reports its own opt-out handling, such as Twilio's OptOutType).
func ApplyOptOut(ctx context.Context, s Suppressions, in *conversation.Incoming, k Keyword) (Keyword, error) {
	var err error
	switch k {
	case KeywordOptOut:
		err = s.Suppress(ctx, in.ChannelAccount, in.From.Value)
	case KeywordOptIn:
		err = s.Unsuppress(ctx, in.ChannelAccount, in.From.Value)
	default:
		return KeywordNone, nil
	}
	if err != nil {
		return k, fmt.Errorf("sms %s from %s: %w", k.Event(), in.From, err)
	}
	in.Kind = conversation.IncomingEvent
	in.Event = k.Event()
	return k, nil
}

// CheckSendable returns nil when m may be sent: it is valid (Outbound.
// Validate) and its recipient is not suppressed on its account. A
// suppressed recipient gives an error wrapping ErrSuppressed (and
// conversation.ErrOptedOut); a store that cannot answer one wrapping
// ErrStoreUnavailable: when in doubt, nothing is sent.
func CheckSendable(ctx context.Context, s Suppressions, m Outbound) error {
	if err := m.Validate(); err != nil {
		return err
	}
	suppressed, err := s.Suppressed(ctx, m.Account, m.To)
	if err != nil {
		return fmt.Errorf("send to %s: %w", conversation.MaskPhone(m.To), err)
	}
	if suppressed {
		return fmt.Errorf("send to %s on %s: %w", conversation.MaskPhone(m.To), m.Account, ErrSuppressed)
	}
	return nil
}
