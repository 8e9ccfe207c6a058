package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sip"
	"github.com/airbranch/airbranch/channels/webchat"
	"github.com/airbranch/airbranch/gateway/desk"
	"github.com/airbranch/airbranch/gateway/router"
)

// VoiceTopic is the store broadcast topic of voice requests: a JSON
// voiceRequest for the instance whose SIP server holds the call.
const VoiceTopic = "voice"

// Kinds of voice requests.
const (
	// voiceBridge: an RM accepted a voice conversation; ring their phone
	// and bridge the caller to it.
	voiceBridge = "bridge"
	// voiceRing: phone-first mode; routing offered a voice conversation:
	// ring the RM's phone, accept the offer if they answer, decline it if
	// not.
	voiceRing = "ring"
	// voiceStop: phone-first mode; the offer was answered otherwise
	// (declined on the desk, expired): stop ringing for it.
	voiceStop = "stop"
)

// Reasons recorded when a phone does not take a call.
const (
	reasonPhoneNoAnswer = "phone did not answer"
	reasonOfferNoAnswer = "no answer"
)

// ringMargin ends a phone-first ring this long before the offer expires,
// so that an answer is accepted while the offer is still live.
const ringMargin = 500 * time.Millisecond

// voiceRequest asks the instance holding a call to ring an RM's phone for
// it. Origin is the instance that published it (it has tried its own SIP
// server already).
type voiceRequest struct {
	Kind           string                      `json:"kind"`
	ConversationID conversation.ConversationID `json:"conversation_id"`
	RMID           conversation.RMID           `json:"rm_id"`
	OfferID        conversation.OfferID        `json:"offer_id,omitempty"`
	ExpiresAt      time.Time                   `json:"expires_at,omitzero"`
	Origin         string                      `json:"origin"`
}

// routingObserver is the router's Observer: every call goes to the RM
// desk hub first, then, when they are on, the voice channel hears of
// accepted voice conversations (and, phone-first, of voice offers) and web
// chat of its conversations' changes (waiting, assigned, ended). chat is
// set after the router is built (the adapter needs the inbox, which needs
// the router), before anything runs.
type routingObserver struct {
	hub   *desk.Hub
	voice *voice
	chat  *webchat.Adapter
}

var _ router.Observer = (*routingObserver)(nil)

// Offered implements router.Observer.
func (o *routingObserver) Offered(ctx context.Context, off conversation.Offer, c conversation.Conversation) {
	o.hub.Offered(ctx, off, c)
	if o.voice != nil {
		o.voice.offered(off, c)
		o.voice.callOffered(ctx, off, c)
	}
}

// Changed implements router.Observer.
func (o *routingObserver) Changed(ctx context.Context, c conversation.Conversation, evs []conversation.Event, rms []conversation.RMID) {
	o.hub.Changed(ctx, c, evs, rms)
	if o.voice != nil {
		o.voice.changed(c, evs)
	}
	if o.chat != nil && c.Channel == conversation.ChannelWebChat {
		o.chat.ConversationChanged(ctx, c)
	}
}

// PresenceChanged implements router.Observer.
func (o *routingObserver) PresenceChanged(ctx context.Context, p conversation.Presence) {
	o.hub.PresenceChanged(ctx, p)
}

// offered queues a ring of the offered RM's phone, in phone-first mode.
func (v *voice) offered(o conversation.Offer, c conversation.Conversation) {
	if !v.phoneFirst || c.Channel != conversation.ChannelVoice || isCallbackTask(c) {
		return
	}
	v.submit(voiceRequest{Kind: voiceRing, ConversationID: c.ID, RMID: o.RMID, OfferID: o.ID, ExpiresAt: o.ExpiresAt, Origin: v.instance})
}

// changed queues a bridge for each accept of a voice conversation and,
// phone-first, a stop of the ringing for each offer declined or expired.
func (v *voice) changed(c conversation.Conversation, evs []conversation.Event) {
	if v.callbackChanged(c, evs) { // callback tasks: voice_callback.go
		return
	}
	if c.Channel != conversation.ChannelVoice {
		return
	}
	for _, e := range evs {
		switch {
		case e.Type == conversation.EventTransfer:
			v.transferred(c) // voice_transfer.go
		case e.Type == conversation.EventAccept && e.RMID != "":
			v.submit(voiceRequest{Kind: voiceBridge, ConversationID: c.ID, RMID: e.RMID, Origin: v.instance})
		case v.phoneFirst && e.OfferID != "" && (e.Type == conversation.EventDecline || e.Type == conversation.EventOfferExpired):
			v.submit(voiceRequest{Kind: voiceStop, ConversationID: c.ID, RMID: e.RMID, OfferID: e.OfferID, Origin: v.instance})
		}
	}
}

