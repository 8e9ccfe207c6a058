// Package inbox is where every channel adapter's inbound traffic enters
// the gateway: it implements the adapters' Sink. A message is stored
// before the adapter acknowledges it to the provider (the adapter answers
// only after Receive returns), de-duplicated on the provider's id, joined
// to the customer's open conversation on that channel or given a new one,
// and new conversations are routed after the acknowledgement. A
// conversation left in status new by an instance that died is found and
// routed by Run's sweep.
package inbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// Router is the part of the routing runtime the inbox uses.
type Router interface {
	// Route puts a new conversation on the routing queue.
	Route(ctx context.Context, id conversation.ConversationID) (conversation.Conversation, error)
}

// Resolver finds (or creates, as a prospect) the customer behind an
// address; channels/identity.Resolver implements it.
type Resolver interface {
	Resolve(ctx context.Context, addr conversation.Address, now time.Time) (conversation.Customer, bool, error)
}

// Observer is told of stored messages and status changes (the RM
// desk): MessageStored with the conversation as read when the message
// joined it, MessageStatus with the message after the change.
type Observer interface {
	MessageStored(ctx context.Context, c conversation.Conversation, m conversation.Message)
	MessageStatus(ctx context.Context, m conversation.Message)
}

// AutoRouteTag marks the conversations the inbox opened: they are routed
// without anyone asking (conversations opened through the API wait for an
// explicit route), and the sweep routes those an instance left new.
const AutoRouteTag = "auto_route"

// Options configure an Inbox. Store, Resolver and Router are required.
type Options struct {
	Store    state.Store
	Resolver Resolver
	Router   Router
	Logger   *slog.Logger
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Observer, when set, is told of stored messages and status changes.
	Observer Observer
	// EventWindow is how long a channel event's provider id is remembered
	// for de-duplication (24 h when zero; WeChat retries within seconds).
	EventWindow time.Duration
	// SweepEvery is how often Run looks for conversations left new (5 s
	// when zero); SweepAfter is how old such a conversation must be (10 s
	// when zero), so one being opened right now is left alone.
	SweepEvery, SweepAfter time.Duration
}

// Inbox stores inbound messages and events and opens and routes their
// conversations. It is safe for concurrent use; Run must be running for
// new conversations to be routed promptly.
type Inbox struct {
	store    state.Store
	resolver Resolver
	router   Router
	log      *slog.Logger
	now      func() time.Time
	eventTTL time.Duration
	every    time.Duration
	after    time.Duration
	work     chan conversation.ConversationID
	observer Observer
}

// New returns an Inbox. It fails when a required option is missing.
func New(o Options) (*Inbox, error) {
	if o.Store == nil || o.Resolver == nil || o.Router == nil {
		return nil, errors.New("inbox: store, resolver and router are required")
	}
	in := &Inbox{store: o.Store, resolver: o.Resolver, router: o.Router, log: o.Logger, now: o.Now,
		eventTTL: o.EventWindow, every: o.SweepEvery, after: o.SweepAfter, work: make(chan conversation.ConversationID, 1024),
		observer: o.Observer}
	if in.log == nil {
		in.log = slog.New(slog.DiscardHandler)
	}
	if in.now == nil {
		in.now = time.Now
	}
	if in.eventTTL <= 0 {
		in.eventTTL = 24 * time.Hour
	}
	if in.every <= 0 {
		in.every = 5 * time.Second
	}
	if in.after <= 0 {
		in.after = 10 * time.Second
	}
	return in, nil
}

