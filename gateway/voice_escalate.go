package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sip"
	"github.com/airbranch/airbranch/gateway/desk"
)

// Escalation to voice. An RM escalates an active conversation (a chat, an
// SMS thread, a video session) to voice from the desk; the desk first asks
// CheckEscalation, which refuses when no call can be placed (no outbound
// trunk, no device of the RM to ring, no client phone number), so the
// channel never says voice without a call. Once routing has moved the
// conversation (router.Escalate, event channel_changed to voice, still
// kept by the RM), the gateway places the call as it does a callback
// (callClient: the RM's device rings first, their softphone or SIP phone,
// then the client's number over the outbound trunk, and the two are
// bridged). When the RM's device or the client does not answer, the
// conversation goes back to the channel it came from, still with the RM,
// with a note on its timeline (escalation_call_failed): the RM carries on
// where they were.

// eventEscalationCallFailed is on the timeline of a conversation whose
// escalation call was not made: Detail "reason" is rm_no_answer,
// client_no_answer or failed, "back_to" the channel it went back to
// (empty when it stayed on voice).
const eventEscalationCallFailed = "escalation_call_failed"

// Reasons of eventEscalationCallFailed.
const (
	escalationRMNoAnswer     = "rm_no_answer"
	escalationClientNoAnswer = "client_no_answer"
	escalationFailed         = "failed"
)

// escalationMemory bounds how long this instance remembers where a
// conversation came from once CheckEscalation allowed its escalation.
const escalationMemory = 10 * time.Minute

// escalations remembers, on this instance, the channel and client address
// each conversation had before its escalation to voice (the desk asks
// CheckEscalation on the instance whose router then moves it, so the
// instance that places the call knows them), to go back there when the
// call is not answered.
type escalations struct {
	mu   sync.Mutex
	from map[conversation.ConversationID]escalatedFrom
}

// escalatedFrom is where a conversation was before its escalation.
type escalatedFrom struct {
	channel conversation.Channel
	addr    conversation.Address
	at      time.Time
}

func newEscalations() *escalations {
	return &escalations{from: map[conversation.ConversationID]escalatedFrom{}}
}

// remember records c's channel and address at now, forgetting what is
// older than escalationMemory.
func (e *escalations) remember(c conversation.Conversation, now time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, f := range e.from {
		if now.Sub(f.at) > escalationMemory {
			delete(e.from, id)
		}
	}
	e.from[c.ID] = escalatedFrom{channel: c.Channel, addr: c.Address, at: now}
}

// take returns and forgets where conversation id came from.
func (e *escalations) take(id conversation.ConversationID) (escalatedFrom, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f, ok := e.from[id]
	delete(e.from, id)
	return f, ok
}

var _ desk.Escalations = (*voice)(nil)

// CheckEscalation implements desk.Escalations: an escalation to voice is
// allowed when the outbound trunk is configured (sip.outbound), addr is a
// phone number in E.164 and rm has a device to ring first (the desk's
// softphone on at this instance, or a registered SIP phone); the conversation's channel and address are then remembered,
// to go back to if the call is not answered. Other channels are not the
// voice channel's concern (nil). Errors wrap desk.ErrVoiceUnavailable,
// desk.ErrNoPhoneNumber, or the registrar's.
func (v *voice) CheckEscalation(ctx context.Context, c conversation.Conversation, rm conversation.RMID, to conversation.Channel, addr conversation.Address) error {
	if to != conversation.ChannelVoice {
		return nil
	}
	if !v.opts.callbacks {
		return fmt.Errorf("escalate %s to voice: no outbound trunk is configured: %w", c.ID, desk.ErrVoiceUnavailable)
	}
	if addr.Kind != conversation.AddressPhone || !conversation.IsE164(addr.Value) {
		return fmt.Errorf("escalate %s to voice: %w in E.164", c.ID, desk.ErrNoPhoneNumber)
	}
	if v.softLine(rm) == nil {
		bindings, err := v.registrar.Bindings(ctx, rm, time.Now())
		if err != nil {
			return fmt.Errorf("escalate %s to voice: phone of %s: %w", c.ID, rm, err)
		}
		if len(bindings) == 0 {
			return fmt.Errorf("escalate %s to voice: %s has no softphone on and no phone registered to ring: %w", c.ID, rm, desk.ErrVoiceUnavailable)
		}
	}
	v.esc.remember(c, time.Now())
	return nil
}

// deskEscalations is the desk's escalation check: v, or nil when voice is
// off (the desk then refuses escalations to voice).
func deskEscalations(v *voice) desk.Escalations {
	if v == nil {
		return nil
	}
	return v
}

// escalatedToVoice reports whether e, on c, is an RM's escalation of c to
// voice whose call must be placed (voice_callback.go submits it).
func escalatedToVoice(c conversation.Conversation, e conversation.Event) bool {
	return e.Type == conversation.EventChannelChanged && e.Channel == conversation.ChannelVoice &&
		c.Channel == conversation.ChannelVoice && c.Status == conversation.StatusActive && c.AssigneeID != "" && !isCallbackTask(c)
}

