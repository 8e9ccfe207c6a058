package router

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// Route queues a new conversation for routing: new → queued, onto
// WaitingQueue, with the customer's last RM (from their latest closed
// conversation) recorded for continuity. Routing it again while it is
// queued does nothing. Errors: state.ErrNotFound, a
// conversation.ErrIllegalTransition from another status.
func (r *Router) Route(ctx context.Context, id conversation.ConversationID) (conversation.Conversation, error) {
	c, err := r.update(ctx, id, func(c *conversation.Conversation, now time.Time) (*state.Txn, error) {
		if c.Status == conversation.StatusQueued {
			return nil, errAlready
		}
		if c.Status != conversation.StatusNew {
			// An offered, active or ended conversation is not routed
			// again this way (a transfer hands an active one back).
			return nil, fmt.Errorf("route conversation %s: it is %s, not new: %w", c.ID, c.Status, conversation.ErrIllegalTransition)
		}
		prev, prevAt := r.previousRM(ctx, c.CustomerID)
		from := c.Status
		if err := c.Transition(conversation.StatusQueued, now); err != nil {
			return nil, err
		}
		c.PreviousRM, c.PreviousRMAt = prev, prevAt
		return &state.Txn{
			Enqueue: []state.QueueOp{{Queue: WaitingQueue, ConversationID: c.ID, Score: float64(c.QueuedAt.UnixMilli())}},
			Events:  []conversation.Event{statusEvent(c, from, "routing", now)},
		}, nil
	})
	if errors.Is(err, errAlready) {
		return c, nil
	}
	if err == nil {
		r.Kick(ctx)
	}
	return c, err
}

var errAlready = errors.New("already there")

// previousRM finds who served the customer last: the assignee of their
// most recently closed conversation (among the latest 20), and when it closed.
func (r *Router) previousRM(ctx context.Context, customer conversation.CustomerID) (conversation.RMID, time.Time) {
	page, err := r.store.ListConversations(ctx, state.ConversationFilter{CustomerID: customer, Status: conversation.StatusClosed, Limit: 20})
	if err != nil {
		return "", time.Time{}
	}
	var best conversation.Conversation
	for _, p := range page.Items {
		if p.AssigneeID != "" && p.ClosedAt.After(best.ClosedAt) {
			best = p
		}
	}
	return best.AssigneeID, best.ClosedAt
}

// Accept answers an offer for rm: the conversation becomes active with rm
// as assignee and participant, in rm's team, and a transfer target it
// carried is cleared; the capacity the offer held stays held. Errors:
// ErrOfferGone (expired, answered or withdrawn), ErrNotYourOffer; in both
// cases nothing changes.
func (r *Router) Accept(ctx context.Context, offerID conversation.OfferID, rm conversation.RMID) (conversation.Conversation, error) {
	o, err := r.liveOffer(ctx, offerID, rm)
	if err != nil {
		return conversation.Conversation{}, err
	}
	team := conversation.TeamID("")
	if info, err := r.dir.RM(ctx, rm); err == nil {
		team = info.TeamID
	}
	c, err := r.update(ctx, o.ConversationID, func(c *conversation.Conversation, now time.Time) (*state.Txn, error) {
		if c.Status != conversation.StatusOffered {
			return nil, fmt.Errorf("conversation %s is %s: %w", c.ID, c.Status, ErrOfferGone)
		}
		if err := c.Transition(conversation.StatusActive, now); err != nil {
			return nil, err
		}
		c.AssigneeID = rm
		if team != "" {
			c.TeamID = team
		}
		c.TransferTeam, c.TransferredBy, c.TransferredAt = "", "", time.Time{}
		c.Join(conversation.RoleRM, string(rm), now)
		accept := event(c, conversation.EventAccept, string(rm), now)
		accept.RMID, accept.OfferID = rm, o.ID
		txn := &state.Txn{
			Guards:       []state.Guard{{Kind: state.GuardOfferLive, OfferID: o.ID, RMID: rm}},
			DeleteOffers: []conversation.OfferID{o.ID},
			RMs:          []state.RMUpdate{{RMID: rm, Missed: state.MissedReset}},
			Events:       []conversation.Event{accept, statusEvent(c, conversation.StatusOffered, string(rm), now)},
		}
		// The other RMs of a simultaneous offer lose theirs, with the
		// capacity it held.
		withdraw(c, txn, o.ID, "accepted by "+string(rm), now)
		return txn, nil
	})
	var ge *state.GuardError
	if errors.As(err, &ge) {
		return c, fmt.Errorf("offer %s: %w", offerID, ErrOfferGone)
	}
	return c, err
}

