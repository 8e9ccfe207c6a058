package state

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

var _ Instances = (*Memory)(nil)

// instanceState is the memory store's instance leases (Unix µs) and
// holdings. The zero value is ready to use.
type instanceState struct {
	mu       sync.Mutex
	leases   map[string]int64
	holdings map[string]map[conversation.ConversationID]struct{}
}

// RenewInstance sets id's lease to end at expiresAt.
func (m *Memory) RenewInstance(_ context.Context, id string, expiresAt time.Time) error {
	if err := validateInstanceLease(id, expiresAt); err != nil {
		return fmt.Errorf("memory renew instance: %w", err)
	}
	s := &m.instances
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.leases == nil {
		s.leases = make(map[string]int64)
	}
	s.leases[id] = micros(expiresAt)
	return nil
}

// LostInstances returns up to limit instances (all when limit <= 0) whose
// lease ended at or before now, earliest first, ties by id.
func (m *Memory) LostInstances(_ context.Context, now time.Time, limit int) ([]string, error) {
	s := &m.instances
	s.mu.Lock()
	var lost []deadline
	for id, at := range s.leases {
		if at <= micros(now) {
			lost = append(lost, deadline{at: at, key: id})
		}
	}
	s.mu.Unlock()
	slices.SortFunc(lost, func(a, b deadline) int { return cmp.Or(cmp.Compare(a.at, b.at), strings.Compare(a.key, b.key)) })
	if limit > 0 && len(lost) > limit {
		lost = lost[:limit]
	}
	out := make([]string, len(lost))
	for i, d := range lost {
		out[i] = d.key
	}
	return out, nil
}

// AddHolding records that instance holds the media of id.
func (m *Memory) AddHolding(_ context.Context, instance string, id conversation.ConversationID) error {
	if err := validateHolding(instance, id); err != nil {
		return fmt.Errorf("memory add holding: %w", err)
	}
	s := &m.instances
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.holdings == nil {
		s.holdings = make(map[string]map[conversation.ConversationID]struct{})
	}
	addToSet(s.holdings, instance, id)
	return nil
}

// RemoveHolding removes a holding, reporting whether it was there.
func (m *Memory) RemoveHolding(_ context.Context, instance string, id conversation.ConversationID) (bool, error) {
	s := &m.instances
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.holdings[instance][id]; !ok {
		return false, nil
	}
	removeFromSet(s.holdings, instance, id)
	return true, nil
}

// Holdings returns the conversations instance holds, by id.
func (m *Memory) Holdings(_ context.Context, instance string) ([]conversation.ConversationID, error) {
	s := &m.instances
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Sorted(maps.Keys(s.holdings[instance]))
	if out == nil {
		out = []conversation.ConversationID{}
	}
	return out, nil
}

// ForgetInstance removes instance's lease when it has ended at now and
// the instance holds nothing.
func (m *Memory) ForgetInstance(_ context.Context, instance string, now time.Time) (bool, error) {
	s := &m.instances
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.leases[instance]
	if !ok || at > micros(now) || len(s.holdings[instance]) > 0 {
		return false, nil
	}
	delete(s.leases, instance)
	return true, nil
}
