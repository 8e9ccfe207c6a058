package gateway

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sip"
	"github.com/airbranch/airbranch/gateway/desk"
)

// callEvents tells RMs' desks how calls go (desk.EventCall: offered,
// ringing, bridged, ended with who hung up), and remembers, per call, the
// RM last told, so the end reaches the RM who was offered a call the
// client then abandoned. What it remembers is this instance's: an offer
// made by another instance's router is not known here, and the end of
// such a call reaches its assignee only.
type callEvents struct {
	hub *desk.Hub
	mu  sync.Mutex
	rm  map[conversation.ConversationID]toldRM
}

// toldRM is the RM last told of a call, and when.
type toldRM struct {
	rm conversation.RMID
	at time.Time
}

// Calls whose end this instance never hears of (another instance held
// them) are forgotten after callMemory, once more than callMemoryMin are
// remembered.
const (
	callMemory    = 12 * time.Hour
	callMemoryMin = 1024
)

func newCallEvents(hub *desk.Hub) *callEvents {
	return &callEvents{hub: hub, rm: map[conversation.ConversationID]toldRM{}}
}

// publish sends d to rm's desks and remembers rm for the call.
func (e *callEvents) publish(ctx context.Context, rm conversation.RMID, d desk.CallData) {
	if e == nil || rm == "" {
		return
	}
	now := time.Now()
	e.mu.Lock()
	e.rm[d.ConversationID] = toldRM{rm: rm, at: now}
	if len(e.rm) > callMemoryMin {
		for id, x := range e.rm {
			if now.Sub(x.at) > callMemory {
				delete(e.rm, id)
			}
		}
	}
	e.mu.Unlock()
	e.hub.Call(ctx, rm, d)
}

// ended sends the end of the call of c (read before the end was applied)
// to its assignee, or else to the RM last told of it, and forgets the
// call. device is where it was bridged, when known.
func (e *callEvents) ended(ctx context.Context, c conversation.Conversation, reason sip.EndReason, by sip.Party, device string) {
	if e == nil {
		return
	}
	e.mu.Lock()
	rm := e.rm[c.ID].rm
	delete(e.rm, c.ID)
	e.mu.Unlock()
	if c.AssigneeID != "" {
		rm = c.AssigneeID
	}
	e.hub.Call(ctx, rm, desk.CallData{ConversationID: c.ID, State: desk.CallEnded, Device: device, EndedBy: string(by), Reason: string(reason)})
}

// callOffered tells the offered RM's desk of a voice conversation's call.
func (v *voice) callOffered(ctx context.Context, o conversation.Offer, c conversation.Conversation) {
	if c.Channel != conversation.ChannelVoice {
		return
	}
	v.events.publish(ctx, o.RMID, desk.CallData{ConversationID: c.ID, State: desk.CallOffered})
}

var _ sip.EndedBySink = (*voice)(nil)

// CallEndedBy implements sip.EndedBySink: the end of an answered call is
// applied as CallEnded applies it; the RM's desk gets a call event
// "ended" with who hung up, and a softphone bridged to the call hears
// phone.hangup.
func (v *voice) CallEndedBy(ctx context.Context, id conversation.ConversationID, reason sip.EndReason, by sip.Party) error {
	device := ""
	if v.soft != nil && v.soft.ended(id, reason, by) {
		device = desk.DeviceSoftphone
	}
	return v.callEnded(ctx, id, reason, by, device)
}

// callEnded records the end of the call (CallEnded's work) and tells the
// RM's desk.
func (v *voice) callEnded(ctx context.Context, id conversation.ConversationID, reason sip.EndReason, by sip.Party, device string) error {
	octx, cancel := opCtx(ctx)
	defer cancel()
	c, cerr := v.store.Conversation(octx, id)
	if device == "" && c.AssigneeID != "" && reason == sip.EndCompleted {
		device = desk.DevicePhone
	}
	err := v.applyCallEnd(ctx, id, reason)
	v.live.release(ctx, id)
	if cerr == nil {
		v.events.ended(octx, c, reason, by, device)
	}
	return err
}

// partyOf guesses who ended a call that ended before the gateway answered
// it (reported by CallEnded without a party): an abandonment is the
// client's, anything else the gateway's.
func partyOf(reason sip.EndReason) sip.Party {
	if reason == sip.EndAbandoned {
		return sip.PartyClient
	}
	return sip.PartyGateway
}

// CallEnded implements sip.CallSink for calls that end before the gateway
// answered them (the SIP server reports answered calls with CallEndedBy):
// see applyCallEnd; the desk of the RM offered the call hears it ended.
func (v *voice) CallEnded(ctx context.Context, id conversation.ConversationID, reason sip.EndReason) error {
	return v.callEnded(ctx, id, reason, partyOf(reason), "")
}

var _ sip.HoldSink = (*voice)(nil)

// CallHeld implements sip.HoldSink: the assignee's desk hears the call
// held (the client hears music) or resumed. Errors are the store's.
func (v *voice) CallHeld(ctx context.Context, id conversation.ConversationID, held bool) error {
	c, err := v.store.Conversation(ctx, id)
	if err != nil {
		return fmt.Errorf("voice: call held: %w", err)
	}
	st := desk.CallResumed
	if held {
		st = desk.CallHeld
	}
	v.events.publish(ctx, c.AssigneeID, desk.CallData{ConversationID: id, State: st, Device: desk.DevicePhone})
	return nil
}
