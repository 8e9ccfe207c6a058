package state

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// threadState holds the memory store's thread keys and one-time claims.
type threadState struct {
	mu    sync.Mutex
	byKey map[string]conversation.ConversationID
	once  map[string]time.Time // key → expiry
}

// Thread returns the conversation key points at, or ErrNotFound.
func (m *Memory) Thread(_ context.Context, key string) (conversation.ConversationID, error) {
	m.threads.mu.Lock()
	defer m.threads.mu.Unlock()
	id, ok := m.threads.byKey[key]
	if !ok {
		return "", fmt.Errorf("memory thread %q: %w", key, ErrNotFound)
	}
	return id, nil
}

// ClaimThread points key at next if it points at prev (see Store).
func (m *Memory) ClaimThread(_ context.Context, key string, prev, next conversation.ConversationID) (conversation.ConversationID, error) {
	if key == "" || next == "" {
		return "", fmt.Errorf("memory claim thread: %w: empty key or conversation", conversation.ErrInvalid)
	}
	m.threads.mu.Lock()
	defer m.threads.mu.Unlock()
	if cur := m.threads.byKey[key]; cur != prev {
		return cur, nil
	}
	m.threads.byKey[key] = next
	return next, nil
}

// ClaimOnce reports whether key was not claimed within the last ttl.
func (m *Memory) ClaimOnce(_ context.Context, key string, ttl time.Duration) (bool, error) {
	if key == "" || ttl <= 0 {
		return false, fmt.Errorf("memory claim once: %w: needs a key and a ttl > 0", conversation.ErrInvalid)
	}
	now := m.wallNow()
	m.threads.mu.Lock()
	defer m.threads.mu.Unlock()
	if exp, ok := m.threads.once[key]; ok && now.Before(exp) {
		return false, nil
	}
	if len(m.threads.once) > 4096 { // sweep expired claims now and then
		for k, exp := range m.threads.once {
			if !now.Before(exp) {
				delete(m.threads.once, k)
			}
		}
	}
	m.threads.once[key] = now.Add(ttl)
	return true, nil
}

// ForgetOnce removes a claim of ClaimOnce.
func (m *Memory) ForgetOnce(_ context.Context, key string) error {
	m.threads.mu.Lock()
	defer m.threads.mu.Unlock()
	delete(m.threads.once, key)
	return nil
}

// BindProviderIDs indexes message id under each provider id (see Store).
func (m *Memory) BindProviderIDs(ctx context.Context, id conversation.MessageID, providerIDs []string) error {
	msg, err := m.Message(ctx, id)
	if err != nil {
		return err
	}
	for _, pid := range providerIDs {
		if pid == "" {
			return fmt.Errorf("memory bind provider ids of %s: %w: empty provider id", id, conversation.ErrInvalid)
		}
	}
	for _, pid := range providerIDs {
		key := conversation.Message{Channel: msg.Channel, ChannelAccount: msg.ChannelAccount, ProviderID: pid}.IdempotencyKey()
		is := &m.idem[m.shard(key)]
		is.mu.Lock()
		if _, taken := is.byKey[key]; !taken {
			is.byKey[key] = id
		}
		is.mu.Unlock()
	}
	return nil
}
