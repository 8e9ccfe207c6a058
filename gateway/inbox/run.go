package inbox

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// queueRoute hands a new conversation to Run for routing; when Run is
// behind, the sweep routes it instead.
func (in *Inbox) queueRoute(id conversation.ConversationID) {
	select {
	case in.work <- id:
	default:
		in.log.Warn("routing backlog full; the sweep will route the conversation", "conversation_id", id)
	}
}

// Run routes the conversations the inbox opens, as they come, and every
// SweepEvery routes those left in status new for longer than SweepAfter
// (by an instance that died between storing and routing). It returns
// when ctx ends.
func (in *Inbox) Run(ctx context.Context) error {
	tick := time.NewTicker(in.every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case id := <-in.work:
			in.route(ctx, id)
		case <-tick.C:
			in.Sweep(ctx)
		}
	}
}

// Sweep routes the conversations the inbox opened that are still new
// after SweepAfter. It is what Run does on each tick.
func (in *Inbox) Sweep(ctx context.Context) {
	cutoff := in.now().Add(-in.after)
	filter := state.ConversationFilter{Status: conversation.StatusNew, Limit: 500}
	for {
		page, err := in.store.ListConversations(ctx, filter)
		if err != nil {
			in.log.Warn("sweep of new conversations failed", "error", err)
			return
		}
		for _, c := range page.Items {
			if slices.Contains(c.Tags, AutoRouteTag) && c.CreatedAt.Before(cutoff) {
				in.log.Info("routing a conversation left new", "conversation_id", c.ID, "created_at", c.CreatedAt)
				in.route(ctx, c.ID)
			}
		}
		if page.NextCursor == "" {
			return
		}
		filter.Cursor = page.NextCursor
	}
}

func (in *Inbox) route(ctx context.Context, id conversation.ConversationID) {
	if _, err := in.router.Route(ctx, id); err != nil && !errors.Is(err, conversation.ErrIllegalTransition) {
		in.log.Warn("routing a new conversation failed; the sweep will retry", "conversation_id", id, "error", err)
	}
}
