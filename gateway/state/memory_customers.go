package state

import (
	"context"
	"fmt"

	"github.com/airbranch/airbranch/channels/conversation"
)

// CreateProspect stores a copy of c and links each of its addresses to it,
// unless a customer is already linked to c.Addresses[0]: then it returns
// that customer and false. Errors: ErrExists if c.ID is taken by a
// customer on other addresses, a conversation.ErrInvalid error if c does
// not validate or has no address.
func (m *Memory) CreateProspect(_ context.Context, c conversation.Customer) (conversation.Customer, bool, error) {
	if err := validateCustomer(c); err != nil {
		return conversation.Customer{}, false, fmt.Errorf("memory create prospect: %w", err)
	}
	m.custMu.Lock()
	defer m.custMu.Unlock()
	if owner, ok := m.byAddress[c.Addresses[0].Key()]; ok {
		return cloneCustomer(m.customers[owner]), false, nil
	}
	if _, ok := m.customers[c.ID]; ok {
		return conversation.Customer{}, false, fmt.Errorf("memory create prospect %s: %w", c.ID, ErrExists)
	}
	m.customers[c.ID] = cloneCustomer(c)
	for _, a := range c.Addresses {
		if _, ok := m.byAddress[a.Key()]; !ok {
			m.byAddress[a.Key()] = c.ID
		}
	}
	return cloneCustomer(c), true, nil
}

// Customer returns a copy of the customer with id, or ErrNotFound.
func (m *Memory) Customer(_ context.Context, id conversation.CustomerID) (conversation.Customer, error) {
	m.custMu.RLock()
	defer m.custMu.RUnlock()
	c, ok := m.customers[id]
	if !ok {
		return conversation.Customer{}, fmt.Errorf("memory customer %s: %w", id, ErrNotFound)
	}
	return cloneCustomer(c), nil
}

// CustomerByAddress returns a copy of the customer linked to addr, or
// ErrNotFound.
func (m *Memory) CustomerByAddress(_ context.Context, addr conversation.Address) (conversation.Customer, error) {
	m.custMu.RLock()
	defer m.custMu.RUnlock()
	id, ok := m.byAddress[addr.Key()]
	if !ok {
		return conversation.Customer{}, fmt.Errorf("memory customer by address %s: %w", addr, ErrNotFound)
	}
	return cloneCustomer(m.customers[id]), nil
}
