package state

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/routing"
)

var _ Router = (*Memory)(nil)

// routeState is the memory store's routing state. Commit holds mu for
// writing from its first check to its last write; the read methods hold
// it for reading (NextDeadline for writing: it drops stale heap entries).
type routeState struct {
	mu        sync.RWMutex
	rms       map[conversation.RMID]*rmCounters
	wakes     map[conversation.ConversationID]int64 // Unix µs
	wakeHeap  deadlineHeap
	cursors   map[string]conversation.RMID
	decisions map[conversation.ConversationID]*decisionLog
}

func newRouteState() routeState {
	return routeState{
		rms:       make(map[conversation.RMID]*rmCounters),
		wakes:     make(map[conversation.ConversationID]int64),
		cursors:   make(map[string]conversation.RMID),
		decisions: make(map[conversation.ConversationID]*decisionLog),
	}
}

// rmCounters are one RM's routing counters; times are kept to the µs.
type rmCounters struct {
	holds       map[conversation.ConversationID]int
	lastOfferAt time.Time
	idleSince   time.Time
	missed      int
}

// load is the sum of the holdings, leaving out except's (cost units).
func (c *rmCounters) load(except conversation.ConversationID) int {
	n := 0
	for id, cost := range c.holds {
		if id != except {
			n += cost
		}
	}
	return n
}

func (c *rmCounters) state(id conversation.RMID) RMState {
	s := RMState{RMID: id, LastOfferAt: c.lastOfferAt, IdleSince: c.idleSince, MissedInRow: c.missed}
	for _, conv := range slices.Sorted(maps.Keys(c.holds)) {
		s.Holds = append(s.Holds, Hold{RMID: id, ConversationID: conv, Cost: c.holds[conv]})
		s.Load += c.holds[conv]
	}
	return s
}

// decisionLog is a conversation's decision records, oldest first, and the
// wall-clock time of the last write.
type decisionLog struct {
	records []memRecord
	written time.Time
}

// memRecord is one stored decision record: a routing.Decision packed
// without a roster (routing.Decision.AppendPacked; a full record of 300
// candidates is a few KB instead of 33 KB of JSON, and packing takes a
// fraction of the time of encoding JSON), or JSON given as such
// (DecisionRecord.Record).
type memRecord struct {
	data   []byte
	packed bool
}

// memRecordOf returns d as the memory store keeps it, in buffers of its
// own.
func memRecordOf(d *DecisionRecord) memRecord {
	if d.Decision != nil {
		if b, err := d.Decision.AppendPacked(nil, nil); err == nil {
			return memRecord{data: b, packed: true}
		}
	}
	return memRecord{data: d.json()}
}

// json returns the record as Decisions returns it: packed records expand
// to routing.Decision.AppendJSON of the decision, byte for byte what it
// was.
func (r memRecord) json() (json.RawMessage, error) {
	if !r.packed {
		return slices.Clone(r.data), nil
	}
	d, err := routing.UnpackDecision(r.data, nil)
	if err != nil {
		return nil, err
	}
	return d.AppendJSON(nil), nil
}

// RMStates returns the counters of every RM that has any, by RM id, each
// RM's holdings by conversation id.
func (m *Memory) RMStates(context.Context) ([]RMState, error) {
	m.route.mu.RLock()
	defer m.route.mu.RUnlock()
	out := make([]RMState, 0, len(m.route.rms))
	for _, id := range slices.Sorted(maps.Keys(m.route.rms)) {
		out = append(out, m.route.rms[id].state(id))
	}
	return out, nil
}

// RMState returns one RM's counters (zero counters if it has none).
func (m *Memory) RMState(_ context.Context, id conversation.RMID) (RMState, error) {
	m.route.mu.RLock()
	defer m.route.mu.RUnlock()
	if c := m.route.rms[id]; c != nil {
		return c.state(id), nil
	}
	return RMState{RMID: id}, nil
}

// OfferFor returns the conversation's latest-created offer whose lease is
// live at now (ties by greater id), or ErrNotFound.
func (m *Memory) OfferFor(_ context.Context, id conversation.ConversationID, now time.Time) (conversation.Offer, error) {
	m.offerMu.Lock()
	live := m.liveOffersLocked(m.convOffers[id], now)
	m.offerMu.Unlock()
	if len(live) == 0 {
		return conversation.Offer{}, fmt.Errorf("memory offer for %s: %w", id, ErrNotFound)
	}
	return live[len(live)-1], nil
}

