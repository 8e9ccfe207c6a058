package gateway

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sip"
	"github.com/airbranch/airbranch/gateway/inbox"
	"github.com/airbranch/airbranch/gateway/router"
	"github.com/airbranch/airbranch/routing"
)

// CallbackTaskTag marks a callback task: a voice conversation the gateway
// opened for a client who asked to be called back (DTMF 2 in the queue,
// router.CallbackRequested) or whose wait routing ended with a callback
// (the policy's callback fallback or after-hours action). Routing offers
// it like a call; when an RM accepts it, the gateway rings the RM's phone,
// then calls the client over the outbound trunk (sip.outbound) and
// bridges them (sip.Server.Callback).
const CallbackTaskTag = "callback_task"

// Timeline channel events of callbacks.
const (
	// eventCallbackTask is on the task: Detail "origin" is the
	// conversation whose end asked for it.
	eventCallbackTask = "callback_task"
	// eventCallbackTaskOpened is on that conversation: Detail "task" is
	// the task's id.
	eventCallbackTaskOpened = "callback_task_opened"
	// eventCallbackFailed is on the task when its call could not be made:
	// Detail "error" says why.
	eventCallbackFailed = "callback_failed"
)

// isCallbackTask reports whether c is a callback task.
func isCallbackTask(c conversation.Conversation) bool {
	return slices.Contains(c.Tags, CallbackTaskTag)
}

// isCallbackDisposition reports whether a conversation closed with d asks
// for a callback.
func isCallbackDisposition(d string) bool {
	return d == router.CallbackRequested || d == string(routing.ActionCallback)
}

// callbackChanged reacts to the changes of callbacks, from the router's
// observer (it only queues requests): an RM accepting a callback task
// that has no live call here, or escalating a conversation to voice
// (voice_escalate.go), has it dialled (true: the change is handled);
// a conversation closed as a callback request with a phone address gets
// its callback task when the outbound trunk is configured, and its live
// call, if it is still waiting, hears the goodbye.
func (v *voice) callbackChanged(c conversation.Conversation, evs []conversation.Event) bool {
	for _, e := range evs {
		switch {
		case e.Type == conversation.EventAccept && e.RMID != "" && isCallbackTask(c) && !v.server.Holds(c.ID):
			v.submit(voiceRequest{Kind: voiceCallback, ConversationID: c.ID, RMID: e.RMID, Origin: v.instance})
			return true
		case escalatedToVoice(c, e) && !v.server.Holds(c.ID):
			v.submit(voiceRequest{Kind: voiceCallback, ConversationID: c.ID, RMID: c.AssigneeID, Origin: v.instance})
			return true
		case e.Type == conversation.EventStatusChanged && e.ToStatus == conversation.StatusClosed && isCallbackDisposition(c.Disposition):
			if c.Channel == conversation.ChannelVoice && e.FromStatus != conversation.StatusActive {
				v.submit(voiceRequest{Kind: voiceGoodbye, ConversationID: c.ID, Origin: v.instance})
			}
			if v.opts.callbacks && !isCallbackTask(c) && c.Address.Kind == conversation.AddressPhone {
				v.submit(voiceRequest{Kind: voiceCallbackTask, ConversationID: c.ID, Origin: v.instance})
			}
		}
	}
	return false
}

// goodbyeHere tells a waiting call on this instance that routing ended
// its wait (sip.Server.Goodbye); a local request whose call is elsewhere
// is published for the instance that holds it.
func (v *voice) goodbyeHere(ctx context.Context, r voiceRequest, local bool) {
	err := v.server.Goodbye(ctx, r.ConversationID)
	switch {
	case err == nil:
		v.log.Info("routing ended the call's wait; caller told and hung up", "conversation_id", r.ConversationID)
	case errors.Is(err, sip.ErrUnknownCall) && local:
		v.publish(ctx, r)
	}
}

