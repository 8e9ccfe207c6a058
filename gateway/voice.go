package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/channels/sip"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/inbox"
	"github.com/airbranch/airbranch/gateway/router"
	"github.com/airbranch/airbranch/gateway/state"
)

// voice is the gateway's side of the voice channel (package channels/sip):
// the CallSink that turns calls into conversations and their ends, menu
// choices and queue announcements into routing operations, and the glue
// that rings an RM's phone when routing says so (voice_bridge.go). The SIP
// server it drives holds the calls of this instance.
type voice struct {
	server     *sip.Server
	registrar  sip.Registrar
	store      state.Store
	inbox      *inbox.Inbox
	router     *router.Router
	log        *slog.Logger
	instance   string
	phoneFirst bool
	// work carries bridge and ring requests from the router's Observer
	// (which must not block) to Run.
	work chan voiceRequest
	// rings holds the cancel of each phone-first ring in progress on this
	// instance, by offer.
	ringMu sync.Mutex
	rings  map[conversation.OfferID]context.CancelFunc
	// events tells the desks how calls go; soft bridges calls to desks'
	// browser softphones (voice_events.go, voice_softphone.go).
	events *callEvents
	soft   *softphones
	// opts: recording and callbacks (voice_record.go, voice_callback.go).
	opts voiceOptions
	// esc: where escalated conversations came from (voice_escalate.go).
	esc *escalations
	// live records the calls this instance holds, so that the others
	// end them should it die (instance_lease.go); nil: not recorded.
	live *liveness
}

var _ sip.CallSink = (*voice)(nil)

// voiceWorkBacklog bounds the requests waiting for Run; past it a request
// is dropped with a warning (the RM can hand the call back).
const voiceWorkBacklog = 1024

// voiceOpTimeout bounds one routing operation made for a call.
const voiceOpTimeout = 5 * time.Second

// newVoice builds the voice channel's glue for cfg.SIP; each RM phone's
// rm must be in dir. The caller sets the router and inbox, then calls
// listen last (it binds the SIP listeners, which only Run closes).
func newVoice(ctx context.Context, cfg *configs.Config, dir directory.Directory, store state.Store, instance string, log *slog.Logger) (*voice, error) {
	for _, p := range cfg.SIP.RMPhones {
		if _, err := dir.RM(ctx, p.RM); err != nil {
			return nil, fmt.Errorf("gateway: voice: rm phone %q: rm %q: %w", p.Username, p.RM, err)
		}
	}
	return &voice{store: store, log: log, instance: instance, phoneFirst: cfg.SIP.PhoneFirst,
		work: make(chan voiceRequest, voiceWorkBacklog), rings: map[conversation.OfferID]context.CancelFunc{}, esc: newEscalations()}, nil
}

// listen builds the SIP server of cfg.SIP, binding its listeners (a port
// in use fails here), with the RM phones' registrar on the store's Redis
// when there is one (every instance rings any phone), in memory
// otherwise. Run must then be called: it closes the listeners.
func (v *voice) listen(cfg *configs.Config) error {
	var reg sip.Registrar = sip.NewMemoryRegistrar()
	if rdb, prefix := redisOf(v.store); rdb != nil {
		reg = sip.NewRedisRegistrar(rdb, prefix+":")
	}
	srv, err := sip.New(cfg.SIPAdapter(), v, reg, v.log)
	if err != nil {
		return fmt.Errorf("gateway: voice: %w", err)
	}
	v.server, v.registrar, v.opts = srv, reg, newVoiceOptions(cfg)
	return nil
}

// opCtx returns a context for a routing operation on behalf of a call
// that outlives ctx's cancellation (a call ending at shutdown is still
// recorded), bounded by voiceOpTimeout.
func opCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), voiceOpTimeout)
}

// IncomingCall implements sip.CallSink: the inbox stores the call as an
// event on a new voice conversation (one per SIP Call-ID: a retransmitted
// INVITE finds the first) and routes it after this returns; the call is
// recorded as this instance's (liveness.hold) until its end. The inbox's
// errors pass through: conversation.ErrUnavailable (the store is down)
// makes the adapter answer 503.
func (v *voice) IncomingCall(ctx context.Context, in conversation.Incoming) (conversation.Receipt, error) {
	rc, err := v.inbox.Receive(ctx, in)
	if err == nil {
		v.live.hold(ctx, rc.ConversationID)
	}
	return rc, err
}

