package sms

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Suppressions is the suppression list of the SMS channel: the numbers
// that sent an opt-out keyword to one of the bank's channel accounts and
// may receive nothing more from it until they send START. Numbers are
// E.164 ("+85291234567"); account is the channel account (the bank's
// number or the configured account name).
//
// Implementations return an error wrapping conversation.ErrInvalid for an
// empty account or a number that is not E.164, and one wrapping
// ErrStoreUnavailable (so conversation.ErrUnavailable) when the store
// cannot answer. Suppress and Unsuppress are idempotent.
type Suppressions interface {
	Suppress(ctx context.Context, account, number string) error
	Unsuppress(ctx context.Context, account, number string) error
	Suppressed(ctx context.Context, account, number string) (bool, error)
}

// checkKey validates a suppression key.
func checkKey(account, number string) error {
	if strings.TrimSpace(account) == "" {
		return fmt.Errorf("suppressions: %w: empty channel account", conversation.ErrInvalid)
	}
	if !conversation.IsE164(number) {
		return fmt.Errorf("suppressions: number %s: %w: not E.164", conversation.MaskPhone(number), conversation.ErrInvalid)
	}
	return nil
}

// Memory is the Suppressions of one gateway instance, held in memory. The
// zero value is not usable; call NewMemory.
type Memory struct {
	mu  sync.RWMutex
	set map[string]map[string]struct{} // account → numbers
}

var _ Suppressions = (*Memory)(nil)

// NewMemory returns an empty in-memory suppression list.
func NewMemory() *Memory {
	return &Memory{set: make(map[string]map[string]struct{})}
}

// Suppress implements Suppressions.
func (m *Memory) Suppress(ctx context.Context, account, number string) error {
	if err := checkKey(account, number); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	nums := m.set[account]
	if nums == nil {
		nums = make(map[string]struct{})
		m.set[account] = nums
	}
	nums[number] = struct{}{}
	return nil
}

// Unsuppress implements Suppressions.
func (m *Memory) Unsuppress(ctx context.Context, account, number string) error {
	if err := checkKey(account, number); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.set[account], number)
	return nil
}

// Suppressed implements Suppressions.
func (m *Memory) Suppressed(ctx context.Context, account, number string) (bool, error) {
	if err := checkKey(account, number); err != nil {
		return false, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	_, ok := m.set[account][number]
	return ok, nil
}