// OffersOf returns the RM's offers whose leases are live at now, oldest
// first (by creation, ties by id).
func (m *Memory) OffersOf(_ context.Context, id conversation.RMID, now time.Time) ([]conversation.Offer, error) {
	m.offerMu.Lock()
	defer m.offerMu.Unlock()
	return m.liveOffersLocked(m.rmOffers[id], now), nil
}

// liveOffersLocked returns the offers of ids live at now (to the µs), by
// creation time, ties by id. The caller holds offerMu.
func (m *Memory) liveOffersLocked(ids map[conversation.OfferID]struct{}, now time.Time) []conversation.Offer {
	out := []conversation.Offer{}
	for id := range ids {
		if o := m.offers[id]; micros(o.ExpiresAt) > micros(now) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b conversation.Offer) int {
		return cmp.Or(cmp.Compare(micros(a.CreatedAt), micros(b.CreatedAt)), strings.Compare(string(a.ID), string(b.ID)))
	})
	return out
}

// DueWakes returns up to limit conversations (all when limit <= 0) whose
// wake time is at or before now, earliest first, ties by id.
func (m *Memory) DueWakes(_ context.Context, now time.Time, limit int) ([]conversation.ConversationID, error) {
	m.route.mu.RLock()
	var due []deadline
	for id, at := range m.route.wakes {
		if at <= micros(now) {
			due = append(due, deadline{at: at, key: string(id)})
		}
	}
	m.route.mu.RUnlock()
	slices.SortFunc(due, func(a, b deadline) int { return cmp.Or(cmp.Compare(a.at, b.at), strings.Compare(a.key, b.key)) })
	if limit > 0 && len(due) > limit {
		due = due[:limit]
	}
	out := make([]conversation.ConversationID, len(due))
	for i, d := range due {
		out[i] = conversation.ConversationID(d.key)
	}
	return out, nil
}

// NextDeadline returns the earliest wake time or offer expiry, false when
// there is none; O(log n) amortised (see deadlineHeap).
func (m *Memory) NextDeadline(context.Context) (time.Time, bool, error) {
	m.route.mu.Lock()
	wake, okWake := m.route.wakeHeap.peek(func(d deadline) bool {
		at, ok := m.route.wakes[conversation.ConversationID(d.key)]
		return ok && at == d.at
	})
	m.route.mu.Unlock()
	m.offerMu.Lock()
	exp, okExp := m.offerExpiry.peek(func(d deadline) bool {
		o, ok := m.offers[conversation.OfferID(d.key)]
		return ok && micros(o.ExpiresAt) == d.at
	})
	m.offerMu.Unlock()
	switch {
	case okWake && (!okExp || wake.at <= exp.at):
		return fromMicros(wake.at), true, nil
	case okExp:
		return fromMicros(exp.at), true, nil
	}
	return time.Time{}, false, nil
}

// Decisions returns up to limit of the conversation's decision records
// (all kept when limit <= 0), newest first; none once DecisionTTL has
// passed on the wall clock since the last one was written.
func (m *Memory) Decisions(_ context.Context, id conversation.ConversationID, limit int) ([]json.RawMessage, error) {
	m.route.mu.RLock()
	defer m.route.mu.RUnlock()
	out := []json.RawMessage{}
	log := m.route.decisions[id]
	if log == nil || m.wallNow().Sub(log.written) >= DecisionTTL {
		return out, nil
	}
	for i := len(log.records) - 1; i >= 0 && (limit <= 0 || len(out) < limit); i-- {
		rec, err := log.records[i].json()
		if err != nil {
			return nil, fmt.Errorf("memory decisions of %s: %w", id, err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// Cursors returns a copy of the round-robin cursors.
func (m *Memory) Cursors(context.Context) (map[string]conversation.RMID, error) {
	m.route.mu.RLock()
	defer m.route.mu.RUnlock()
	return maps.Clone(m.route.cursors), nil
}
