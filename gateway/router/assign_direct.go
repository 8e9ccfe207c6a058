package router

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// AssignTo makes rm the assignee of a new conversation without routing
// it (no queue, no offer): a video session the RM scheduled and then
// joined, or a contact the RM starts. The conversation becomes active with
// rm as assignee and participant, in rm's team, and takes the channel's
// cost (cost units) from rm's capacity, guarded like an offer's (an RM at
// capacity is refused and nothing changes); rm need not be available (an
// RM joining their own session is working). A conversation already active
// with rm as assignee is returned as it is. It is then wrapped up and
// closed like any other. Errors: ErrNoCapacity, ErrNotAssignee when it is
// another RM's, a conversation.ErrIllegalTransition when it is not new
// (queued, offered, ended), the directory's error for an unknown RM,
// state.ErrNotFound.
func (r *Router) AssignTo(ctx context.Context, id conversation.ConversationID, rm conversation.RMID) (conversation.Conversation, error) {
	info, err := r.dir.RM(ctx, rm)
	if err != nil {
		return conversation.Conversation{}, err
	}
	c, err := r.update(ctx, id, func(c *conversation.Conversation, now time.Time) (*state.Txn, error) {
		if c.Status == conversation.StatusActive {
			if c.AssigneeID == rm {
				return nil, errAlready
			}
			return nil, ErrNotAssignee
		}
		from := c.Status
		if err := c.Transition(conversation.StatusActive, now); err != nil {
			return nil, err
		}
		c.AssigneeID, c.TeamID = rm, info.TeamID
		c.Join(conversation.RoleRM, string(rm), now)
		cost := r.policies.Cost(c.Channel)
		note := event(c, conversation.EventNote, string(rm), now)
		note.RMID, note.Reason = rm, fmt.Sprintf("assigned to %s without routing (they started it)", rm)
		return &state.Txn{
			Guards: []state.Guard{{Kind: state.GuardCapacity, RMID: rm, ConversationID: c.ID, Cost: cost, Capacity: capacityOf(info)}},
			Holds:  []state.Hold{{RMID: rm, ConversationID: c.ID, Cost: cost}},
			RMs:    []state.RMUpdate{{RMID: rm, Missed: state.MissedReset}},
			Events: []conversation.Event{note, statusEvent(c, from, string(rm), now)},
		}, nil
	})
	if errors.Is(err, errAlready) {
		return c, nil
	}
	var ge *state.GuardError
	if errors.As(err, &ge) {
		return c, fmt.Errorf("assign %s to %s: %s: %w", id, rm, ge.Reason, ErrNoCapacity)
	}
	return c, err
}