// trackRing records the cancel of the ring for offer id.
func (v *voice) trackRing(id conversation.OfferID, cancel context.CancelFunc) {
	v.ringMu.Lock()
	defer v.ringMu.Unlock()
	v.rings[id] = cancel
}

// stopRing cancels the ring for offer id if this instance has one, and
// forgets it.
func (v *voice) stopRing(id conversation.OfferID) {
	v.ringMu.Lock()
	cancel := v.rings[id]
	delete(v.rings, id)
	v.ringMu.Unlock()
	if cancel != nil {
		cancel()
	}
}

// submit hands r to Run without blocking the router.
func (v *voice) submit(r voiceRequest) {
	select {
	case v.work <- r:
	default:
		v.log.Warn("voice requests backlog full; request dropped", "kind", r.Kind, "conversation_id", r.ConversationID, "rm_id", r.RMID)
	}
}

// Run serves the voice channel until ctx ends: the SIP server
// (sip.Server.Run, which hangs up the calls left when ctx ends), and the
// requests to ring RMs' phones (or, phone-first, to stop ringing for an
// offer declined on the desk or expired), those of this instance's router
// and those other instances publish on VoiceTopic, each in a goroutine of
// its own that Run waits for. A request is tried on this instance's SIP server
// first; when the call is not here (sip.ErrUnknownCall) it is published
// for the instance that holds it. It returns the SIP server's error, or
// the store's if it cannot listen.
func (v *voice) Run(ctx context.Context) error {
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		if err := v.server.Run(ctx); err != nil {
			return fmt.Errorf("gateway: voice: %w", err)
		}
		return nil
	})
	eg.Go(func() error { return v.dispatch(ctx) })
	err := eg.Wait()
	if v.soft != nil {
		v.soft.wait() // the SIP server has ended the softphones' calls
	}
	return err
}

// dispatch runs each request in its own goroutine until ctx ends, then
// waits for them.
func (v *voice) dispatch(ctx context.Context) error {
	published, err := v.store.Listen(ctx, VoiceTopic)
	if err != nil {
		return fmt.Errorf("gateway: voice: listen: %w", err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return nil
		case r := <-v.work:
			wg.Go(func() { v.handle(ctx, r, true) })
		case p, ok := <-published:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				if published, err = v.store.Listen(ctx, VoiceTopic); err != nil {
					return fmt.Errorf("gateway: voice: listen: %w", err)
				}
				continue
			}
			var r voiceRequest
			if p == "" || json.Unmarshal([]byte(p), &r) != nil || r.Origin == v.instance {
				continue // a gap, noise, or our own request, tried already
			}
			wg.Go(func() { v.handle(ctx, r, false) })
		}
	}
}

// handle carries out r on this instance's SIP server. local is true for
// a request of this instance's router: one whose call is elsewhere is
// then published for the others.
func (v *voice) handle(ctx context.Context, r voiceRequest, local bool) {
	log := v.log.With("conversation_id", r.ConversationID, "rm_id", r.RMID)
	var err error
	switch r.Kind {
	case voiceBridge:
		err = v.connectRM(ctx, r, local)
	case voiceRing:
		rctx, cancel := context.WithDeadline(ctx, r.ExpiresAt.Add(-ringMargin))
		v.trackRing(r.OfferID, cancel)
		err = v.ringPhone(rctx, r, local, v.server.Holds(r.ConversationID))
		v.stopRing(r.OfferID)
	case voiceTransfer, voiceCallback, voiceCallbackTask, voiceGoodbye: // voice_transfer.go, voice_callback.go
		v.handleMore(ctx, r, local)
		return
	case voiceStop:
		// The ring may be on another instance: they all hear it.
		v.stopRing(r.OfferID)
		if local {
			v.publish(ctx, r)
		}
		return
	default:
		return
	}
	switch {
	case errors.Is(err, sip.ErrUnknownCall):
		return // another instance's call (published by bridgeHere), or gone
	case errors.Is(err, sip.ErrNotQueued):
		log.Debug("rm phone not rung: the call is not waiting", "kind", r.Kind)
		return
	case errors.Is(err, sip.ErrCallerGone):
		log.Info("caller hung up while the rm phone rang")
		return
	case ctx.Err() != nil:
		return // shutting down: the call is hung up and recorded by the SIP server
	case err == nil:
		log.Info("rm phone answered; call bridged", "kind", r.Kind)
		if r.Kind == voiceRing {
			v.acceptRung(ctx, r)
		}
		return
	}
	log.Info("rm phone did not take the call", "kind", r.Kind, "error", err)
	if r.Kind == voiceRing {
		v.declineRung(ctx, r)
		return
	}
	v.handBack(ctx, r.ConversationID, r.RMID)
}