// Receive stores one inbound message or event (see package doc) and
// returns its receipt. A provider retry of something already stored gets
// the first receipt with Duplicate set. Errors: conversation.ErrInvalid
// (wrapped) for a malformed Incoming or address, so the adapter answers
// 400; anything else (the store unavailable, wrapping
// conversation.ErrUnavailable) means nothing was acknowledged and the
// provider must retry.
func (in *Inbox) Receive(ctx context.Context, m conversation.Incoming) (conversation.Receipt, error) {
	if err := m.Validate(); err != nil {
		return conversation.Receipt{}, fmt.Errorf("inbox: %w", err)
	}
	if m.Kind == conversation.IncomingMessage && m.ProviderID != "" && m.Channel.Messaging() {
		first, err := in.store.MessageByProviderID(ctx, m.Channel, m.ChannelAccount, m.ProviderID)
		if err == nil {
			return conversation.Receipt{MessageID: first.ID, ConversationID: first.ConversationID,
				CustomerID: conversation.CustomerID(first.Sender), Duplicate: true}, nil
		}
		if !errors.Is(err, state.ErrNotFound) {
			return conversation.Receipt{}, fmt.Errorf("inbox: duplicate check: %w", err)
		}
	}
	now := in.now()
	cust, _, err := in.resolver.Resolve(ctx, m.From, now)
	if err != nil {
		return conversation.Receipt{}, fmt.Errorf("inbox: customer of %v: %w", m.From, err)
	}
	switch {
	case !m.Channel.Messaging():
		return in.receiveSession(ctx, m, cust, now)
	case m.Kind == conversation.IncomingMessage:
		return in.receiveMessage(ctx, m, cust, now)
	default:
		return in.receiveEvent(ctx, m, cust, now)
	}
}

// receiveMessage joins a message to the customer's open conversation on
// its channel account, or opens one, and stores it.
func (in *Inbox) receiveMessage(ctx context.Context, m conversation.Incoming, cust conversation.Customer, now time.Time) (conversation.Receipt, error) {
	conv, created, err := in.openConversation(ctx, threadKey(m, cust.ID), m, cust, now)
	if err != nil {
		return conversation.Receipt{}, err
	}
	msg := conversation.Message{
		ID: conversation.NewMessageID(now), ConversationID: conv.ID, Channel: m.Channel, ChannelAccount: m.ChannelAccount,
		Direction: conversation.Inbound, Sender: string(cust.ID), Text: m.Text, Attachments: m.Attachments,
		ProviderID: m.ProviderID, Status: conversation.DeliveryDelivered, CreatedAt: conversation.Millis(now), UpdatedAt: conversation.Millis(now),
	}
	stored, fresh, err := in.store.AppendMessage(ctx, msg)
	if err != nil {
		return conversation.Receipt{}, fmt.Errorf("inbox: store message: %w", err)
	}
	receipt := conversation.Receipt{MessageID: stored.ID, ConversationID: stored.ConversationID, CustomerID: cust.ID, Duplicate: !fresh}
	if !fresh {
		return receipt, nil // a concurrent retry stored it first
	}
	ev := conversation.NewEvent(conv.ID, conversation.EventMessage, string(cust.ID), now)
	ev.MessageID, ev.Channel = stored.ID, m.Channel
	if err := in.store.AppendEvent(ctx, ev); err != nil {
		in.log.Warn("message stored without its timeline event", "conversation_id", conv.ID, "message_id", stored.ID, "error", err)
	}
	in.log.Info("inbound message stored", "conversation_id", conv.ID, "channel", m.Channel, "message", stored)
	if in.observer != nil {
		in.observer.MessageStored(ctx, conv, stored)
	}
	if created {
		in.queueRoute(conv.ID)
	}
	return receipt, nil
}

// receiveEvent records a channel event on the customer's open
// conversation (opening one when the event asks for it), once per
// provider id within the event window.
func (in *Inbox) receiveEvent(ctx context.Context, m conversation.Incoming, cust conversation.Customer, now time.Time) (conversation.Receipt, error) {
	onceKey := ""
	if m.ProviderID != "" {
		onceKey = "event|" + string(m.Channel) + "|" + m.ChannelAccount + "|" + m.ProviderID
		first, err := in.store.ClaimOnce(ctx, onceKey, in.eventTTL)
		if err != nil {
			return conversation.Receipt{}, fmt.Errorf("inbox: duplicate check: %w", err)
		}
		if !first {
			return conversation.Receipt{CustomerID: cust.ID, Duplicate: true}, nil
		}
	}
	r, err := in.storeEvent(ctx, m, cust, now)
	if err != nil && onceKey != "" {
		// Not stored: let the provider's retry be taken again.
		if ferr := in.store.ForgetOnce(context.WithoutCancel(ctx), onceKey); ferr != nil {
			in.log.Error("event neither stored nor released for a retry", "channel", m.Channel, "event", m.Event, "error", ferr)
		}
	}
	return r, err
}