// dialEscalation places the call of conversation c, which rm escalated to
// voice (callClient). When rm's device or the client does not answer, or
// the call cannot be made, c goes back to the channel and address it had
// (router.Escalate, kept by rm), with eventEscalationCallFailed on its
// timeline and a call event ended (reason no_answer or failed) on rm's
// desk. A call that was bridged ends as any call (wrap-up); so does one
// the RM hung up while the client's phone rang.
func (v *voice) dialEscalation(ctx context.Context, c conversation.Conversation, rm conversation.RMID) {
	log := v.log.With("conversation_id", c.ID, "rm_id", rm)
	from, known := v.esc.take(c.ID)
	err := v.callClient(ctx, c, rm, true)
	reason := escalationFailed
	switch {
	case err == nil:
		log.Info("escalation call bridged")
		return
	case ctx.Err() != nil:
		return
	case errors.Is(err, sip.ErrCallerGone):
		log.Info("escalation call ended before the client answered", "error", err) // reported as the call's end
		return
	case errors.Is(err, sip.ErrClientNoAnswer): // first: it wraps the ring's ErrNoAnswer
		reason = escalationClientNoAnswer
	case errors.Is(err, sip.ErrNotRegistered), errors.Is(err, sip.ErrNoAnswer):
		reason = escalationRMNoAnswer
	}
	log.Info("escalation call not made", "reason", reason, "error", err)
	if reason == escalationFailed {
		v.events.ended(ctx, c, sip.EndFailed, sip.PartyGateway, "")
	}
	octx, cancel := opCtx(ctx)
	defer cancel()
	back := conversation.Channel("")
	if known {
		if _, err := v.router.Escalate(octx, c.ID, rm, from.channel, from.addr); err != nil {
			log.Warn("escalation not undone: the conversation stays on voice", "back_to", from.channel, "error", err)
		} else {
			back = from.channel
		}
	}
	ev := conversation.NewEvent(c.ID, conversation.EventChannel, "system", time.Now())
	ev.Channel, ev.Detail = conversation.ChannelVoice, map[string]string{"event": eventEscalationCallFailed, "reason": reason, "back_to": string(back)}
	if err := v.store.AppendEvent(octx, ev); err != nil {
		log.Warn("escalation failure not on the timeline", "error", err)
	}
}

// callClient makes the call of conversation c for rm as the callback
// feature does: rm's device first, then the client at c.Address over the
// outbound trunk, then the two bridged. The device is the desk's browser
// softphone when rm has it on at this instance (softphones.connect with
// sip.Server.CallbackLocal), else rm's registered SIP phone
// (sip.Server.Callback). rm's desk hears the call ringing on the device,
// bridged, or ended unanswered (reason no_answer, ended by rm when their
// device did not answer, by client when the client did not and keep is
// set; without keep the call's end is reported by the SIP server, as for
// any call). keep is sip.CallbackRequest.KeepOnNoAnswer. Errors:
// Callback's; a softphone that does not answer wraps sip.ErrNoAnswer.
func (v *voice) callClient(ctx context.Context, c conversation.Conversation, rm conversation.RMID, keep bool) error {
	req := sip.CallbackRequest{ConversationID: c.ID, RM: rm, To: c.Address.Value, KeepOnNoAnswer: keep}
	device := desk.DevicePhone
	// The call is this instance's while it rings and once bridged (its
	// end releases it, voice_events.go); a call not made is released here.
	v.live.hold(ctx, c.ID)
	var err error
	if line := v.softLine(rm); line != nil {
		device = desk.DeviceSoftphone // connect tells the desk it rings and is bridged
		err = v.soft.connect(ctx, voiceRequest{ConversationID: c.ID, RMID: rm}, line, func(ctx context.Context, remote netip.AddrPort) (*sip.LocalBridge, error) {
			return v.server.CallbackLocal(ctx, req, remote)
		})
	} else {
		v.events.publish(ctx, rm, desk.CallData{ConversationID: c.ID, State: desk.CallRinging, Device: device})
		if err = v.server.Callback(ctx, req); err == nil {
			v.events.publish(ctx, rm, desk.CallData{ConversationID: c.ID, State: desk.CallBridged, Device: device})
		}
	}
	if err != nil {
		v.live.release(ctx, c.ID)
	}
	switch {
	case err == nil:
	case errors.Is(err, sip.ErrClientNoAnswer): // it wraps the ring's ErrNoAnswer
		if keep {
			v.events.ended(ctx, c, sip.EndNoAnswer, sip.PartyClient, device)
		}
	case errors.Is(err, sip.ErrNotRegistered), errors.Is(err, sip.ErrNoAnswer):
		v.events.ended(ctx, c, sip.EndNoAnswer, sip.PartyRM, device)
	}
	return err
}

// softLine returns rm's softphone line at this instance, nil when they
// have none on (or voice has no softphones).
func (v *voice) softLine(rm conversation.RMID) desk.PhoneLine {
	if v.soft == nil {
		return nil
	}
	return v.soft.line(rm)
}
