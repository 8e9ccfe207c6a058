// Package outbox sends what RMs write to clients, on the conversation's
// own channel: the message is stored first (status queued), then handed
// to the channel's adapter, then moved forward (sent, or failed with the
// provider's code) and indexed under the provider's ids so delivery
// reports find it. A failure is a status the RM sees, never a silent drop.
// A message stays on the store's in-flight queue until its outcome is
// stored; one left there by an instance that died is sent by another
// (Recover, at least once).
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// Sender is one channel adapter's outbound side: it hands m to its
// provider for the client at to and returns the provider's ids (see
// conversation.Sent). Errors: conversation.ErrOptedOut when the client
// opted out, a *conversation.ProviderError for the provider's refusal,
// anything else for a provider that could not be reached.
type Sender interface {
	Send(ctx context.Context, m conversation.Message, to conversation.Address) (conversation.Sent, error)
}

// Errors of Send.
var (
	// ErrNoChannel: no adapter is configured for the conversation's channel.
	ErrNoChannel = errors.New("outbox: no adapter for the channel")
	// ErrNotMessaging: the conversation's channel carries no messages
	// (voice, video).
	ErrNotMessaging = errors.New("outbox: the channel carries no messages")
	// ErrClosed: the conversation has ended for the client.
	ErrClosed = errors.New("outbox: the conversation has ended")
	// ErrNotSent: the message was stored and then refused or lost on the
	// way; it is kept with status failed (see the wrapped error).
	ErrNotSent = errors.New("outbox: not sent")
	// ErrHeld is what a Sender returns when it took the message to send
	// later, from the store, because its provider link is down (an SMPP
	// bind being retried): Send then leaves the message queued and returns
	// no error, and the Sender's owner settles it (Settle) once it went.
	ErrHeld = errors.New("outbox: held until the channel's provider link is back")
)

// MaxTextBytes caps one message's text: 4,096 bytes of UTF-8.
const MaxTextBytes = 4096

// Outbox sends RMs' messages through the adapters of each channel.
type Outbox struct {
	store   state.Store
	senders map[conversation.Channel]Sender
	log     *slog.Logger
	now     func() time.Time
}

// New returns an Outbox over store with one Sender per channel (a missing
// channel answers ErrNoChannel). log and now may be nil.
func New(store state.Store, senders map[conversation.Channel]Sender, log *slog.Logger, now func() time.Time) *Outbox {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Outbox{store: store, senders: senders, log: log, now: now}
}

// Channels lists the channels that have an adapter.
func (o *Outbox) Channels() []conversation.Channel {
	var out []conversation.Channel
	for ch := range o.senders {
		out = append(out, ch)
	}
	slices.Sort(out)
	return out
}

