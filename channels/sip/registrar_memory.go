package sip

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// MemoryRegistrar is a Registrar for one instance. The zero value is not
// ready: use NewMemoryRegistrar.
type MemoryRegistrar struct {
	mu   sync.Mutex
	byRM map[conversation.RMID]map[string]Binding
}

var _ Registrar = (*MemoryRegistrar)(nil)

// NewMemoryRegistrar returns an empty in-memory registrar.
func NewMemoryRegistrar() *MemoryRegistrar {
	return &MemoryRegistrar{byRM: map[conversation.RMID]map[string]Binding{}}
}

// Put implements Registrar.
func (m *MemoryRegistrar) Put(_ context.Context, b Binding) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.byRM[b.RM] == nil {
		m.byRM[b.RM] = map[string]Binding{}
	}
	m.byRM[b.RM][b.Contact] = b
	return nil
}

// Remove implements Registrar.
func (m *MemoryRegistrar) Remove(_ context.Context, rm conversation.RMID, contact string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byRM[rm], contact)
	return nil
}

// RemoveAll implements Registrar.
func (m *MemoryRegistrar) RemoveAll(_ context.Context, rm conversation.RMID) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byRM, rm)
	return nil
}

// Bindings implements Registrar; expired bindings are removed.
func (m *MemoryRegistrar) Bindings(_ context.Context, rm conversation.RMID, now time.Time) ([]Binding, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Binding
	for c, b := range m.byRM[rm] {
		if !b.Expires.After(now) {
			delete(m.byRM[rm], c)
			continue
		}
		out = append(out, b)
	}
	sortBindings(out)
	return out, nil
}

// sortBindings orders bindings most recently updated first, then by
// contact for a stable order.
func sortBindings(bs []Binding) {
	slices.SortFunc(bs, func(a, b Binding) int {
		if c := b.UpdatedAt.Compare(a.UpdatedAt); c != 0 {
			return c
		}
		if a.Contact < b.Contact {
			return -1
		}
		if a.Contact > b.Contact {
			return 1
		}
		return 0
	})
}
