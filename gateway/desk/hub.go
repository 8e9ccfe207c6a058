package desk

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/router"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/stats"
)

// Topic is the store broadcast topic of desk events; the payload is the
// RM id whose stream grew.
const Topic = "desk"

// CustomerSource finds a client for the customer card
// (identity.Resolver).
type CustomerSource interface {
	Customer(ctx context.Context, id conversation.CustomerID) (conversation.Customer, error)
}

// Hub publishes RMs' events to their streams in the store and wakes their
// sessions on every instance. It implements router.Observer, so the
// routing runtime's offers and changes reach the desks. Run must be
// running for sessions on this instance to hear of events published by
// others.
type Hub struct {
	store     state.Store
	customers CustomerSource
	log       *slog.Logger
	now       func() time.Time

	mu       sync.Mutex
	sessions map[conversation.RMID]map[*session]struct{}
	queues   QueueSource
	renewer  PresenceRenewer
}

// PresenceRenewer extends the presence lease of an RM whose desk is
// connected (router.Router).
type PresenceRenewer interface {
	RenewPresence(ctx context.Context, rm conversation.RMID, ttl time.Duration) (bool, error)
}

// PresenceRenewEvery is how often Run renews the presence leases of the
// RMs with a desk open on this instance (to DeskPresenceTTL from then): a
// quarter of the lease, so three renewals in a row can fail before an RM
// with an open desk drops offline.
const PresenceRenewEvery = DeskPresenceTTL / 4

// SetPresenceRenewal makes Run renew, every PresenceRenewEvery, the
// presence lease of every RM with a desk open on this instance.
func (h *Hub) SetPresenceRenewal(r PresenceRenewer) { h.renewer = r }

// QueueSource gives every team's queue now (stats.Source.Queues).
type QueueSource func(ctx context.Context, now time.Time) (map[conversation.TeamID]stats.Queue, error)

// SetQueues makes the hub push each desk its team's queue (a "queue"
// frame, without seq) with every ping, every PingInterval.
func (h *Hub) SetQueues(q QueueSource) { h.queues = q }

var _ router.Observer = (*Hub)(nil)

// NewHub returns a Hub over store. log and now may be nil.
func NewHub(store state.Store, customers CustomerSource, log *slog.Logger, now func() time.Time) *Hub {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Hub{store: store, customers: customers, log: log, now: now, sessions: make(map[conversation.RMID]map[*session]struct{})}
}

// Run listens for other instances' (and this one's) publications and
// wakes the sessions of the RM named; "" (events may have been missed)
// wakes every session. It returns when ctx ends, or the store's error
// when it cannot listen.
func (h *Hub) Run(ctx context.Context) error {
	ch, err := h.store.Listen(ctx, Topic)
	if err != nil {
		return err
	}
	ping := time.NewTicker(PingInterval)
	defer ping.Stop()
	renew := time.NewTicker(PresenceRenewEvery)
	defer renew.Stop()
	for {
		select {
		case rm, ok := <-ch:
			if !ok {
				return nil
			}
			h.wake(conversation.RMID(rm))
		case <-ping.C:
			h.pingAll(ctx)
		case <-renew.C:
			h.RenewPresences(ctx)
		}
	}
}

// RenewPresences renews the presence lease of every RM with a desk open on
// this instance, to DeskPresenceTTL from now (see
// router.Router.RenewPresence: an RM who is offline or whose lease ran out
// is left alone), and returns how many leases it renewed. Failures are
// logged; the next round tries again. Run calls it every
// PresenceRenewEvery; nothing happens without SetPresenceRenewal.
func (h *Hub) RenewPresences(ctx context.Context) int {
	if h.renewer == nil {
		return 0
	}
	h.mu.Lock()
	rms := make([]conversation.RMID, 0, len(h.sessions))
	for rm, set := range h.sessions {
		if len(set) > 0 {
			rms = append(rms, rm)
		}
	}
	h.mu.Unlock()
	n := 0
	for _, rm := range rms {
		ok, err := h.renewer.RenewPresence(ctx, rm, DeskPresenceTTL)
		if err != nil {
			h.log.Warn("presence lease not renewed", "rm_id", rm, "error", err)
			continue
		}
		if ok {
			n++
		}
	}
	return n
}

