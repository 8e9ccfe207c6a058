package router

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/routing"
)

// Run evaluates until ctx ends: at start, whenever this or another instance
// kicks (a conversation queued, an RM available, capacity freed), and at
// the store's next deadline (an offer expiring, a policy step changing, a
// wrap-up timing out). Errors of one evaluation are logged and retried at
// the next event; Run returns nil when ctx ends, or an error if it cannot
// subscribe to notifications.
func (r *Router) Run(ctx context.Context) error {
	notes, err := r.store.Subscribe(ctx, Topic)
	if err != nil {
		return err
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-r.kick:
		case _, ok := <-notes:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				if notes, err = r.store.Subscribe(ctx, Topic); err != nil {
					return err
				}
			}
		case <-timer.C:
		}
		if err := r.Evaluate(ctx); err != nil && ctx.Err() == nil {
			r.log.Warn("routing evaluation failed; retrying at the next event", "error", err)
		}
		wait := r.safety
		if next, ok, err := r.store.NextDeadline(ctx); err == nil && ok {
			if d := next.Sub(r.now()); d < wait {
				wait = max(d, time.Millisecond)
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// Evaluate runs one routing pass at now: expired offers go back to the
// queue, wrap-ups past their timeout close, and every waiting conversation
// is decided in serving order against one snapshot; each offer is
// committed atomically (a lost race leaves the conversation for the next
// pass). It returns the first store error that stopped the pass.
func (r *Router) Evaluate(ctx context.Context) error {
	r.evalMu.Lock()
	defer r.evalMu.Unlock()
	now := r.now()
	if err := r.expireOffers(ctx, now); err != nil {
		return err
	}
	if err := r.handleWakes(ctx, now); err != nil {
		return err
	}
	return r.assign(ctx, now)
}

func (r *Router) expireOffers(ctx context.Context, now time.Time) error {
	offers, err := r.store.ExpiredOffers(ctx, now, 500)
	if err != nil {
		return err
	}
	for _, o := range offers {
		if _, err := r.requeueOffer(ctx, o, conversation.EventOfferExpired, "no answer within the offer timeout", state.MissedIncrement); err != nil && !errors.Is(err, state.ErrNotFound) {
			r.log.Warn("offer expiry failed", "offer_id", o.ID, "conversation_id", o.ConversationID, "error", err)
		}
	}
	return nil
}

// handleWakes closes wrap-ups whose timeout passed (Close clears their
// wake) and clears the other due wakes: a waiting conversation whose step
// changed needs nothing more than the assignment pass that follows, which
// arms its next wake.
func (r *Router) handleWakes(ctx context.Context, now time.Time) error {
	ids, err := r.store.DueWakes(ctx, now, 500)
	if err != nil {
		return err
	}
	var clear []state.Wake
	for _, id := range ids {
		if rm, ok := strings.CutPrefix(string(id), presenceWakePrefix); ok {
			r.endWrapUp(ctx, conversation.RMID(rm), now)
			clear = append(clear, state.Wake{ConversationID: id})
			continue
		}
		c, err := r.store.Conversation(ctx, id)
		if err == nil && c.Status == conversation.StatusWrapUp {
			if _, err := r.Close(ctx, id, "", "wrap_up_timeout"); err != nil {
				r.log.Warn("wrap-up timeout close failed", "conversation_id", id, "error", err)
			}
			continue
		}
		clear = append(clear, state.Wake{ConversationID: id})
		delete(r.lastWait, id)
	}
	if len(clear) == 0 {
		return nil
	}
	return r.store.Commit(ctx, state.Txn{Now: now, Wakes: clear})
}

// assign decides every waiting conversation against one snapshot and
// commits the offers and fallbacks.
func (r *Router) assign(ctx context.Context, now time.Time) error {
	entries, err := r.store.Queue(ctx, WaitingQueue, 0)
	if err != nil || len(entries) == 0 {
		return err
	}
	ids := make([]conversation.ConversationID, len(entries))
	for i, e := range entries {
		ids[i] = e.ConversationID
	}
	found, err := r.store.Conversations(ctx, ids)
	if err != nil {
		return err
	}
	views := make([]routing.ConversationView, 0, len(found))
	convs := make(map[conversation.ConversationID]conversation.Conversation, len(found))
	customers := make(map[conversation.CustomerID]conversation.Customer)
	for _, c := range found {
		if c.Status != conversation.StatusQueued {
			continue
		}
		cust, ok := customers[c.CustomerID]
		if !ok {
			if cust, err = r.customers.Customer(ctx, c.CustomerID); err != nil {
				cust = conversation.Customer{ID: c.CustomerID, Segment: c.Segment, Verification: conversation.VerificationNone, Prospect: true}
			}
			customers[c.CustomerID] = cust
		}
		convs[c.ID] = c
		views = append(views, routing.ViewOf(c, cust))
	}
	// Entries of conversations that are gone or ended (which can never be
	// queued again) are stale: drop them. Others not waiting now may be
	// queued again by a concurrent decline or transfer, so they stay.
	ended := make(map[conversation.ConversationID]bool, len(found))
	for _, c := range found {
		ended[c.ID] = c.Status.Terminal()
	}
	for _, id := range ids {
		if isEnded, exists := ended[id]; !exists || isEnded {
			_, _ = r.store.Dequeue(ctx, WaitingQueue, id)
		}
	}
	snap, err := r.snapshot(ctx, now)
	if err != nil {
		return err
	}
	for id := range r.lastWait {
		if _, waiting := convs[id]; !waiting {
			delete(r.lastWait, id)
		}
	}
	var batch passBatch
	for _, d := range routing.Assign(r.policies, snap, views, now) {
		c := convs[d.ConversationID]
		var p pendingCommit
		var ok bool
		switch d.Outcome {
		case routing.OutcomeOffer:
			team := c.TeamID
			if st, found := snap.RM(d.Choice.RMID); found {
				team = st.RM.TeamID
			}
			p, ok = r.offerCommit(ctx, c, team, d, now)
		case routing.OutcomeFallback:
			p, ok = r.fallbackCommit(c, d, now)
		default:
			p, ok = r.waitCommit(c, d, now)
		}
		if ok && batch.add(p) {
			batch.flush(ctx, r.store)
		}
	}
	batch.flush(ctx, r.store)
	return nil
}

// passBatchSize is how many Txns of a routing pass go to the store in one
// CommitBatch (one EVALSHA on Redis). With full decision records (tens of
// KB each for a large team) 32 keeps a batch near a megabyte, and Redis
// busy for a few milliseconds at most.
const passBatchSize = 32

// pendingCommit is one Txn of a routing pass and what to do with its
// outcome (nil when applied).
type pendingCommit struct {
	txn  state.Txn
	done func(error)
}

// passBatch collects a pass's Txns in decision order. The decisions were
// made on one snapshot, each assuming the ones before it applied, so the
// Txns go to the store in that order; each is still checked on its own
// (guards, version), and a refused one is decided again next pass.
type passBatch struct{ items []pendingCommit }

// add appends p and reports whether the batch is full.
func (b *passBatch) add(p pendingCommit) bool {
	b.items = append(b.items, p)
	return len(b.items) >= passBatchSize
}

// flush commits the batch and reports each outcome.
func (b *passBatch) flush(ctx context.Context, store state.Store) {
	if len(b.items) == 0 {
		return
	}
	txns := make([]state.Txn, len(b.items))
	for i, p := range b.items {
		txns[i] = p.txn
	}
	errs, err := store.CommitBatch(ctx, txns)
	for i, p := range b.items {
		if err != nil {
			p.done(err)
		} else {
			p.done(errs[i])
		}
	}
	b.items = b.items[:0]
}

// snapshot builds the routing snapshot: the directory's teams and RMs with
// their presence, holdings and counters from the store.
func (r *Router) snapshot(ctx context.Context, now time.Time) (*routing.Snapshot, error) {
	teams, err := r.dir.Teams(ctx)
	if err != nil {
		return nil, err
	}
	rms, err := r.dir.RMs(ctx)
	if err != nil {
		return nil, err
	}
	presences, err := r.store.Presences(ctx, now)
	if err != nil {
		return nil, err
	}
	counters, err := r.store.RMStates(ctx)
	if err != nil {
		return nil, err
	}
	cursors, err := r.store.Cursors(ctx)
	if err != nil {
		return nil, err
	}
	byRM := make(map[conversation.RMID]conversation.Presence, len(presences))
	for _, p := range presences {
		byRM[p.RMID] = p
	}
	counterOf := make(map[conversation.RMID]state.RMState, len(counters))
	for _, c := range counters {
		counterOf[c.RMID] = c
	}
	states := make([]routing.RMState, 0, len(rms))
	for _, rm := range rms {
		p, ok := byRM[rm.ID]
		if !ok {
			p = conversation.Presence{RMID: rm.ID, State: conversation.PresenceOffline}
		}
		c := counterOf[rm.ID]
		states = append(states, routing.RMState{
			RM: rm, Presence: p, Load: c.Load, IdleSince: c.IdleSince, LastOfferAt: c.LastOfferAt, MissedInRow: c.MissedInRow,
		})
	}
	return routing.NewSnapshot(r.policies, teams, states, cursors)
}

// offerCommit returns the Txn of an offer decision: the conversation
// becomes offered (in the chosen RM's team, so the team sees it), the RM's
// capacity is held, the offer lease stored, the queue entry removed, the
// decision recorded; guarded by the RM still available with capacity and
// no other live offer. ok is false when there is nothing to commit.
func (r *Router) offerCommit(ctx context.Context, c conversation.Conversation, team conversation.TeamID, d routing.Decision, now time.Time) (pendingCommit, bool) {
	ch := d.Choice
	next := c
	next.TeamID = team
	if err := next.Transition(conversation.StatusOffered, now); err != nil {
		r.log.Warn("offer on a conversation that is not queued", "conversation_id", c.ID, "error", err)
		return pendingCommit{}, false
	}
	o := conversation.Offer{
		ID: conversation.NewOfferID(now), ConversationID: c.ID, RMID: ch.RMID, Cost: ch.Cost,
		Attempt: len(c.Declined) + 1, CreatedAt: conversation.Millis(now), ExpiresAt: conversation.Millis(ch.ExpiresAt), Instance: r.instance,
	}
	ev := event(&next, conversation.EventOffer, "routing", now)
	ev.RMID, ev.OfferID, ev.Reason = ch.RMID, o.ID, d.Sentence
	txn := state.Txn{
		Now:          now,
		Conversation: &next,
		Guards: []state.Guard{
			{Kind: state.GuardRMAvailable, RMID: ch.RMID},
			{Kind: state.GuardCapacity, RMID: ch.RMID, ConversationID: c.ID, Cost: ch.Cost, Capacity: ch.Capacity},
			{Kind: state.GuardNoLiveOffer, ConversationID: c.ID},
		},
		Holds:    []state.Hold{{RMID: ch.RMID, ConversationID: c.ID, Cost: ch.Cost}},
		PutOffer: &o,
		Dequeue:  []state.QueueOp{{Queue: WaitingQueue, ConversationID: c.ID}},
		RMs:      []state.RMUpdate{{RMID: ch.RMID, LastOfferAt: now}},
		Events:   []conversation.Event{ev, statusEvent(&next, conversation.StatusQueued, "routing", now)},
		Decision: &state.DecisionRecord{ConversationID: c.ID, At: now, Decision: &d},
		Wakes:    []state.Wake{{ConversationID: c.ID}},
	}
	if ch.CursorKey != "" {
		txn.Cursors = map[string]conversation.RMID{ch.CursorKey: ch.RMID}
	}
	return pendingCommit{txn: txn, done: func(err error) {
		if err != nil {
			if errors.Is(err, state.ErrConflict) {
				r.log.Debug("offer lost a race; deciding again next pass", "conversation_id", c.ID, "rm_id", ch.RMID, "error", err)
				r.kickLocal()
				return
			}
			r.log.Warn("offer commit failed", "conversation_id", c.ID, "rm_id", ch.RMID, "error", err)
			return
		}
		delete(r.lastWait, c.ID)
		r.log.Info("offered", "conversation_id", c.ID, "rm_id", ch.RMID, "offer_id", o.ID, "policy_id", d.PolicyID, "step", ch.Step)
		offered := next
		offered.Version++
		r.observer.Offered(ctx, o, offered)
	}}, true
}

// fallbackCommit returns the Txn that ends the wait with the policy's
// fallback action: the conversation closes with the action as disposition
// ("callback", "voicemail", "auto_reply") for the channel adapter to carry
// out.
func (r *Router) fallbackCommit(c conversation.Conversation, d routing.Decision, now time.Time) (pendingCommit, bool) {
	next := c
	if err := next.Transition(conversation.StatusClosed, now); err != nil {
		return pendingCommit{}, false
	}
	next.Disposition = string(d.Action)
	ev := event(&next, conversation.EventRoutingDecision, "routing", now)
	ev.Reason = d.Sentence
	txn := state.Txn{
		Now:          now,
		Conversation: &next,
		Dequeue:      []state.QueueOp{{Queue: WaitingQueue, ConversationID: c.ID}},
		Events:       []conversation.Event{ev, statusEvent(&next, conversation.StatusQueued, "routing", now)},
		Decision:     &state.DecisionRecord{ConversationID: c.ID, At: now, Decision: &d},
		Wakes:        []state.Wake{{ConversationID: c.ID}},
	}
	return pendingCommit{txn: txn, done: func(err error) {
		if err != nil && !errors.Is(err, state.ErrConflict) {
			r.log.Warn("fallback commit failed", "conversation_id", c.ID, "error", err)
			return
		}
		delete(r.lastWait, c.ID)
	}}, true
}

// waitCommit returns the Txn that stores the decision record of a waiting
// conversation and arms its wake-up at the next step change, when either
// changed since the last pass (ok is false otherwise).
func (r *Router) waitCommit(c conversation.Conversation, d routing.Decision, now time.Time) (pendingCommit, bool) {
	key := d.Sentence + "|" + d.NextChange.String()
	if r.lastWait[c.ID] == key {
		return pendingCommit{}, false
	}
	txn := state.Txn{Now: now, Decision: &state.DecisionRecord{ConversationID: c.ID, At: now, Decision: &d}}
	if !d.NextChange.IsZero() {
		txn.Wakes = []state.Wake{{ConversationID: c.ID, At: d.NextChange}}
	}
	return pendingCommit{txn: txn, done: func(err error) {
		if err != nil {
			r.log.Warn("decision record failed", "conversation_id", c.ID, "error", err)
			return
		}
		r.lastWait[c.ID] = key
	}}, true
}