// Decline refuses an offer for rm with a reason: the conversation returns
// to the queue (rm is not offered it again) and rm's capacity is freed.
// Errors as Accept.
func (r *Router) Decline(ctx context.Context, offerID conversation.OfferID, rm conversation.RMID, reason string) error {
	o, err := r.liveOffer(ctx, offerID, rm)
	if err != nil {
		return err
	}
	_, err = r.requeueOffer(ctx, o, conversation.EventDecline, reason, state.MissedKeep)
	var ge *state.GuardError
	if errors.As(err, &ge) {
		return fmt.Errorf("offer %s: %w", offerID, ErrOfferGone)
	}
	return err
}

func (r *Router) liveOffer(ctx context.Context, id conversation.OfferID, rm conversation.RMID) (conversation.Offer, error) {
	o, err := r.store.Offer(ctx, id)
	if errors.Is(err, state.ErrNotFound) {
		return o, fmt.Errorf("offer %s: %w", id, ErrOfferGone)
	}
	if err != nil {
		return o, err
	}
	if o.RMID != rm {
		return o, fmt.Errorf("offer %s: %w", id, ErrNotYourOffer)
	}
	if o.Expired(r.now()) {
		return o, fmt.Errorf("offer %s: %w", id, ErrOfferGone)
	}
	return o, nil
}

// requeueOffer ends an offer without an answer (decline or expiry): the
// conversation goes back to the queue with the RM on its declined list,
// the hold and the offer are removed, and the RM's missed counter follows
// missed. When the RM has now missed the configured number of offers in a
// row, they are set away ("not_responding").
func (r *Router) requeueOffer(ctx context.Context, o conversation.Offer, t conversation.EventType, reason string, missed state.MissedOp) (conversation.Conversation, error) {
	var presence []conversation.Presence
	if missed == state.MissedIncrement {
		rs, err := r.store.RMState(ctx, o.RMID)
		if err == nil && r.policies.NotResponding(rs.MissedInRow+1) {
			presence = []conversation.Presence{{RMID: o.RMID, State: conversation.PresenceAway, Reason: "not_responding", Since: conversation.Millis(r.now()), Instance: r.instance}}
		}
	}
	c, err := r.update(ctx, o.ConversationID, func(c *conversation.Conversation, now time.Time) (*state.Txn, error) {
		txn := &state.Txn{
			DeleteOffers: []conversation.OfferID{o.ID},
			Releases:     []state.Hold{{RMID: o.RMID, ConversationID: o.ConversationID}},
			RMs:          []state.RMUpdate{{RMID: o.RMID, Missed: missed}},
			Presences:    presence,
		}
		ev := event(c, t, string(o.RMID), now)
		ev.RMID, ev.OfferID, ev.Reason = o.RMID, o.ID, reason
		txn.Events = append(txn.Events, ev)
		if others, inGroup := groupWithout(c.OfferGroup, o.ID); len(c.OfferGroup) > 0 && c.Status == conversation.StatusOffered {
			// A simultaneous offer: the conversation stays offered to
			// the others; it returns to the queue with the last one.
			// (An offer not in the group is a stale one of an earlier
			// offer: it only goes.)
			if !inGroup {
				return txn, nil
			}
			c.Declined = appendOnce(c.Declined, o.RMID)
			c.OfferGroup = others
			if len(others) > 0 {
				return txn, nil
			}
		}
		if c.Status == conversation.StatusOffered {
			if err := c.Transition(conversation.StatusQueued, now); err != nil {
				return nil, err
			}
			c.Declined = appendOnce(c.Declined, o.RMID)
			txn.Enqueue = []state.QueueOp{{Queue: WaitingQueue, ConversationID: c.ID, Score: float64(c.QueuedAt.UnixMilli())}}
			txn.Events = append(txn.Events, statusEvent(c, conversation.StatusOffered, "routing", now))
		}
		if presence != nil {
			away := event(c, conversation.EventNote, "routing", now)
			away.RMID, away.Reason = o.RMID, "RM set away: not responding after missed offers"
			txn.Events = append(txn.Events, away)
		}
		return txn, nil
	})
	if err == nil {
		r.Kick(ctx)
	}
	return c, err
}

// WrapUp ends the live part of a conversation for its assignee: active →
// wrap_up. The capacity stays held during after-conversation work, until
// Close or the wrap-up timeout. Errors: ErrNotAssignee, an illegal
// transition.
func (r *Router) WrapUp(ctx context.Context, id conversation.ConversationID, rm conversation.RMID) (conversation.Conversation, error) {
	return r.update(ctx, id, func(c *conversation.Conversation, now time.Time) (*state.Txn, error) {
		if c.AssigneeID != rm {
			return nil, ErrNotAssignee
		}
		if err := c.Transition(conversation.StatusWrapUp, now); err != nil {
			return nil, err
		}
		return &state.Txn{
			Wakes:  []state.Wake{{ConversationID: c.ID, At: now.Add(r.policies.WrapUpTimeout())}},
			Events: []conversation.Event{statusEvent(c, conversation.StatusActive, string(rm), now)},
		}, nil
	})
}

