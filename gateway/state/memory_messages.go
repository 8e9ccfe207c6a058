package state

import (
	"context"
	"fmt"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Lock order in this file: idempotency shard, then message shard, then
// timeline shard. No path takes them the other way round.

// AppendMessage stores a copy of m and appends it to its conversation's
// messages, unless a message with the same idempotency key exists: then
// it returns that first copy and false. The conversation need not exist
// yet. Errors: ErrExists for a taken message id, a conversation.ErrInvalid
// error if m does not validate.
func (m *Memory) AppendMessage(_ context.Context, msg conversation.Message) (conversation.Message, bool, error) {
	if err := msg.Validate(); err != nil {
		return conversation.Message{}, false, fmt.Errorf("memory append message: %w", err)
	}
	if key := msg.IdempotencyKey(); key != "" {
		is := &m.idem[m.shard(key)]
		is.mu.Lock()
		defer is.mu.Unlock()
		if first, ok := is.byKey[key]; ok {
			existing, err := m.Message(context.Background(), first)
			return existing, false, err
		}
		if err := m.insertMessage(msg); err != nil {
			return conversation.Message{}, false, err
		}
		is.byKey[key] = msg.ID
		return cloneMessage(msg), true, nil
	}
	if err := m.insertMessage(msg); err != nil {
		return conversation.Message{}, false, err
	}
	return cloneMessage(msg), true, nil
}

// insertMessage stores msg by id, then appends its id to the timeline.
func (m *Memory) insertMessage(msg conversation.Message) error {
	ms := &m.msgs[m.shard(string(msg.ID))]
	ms.mu.Lock()
	if _, ok := ms.byID[msg.ID]; ok {
		ms.mu.Unlock()
		return fmt.Errorf("memory append message %s: %w", msg.ID, ErrExists)
	}
	ms.byID[msg.ID] = cloneMessage(msg)
	ms.mu.Unlock()

	ts := &m.timelines[m.shard(string(msg.ConversationID))]
	ts.mu.Lock()
	tl := ts.byConv[msg.ConversationID]
	if tl == nil {
		tl = &timeline{}
		ts.byConv[msg.ConversationID] = tl
	}
	tl.msgs = append(tl.msgs, msg.ID)
	ts.mu.Unlock()
	return nil
}

// Message returns a copy of the message with id, or ErrNotFound.
func (m *Memory) Message(_ context.Context, id conversation.MessageID) (conversation.Message, error) {
	ms := &m.msgs[m.shard(string(id))]
	ms.mu.RLock()
	defer ms.mu.RUnlock()
	msg, ok := ms.byID[id]
	if !ok {
		return conversation.Message{}, fmt.Errorf("memory message %s: %w", id, ErrNotFound)
	}
	return cloneMessage(msg), nil
}

// MessageByProviderID returns the message stored under the idempotency key
// (ch, account, providerID), or ErrNotFound.
func (m *Memory) MessageByProviderID(ctx context.Context, ch conversation.Channel, account, providerID string) (conversation.Message, error) {
	key := conversation.Message{Channel: ch, ChannelAccount: account, ProviderID: providerID}.IdempotencyKey()
	if key == "" {
		return conversation.Message{}, fmt.Errorf("memory message by provider id: %w: empty provider id", conversation.ErrInvalid)
	}
	is := &m.idem[m.shard(key)]
	is.mu.Lock()
	id, ok := is.byKey[key]
	is.mu.Unlock()
	if !ok {
		return conversation.Message{}, fmt.Errorf("memory message by provider id on %s: %w", ch, ErrNotFound)
	}
	return m.Message(ctx, id)
}

// AdvanceMessage moves the message's delivery status forward by the rule
// of conversation.Message.Advance, under the message's shard lock, and
// returns the stored message and whether it changed. Errors: ErrNotFound,
// a conversation.ErrInvalid error for an unknown status.
func (m *Memory) AdvanceMessage(_ context.Context, id conversation.MessageID, to conversation.DeliveryStatus, errorCode string, now time.Time) (conversation.Message, bool, error) {
	if !to.Valid() {
		return conversation.Message{}, false, fmt.Errorf("memory advance message %s: delivery status %q: %w (allowed: %v)", id, to, conversation.ErrInvalid, conversation.DeliveryStatuses)
	}
	ms := &m.msgs[m.shard(string(id))]
	ms.mu.Lock()
	defer ms.mu.Unlock()
	msg, ok := ms.byID[id]
	if !ok {
		return conversation.Message{}, false, fmt.Errorf("memory advance message %s: %w", id, ErrNotFound)
	}
	changed, err := msg.Advance(to, errorCode, now)
	if err != nil {
		return conversation.Message{}, false, fmt.Errorf("memory advance message: %w", err)
	}
	if changed {
		ms.byID[id] = msg
	}
	return cloneMessage(msg), changed, nil
}

// Messages returns copies of up to limit of the conversation's messages,
// oldest first (the last limit when there are more; all when limit <= 0).
// An unknown conversation has no messages.
func (m *Memory) Messages(ctx context.Context, id conversation.ConversationID, limit int) ([]conversation.Message, error) {
	ts := &m.timelines[m.shard(string(id))]
	ts.mu.RLock()
	var ids []conversation.MessageID
	if tl := ts.byConv[id]; tl != nil {
		ids = tl.msgs
		if limit > 0 && len(ids) > limit {
			ids = ids[len(ids)-limit:]
		}
		ids = append([]conversation.MessageID(nil), ids...)
	}
	ts.mu.RUnlock()
	out := make([]conversation.Message, 0, len(ids))
	for _, mid := range ids {
		msg, err := m.Message(ctx, mid)
		if err != nil {
			return nil, fmt.Errorf("memory messages of %s: %w", id, err)
		}
		out = append(out, msg)
	}
	return out, nil
}

// AppendEvent adds a copy of e to its conversation's timeline. Errors: a
// conversation.ErrInvalid error for an event without id, conversation id,
// type or time.
func (m *Memory) AppendEvent(_ context.Context, e conversation.Event) error {
	if err := validateEvent(e); err != nil {
		return fmt.Errorf("memory append event: %w", err)
	}
	ts := &m.timelines[m.shard(string(e.ConversationID))]
	ts.mu.Lock()
	defer ts.mu.Unlock()
	tl := ts.byConv[e.ConversationID]
	if tl == nil {
		tl = &timeline{}
		ts.byConv[e.ConversationID] = tl
	}
	tl.events = append(tl.events, cloneEvent(e))
	return nil
}

// Events returns copies of the conversation's events in append order.
func (m *Memory) Events(_ context.Context, id conversation.ConversationID) ([]conversation.Event, error) {
	ts := &m.timelines[m.shard(string(id))]
	ts.mu.RLock()
	defer ts.mu.RUnlock()
	tl := ts.byConv[id]
	if tl == nil {
		return []conversation.Event{}, nil
	}
	out := make([]conversation.Event, len(tl.events))
	for i, e := range tl.events {
		out[i] = cloneEvent(e)
	}
	return out, nil
}