// Send stores text (and attachments, by reference) from sender (an RM id)
// on conversation id and sends it on the conversation's channel to its
// client. It returns the stored message as it stands after the attempt:
// sent, or failed with the provider's code (and then an error wrapping
// ErrNotSent and the cause: conversation.ErrOptedOut, a
// *conversation.ProviderError, ...). Errors before anything is stored:
// conversation.ErrInvalid for an empty or oversized text, ErrClosed,
// ErrNotMessaging, ErrNoChannel, state.ErrNotFound, and the store's. A
// message its channel's Sender held (ErrHeld) is returned queued, with no
// error: it goes out, in order, when the provider link is back.
func (o *Outbox) Send(ctx context.Context, id conversation.ConversationID, sender conversation.RMID, text string, attachments []conversation.Attachment) (conversation.Message, error) {
	text = strings.TrimSpace(text)
	switch {
	case text == "" && len(attachments) == 0:
		return conversation.Message{}, fmt.Errorf("outbox: %w: a message needs text or an attachment", conversation.ErrInvalid)
	case len(text) > MaxTextBytes:
		return conversation.Message{}, fmt.Errorf("outbox: %w: text of %d bytes (at most %d)", conversation.ErrInvalid, len(text), MaxTextBytes)
	case !utf8.ValidString(text):
		return conversation.Message{}, fmt.Errorf("outbox: %w: text is not UTF-8", conversation.ErrInvalid)
	}
	c, err := o.store.Conversation(ctx, id)
	if err != nil {
		return conversation.Message{}, err
	}
	if !c.Channel.Messaging() {
		return conversation.Message{}, fmt.Errorf("outbox: conversation %s on %s: %w", id, c.Channel, ErrNotMessaging)
	}
	if c.Status.Terminal() {
		return conversation.Message{}, fmt.Errorf("outbox: conversation %s is %s: %w", id, c.Status, ErrClosed)
	}
	adapter, ok := o.senders[c.Channel]
	if !ok {
		return conversation.Message{}, fmt.Errorf("outbox: %s: %w", c.Channel, ErrNoChannel)
	}
	now := o.now()
	m := conversation.Message{
		ID: conversation.NewMessageID(now), ConversationID: id, Channel: c.Channel, ChannelAccount: c.ChannelAccount,
		Direction: conversation.Outbound, Sender: string(sender), Text: text, Attachments: attachments,
		Status: conversation.DeliveryQueued, CreatedAt: conversation.Millis(now), UpdatedAt: conversation.Millis(now),
	}
	// In flight until settled: if this instance dies before that, another
	// one sends it (Recover). Put there first, so that no stored message
	// can miss it.
	if err := o.store.Enqueue(ctx, SendingQueue, conversation.ConversationID(m.ID), float64(now.Add(SendLease).UnixMilli())); err != nil {
		return conversation.Message{}, fmt.Errorf("outbox: store message: %w", err)
	}
	if _, _, err := o.store.AppendMessage(ctx, m); err != nil {
		o.done(ctx, m.ID)
		return conversation.Message{}, fmt.Errorf("outbox: store message: %w", err)
	}
	ev := conversation.NewEvent(id, conversation.EventMessage, string(sender), now)
	ev.MessageID, ev.Channel = m.ID, c.Channel
	if err := o.store.AppendEvent(ctx, ev); err != nil {
		o.log.Warn("message stored without its timeline event", "conversation_id", id, "message_id", m.ID, "error", err)
	}
	sent, sendErr := adapter.Send(ctx, m, c.Address)
	defer o.done(ctx, m.ID) // settled, or held: no longer in flight
	if errors.Is(sendErr, ErrHeld) {
		o.log.Info("message held until the channel's link is back", "conversation_id", id, "channel", c.Channel, "message", m)
		return m, nil
	}
	return o.Settle(ctx, m, sent, sendErr)
}

// Settle records the outcome of sending the stored message m (status
// queued): with sendErr nil it indexes m under sent.ProviderIDs and moves
// it to sent.Status (sent when empty); otherwise it moves it to failed
// with failureCode's code and returns it with an error wrapping
// ErrNotSent and sendErr. Send calls it; so does the owner of a Sender
// that held m (ErrHeld) once it sent m. It records even when ctx has
// ended; store errors are logged, and the message is then returned as
// it was.
func (o *Outbox) Settle(ctx context.Context, m conversation.Message, sent conversation.Sent, sendErr error) (conversation.Message, error) {
	id := m.ConversationID
	// The outcome is recorded even when the caller has gone away.
	ctx = context.WithoutCancel(ctx)
	if sendErr != nil {
		code := failureCode(sendErr)
		failed, _, err := o.store.AdvanceMessage(ctx, m.ID, conversation.DeliveryFailed, code, o.now())
		if err != nil {
			o.log.Error("message failed and its status could not be stored", "message_id", m.ID, "error", err)
			failed = m
		}
		o.log.Warn("message not sent", "conversation_id", id, "channel", m.Channel, "message", failed, "error_code", code, "error", sendErr)
		return failed, fmt.Errorf("%w: %w", ErrNotSent, sendErr)
	}
	if len(sent.ProviderIDs) > 0 {
		if err := o.store.BindProviderIDs(ctx, m.ID, sent.ProviderIDs); err != nil {
			o.log.Warn("sent message not indexed under its provider ids; delivery reports will not find it", "message_id", m.ID, "error", err)
		}
	}
	status := sent.Status
	if status == "" {
		status = conversation.DeliverySent
	}
	out, _, err := o.store.AdvanceMessage(ctx, m.ID, status, "", o.now())
	if err != nil {
		o.log.Warn("sent message's status not stored", "message_id", m.ID, "error", err)
		out = m
	}
	o.log.Info("message sent", "conversation_id", id, "channel", m.Channel, "message", out, "parts", len(sent.ProviderIDs))
	return out, nil
}

// failureCode is the code a failed message keeps: the provider's, or
// "opted_out", or "unreachable" when the provider was not reached.
func failureCode(err error) string {
	var pe *conversation.ProviderError
	switch {
	case errors.As(err, &pe):
		return pe.Code
	case errors.Is(err, conversation.ErrOptedOut):
		return "opted_out"
	default:
		return "unreachable"
	}
}