// Close closes an active or wrapping-up conversation with a disposition
// from the configured list (e.g. "resolved", "lead:mortgage") and frees the
// assignee's capacity. rm "" closes on the system's behalf (wrap-up
// timeout). Errors: ErrNotAssignee, routing.ErrUnknownDisposition, an
// illegal transition.
func (r *Router) Close(ctx context.Context, id conversation.ConversationID, rm conversation.RMID, disposition string) (conversation.Conversation, error) {
	if rm != "" {
		if err := r.policies.CheckDisposition(disposition); err != nil {
			return conversation.Conversation{}, err
		}
	}
	c, err := r.update(ctx, id, func(c *conversation.Conversation, now time.Time) (*state.Txn, error) {
		if rm != "" && c.AssigneeID != rm {
			return nil, ErrNotAssignee
		}
		from := c.Status
		if err := c.Transition(conversation.StatusClosed, now); err != nil {
			return nil, err
		}
		c.Disposition = disposition
		actor := string(rm)
		if actor == "" {
			actor = "system"
		}
		d := event(c, conversation.EventDispositionApplied, actor, now)
		d.Reason = disposition
		return &state.Txn{
			Releases: holdersOf(c),
			Wakes:    []state.Wake{{ConversationID: c.ID}},
			Events:   []conversation.Event{d, statusEvent(c, from, actor, now)},
		}, nil
	})
	if err == nil {
		r.Kick(ctx)
	}
	return c, err
}

// Abandon ends a conversation whose client left before an RM answered
// (hung up in queue, closed the chat): new, queued or offered → abandoned;
// it leaves the queue, and a live offer is withdrawn with its hold.
func (r *Router) Abandon(ctx context.Context, id conversation.ConversationID) (conversation.Conversation, error) {
	c, err := r.update(ctx, id, func(c *conversation.Conversation, now time.Time) (*state.Txn, error) {
		from := c.Status
		if err := c.Transition(conversation.StatusAbandoned, now); err != nil {
			return nil, err
		}
		txn := &state.Txn{
			Dequeue: []state.QueueOp{{Queue: WaitingQueue, ConversationID: c.ID}},
			Wakes:   []state.Wake{{ConversationID: c.ID}},
			Events:  []conversation.Event{statusEvent(c, from, string(c.CustomerID), now)},
		}
		r.withdrawLive(ctx, c, txn, now)
		return txn, nil
	})
	if err == nil {
		r.Kick(ctx)
	}
	return c, err
}

