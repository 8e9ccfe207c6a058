package state

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Commit applies txn atomically (see Router.Commit). It takes, in this
// order, the conversation's update lock, the routing state, offer,
// presence and queue locks, the conversation's shard and the timeline
// shards of the events, and holds them from the first check to the last
// write, so no reader sees part of a Txn and no other Commit, CreateOffer,
// SetPresence, Enqueue or UpdateConversation runs in between. Commits take
// turns. Times are kept to the microsecond, as on Redis.
func (m *Memory) Commit(_ context.Context, txn Txn) error {
	if err := validateTxn(&txn); err != nil {
		return fmt.Errorf("memory commit: %w", err)
	}
	now := truncMicros(txn.Now)
	var record memRecord // written before any lock is taken
	if d := txn.Decision; d != nil {
		record = memRecordOf(d)
	}

	var entry *convEntry
	var convShard *convShard
	if c := txn.Conversation; c != nil {
		convShard = &m.convs[m.shard(string(c.ID))]
		convShard.mu.RLock()
		entry = convShard.byID[c.ID]
		convShard.mu.RUnlock()
		if entry == nil {
			return fmt.Errorf("memory commit: conversation %s: %w", c.ID, ErrNotFound)
		}
		entry.upd.Lock()
		defer entry.upd.Unlock()
	}
	m.route.mu.Lock()
	defer m.route.mu.Unlock()
	m.offerMu.Lock()
	defer m.offerMu.Unlock()
	m.presMu.Lock()
	defer m.presMu.Unlock()
	m.queueMu.Lock()
	defer m.queueMu.Unlock()
	if convShard != nil {
		convShard.mu.Lock()
		defer convShard.mu.Unlock()
	}
	var shards []int
	for _, e := range txn.Events {
		shards = append(shards, m.shard(string(e.ConversationID)))
	}
	slices.Sort(shards)
	for _, i := range slices.Compact(shards) {
		m.timelines[i].mu.Lock()
		defer m.timelines[i].mu.Unlock()
	}

	// Checks: nothing has been written yet.
	if c := txn.Conversation; c != nil && entry.c.Version != c.Version {
		return fmt.Errorf("memory commit: conversation %s is at version %d, not %d: %w", c.ID, entry.c.Version, c.Version, ErrConflict)
	}
	for _, g := range txn.Guards {
		if f, ok := m.checkGuardLocked(g, now); !ok {
			return fmt.Errorf("memory commit: %w", f.guardError(g))
		}
	}

	// Effects, in the order of the Txn fields.
	if c := txn.Conversation; c != nil {
		next := cloneConversation(*c)
		next.Version = c.Version + 1
		entry.c = next
	}
	for _, h := range txn.Holds {
		m.route.counters(h.RMID).holds[h.ConversationID] = h.Cost
	}
	for _, h := range txn.Releases {
		c := m.route.rms[h.RMID]
		if c == nil {
			continue
		}
		if _, ok := c.holds[h.ConversationID]; ok {
			delete(c.holds, h.ConversationID)
			if c.load("") == 0 {
				c.idleSince = now
			}
		}
	}
	if o := txn.PutOffer; o != nil {
		m.putOfferLocked(*o)
	}
	for _, o := range txn.PutOffers {
		m.putOfferLocked(o)
	}
	for _, id := range txn.DeleteOffers {
		m.deleteOfferLocked(id)
	}
	for _, q := range txn.Enqueue {
		m.enqueueLocked(q.Queue, q.ConversationID, q.Score)
	}
	for _, q := range txn.Dequeue {
		m.dequeueLocked(q.Queue, q.ConversationID)
	}
	for _, u := range txn.RMs {
		c := m.route.counters(u.RMID)
		if !u.LastOfferAt.IsZero() {
			c.lastOfferAt = truncMicros(u.LastOfferAt)
		}
		if !u.IdleSince.IsZero() {
			c.idleSince = truncMicros(u.IdleSince)
		}
		switch u.Missed {
		case MissedReset:
			c.missed = 0
		case MissedIncrement:
			c.missed++
		}
	}
	for _, p := range txn.Presences {
		m.presences[p.RMID] = p
	}
	for _, e := range txn.Events {
		ts := &m.timelines[m.shard(string(e.ConversationID))]
		tl := ts.byConv[e.ConversationID]
		if tl == nil {
			tl = &timeline{}
			ts.byConv[e.ConversationID] = tl
		}
		tl.events = append(tl.events, cloneEvent(e))
	}
	if d := txn.Decision; d != nil {
		m.route.addDecision(d.ConversationID, record, m.wallNow())
	}
	for _, w := range txn.Wakes {
		m.route.setWake(w.ConversationID, w.At)
	}
	for k, rm := range txn.Cursors {
		if rm == "" {
			delete(m.route.cursors, k)
		} else {
			m.route.cursors[k] = rm
		}
	}
	return nil
}

