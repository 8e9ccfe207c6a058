// Package directory answers who the customers, RMs and teams are. The
// Directory interface is what a bank's CRM plugs into; Static serves a
// directory loaded from YAML (the demo, tests, small deployments).
package directory

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/airbranch/airbranch/channels/conversation"
)

// ErrNotFound is returned when no customer, RM or team has the asked id or
// address. It wraps conversation.ErrNotFound.
var ErrNotFound = fmt.Errorf("directory: %w", conversation.ErrNotFound)

// Directory is the read side of the bank's client and staff records.
// Implementations must be safe for concurrent use. Lookups that find
// nothing return an error wrapping ErrNotFound.
type Directory interface {
	// Customer returns the customer with id.
	Customer(ctx context.Context, id conversation.CustomerID) (conversation.Customer, error)
	// CustomerByAddress returns the customer reachable at addr; phone
	// addresses must already be E.164.
	CustomerByAddress(ctx context.Context, addr conversation.Address) (conversation.Customer, error)
	// RM returns the RM with id.
	RM(ctx context.Context, id conversation.RMID) (conversation.RM, error)
	// Team returns the team with id.
	Team(ctx context.Context, id conversation.TeamID) (conversation.Team, error)
	// RMs returns every RM, ordered by id.
	RMs(ctx context.Context) ([]conversation.RM, error)
	// Teams returns every team, ordered by id.
	Teams(ctx context.Context) ([]conversation.Team, error)
}

// Static is an immutable in-memory Directory. It keeps its own deep copies
// of what NewStatic is given and hands out deep copies (see clone.go), so
// callers may change what they get without touching the directory or each
// other.
type Static struct {
	customers map[conversation.CustomerID]conversation.Customer
	byAddress map[string]conversation.CustomerID
	rms       map[conversation.RMID]conversation.RM
	teams     map[conversation.TeamID]conversation.Team
	rmList    []conversation.RM
	teamList  []conversation.Team
}

var _ Directory = (*Static)(nil)

// NewStatic indexes teams, RMs and customers. It returns every problem
// joined: duplicate ids, an address claimed by two customers, an RM in an
// unknown team, an unknown own RM, deputy or deputy RM. Errors wrap
// conversation.ErrInvalid.
func NewStatic(teams []conversation.Team, rms []conversation.RM, customers []conversation.Customer) (*Static, error) {
	s := &Static{
		customers: make(map[conversation.CustomerID]conversation.Customer, len(customers)),
		byAddress: make(map[string]conversation.CustomerID),
		rms:       make(map[conversation.RMID]conversation.RM, len(rms)),
		teams:     make(map[conversation.TeamID]conversation.Team, len(teams)),
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{conversation.ErrInvalid}, args...)...))
	}
	for _, t := range teams {
		if _, dup := s.teams[t.ID]; dup {
			bad("team %s defined twice", t.ID)
		}
		s.teams[t.ID] = cloneTeam(t)
	}
	for _, r := range rms {
		if _, dup := s.rms[r.ID]; dup {
			bad("rm %s defined twice", r.ID)
		}
		if _, ok := s.teams[r.TeamID]; !ok {
			bad("rm %s: unknown team %q", r.ID, r.TeamID)
		}
		s.rms[r.ID] = cloneRM(r)
	}
	for _, r := range rms {
		if r.Deputy != "" {
			if _, ok := s.rms[r.Deputy]; !ok {
				bad("rm %s: unknown deputy %q", r.ID, r.Deputy)
			}
		}
	}
	for _, c := range customers {
		if _, dup := s.customers[c.ID]; dup {
			bad("customer %s defined twice", c.ID)
		}
		for _, id := range []conversation.RMID{c.OwnRM, c.DeputyRM} {
			if id == "" {
				continue
			}
			if _, ok := s.rms[id]; !ok {
				bad("customer %s: unknown rm %q", c.ID, id)
			}
		}
		for _, a := range c.Addresses {
			if other, taken := s.byAddress[a.Key()]; taken && other != c.ID {
				bad("customer %s: address %s already belongs to customer %s", c.ID, a, other)
			}
			s.byAddress[a.Key()] = c.ID
		}
		s.customers[c.ID] = cloneCustomer(c)
	}
	s.rmList = sortedValues(s.rms, func(r conversation.RM) string { return string(r.ID) })
	s.teamList = sortedValues(s.teams, func(t conversation.Team) string { return string(t.ID) })
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

func sortedValues[K comparable, V any](m map[K]V, key func(V) string) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b V) int {
		ka, kb := key(a), key(b)
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	return out
}

// Customer implements Directory. The customer is a deep copy.
func (s *Static) Customer(_ context.Context, id conversation.CustomerID) (conversation.Customer, error) {
	c, ok := s.customers[id]
	if !ok {
		return conversation.Customer{}, fmt.Errorf("customer %s: %w", id, ErrNotFound)
	}
	return cloneCustomer(c), nil
}

// CustomerByAddress implements Directory. The customer is a deep copy.
func (s *Static) CustomerByAddress(ctx context.Context, addr conversation.Address) (conversation.Customer, error) {
	id, ok := s.byAddress[addr.Key()]
	if !ok {
		return conversation.Customer{}, fmt.Errorf("customer at %s: %w", addr, ErrNotFound)
	}
	return s.Customer(ctx, id)
}

// RM implements Directory. The RM is a deep copy.
func (s *Static) RM(_ context.Context, id conversation.RMID) (conversation.RM, error) {
	r, ok := s.rms[id]
	if !ok {
		return conversation.RM{}, fmt.Errorf("rm %s: %w", id, ErrNotFound)
	}
	return cloneRM(r), nil
}

// Team implements Directory. The team is a deep copy.
func (s *Static) Team(_ context.Context, id conversation.TeamID) (conversation.Team, error) {
	t, ok := s.teams[id]
	if !ok {
		return conversation.Team{}, fmt.Errorf("team %s: %w", id, ErrNotFound)
	}
	return cloneTeam(t), nil
}

// RMs implements Directory. The slice and every RM in it are deep copies.
func (s *Static) RMs(context.Context) ([]conversation.RM, error) {
	out := make([]conversation.RM, len(s.rmList))
	for i, r := range s.rmList {
		out[i] = cloneRM(r)
	}
	return out, nil
}

// Teams implements Directory. The slice and every team in it are deep
// copies.
func (s *Static) Teams(context.Context) ([]conversation.Team, error) {
	out := make([]conversation.Team, len(s.teamList))
	for i, t := range s.teamList {
		out[i] = cloneTeam(t)
	}
	return out, nil
}
