package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sip"
	"github.com/airbranch/airbranch/gateway/desk"
	"github.com/airbranch/airbranch/gateway/router"
	"github.com/airbranch/airbranch/gateway/state"
)

// reapInstance ends the conversations whose live media a lost instance
// held (its SIP calls and video rooms died with it), then forgets the
// instance once it holds nothing. Each conversation is ended by
// router.EndLost: a waiting one is abandoned, an answered one goes to its
// RM's wrap-up, with the capacity held for it released, and its timeline
// records the media's end with reason router.ReasonInstanceLost (for a
// call the channel event "call_ended", as a call's end always is; for a
// video room media_ended). The RMs concerned hear it on their desks (a
// call event "ended" by the gateway, a video room_ended). Every live
// instance runs this; when two race on one conversation, one ends it and
// the other finds it ended, so it is recorded and told once.
func (g *Gateway) reapInstance(ctx context.Context, lost string) {
	log := g.log.With("lost_instance", lost)
	ids, err := g.store.Holdings(ctx, lost)
	if err != nil {
		log.Warn("lost instance's holdings not read", "error", err)
		return
	}
	ended := 0
	for _, id := range ids {
		changed, err := g.reapConversation(ctx, id)
		if err != nil {
			log.Warn("conversation of a lost instance not ended; retrying at the next renewal", "conversation_id", id, "error", err)
			continue
		}
		if changed {
			ended++
		}
		if _, err := g.store.RemoveHolding(ctx, lost, id); err != nil {
			log.Warn("reaped holding not removed", "conversation_id", id, "error", err)
		}
	}
	forgotten, err := g.store.ForgetInstance(ctx, lost, time.Now())
	if err != nil {
		log.Warn("lost instance not forgotten", "error", err)
	}
	switch {
	case ended > 0:
		log.Warn("instance lost: its calls and rooms ended", "held", len(ids), "ended_here", ended, "forgotten", forgotten)
	case forgotten:
		log.Info("lapsed instance lease removed", "held", len(ids))
	}
}

// reapConversation ends conversation id, whose media was lost with its
// instance, and tells the RMs concerned; changed is false when it had
// ended already, no longer exists, or is no longer on voice or video (an
// escalation undone: what the lost instance held was not its media).
func (g *Gateway) reapConversation(ctx context.Context, id conversation.ConversationID) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, voiceOpTimeout)
	defer cancel()
	c, err := g.store.Conversation(ctx, id)
	switch {
	case errors.Is(err, state.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case c.Channel != conversation.ChannelVoice && c.Channel != conversation.ChannelVideo:
		return false, nil
	}
	offered := conversation.RMID("")
	if o, err := g.store.OfferFor(ctx, id, time.Now()); err == nil {
		offered = o.RMID
	}
	before, after, changed, err := g.router.EndLost(ctx, id, lostMediaEvent)
	if errors.Is(err, state.ErrNotFound) {
		return false, nil
	}
	if err != nil || !changed {
		return false, err
	}
	g.log.Info("conversation ended with its lost instance", "conversation_id", id, "channel", before.Channel,
		"from_status", before.Status, "to_status", after.Status, "rm_id", before.AssigneeID)
	switch before.Channel {
	case conversation.ChannelVoice:
		rm := before.AssigneeID
		if rm == "" {
			rm = offered
		}
		g.hub.Call(ctx, rm, desk.CallData{ConversationID: id, State: desk.CallEnded, EndedBy: string(sip.PartyGateway), Reason: router.ReasonInstanceLost})
	case conversation.ChannelVideo:
		d := desk.VideoData{Kind: desk.VideoRoomEnded, ConversationID: id, Room: string(id), At: time.Now().UTC()}
		for _, rm := range videoRMs(before) {
			if err := g.hub.Publish(ctx, rm, desk.EventVideo, d); err != nil {
				g.log.Warn("video room end not published to the desk", "conversation_id", id, "rm_id", rm, "error", err)
			}
		}
	}
	return true, nil
}

// lostMediaEvent is the timeline event of media lost with its instance:
// for a call the channel event "call_ended" (as applyCallEnd records a
// call's end), for a video room media_ended, otherwise a note.
func lostMediaEvent(c *conversation.Conversation, now time.Time) conversation.Event {
	switch c.Channel {
	case conversation.ChannelVoice:
		ev := conversation.NewEvent(c.ID, conversation.EventChannel, "system", now)
		ev.Channel, ev.Detail = conversation.ChannelVoice, map[string]string{"event": "call_ended", "reason": router.ReasonInstanceLost}
		return ev
	case conversation.ChannelVideo:
		ev := conversation.NewEvent(c.ID, conversation.EventMediaEnded, "system", now)
		ev.Channel, ev.Detail, ev.Reason = conversation.ChannelVideo, map[string]string{"room": string(c.ID)}, router.ReasonInstanceLost
		return ev
	}
	ev := conversation.NewEvent(c.ID, conversation.EventNote, "system", now)
	ev.Reason = router.ReasonInstanceLost
	return ev
}