// checkGuardLocked reports whether g holds at now, and why not. The
// caller holds the routing, offer and presence locks.
func (m *Memory) checkGuardLocked(g Guard, now time.Time) (guardFailure, bool) {
	switch g.Kind {
	case GuardRMAvailable:
		p, ok := m.presences[g.RMID]
		switch {
		case !ok:
			return guardFailure{code: failNoPresence}, false
		case p.State != conversation.PresenceAvailable:
			return guardFailure{code: failState, state: p.State}, false
		case !p.ExpiresAt.IsZero() && micros(p.ExpiresAt) <= micros(now):
			return guardFailure{code: failLeaseExpired, at: truncMicros(p.ExpiresAt)}, false
		}
	case GuardPresence:
		p, ok := m.presences[g.RMID]
		if !ok {
			p = conversation.Presence{State: conversation.PresenceOffline}
		}
		if p.State != g.State || micros(p.ExpiresAt) != micros(g.ExpiresAt) {
			return guardFailure{code: failPresence, state: p.State}, false
		}
	case GuardCapacity:
		load := 0
		if c := m.route.rms[g.RMID]; c != nil {
			load = c.load(g.ConversationID)
		}
		if load+g.Cost > g.Capacity {
			return guardFailure{code: failLoad, load: load}, false
		}
	case GuardOfferLive:
		o, ok := m.offers[g.OfferID]
		switch {
		case !ok:
			return guardFailure{code: failNoOffer}, false
		case g.RMID != "" && o.RMID != g.RMID:
			return guardFailure{code: failOfferOwner, rm: o.RMID}, false
		case micros(o.ExpiresAt) <= micros(now):
			return guardFailure{code: failOfferExpired, at: truncMicros(o.ExpiresAt)}, false
		}
	case GuardNoLiveOffer:
		if o, ok := m.firstLiveOfferLocked(g.ConversationID, now); ok {
			return guardFailure{code: failLiveOffer, offer: o.ID, rm: o.RMID, at: truncMicros(o.ExpiresAt)}, false
		}
	}
	return guardFailure{}, true
}

// counters returns the RM's counters, creating them; the caller holds mu.
func (r *routeState) counters(id conversation.RMID) *rmCounters {
	c := r.rms[id]
	if c == nil {
		c = &rmCounters{holds: make(map[conversation.ConversationID]int)}
		r.rms[id] = c
	}
	return c
}

// addDecision appends record, which it keeps, to the conversation's
// records, dropping the oldest beyond MaxDecisionsKept; the caller holds
// mu.
func (r *routeState) addDecision(id conversation.ConversationID, record memRecord, wall time.Time) {
	log := r.decisions[id]
	if log == nil || wall.Sub(log.written) >= DecisionTTL {
		log = &decisionLog{}
		r.decisions[id] = log
	}
	log.records = append(log.records, record)
	if n := len(log.records) - MaxDecisionsKept; n > 0 {
		log.records = slices.Delete(log.records, 0, n)
	}
	log.written = wall
}

// setWake sets (or, for a zero at, clears) a conversation's wake time;
// the caller holds mu.
func (r *routeState) setWake(id conversation.ConversationID, at time.Time) {
	if at.IsZero() {
		delete(r.wakes, id)
		return
	}
	us := micros(at)
	r.wakes[id] = us
	r.wakeHeap.push(deadline{at: us, key: string(id)}, len(r.wakes), func() []deadline {
		out := make([]deadline, 0, len(r.wakes))
		for k, v := range r.wakes {
			out = append(out, deadline{at: v, key: string(k)})
		}
		return out
	})
}

// CommitBatch applies txns in order, each with Commit (see
// Router.CommitBatch); the memory store is never unavailable.
func (m *Memory) CommitBatch(ctx context.Context, txns []Txn) ([]error, error) {
	errs := make([]error, len(txns))
	for i, txn := range txns {
		errs[i] = m.Commit(ctx, txn)
	}
	return errs, nil
}