// SetPresence records an RM's presence (available, away with a reason,
// offline, wrap_up) as a lease of ttl; the desk renews it with heartbeats.
// A wrap_up lasts the routing configuration's wrap-up timeout (Until),
// after which routing sets the RM available again. Becoming
// available resets the missed-offer count and wakes routing. Errors:
// conversation.ErrInvalid for an unknown state.
func (r *Router) SetPresence(ctx context.Context, rm conversation.RMID, st conversation.PresenceState, reason string, ttl time.Duration) (conversation.Presence, error) {
	now := conversation.Millis(r.now())
	p := conversation.Presence{RMID: rm, State: st, Reason: reason, Since: now, Instance: r.instance}
	if st != conversation.PresenceOffline {
		p.ExpiresAt = now.Add(ttl)
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	txn := state.Txn{Now: now, Presences: []conversation.Presence{p}, Wakes: []state.Wake{{ConversationID: presenceWake(rm)}}}
	if st == conversation.PresenceWrapUp {
		// After-conversation work has a time limit: routing sets the RM
		// available again then (handleWakes), unless they changed it.
		p.Until = now.Add(r.policies.WrapUpTimeout())
		txn.Presences[0] = p
		txn.Wakes[0].At = p.Until
	}
	if st == conversation.PresenceAvailable {
		txn.RMs = []state.RMUpdate{{RMID: rm, Missed: state.MissedReset}}
		if rs, err := r.store.RMState(ctx, rm); err == nil && rs.Load == 0 && rs.IdleSince.IsZero() {
			txn.RMs[0].IdleSince = now
		}
	}
	if err := r.store.Commit(ctx, txn); err != nil {
		return p, err
	}
	if armsDeadline(&txn) {
		r.noteDeadline()
		r.announceDeadlines(ctx)
	}
	r.observer.PresenceChanged(ctx, p)
	if st == conversation.PresenceAvailable {
		r.Kick(ctx)
	}
	return p, nil
}

// Escalate moves an active conversation to another channel (e.g. web chat
// → video) keeping its RM when they have the capacity for the new
// channel's cost (the old channel's hold is replaced, not added). Errors:
// ErrNotAssignee, ErrNoCapacity (nothing changes; the RM may transfer
// instead), an illegal escalation.
func (r *Router) Escalate(ctx context.Context, id conversation.ConversationID, rm conversation.RMID, to conversation.Channel, addr conversation.Address) (conversation.Conversation, error) {
	info, err := r.dir.RM(ctx, rm)
	if err != nil {
		return conversation.Conversation{}, err
	}
	c, err := r.update(ctx, id, func(c *conversation.Conversation, now time.Time) (*state.Txn, error) {
		if c.AssigneeID != rm || c.Status != conversation.StatusActive {
			return nil, ErrNotAssignee
		}
		from := c.Channel
		if err := c.Escalate(to, addr, now); err != nil {
			return nil, err
		}
		cost := r.policies.Cost(to)
		ev := event(c, conversation.EventChannelChanged, string(rm), now)
		ev.Channel, ev.Reason = to, fmt.Sprintf("%s → %s, kept by %s", from, to, rm)
		return &state.Txn{
			Guards: []state.Guard{{Kind: state.GuardCapacity, RMID: rm, ConversationID: c.ID, Cost: cost, Capacity: capacityOf(info)}},
			Holds:  []state.Hold{{RMID: rm, ConversationID: c.ID, Cost: cost}},
			Events: []conversation.Event{ev},
		}, nil
	})
	var ge *state.GuardError
	if errors.As(err, &ge) {
		return c, fmt.Errorf("escalate %s to %s: %s: %w", id, to, ge.Reason, ErrNoCapacity)
	}
	return c, err
}

func capacityOf(rm conversation.RM) int {
	if rm.Capacity > 0 {
		return rm.Capacity
	}
	return 100
}

// presenceWakePrefix marks the wake of an RM's wrap_up end; RM ids never
// look like conversation ids (UUIDv7), so the two kinds share the store's
// wake set.
const presenceWakePrefix = "presence:"

func presenceWake(rm conversation.RMID) conversation.ConversationID {
	return conversation.ConversationID(presenceWakePrefix + string(rm))
}

// endWrapUp sets rm available again when their wrap_up has run out and
// they have not changed their presence since (the lease they had is kept,
// at least a minute).
func (r *Router) endWrapUp(ctx context.Context, rm conversation.RMID, now time.Time) {
	p, err := r.store.Presence(ctx, rm, now)
	if err != nil || p.State != conversation.PresenceWrapUp || p.Until.IsZero() || p.Until.After(now) {
		return
	}
	ttl := max(p.ExpiresAt.Sub(now), time.Minute)
	if _, err := r.SetPresence(ctx, rm, conversation.PresenceAvailable, "wrap_up_ended", ttl); err != nil {
		r.log.Warn("wrap-up end: presence not set available", "rm_id", rm, "error", err)
	}
}

// Callback ends a waiting call whose client asked to be called back
// (IVR menu): new, queued or offered → closed with disposition
// "callback_requested", out of the queue, a live offer withdrawn with its
// hold; the conversation is then the callback task, found by its
// disposition. Errors: an illegal transition (the call was answered).
func (r *Router) Callback(ctx context.Context, id conversation.ConversationID) (conversation.Conversation, error) {
	c, err := r.update(ctx, id, func(c *conversation.Conversation, now time.Time) (*state.Txn, error) {
		from := c.Status
		if from != conversation.StatusNew && from != conversation.StatusQueued && from != conversation.StatusOffered {
			return nil, fmt.Errorf("conversation %s is %s: %w", c.ID, from, conversation.ErrIllegalTransition)
		}
		if from == conversation.StatusOffered || from == conversation.StatusNew {
			// offered → queued → closed, as the transitions allow
			if err := c.Transition(conversation.StatusQueued, now); err != nil {
				return nil, err
			}
		}
		if err := c.Transition(conversation.StatusClosed, now); err != nil {
			return nil, err
		}
		c.Disposition = CallbackRequested
		ev := event(c, conversation.EventDispositionApplied, string(c.CustomerID), now)
		ev.Reason = CallbackRequested
		txn := &state.Txn{
			Dequeue: []state.QueueOp{{Queue: WaitingQueue, ConversationID: c.ID}},
			Wakes:   []state.Wake{{ConversationID: c.ID}},
			Events:  []conversation.Event{ev, statusEvent(c, from, string(c.CustomerID), now)},
		}
		r.withdrawLive(ctx, c, txn, now)
		return txn, nil
	})
	if err == nil {
		r.Kick(ctx)
	}
	return c, err
}

// CallbackRequested is the disposition of a call whose client asked to
// be called back.
const CallbackRequested = "callback_requested"