// applyCallEnd applies the end of a call (sip.CallSink.CallEnded, and
// sip.EndedBySink.CallEndedBy, in voice_events.go). What the conversation becomes
// depends on where it is, whatever the call's end reason says of the
// media: still waiting (new, queued, offered) → abandoned, or closed as a
// callback task for EndCallback; answered by an RM (active) → wrap-up by
// its assignee, who then picks a disposition on the desk (routing closes
// it after the wrap-up timeout otherwise); already wrapping up or ended →
// unchanged. So a caller hanging up while the accepting RM's phone still
// rings leaves the RM the wrap-up, and a call cut after the bridge is not
// counted as abandoned. A change made meanwhile by someone else is read
// again (three attempts). The end is also recorded on the timeline as a
// channel event "call_ended" with the reason.
func (v *voice) applyCallEnd(ctx context.Context, id conversation.ConversationID, reason sip.EndReason) error {
	ctx, cancel := opCtx(ctx)
	defer cancel()
	ev := conversation.NewEvent(id, conversation.EventChannel, "system", time.Now())
	ev.Channel, ev.Detail = conversation.ChannelVoice, map[string]string{"event": "call_ended", "reason": string(reason)}
	if err := v.store.AppendEvent(ctx, ev); err != nil {
		v.log.Warn("call end not on the timeline", "conversation_id", id, "error", err)
	}
	var err error
	for range 3 {
		var c conversation.Conversation
		if c, err = v.store.Conversation(ctx, id); err != nil {
			return fmt.Errorf("voice: call ended: %w", err)
		}
		err = v.endCall(ctx, c, reason)
		if !errors.Is(err, conversation.ErrIllegalTransition) && !errors.Is(err, router.ErrNotAssignee) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("voice: call ended (%s): %w", reason, err)
	}
	return nil
}

// endCall applies the end of the call of c (see CallEnded).
func (v *voice) endCall(ctx context.Context, c conversation.Conversation, reason sip.EndReason) error {
	var err error
	switch c.Status {
	case conversation.StatusNew, conversation.StatusQueued, conversation.StatusOffered:
		if reason == sip.EndCallback {
			_, err = v.router.Callback(ctx, c.ID)
		} else {
			_, err = v.router.Abandon(ctx, c.ID)
		}
	case conversation.StatusActive:
		_, err = v.router.WrapUp(ctx, c.ID, c.AssigneeID)
	default:
		v.log.Debug("call ended on a conversation already past it", "conversation_id", c.ID, "status", c.Status, "reason", string(reason))
		return nil
	}
	if err == nil {
		v.log.Info("call ended", "conversation_id", c.ID, "reason", string(reason), "from_status", c.Status, "rm_id", c.AssigneeID)
	}
	return err
}

// CallDTMF implements sip.CallSink. Digits are not stored: a caller may
// key in a PIN or an account number; the menu choices arrive by CallMenu.
func (v *voice) CallDTMF(context.Context, conversation.ConversationID, byte) error { return nil }

// CallMenu implements sip.CallSink: MenuLanguage records the caller's
// language on the conversation (routing's language filter uses it) and
// asks routing to evaluate again; MenuCallback makes the waiting call a
// callback task (router.Callback: closed with disposition
// callback_requested), after which the adapter says goodbye. Errors: the
// store's and the router's (a call already answered cannot become a
// callback: the adapter keeps the caller in queue).
func (v *voice) CallMenu(ctx context.Context, id conversation.ConversationID, choice sip.MenuChoice) error {
	switch choice.Kind {
	case sip.MenuLanguage:
		if _, err := v.store.UpdateConversation(ctx, id, func(c *conversation.Conversation) error {
			c.Language = choice.Language
			return nil
		}); err != nil {
			return fmt.Errorf("voice: language: %w", err)
		}
		v.router.Kick(ctx)
	case sip.MenuCallback:
		if _, err := v.router.Callback(ctx, id); err != nil {
			return fmt.Errorf("voice: callback: %w", err)
		}
		v.log.Info("caller asked for a callback", "conversation_id", id)
	}
	return nil
}

// QueueStatus implements sip.CallSink: a queued call's position is its
// 1-based place in router.WaitingQueue, the shared queue of every
// waiting conversation in arrival order (routing serves by priority, so
// it is an approximation of the serving order); an offered call is next
// (1); any other is not waiting (0: no announcement). ExpectedWait is
// always 0: the adapter announces a wait only when the position is
// unknown (see prompts.Announcement), which never happens for a waiting
// call here, so no estimate is made.
func (v *voice) QueueStatus(ctx context.Context, id conversation.ConversationID) (sip.QueueStatus, error) {
	c, err := v.store.Conversation(ctx, id)
	if err != nil {
		return sip.QueueStatus{}, fmt.Errorf("voice: queue status: %w", err)
	}
	switch c.Status {
	case conversation.StatusOffered:
		return sip.QueueStatus{Position: 1}, nil
	case conversation.StatusQueued:
	default:
		return sip.QueueStatus{}, nil
	}
	entries, err := v.store.Queue(ctx, router.WaitingQueue, 0)
	if err != nil {
		return sip.QueueStatus{}, fmt.Errorf("voice: queue status: %w", err)
	}
	for i, e := range entries {
		if e.ConversationID == id {
			return sip.QueueStatus{Position: i + 1}, nil
		}
	}
	return sip.QueueStatus{}, nil
}