// openCallbackTask opens the callback task of conversation id, once
// (whichever instance asks first): a new voice conversation for the same
// customer and phone, with its channel account, intent and language and
// CallbackTaskTag, which routing then offers. Each conversation records
// the other on its timeline. Failures are logged (the conversation keeps
// its callback disposition, which the supervisor sees).
func (v *voice) openCallbackTask(ctx context.Context, id conversation.ConversationID) {
	octx, cancel := opCtx(ctx)
	defer cancel()
	orig, err := v.store.Conversation(octx, id)
	if err != nil || orig.Address.Kind != conversation.AddressPhone {
		v.log.Warn("callback task not opened", "conversation_id", id, "error", err)
		return
	}
	key := "callback|" + string(orig.ID)
	if prev, err := v.store.Thread(octx, key); err == nil && prev != "" {
		return // opened already
	}
	now := time.Now()
	task := conversation.New(conversation.Customer{ID: orig.CustomerID, Segment: orig.Segment, PreferredLanguage: orig.Language},
		conversation.ChannelVoice, orig.Address, now)
	task.ChannelAccount, task.Intent = orig.ChannelAccount, orig.Intent
	task.Tags = []string{inbox.AutoRouteTag, CallbackTaskTag}
	winner, err := v.store.ClaimThread(octx, key, "", task.ID)
	if err != nil || winner != task.ID {
		if err != nil {
			v.log.Warn("callback task not opened", "conversation_id", id, "error", err)
		}
		return
	}
	stored, err := v.store.CreateConversation(octx, task)
	if err != nil {
		v.log.Warn("callback task not opened", "conversation_id", id, "error", err)
		return
	}
	opened := conversation.NewEvent(stored.ID, conversation.EventStatusChanged, "system", now)
	opened.ToStatus, opened.Channel = conversation.StatusNew, conversation.ChannelVoice
	onTask := conversation.NewEvent(stored.ID, conversation.EventChannel, "system", now)
	onTask.Channel, onTask.Detail = conversation.ChannelVoice, map[string]string{"event": eventCallbackTask, "origin": string(orig.ID)}
	onOrig := conversation.NewEvent(orig.ID, conversation.EventChannel, "system", now)
	onOrig.Channel, onOrig.Detail = orig.Channel, map[string]string{"event": eventCallbackTaskOpened, "task": string(stored.ID)}
	for _, ev := range []conversation.Event{opened, onTask, onOrig} {
		if err := v.store.AppendEvent(octx, ev); err != nil {
			v.log.Warn("callback task event not stored", "conversation_id", ev.ConversationID, "error", err)
		}
	}
	v.log.Info("callback task opened", "conversation_id", stored.ID, "origin", orig.ID, "customer_id", orig.CustomerID)
	if _, err := v.router.Route(octx, stored.ID); err != nil {
		v.log.Warn("callback task not routed yet (the inbox's sweep routes it)", "conversation_id", stored.ID, "error", err)
	}
}

// dialCallback makes the call of a callback task that RM r.RMID accepted
// (callClient, on this instance), or of a conversation r.RMID escalated to
// voice (dialEscalation, voice_escalate.go). When the RM's phone does not
// answer (or is not registered) the task goes back to the queue by that
// RM, as a call whose phone did not answer does; when the client does not
// answer, the call's end (sip.EndNoAnswer) puts the task in the RM's
// wrap-up, where they pick a disposition. Any other failure is recorded
// on the task's timeline and the task goes to the RM's wrap-up.
func (v *voice) dialCallback(ctx context.Context, r voiceRequest) {
	log := v.log.With("conversation_id", r.ConversationID, "rm_id", r.RMID)
	octx, cancel := opCtx(ctx)
	c, err := v.store.Conversation(octx, r.ConversationID)
	cancel()
	if err != nil || c.Status != conversation.StatusActive || c.AssigneeID != r.RMID {
		log.Info("callback not dialled: the task is no longer the rm's", "error", err)
		return
	}
	if !isCallbackTask(c) {
		v.dialEscalation(ctx, c, r.RMID)
		return
	}
	err = v.callClient(ctx, c, r.RMID, false)
	switch {
	case err == nil:
		log.Info("callback bridged")
	case errors.Is(err, sip.ErrClientNoAnswer), errors.Is(err, sip.ErrCallerGone):
		log.Info("callback ended", "error", err) // its end was reported as the call's
	case ctx.Err() != nil:
	case errors.Is(err, sip.ErrNotRegistered), errors.Is(err, sip.ErrNoAnswer):
		log.Info("rm phone did not take the callback", "error", err)
		v.handBack(ctx, c.ID, r.RMID)
	default:
		log.Warn("callback failed", "error", err)
		octx, cancel := opCtx(ctx)
		defer cancel()
		ev := conversation.NewEvent(c.ID, conversation.EventChannel, "system", time.Now())
		ev.Channel, ev.Detail = conversation.ChannelVoice, map[string]string{"event": eventCallbackFailed, "error": err.Error()}
		if err := v.store.AppendEvent(octx, ev); err != nil {
			log.Warn("callback failure not on the timeline", "error", err)
		}
		if _, err := v.router.WrapUp(octx, c.ID, r.RMID); err != nil {
			log.Warn("callback task not put in wrap-up", "error", err)
		}
	}
}
