package state

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// SetPresence stores p, replacing the RM's previous presence. Errors: a
// conversation.ErrInvalid error if p does not validate.
func (m *Memory) SetPresence(_ context.Context, p conversation.Presence) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("memory set presence: %w", err)
	}
	m.presMu.Lock()
	m.presences[p.RMID] = p
	m.presMu.Unlock()
	return nil
}

// Presence returns the RM's presence as it stands at now: offline when
// never set or when the lease has expired (conversation.Presence.At).
func (m *Memory) Presence(_ context.Context, id conversation.RMID, now time.Time) (conversation.Presence, error) {
	m.presMu.RLock()
	p, ok := m.presences[id]
	m.presMu.RUnlock()
	if !ok {
		return conversation.Presence{RMID: id, State: conversation.PresenceOffline}, nil
	}
	return p.At(now), nil
}

// Presences returns every stored presence as it stands at now, sorted by
// RM id.
func (m *Memory) Presences(_ context.Context, now time.Time) ([]conversation.Presence, error) {
	m.presMu.RLock()
	out := make([]conversation.Presence, 0, len(m.presences))
	for _, p := range m.presences {
		out = append(out, p.At(now))
	}
	m.presMu.RUnlock()
	slices.SortFunc(out, func(a, b conversation.Presence) int { return strings.Compare(string(a.RMID), string(b.RMID)) })
	return out, nil
}

// Enqueue puts id on queue q with score, or gives it the new score if it
// is already there. Errors: a conversation.ErrInvalid error for an empty
// queue name or id, or a score that is not a finite number.
func (m *Memory) Enqueue(_ context.Context, q string, id conversation.ConversationID, score float64) error {
	if err := validateQueueEntry(q, id, score); err != nil {
		return fmt.Errorf("memory enqueue: %w", err)
	}
	m.queueMu.Lock()
	defer m.queueMu.Unlock()
	m.enqueueLocked(q, id, score)
	return nil
}

// enqueueLocked puts id on q with score; the caller holds queueMu.
func (m *Memory) enqueueLocked(q string, id conversation.ConversationID, score float64) {
	entries := m.queues[q]
	if entries == nil {
		entries = make(map[conversation.ConversationID]float64)
		m.queues[q] = entries
	}
	entries[id] = score
}

// Dequeue removes id from q, reporting whether it was there.
func (m *Memory) Dequeue(_ context.Context, q string, id conversation.ConversationID) (bool, error) {
	if err := validateQueueName(q); err != nil {
		return false, fmt.Errorf("memory dequeue: %w", err)
	}
	m.queueMu.Lock()
	defer m.queueMu.Unlock()
	return m.dequeueLocked(q, id), nil
}

// dequeueLocked removes id from q, reporting whether it was there; the
// caller holds queueMu.
func (m *Memory) dequeueLocked(q string, id conversation.ConversationID) bool {
	entries := m.queues[q]
	if _, ok := entries[id]; !ok {
		return false
	}
	delete(entries, id)
	if len(entries) == 0 {
		delete(m.queues, q)
	}
	return true
}

