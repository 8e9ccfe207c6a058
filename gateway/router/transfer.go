package router

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// TransferToQueue hands an active conversation back to routing with a
// reason: active → queued, the assignee leaves and their capacity is freed;
// routing then offers it like any waiting conversation (not to the RM who
// gave it back), its policy's steps starting again at the transfer
// (TransferredAt). Errors: ErrNotAssignee, an illegal transition.
func (r *Router) TransferToQueue(ctx context.Context, id conversation.ConversationID, by conversation.RMID, reason string) (conversation.Conversation, error) {
	return r.requeueTransfer(ctx, id, by, "", "to the queue: "+reason)
}

// TransferToTeam hands an active conversation back to the queue for one
// team's RMs (e.g. from a private-bank RM to the wealth_advisers pool):
// active → queued, the assignee leaves and their capacity is freed, and
// the conversation carries the routing target (TransferTeam, TransferredBy,
// TransferredAt; TeamID becomes the team, so its supervisors see it
// waiting). Routing offers it only to that team's RMs, every filter
// applying, with the policy's selection strategy, not to the RM who gave
// it back; if none takes it within the routing configuration's
// transfer_timeout, its normal policy applies from its first step. Accept
// clears the target. Errors: an error wrapping conversation.ErrNotFound
// for a team the directory does not know (nothing changes),
// ErrNotAssignee, an illegal transition.
func (r *Router) TransferToTeam(ctx context.Context, id conversation.ConversationID, by conversation.RMID, team conversation.TeamID, reason string) (conversation.Conversation, error) {
	if _, err := r.dir.Team(ctx, team); err != nil {
		return conversation.Conversation{}, fmt.Errorf("transfer %s to team %q: %w", id, team, err)
	}
	return r.requeueTransfer(ctx, id, by, team, fmt.Sprintf("to team %s: %s", team, reason))
}

// requeueTransfer moves an active conversation of by back to the queue,
// with team as its routing target ("" for none), recording a transfer
// event with reason.
func (r *Router) requeueTransfer(ctx context.Context, id conversation.ConversationID, by conversation.RMID, team conversation.TeamID, reason string) (conversation.Conversation, error) {
	c, err := r.update(ctx, id, func(c *conversation.Conversation, now time.Time) (*state.Txn, error) {
		if c.AssigneeID != by || c.Status != conversation.StatusActive {
			return nil, ErrNotAssignee
		}
		if err := c.Transition(conversation.StatusQueued, now); err != nil {
			return nil, err
		}
		c.Leave(conversation.RoleRM, string(by), now)
		c.AssigneeID = ""
		c.Declined = appendOnce(c.Declined, by)
		c.TransferTeam, c.TransferredBy, c.TransferredAt = team, by, conversation.Millis(now)
		if team != "" {
			c.TeamID = team
		}
		ev := event(c, conversation.EventTransfer, string(by), now)
		ev.RMID, ev.TeamID, ev.Reason = by, team, reason
		return &state.Txn{
			Releases: []state.Hold{{RMID: by, ConversationID: c.ID}},
			Enqueue:  []state.QueueOp{{Queue: WaitingQueue, ConversationID: c.ID, Score: float64(now.UnixMilli())}},
			Events:   []conversation.Event{ev, statusEvent(c, conversation.StatusActive, string(by), now)},
		}, nil
	})
	if err == nil {
		r.Kick(ctx)
	}
	return c, err
}

// TransferToRM offers an active conversation straight to another RM: it
// becomes offered to them (an ordinary offer lease with the channel's
// timeout), the transferring RM leaves and their capacity is freed. The
// target must be available with capacity for the channel; if they decline
// or let the offer expire, the conversation goes back to the queue.
// Errors: ErrNotAssignee, ErrNoCapacity (the target is not available or
// has no room; nothing changes), state.ErrNotFound for an unknown RM.
func (r *Router) TransferToRM(ctx context.Context, id conversation.ConversationID, by, to conversation.RMID, reason string) (conversation.Conversation, error) {
	target, err := r.dir.RM(ctx, to)
	if err != nil {
		return conversation.Conversation{}, err
	}
	c, err := r.update(ctx, id, func(c *conversation.Conversation, now time.Time) (*state.Txn, error) {
		if c.AssigneeID != by || c.Status != conversation.StatusActive || to == by {
			return nil, ErrNotAssignee
		}
		if err := c.Transition(conversation.StatusOffered, now); err != nil {
			return nil, err
		}
		c.Leave(conversation.RoleRM, string(by), now)
		c.AssigneeID = ""
		c.TeamID = target.TeamID
		cost := r.policies.Cost(c.Channel)
		o := conversation.Offer{
			ID: conversation.NewOfferID(now), ConversationID: c.ID, RMID: to, Cost: cost, Attempt: len(c.Declined) + 1,
			CreatedAt: conversation.Millis(now), ExpiresAt: conversation.Millis(now.Add(r.policies.OfferTimeout(c.Channel))), Instance: r.instance,
		}
		ev := event(c, conversation.EventTransfer, string(by), now)
		ev.RMID, ev.OfferID, ev.Reason = to, o.ID, fmt.Sprintf("from %s to %s: %s", by, to, reason)
		return &state.Txn{
			Guards: []state.Guard{
				{Kind: state.GuardRMAvailable, RMID: to},
				{Kind: state.GuardCapacity, RMID: to, ConversationID: c.ID, Cost: cost, Capacity: capacityOf(target)},
				{Kind: state.GuardNoLiveOffer, ConversationID: c.ID},
			},
			Releases: []state.Hold{{RMID: by, ConversationID: c.ID}},
			Holds:    []state.Hold{{RMID: to, ConversationID: c.ID, Cost: cost}},
			PutOffer: &o,
			RMs:      []state.RMUpdate{{RMID: to, LastOfferAt: now}},
			Events:   []conversation.Event{ev, statusEvent(c, conversation.StatusActive, string(by), now)},
		}, nil
	})
	var ge *state.GuardError
	if errors.As(err, &ge) {
		return c, fmt.Errorf("transfer %s to %s: %s: %w", id, to, ge.Reason, ErrNoCapacity)
	}
	return c, err
}

