package identity_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/channels/identity"
	"github.com/airbranch/airbranch/gateway/state"
)

// errUnavailable stands for a store or directory that cannot be reached.
var errUnavailable = fmt.Errorf("test backend: %w", state.ErrUnavailable)

// prospectStore is the gateway's memory store (atomic insert-if-absent, as
// every state.Store) with a count of CreateProspect calls. A non-nil func
// field replaces the matching method, to inject failures.
type prospectStore struct {
	*state.Memory
	mu      sync.Mutex
	creates int

	createProspect    func(context.Context, conversation.Customer) (conversation.Customer, bool, error)
	customer          func(context.Context, conversation.CustomerID) (conversation.Customer, error)
	customerByAddress func(context.Context, conversation.Address) (conversation.Customer, error)
}

var _ identity.ProspectStore = (*prospectStore)(nil)

func newProspectStore() *prospectStore { return &prospectStore{Memory: state.NewMemory()} }

func (s *prospectStore) CreateProspect(ctx context.Context, c conversation.Customer) (conversation.Customer, bool, error) {
	s.mu.Lock()
	s.creates++
	s.mu.Unlock()
	if s.createProspect != nil {
		return s.createProspect(ctx, c)
	}
	return s.Memory.CreateProspect(ctx, c)
}

func (s *prospectStore) Customer(ctx context.Context, id conversation.CustomerID) (conversation.Customer, error) {
	if s.customer != nil {
		return s.customer(ctx, id)
	}
	return s.Memory.Customer(ctx, id)
}

func (s *prospectStore) CustomerByAddress(ctx context.Context, a conversation.Address) (conversation.Customer, error) {
	if s.customerByAddress != nil {
		return s.customerByAddress(ctx, a)
	}
	return s.Memory.CustomerByAddress(ctx, a)
}

func (s *prospectStore) createCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creates
}

// failingDirectory is a directory.Directory whose customer lookups fail with
// err; the other methods come from the embedded Static.
type failingDirectory struct {
	*directory.Static
	err error
}

func (d failingDirectory) Customer(context.Context, conversation.CustomerID) (conversation.Customer, error) {
	return conversation.Customer{}, d.err
}

func (d failingDirectory) CustomerByAddress(context.Context, conversation.Address) (conversation.Customer, error) {
	return conversation.Customer{}, d.err
}
