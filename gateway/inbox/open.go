package inbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// openConversation returns the open conversation thread key points at, or
// opens a new one and points key at it; created says which. The key is
// claimed before the conversation is stored, so two instances receiving
// a new client's first messages at once open one conversation: the loser
// of the claim joins the winner's.
func (in *Inbox) openConversation(ctx context.Context, key string, m conversation.Incoming, cust conversation.Customer, now time.Time) (conversation.Conversation, bool, error) {
	for attempt := 0; attempt < 3; attempt++ {
		prev, err := in.store.Thread(ctx, key)
		if err != nil && !errors.Is(err, state.ErrNotFound) {
			return conversation.Conversation{}, false, fmt.Errorf("inbox: thread: %w", err)
		}
		if prev != "" {
			c, err := in.awaitConversation(ctx, prev)
			switch {
			case err == nil && continues(c.Status):
				return c, false, nil
			case err != nil && !errors.Is(err, state.ErrNotFound):
				return conversation.Conversation{}, false, fmt.Errorf("inbox: conversation %s: %w", prev, err)
			}
			// Ended, or never stored by an instance that died: open anew.
		}
		c := conversation.New(cust, m.Channel, m.From, now)
		c.ChannelAccount, c.Intent, c.Verification = m.ChannelAccount, m.Intent, m.Verification
		if m.Language != "" {
			c.Language = m.Language
		}
		c.Tags = []string{AutoRouteTag}
		winner, err := in.store.ClaimThread(ctx, key, prev, c.ID)
		if err != nil {
			return conversation.Conversation{}, false, fmt.Errorf("inbox: claim thread: %w", err)
		}
		if winner != c.ID {
			continue // another instance opened one first: join it
		}
		stored, err := in.store.CreateConversation(ctx, c)
		if err != nil {
			return conversation.Conversation{}, false, fmt.Errorf("inbox: open conversation: %w", err)
		}
		ev := conversation.NewEvent(stored.ID, conversation.EventStatusChanged, string(cust.ID), now)
		ev.ToStatus, ev.Channel = conversation.StatusNew, m.Channel
		if err := in.store.AppendEvent(ctx, ev); err != nil {
			in.log.Warn("conversation opened without its timeline event", "conversation_id", stored.ID, "error", err)
		}
		in.log.Info("conversation opened", "conversation_id", stored.ID, "channel", m.Channel, "customer_id", cust.ID, "segment", cust.Segment)
		return stored, true, nil
	}
	return conversation.Conversation{}, false, fmt.Errorf("inbox: thread %s: %w: changed under every attempt", m.Channel, state.ErrConflict)
}

// openThread returns the open conversation key points at, or a
// state.ErrNotFound error when there is none.
func (in *Inbox) openThread(ctx context.Context, key string) (conversation.Conversation, error) {
	id, err := in.store.Thread(ctx, key)
	if err != nil {
		return conversation.Conversation{}, err
	}
	c, err := in.store.Conversation(ctx, id)
	if err != nil {
		return conversation.Conversation{}, err
	}
	if !continues(c.Status) {
		return conversation.Conversation{}, fmt.Errorf("inbox: conversation %s is %s: %w", id, c.Status, state.ErrNotFound)
	}
	return c, nil
}

// awaitConversation reads a conversation a thread key points at; a
// conversation claimed a moment ago by another instance may not be
// stored yet, so a miss is retried briefly before it counts.
func (in *Inbox) awaitConversation(ctx context.Context, id conversation.ConversationID) (conversation.Conversation, error) {
	var err error
	for wait := 10 * time.Millisecond; wait <= 40*time.Millisecond; wait *= 2 {
		var c conversation.Conversation
		if c, err = in.store.Conversation(ctx, id); !errors.Is(err, state.ErrNotFound) {
			return c, err
		}
		select {
		case <-ctx.Done():
			return conversation.Conversation{}, ctx.Err()
		case <-time.After(wait):
		}
	}
	return conversation.Conversation{}, err
}

// continues reports whether a message joins a conversation in status s:
// until the RM has finished with it (wrap-up, close) or the client gave
// up. A client who writes again later opens a new conversation, which
// routing offers to the last RM first.
func continues(s conversation.Status) bool {
	switch s {
	case conversation.StatusNew, conversation.StatusQueued, conversation.StatusOffered, conversation.StatusActive:
		return true
	}
	return false
}