// pingAll pings every local session, a few at a time, so one slow desk
// does not delay the others' pings, and sends each its team's queue.
func (h *Hub) pingAll(ctx context.Context) {
	var queues map[conversation.TeamID]stats.Queue
	if h.queues != nil {
		var err error
		if queues, err = h.queues(ctx, h.now()); err != nil {
			h.log.Warn("team queues for the desks not read", "error", err)
		}
	}
	h.mu.Lock()
	all := make([]*session, 0, len(h.sessions))
	for _, set := range h.sessions {
		for s := range set {
			all = append(all, s)
		}
	}
	h.mu.Unlock()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for _, s := range all {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s.ping()
			if q, ok := queues[conversation.TeamID(s.p.Team)]; ok {
				s.sendQueue(q)
			}
		})
	}
	wg.Wait()
}

// wake nudges the sessions of rm (all sessions for "").
func (h *Hub) wake(rm conversation.RMID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if rm == "" {
		for _, set := range h.sessions {
			for s := range set {
				s.nudge()
			}
		}
		return
	}
	for s := range h.sessions[rm] {
		s.nudge()
	}
}

func (h *Hub) add(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.sessions[s.rm] == nil {
		h.sessions[s.rm] = make(map[*session]struct{})
	}
	h.sessions[s.rm][s] = struct{}{}
}

func (h *Hub) remove(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.sessions[s.rm], s)
	if len(h.sessions[s.rm]) == 0 {
		delete(h.sessions, s.rm)
	}
}

// Sessions returns how many desk sessions are connected to this instance.
func (h *Hub) Sessions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, set := range h.sessions {
		n += len(set)
	}
	return n
}

// Publish appends an event of type typ with data (JSON-encoded) to rm's
// stream and wakes rm's sessions everywhere. Errors are the store's; the
// event is then not in the stream (desks see the state on reconnect).
func (h *Hub) Publish(ctx context.Context, rm conversation.RMID, typ string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if _, err := h.store.AppendStreamEvent(ctx, StreamOf(rm), typ, raw, h.now()); err != nil {
		return err
	}
	// Local sessions are woken at once; others through the broadcast
	// (which wakes these again: a spare nudge costs one empty read).
	h.wake(rm)
	return h.store.Broadcast(ctx, Topic, string(rm))
}

func (h *Hub) publish(ctx context.Context, rm conversation.RMID, typ string, data any) {
	if err := h.Publish(context.WithoutCancel(ctx), rm, typ, data); err != nil {
		h.log.Warn("desk event not published", "rm_id", rm, "type", typ, "error", err)
	}
}

// Offered implements router.Observer: the offered RM gets an offer event
// with the conversation and the customer card.
func (h *Hub) Offered(ctx context.Context, o conversation.Offer, c conversation.Conversation) {
	h.publish(ctx, o.RMID, EventOffer, h.offerData(ctx, o, c))
}

// Changed implements router.Observer: every RM concerned gets a
// conversation event.
func (h *Hub) Changed(ctx context.Context, c conversation.Conversation, evs []conversation.Event, rms []conversation.RMID) {
	for _, rm := range rms {
		h.publish(ctx, rm, EventConversation, ConversationData{Conversation: c, Events: evs})
	}
}

// PresenceChanged implements router.Observer.
func (h *Hub) PresenceChanged(ctx context.Context, p conversation.Presence) {
	h.publish(ctx, p.RMID, EventPresence, p)
}

// MessageStored tells the RMs taking part in c (its assignee and
// specialists still in it) of message m: an inbound message from the
// client, or one sent by another participant. The sender is not told.
func (h *Hub) MessageStored(ctx context.Context, c conversation.Conversation, m conversation.Message) {
	for _, rm := range participants(c) {
		if string(rm) != m.Sender {
			h.publish(ctx, rm, EventMessage, MessageData{Message: m})
		}
	}
}

// MessageStatus tells a sent message's sender that it moved on.
func (h *Hub) MessageStatus(ctx context.Context, m conversation.Message) {
	if m.Direction == conversation.Outbound && m.Sender != "" {
		h.publish(ctx, conversation.RMID(m.Sender), EventMessageStatus, MessageData{Message: m})
	}
}

// StreamOf names an RM's desk stream in the store: "rm:<id>".
func StreamOf(rm conversation.RMID) string { return "rm:" + string(rm) }

// participants lists c's assignee and the RMs and specialists still in it.
func participants(c conversation.Conversation) []conversation.RMID {
	var out []conversation.RMID
	seen := map[conversation.RMID]bool{}
	add := func(id conversation.RMID) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	add(c.AssigneeID)
	for _, p := range c.Participants {
		if (p.Role == conversation.RoleRM || p.Role == conversation.RoleSpecialist) && p.LeftAt.IsZero() {
			add(conversation.RMID(p.ID))
		}
	}
	return out
}
