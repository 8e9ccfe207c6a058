package router

import (
	"context"
	"errors"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// ReasonInstanceLost is the reason recorded on the timeline (and told to
// the desks) when a conversation's live media ended because the gateway
// instance holding it died.
const ReasonInstanceLost = "instance_lost"

// EndLost ends a conversation whose live media (a SIP call, a video room)
// was held by a gateway instance that died, so it can never be answered
// or go on: still waiting (new, queued, offered) → abandoned, out of the
// queue, live offers withdrawn with the capacity they held; answered
// (active) → wrap_up by its assignee, who picks a disposition on the desk
// (closed at the wrap-up timeout otherwise), with the capacity every RM
// held for it released at once (the call is gone, unlike an ordinary
// wrap-up, which keeps it). A conversation in wrap-up or ended is left as
// it is.
//
// lost builds the event that records the end of the media (e.g. a voice
// channel event "call_ended" with ReasonInstanceLost) at the commit's
// time; it is committed in the same atomic step as the status change, so
// reapers on several instances racing on one conversation end it and
// record it once: the others find it ended and change nothing. It returns
// the conversation as read before the change and as stored after it, and
// changed false when there was nothing to do. Errors: the store's
// (state.ErrNotFound for an unknown conversation).
func (r *Router) EndLost(ctx context.Context, id conversation.ConversationID, lost func(c *conversation.Conversation, now time.Time) conversation.Event) (before, after conversation.Conversation, changed bool, err error) {
	after, err = r.update(ctx, id, func(c *conversation.Conversation, now time.Time) (*state.Txn, error) {
		before = *c
		from := c.Status
		txn := &state.Txn{Wakes: []state.Wake{{ConversationID: c.ID}}}
		switch from {
		case conversation.StatusNew, conversation.StatusQueued, conversation.StatusOffered:
			if err := c.Transition(conversation.StatusAbandoned, now); err != nil {
				return nil, err
			}
			txn.Dequeue = []state.QueueOp{{Queue: WaitingQueue, ConversationID: c.ID}}
			txn.Releases = holdersOf(c)
			r.withdrawLive(ctx, c, txn, now)
		case conversation.StatusActive:
			if err := c.Transition(conversation.StatusWrapUp, now); err != nil {
				return nil, err
			}
			txn.Releases = holdersOf(c)
			txn.Wakes[0].At = now.Add(r.policies.WrapUpTimeout())
		default:
			return nil, errAlready
		}
		txn.Events = []conversation.Event{lost(c, now), statusEvent(c, from, "system", now)}
		return txn, nil
	})
	switch {
	case errors.Is(err, errAlready):
		return before, before, false, nil
	case err != nil:
		return before, after, false, err
	}
	r.Kick(ctx)
	return before, after, true, nil
}
