package webchat

import (
	"context"
	"fmt"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Send hands an RM's message m to the client of its conversation (the
// gateway's outbox.Sender for the web chat): it appends the message to
// the client's stream, from which every device of the client receives it
// now or when it next connects, and returns the message id as the
// provider id, status sent. The client's delivered and read receipts then
// arrive through Sink.Status under that id. Errors: a
// *conversation.ProviderError (code "address_kind") when to is not an
// app_user address; the store's errors (wrapping
// conversation.ErrUnavailable) when the stream cannot be written.
func (a *Adapter) Send(ctx context.Context, m conversation.Message, to conversation.Address) (conversation.Sent, error) {
	if to.Kind != conversation.AddressApp {
		return conversation.Sent{}, &conversation.ProviderError{Channel: conversation.ChannelWebChat, Code: "address_kind",
			Message: fmt.Sprintf("web chat sends to app_user addresses, not %s", to.Kind)}
	}
	c, err := a.convs.Conversation(ctx, m.ConversationID)
	if err != nil {
		return conversation.Sent{}, fmt.Errorf("webchat: send: conversation %s: %w", m.ConversationID, err)
	}
	d := a.messageData(ctx, m)
	d.Status = ""
	if _, err := a.hub.publish(ctx, c.CustomerID, EventMessage, d); err != nil {
		return conversation.Sent{}, fmt.Errorf("webchat: send: %w", err)
	}
	a.log.Info("chat message sent", "conversation_id", m.ConversationID, "message", m)
	return conversation.Sent{ProviderIDs: []string{string(m.ID)}, Status: conversation.DeliverySent}, nil
}

// Typing shows the client of conversation conv (customer) that the RM is
// typing, on every device and instance, for a few seconds (TypingData's
// TTLMS); nothing is stored. The gateway calls it when the desk sends
// typing. Errors are the broadcast's (this instance's sessions have been
// told already).
func (a *Adapter) Typing(ctx context.Context, customer conversation.CustomerID, conv conversation.ConversationID) error {
	if err := a.hub.typing(ctx, customer, conv); err != nil {
		return fmt.Errorf("webchat: typing: %w", err)
	}
	return nil
}

// Attachment returns an uploaded attachment's record and bytes by the id
// in its Ref ("webchat:<id>"), for the gateway to show it to the RM.
// Errors: ErrAttachmentNotFound, the store's.
func (a *Adapter) Attachment(ctx context.Context, id string) (Attachment, []byte, error) {
	return a.atts.Get(ctx, id)
}
