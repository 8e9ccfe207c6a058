package router

import (
	"context"
	"errors"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/routing"
)

// offerCommit returns the Txn of an offer decision: the conversation
// becomes offered (in the chosen RM's team, so the team sees it), the RM's
// capacity is held, the offer lease stored, the queue entry removed, the
// decision recorded; guarded by the RM still available with capacity and
// no other live offer. A simultaneous offer (Decision.Also) does the same
// for every RM of the group in the same Txn, and lists the group on the
// conversation (OfferGroup); one RM no longer available or without the
// capacity refuses the whole group, decided again next pass. ok is false
// when there is nothing to commit.
func (r *Router) offerCommit(ctx context.Context, c conversation.Conversation, team conversation.TeamID, d routing.Decision, now time.Time) (pendingCommit, bool) {
	ch := d.Choice
	next := c
	next.TeamID = team
	if err := next.Transition(conversation.StatusOffered, now); err != nil {
		r.log.Warn("offer on a conversation that is not queued", "conversation_id", c.ID, "error", err)
		return pendingCommit{}, false
	}
	txn := state.Txn{
		Now:          now,
		Conversation: &next,
		Guards:       []state.Guard{{Kind: state.GuardNoLiveOffer, ConversationID: c.ID}},
		Dequeue:      []state.QueueOp{{Queue: WaitingQueue, ConversationID: c.ID}},
		Decision:     &state.DecisionRecord{ConversationID: c.ID, At: now, Decision: &d},
		Wakes:        []state.Wake{{ConversationID: c.ID}},
	}
	group := append([]routing.Choice{*ch}, d.Also...)
	offers := make([]conversation.Offer, len(group))
	next.OfferGroup = nil
	for i, g := range group {
		o := conversation.Offer{
			ID: conversation.NewOfferID(now), ConversationID: c.ID, RMID: g.RMID, Cost: g.Cost,
			Attempt: len(c.Declined) + 1, CreatedAt: conversation.Millis(now), ExpiresAt: conversation.Millis(g.ExpiresAt), Instance: r.instance,
		}
		offers[i] = o
		if len(group) > 1 {
			next.OfferGroup = append(next.OfferGroup, conversation.OfferRef{ID: o.ID, RMID: o.RMID})
		}
		ev := event(&next, conversation.EventOffer, "routing", now)
		ev.RMID, ev.OfferID, ev.Reason = g.RMID, o.ID, d.Sentence
		txn.Guards = append(txn.Guards,
			state.Guard{Kind: state.GuardRMAvailable, RMID: g.RMID},
			state.Guard{Kind: state.GuardCapacity, RMID: g.RMID, ConversationID: c.ID, Cost: g.Cost, Capacity: g.Capacity})
		txn.Holds = append(txn.Holds, state.Hold{RMID: g.RMID, ConversationID: c.ID, Cost: g.Cost})
		txn.RMs = append(txn.RMs, state.RMUpdate{RMID: g.RMID, LastOfferAt: now})
		txn.Events = append(txn.Events, ev)
	}
	txn.Events = append(txn.Events, statusEvent(&next, conversation.StatusQueued, "routing", now))
	txn.PutOffer = &offers[0]
	if len(offers) > 1 {
		txn.PutOffers = offers[1:]
	}
	if ch.CursorKey != "" {
		txn.Cursors = map[string]conversation.RMID{ch.CursorKey: ch.RMID}
	}
	return pendingCommit{txn: txn, done: func(err error) {
		if err != nil {
			if errors.Is(err, state.ErrConflict) {
				r.log.Debug("offer lost a race; deciding again next pass", "conversation_id", c.ID, "rm_id", ch.RMID, "error", err)
				r.kickLocal()
				return
			}
			r.log.Warn("offer commit failed", "conversation_id", c.ID, "rm_id", ch.RMID, "error", err)
			return
		}
		r.lastWait.forget(c.ID)
		r.noteDeadline()
		offered := next
		offered.Version++
		for _, o := range offers {
			r.log.Info("offered", "conversation_id", c.ID, "rm_id", o.RMID, "offer_id", o.ID, "policy_id", d.PolicyID, "step", ch.Step, "group", len(offers))
			r.observer.Offered(ctx, o, offered)
		}
	}}, true
}

// fallbackCommit returns the Txn that ends the wait with the policy's
// fallback action: the conversation closes with the action as disposition
// ("callback", "voicemail", "auto_reply") for the channel adapter to carry
// out.
func (r *Router) fallbackCommit(c conversation.Conversation, d routing.Decision, now time.Time) (pendingCommit, bool) {
	next := c
	if err := next.Transition(conversation.StatusClosed, now); err != nil {
		return pendingCommit{}, false
	}
	next.Disposition = string(d.Action)
	ev := event(&next, conversation.EventRoutingDecision, "routing", now)
	ev.Reason = d.Sentence
	txn := state.Txn{
		Now:          now,
		Conversation: &next,
		Dequeue:      []state.QueueOp{{Queue: WaitingQueue, ConversationID: c.ID}},
		Events:       []conversation.Event{ev, statusEvent(&next, conversation.StatusQueued, "routing", now)},
		Decision:     &state.DecisionRecord{ConversationID: c.ID, At: now, Decision: &d},
		Wakes:        []state.Wake{{ConversationID: c.ID}},
	}
	return pendingCommit{txn: txn, done: func(err error) {
		if err != nil && !errors.Is(err, state.ErrConflict) {
			r.log.Warn("fallback commit failed", "conversation_id", c.ID, "error", err)
			return
		}
		r.lastWait.forget(c.ID)
	}}, true
}

// waitCommit returns the Txn that stores the decision record of a waiting
// conversation and arms its wake-up at the next step change, when either
// changed since the last pass (ok is false otherwise).
func (r *Router) waitCommit(c conversation.Conversation, d routing.Decision, now time.Time) (pendingCommit, bool) {
	key := d.Sentence + "|" + d.NextChange.String()
	if r.lastWait.get(c.ID) == key {
		return pendingCommit{}, false
	}
	txn := state.Txn{Now: now, Decision: &state.DecisionRecord{ConversationID: c.ID, At: now, Decision: &d}}
	if !d.NextChange.IsZero() {
		txn.Wakes = []state.Wake{{ConversationID: c.ID, At: d.NextChange}}
	}
	return pendingCommit{txn: txn, done: func(err error) {
		if err != nil {
			r.log.Warn("decision record failed", "conversation_id", c.ID, "error", err)
			return
		}
		r.lastWait.set(c.ID, key)
		if len(txn.Wakes) > 0 {
			r.noteDeadline()
		}
	}}, true
}