// bridgeHere runs sip.Server.Bridge for r on this instance. When the call
// is not here (sip.ErrUnknownCall) and r is this instance's own request,
// r is published for the instance that holds the call, and Bridge is
// tried again here every 20 ms for up to a second: a call this instance
// has just taken is filed under its conversation only once the inbox
// returned, and routing (which starts as soon as the conversation is
// stored) can offer it, phone-first, before that.
func (v *voice) bridgeHere(ctx context.Context, r voiceRequest, local bool) error {
	err := v.server.Bridge(ctx, r.ConversationID, r.RMID)
	if !local || !errors.Is(err, sip.ErrUnknownCall) {
		return err
	}
	v.publish(ctx, r)
	for range 50 {
		select {
		case <-ctx.Done():
			return err
		case <-time.After(20 * time.Millisecond):
		}
		if err = v.server.Bridge(ctx, r.ConversationID, r.RMID); !errors.Is(err, sip.ErrUnknownCall) {
			return err
		}
	}
	return err
}

// publish sends r to the other instances.
func (v *voice) publish(ctx context.Context, r voiceRequest) {
	data, _ := json.Marshal(r)
	if err := v.store.Broadcast(ctx, VoiceTopic, string(data)); err != nil {
		v.log.Warn("voice request not published", "kind", r.Kind, "conversation_id", r.ConversationID, "rm_id", r.RMID, "error", err)
	}
}

// handBack returns an accepted call whose RM's phone did not answer (or
// is not registered) to the queue, by that RM (router.TransferToQueue),
// so routing offers it to someone else. Nothing happens when the RM no
// longer holds it.
func (v *voice) handBack(ctx context.Context, id conversation.ConversationID, rm conversation.RMID) {
	octx, cancel := opCtx(ctx)
	defer cancel()
	if _, err := v.router.TransferToQueue(octx, id, rm, reasonPhoneNoAnswer); err != nil {
		v.log.Info("call not handed back to the queue", "conversation_id", id, "rm_id", rm, "error", err)
	}
}

// acceptRung accepts the offer whose phone answered. When the offer is
// gone it checks the conversation: accepted by the same RM on the desk
// meanwhile is fine; otherwise the caller is bridged to an RM routing did
// not give the call to, so the call is hung up.
func (v *voice) acceptRung(ctx context.Context, r voiceRequest) {
	octx, cancel := opCtx(ctx)
	defer cancel()
	_, err := v.router.Accept(octx, r.OfferID, r.RMID)
	if err == nil {
		return
	}
	if c, cerr := v.store.Conversation(octx, r.ConversationID); cerr == nil && c.Status == conversation.StatusActive && c.AssigneeID == r.RMID {
		return
	}
	v.log.Warn("rm answered an offer that is gone; hanging up", "conversation_id", r.ConversationID, "rm_id", r.RMID, "error", err)
	if herr := v.server.Hangup(octx, r.ConversationID); herr != nil {
		v.log.Warn("hang-up failed", "conversation_id", r.ConversationID, "error", herr)
	}
}

// declineRung declines the offer whose phone did not answer. When the
// offer is gone because the RM accepted it on the desk meanwhile, the
// call goes back to the queue as an accepted call whose phone did not
// answer does.
func (v *voice) declineRung(ctx context.Context, r voiceRequest) {
	octx, cancel := opCtx(ctx)
	defer cancel()
	err := v.router.Decline(octx, r.OfferID, r.RMID, reasonOfferNoAnswer)
	if !errors.Is(err, router.ErrOfferGone) {
		if err != nil {
			v.log.Warn("offer not declined", "conversation_id", r.ConversationID, "rm_id", r.RMID, "error", err)
		}
		return
	}
	if c, cerr := v.store.Conversation(octx, r.ConversationID); cerr == nil && c.Status == conversation.StatusActive && c.AssigneeID == r.RMID {
		v.handBack(ctx, r.ConversationID, r.RMID)
	}
}