// Invite adds a specialist (e.g. a wealth adviser or portfolio manager) to
// an active conversation as a participant, without the assignee giving it
// up. The specialist must be available with capacity for the channel,
// which they hold until they leave or the conversation closes. Errors:
// ErrNotAssignee, ErrNoCapacity, state.ErrNotFound for an unknown RM.
func (r *Router) Invite(ctx context.Context, id conversation.ConversationID, by, specialist conversation.RMID) (conversation.Conversation, error) {
	info, err := r.dir.RM(ctx, specialist)
	if err != nil {
		return conversation.Conversation{}, err
	}
	c, err := r.update(ctx, id, func(c *conversation.Conversation, now time.Time) (*state.Txn, error) {
		if c.AssigneeID != by || c.Status != conversation.StatusActive || specialist == by {
			return nil, ErrNotAssignee
		}
		if c.HasParticipant(string(specialist)) {
			return nil, errAlready
		}
		c.Join(conversation.RoleSpecialist, string(specialist), now)
		cost := r.policies.Cost(c.Channel)
		ev := event(c, conversation.EventParticipantJoined, string(by), now)
		ev.RMID, ev.Reason = specialist, "invited as specialist by "+string(by)
		return &state.Txn{
			Guards: []state.Guard{
				{Kind: state.GuardRMAvailable, RMID: specialist},
				{Kind: state.GuardCapacity, RMID: specialist, ConversationID: c.ID, Cost: cost, Capacity: capacityOf(info)},
			},
			Holds:  []state.Hold{{RMID: specialist, ConversationID: c.ID, Cost: cost}},
			Events: []conversation.Event{ev},
		}, nil
	})
	var ge *state.GuardError
	switch {
	case errors.Is(err, errAlready):
		return c, nil
	case errors.As(err, &ge):
		return c, fmt.Errorf("invite %s to %s: %s: %w", specialist, id, ge.Reason, ErrNoCapacity)
	}
	return c, err
}

// LeaveConversation lets a specialist leave a conversation; their capacity
// is freed. Leaving a conversation one is not in does nothing.
func (r *Router) LeaveConversation(ctx context.Context, id conversation.ConversationID, specialist conversation.RMID) (conversation.Conversation, error) {
	c, err := r.update(ctx, id, func(c *conversation.Conversation, now time.Time) (*state.Txn, error) {
		if !c.Leave(conversation.RoleSpecialist, string(specialist), now) {
			return nil, errAlready
		}
		ev := event(c, conversation.EventParticipantLeft, string(specialist), now)
		ev.RMID = specialist
		return &state.Txn{Releases: []state.Hold{{RMID: specialist, ConversationID: c.ID}}, Events: []conversation.Event{ev}}, nil
	})
	if errors.Is(err, errAlready) {
		return c, nil
	}
	if err == nil {
		r.Kick(ctx)
	}
	return c, err
}

// holdersOf lists every RM who may hold capacity for c: its assignee and
// its specialists, present or gone (releasing what is not held is a no-op).
func holdersOf(c *conversation.Conversation) []state.Hold {
	holds := []state.Hold{}
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			holds = append(holds, state.Hold{RMID: conversation.RMID(id), ConversationID: c.ID})
		}
	}
	add(string(c.AssigneeID))
	for _, p := range c.Participants {
		if p.Role == conversation.RoleRM || p.Role == conversation.RoleSpecialist {
			add(p.ID)
		}
	}
	return holds
}

func appendOnce(list []conversation.RMID, id conversation.RMID) []conversation.RMID {
	for _, x := range list {
		if x == id {
			return list
		}
	}
	return append(list, id)
}