// Queue returns up to limit entries of q (all when limit <= 0), lowest
// score first, ties by conversation id.
func (m *Memory) Queue(_ context.Context, q string, limit int) ([]QueueEntry, error) {
	if err := validateQueueName(q); err != nil {
		return nil, fmt.Errorf("memory queue: %w", err)
	}
	m.queueMu.RLock()
	out := make([]QueueEntry, 0, len(m.queues[q]))
	for id, score := range m.queues[q] {
		out = append(out, QueueEntry{ConversationID: id, Score: score})
	}
	m.queueMu.RUnlock()
	slices.SortFunc(out, func(a, b QueueEntry) int {
		return cmp.Or(cmp.Compare(a.Score, b.Score), strings.Compare(string(a.ConversationID), string(b.ConversationID)))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// CreateOffer stores o unless its conversation has an offer whose lease
// has not expired at o.CreatedAt. Errors: ErrConflict for such a live
// offer, ErrExists for a taken offer id, a conversation.ErrInvalid error
// if o does not validate.
func (m *Memory) CreateOffer(_ context.Context, o conversation.Offer) error {
	if err := validateOffer(o); err != nil {
		return fmt.Errorf("memory create offer: %w", err)
	}
	m.offerMu.Lock()
	defer m.offerMu.Unlock()
	if _, ok := m.offers[o.ID]; ok {
		return fmt.Errorf("memory create offer %s: %w", o.ID, ErrExists)
	}
	if live, ok := m.firstLiveOfferLocked(o.ConversationID, o.CreatedAt); ok {
		return fmt.Errorf("memory create offer for %s: offer %s to %s is live until %s: %w",
			o.ConversationID, live.ID, live.RMID, formatTime(live.ExpiresAt), ErrConflict)
	}
	m.putOfferLocked(o)
	return nil
}

// Offer returns the offer with id, expired or not, or ErrNotFound.
func (m *Memory) Offer(_ context.Context, id conversation.OfferID) (conversation.Offer, error) {
	m.offerMu.Lock()
	defer m.offerMu.Unlock()
	o, ok := m.offers[id]
	if !ok {
		return conversation.Offer{}, fmt.Errorf("memory offer %s: %w", id, ErrNotFound)
	}
	return o, nil
}

// DeleteOffer removes the offer, reporting whether it was there.
func (m *Memory) DeleteOffer(_ context.Context, id conversation.OfferID) (bool, error) {
	m.offerMu.Lock()
	defer m.offerMu.Unlock()
	return m.deleteOfferLocked(id), nil
}

// putOfferLocked stores o, replacing an offer with its id, and indexes it
// by conversation, RM and expiry. The caller holds offerMu.
func (m *Memory) putOfferLocked(o conversation.Offer) {
	m.deleteOfferLocked(o.ID)
	m.offers[o.ID] = o
	addToSet(m.convOffers, o.ConversationID, o.ID)
	addToSet(m.rmOffers, o.RMID, o.ID)
	m.offerExpiry.push(deadline{at: micros(o.ExpiresAt), key: string(o.ID)}, len(m.offers), m.offerDeadlines)
}

// deleteOfferLocked removes an offer and its index entries, reporting
// whether it was there. The caller holds offerMu.
func (m *Memory) deleteOfferLocked(id conversation.OfferID) bool {
	o, ok := m.offers[id]
	if !ok {
		return false
	}
	delete(m.offers, id)
	removeFromSet(m.convOffers, o.ConversationID, id)
	removeFromSet(m.rmOffers, o.RMID, id)
	return true // the expiry heap drops the entry lazily
}

// firstLiveOfferLocked returns the conversation's offer that is live at
// now (expiry after now, to the µs) with the earliest expiry, ties by id,
// as the Redis store finds it. The caller holds offerMu.
func (m *Memory) firstLiveOfferLocked(id conversation.ConversationID, now time.Time) (conversation.Offer, bool) {
	var first conversation.Offer
	found := false
	for oid := range m.convOffers[id] {
		o := m.offers[oid]
		if micros(o.ExpiresAt) <= micros(now) {
			continue
		}
		if !found || cmp.Or(cmp.Compare(micros(o.ExpiresAt), micros(first.ExpiresAt)), strings.Compare(string(o.ID), string(first.ID))) < 0 {
			first, found = o, true
		}
	}
	return first, found
}

// offerDeadlines lists the live entries of the expiry heap, for its
// compaction. The caller holds offerMu.
func (m *Memory) offerDeadlines() []deadline {
	out := make([]deadline, 0, len(m.offers))
	for id, o := range m.offers {
		out = append(out, deadline{at: micros(o.ExpiresAt), key: string(id)})
	}
	return out
}

func addToSet[K comparable, V comparable](sets map[K]map[V]struct{}, k K, v V) {
	set := sets[k]
	if set == nil {
		set = make(map[V]struct{})
		sets[k] = set
	}
	set[v] = struct{}{}
}

func removeFromSet[K comparable, V comparable](sets map[K]map[V]struct{}, k K, v V) {
	set := sets[k]
	delete(set, v)
	if len(set) == 0 {
		delete(sets, k)
	}
}

// ExpiredOffers returns up to limit offers (all when limit <= 0) whose
// lease ended at or before now, earliest expiry first, ties by offer id.
func (m *Memory) ExpiredOffers(_ context.Context, now time.Time, limit int) ([]conversation.Offer, error) {
	m.offerMu.Lock()
	out := []conversation.Offer{}
	for _, o := range m.offers {
		if o.Expired(now) {
			out = append(out, o)
		}
	}
	m.offerMu.Unlock()
	slices.SortFunc(out, func(a, b conversation.Offer) int {
		return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), strings.Compare(string(a.ID), string(b.ID)))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