// storeEvent is receiveEvent after the duplicate check.
func (in *Inbox) storeEvent(ctx context.Context, m conversation.Incoming, cust conversation.Customer, now time.Time) (conversation.Receipt, error) {
	receipt := conversation.Receipt{CustomerID: cust.ID}
	key := threadKey(m, cust.ID)
	var conv conversation.Conversation
	var created bool
	var err error
	if m.StartConversation {
		conv, created, err = in.openConversation(ctx, key, m, cust, now)
	} else {
		conv, err = in.openThread(ctx, key)
	}
	switch {
	case err == nil:
		receipt.ConversationID = conv.ID
		ev := conversation.NewEvent(conv.ID, conversation.EventChannel, string(cust.ID), now)
		ev.Channel, ev.Detail = m.Channel, map[string]string{"event": m.Event}
		if m.Intent != "" {
			ev.Detail["intent"] = m.Intent
		}
		if err := in.store.AppendEvent(ctx, ev); err != nil {
			return conversation.Receipt{}, fmt.Errorf("inbox: store event: %w", err)
		}
	case errors.Is(err, state.ErrNotFound):
		// No open conversation and none asked for: the event is the
		// adapter's business (an opt-out it has recorded); log it.
	default:
		return conversation.Receipt{}, err
	}
	in.log.Info("inbound event", "channel", m.Channel, "event", m.Event, "customer_id", cust.ID, "conversation_id", receipt.ConversationID)
	if created {
		in.queueRoute(conv.ID)
	}
	return receipt, nil
}

// receiveSession opens a new conversation for a call or video session;
// its provider id (the SIP Call-ID, the room) makes retries of one
// session find the first conversation.
func (in *Inbox) receiveSession(ctx context.Context, m conversation.Incoming, cust conversation.Customer, now time.Time) (conversation.Receipt, error) {
	if m.ProviderID == "" {
		return conversation.Receipt{}, fmt.Errorf("inbox: %w: a %s session needs its provider id", conversation.ErrInvalid, m.Channel)
	}
	key := "session|" + string(m.Channel) + "|" + m.ChannelAccount + "|" + m.ProviderID
	if id, err := in.store.Thread(ctx, key); err == nil {
		return conversation.Receipt{ConversationID: id, CustomerID: cust.ID, Duplicate: true}, nil
	}
	conv, created, err := in.openConversation(ctx, key, m, cust, now)
	if err != nil {
		return conversation.Receipt{}, err
	}
	if created {
		in.queueRoute(conv.ID)
	}
	return conversation.Receipt{ConversationID: conv.ID, CustomerID: cust.ID, Duplicate: !created}, nil
}

// Status applies a provider's delivery report to the outbound message it
// names; a stale report changes nothing. Errors: a state.ErrNotFound
// error when no message has that provider id, conversation.ErrInvalid
// for an unknown status, and the store's errors.
func (in *Inbox) Status(ctx context.Context, u conversation.StatusUpdate) error {
	msg, err := in.store.MessageByProviderID(ctx, u.Channel, u.ChannelAccount, u.ProviderID)
	if err != nil {
		return fmt.Errorf("inbox: status of %s message %s: %w", u.Channel, u.ProviderID, err)
	}
	at := u.At
	if at.IsZero() {
		at = in.now()
	}
	updated, changed, err := in.store.AdvanceMessage(ctx, msg.ID, u.Status, u.ErrorCode, at)
	if err != nil {
		return fmt.Errorf("inbox: status of message %s: %w", msg.ID, err)
	}
	if changed {
		if in.observer != nil {
			in.observer.MessageStatus(ctx, updated)
		}
		in.log.Info("message status", "conversation_id", updated.ConversationID, "message_id", updated.ID, "status", updated.Status, "error_code", updated.ErrorCode)
	}
	return nil
}

// threadKey names the customer's thread on a channel account: the open
// conversation their messages join.
func threadKey(m conversation.Incoming, cust conversation.CustomerID) string {
	return "thread|" + string(m.Channel) + "|" + m.ChannelAccount + "|" + string(cust)
}
