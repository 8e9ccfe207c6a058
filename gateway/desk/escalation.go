package desk

import (
	"context"
	"fmt"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Escalations is what the desk asks of the channels before it moves a
// conversation to another channel: whether the new channel can take it
// now. The gateway's voice channel implements it (it places the call of
// an escalation to voice); the desk depends on this interface only.
type Escalations interface {
	// CheckEscalation reports whether conversation c, as it is before
	// the change, may move to channel to at the client's address addr
	// for RM rm. It changes nothing. Errors wrap ErrVoiceUnavailable or
	// ErrNoPhoneNumber (refused: the desk answers an error frame and the
	// channel does not change), or the store's.
	CheckEscalation(ctx context.Context, c conversation.Conversation, rm conversation.RMID, to conversation.Channel, addr conversation.Address) error
}

// escalationAddress returns the client's address on channel to: for
// voice, the conversation's own address when it is a phone number, else
// the customer's phone from the directory, in E.164 (ErrNoPhoneNumber
// otherwise); for video, the customer's app address.
func escalationAddress(c conversation.Conversation, cust conversation.Customer, to conversation.Channel) (conversation.Address, error) {
	switch to {
	case conversation.ChannelVoice:
		if c.Address.Kind == conversation.AddressPhone && conversation.IsE164(c.Address.Value) {
			return c.Address, nil
		}
		if a, ok := cust.Address(conversation.AddressPhone); ok && conversation.IsE164(a.Value) {
			return a, nil
		}
		return conversation.Address{}, fmt.Errorf("escalate %s to voice: %w in E.164", c.ID, ErrNoPhoneNumber)
	case conversation.ChannelVideo:
		if a, ok := cust.Address(conversation.AddressApp); ok {
			return a, nil
		}
		return conversation.Address{}, fmt.Errorf("escalate: the client has no %s address: %w", conversation.AddressApp, conversation.ErrInvalid)
	}
	return conversation.Address{}, fmt.Errorf("escalate to %q: %w (allowed: voice, video)", to, conversation.ErrInvalid)
}

// checkEscalation asks the channels whether c may move to to at addr; an
// escalation to voice is refused when no Escalations was given (voice is
// off: nobody would place the call).
func (s *Server) checkEscalation(ctx context.Context, c conversation.Conversation, rm conversation.RMID, to conversation.Channel, addr conversation.Address) error {
	if s.escalations == nil {
		if to == conversation.ChannelVoice {
			return fmt.Errorf("escalate %s to voice: the voice channel is off: %w", c.ID, ErrVoiceUnavailable)
		}
		return nil
	}
	return s.escalations.CheckEscalation(ctx, c, rm, to, addr)
}
