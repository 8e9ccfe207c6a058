package state

import (
	"context"
	"fmt"
	"sync"

	"github.com/airbranch/airbranch/channels/conversation"
)

// subscribers are the memory store's subscriptions: per topic, each
// subscriber's channel (buffer 1).
type subscribers struct {
	mu      sync.Mutex
	byTopic map[string]map[chan struct{}]struct{}
}

// Notify wakes every subscriber of topic in this process: a non-blocking
// send on each subscriber's one-slot channel, so a pending notification
// stands for any number sent after it. Errors: an empty topic
// (conversation.ErrInvalid).
func (m *Memory) Notify(_ context.Context, topic string) error {
	if topic == "" {
		return fmt.Errorf("memory notify: %w: empty topic", conversation.ErrInvalid)
	}
	m.subs.mu.Lock()
	defer m.subs.mu.Unlock()
	for ch := range m.subs.byTopic[topic] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	return nil
}

// Subscribe returns a one-slot channel that receives the notifications of
// topic until ctx ends, when it is unregistered and closed. No goroutine
// waits meanwhile (context.AfterFunc). Errors: an empty topic
// (conversation.ErrInvalid), ctx's error if it has already ended.
func (m *Memory) Subscribe(ctx context.Context, topic string) (<-chan struct{}, error) {
	if topic == "" {
		return nil, fmt.Errorf("memory subscribe: %w: empty topic", conversation.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memory subscribe %s: %w", topic, err)
	}
	ch := make(chan struct{}, 1)
	m.subs.mu.Lock()
	if m.subs.byTopic[topic] == nil {
		m.subs.byTopic[topic] = make(map[chan struct{}]struct{})
	}
	m.subs.byTopic[topic][ch] = struct{}{}
	m.subs.mu.Unlock()
	context.AfterFunc(ctx, func() {
		m.subs.mu.Lock()
		removeFromSet(m.subs.byTopic, topic, ch)
		close(ch)
		m.subs.mu.Unlock()
	})
	return ch, nil
}
