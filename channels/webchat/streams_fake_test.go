package webchat

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// memStreams is Streams in memory with the store's semantics
// (gateway/state's memory store): seq from 1 per stream, the latest keep
// events kept (a read from before them reports Gap), Broadcast to every
// Listen of the topic. Several adapters sharing one memStreams behave as
// instances sharing one store.
type memStreams struct {
	keep int

	mu        sync.Mutex
	streams   map[string]*memStream
	listeners map[string]map[chan string]struct{}
	appendErr error
}

type memStream struct {
	last   int64
	events []StreamEvent
}

var _ Streams = (*memStreams)(nil)

func newMemStreams(keep int) *memStreams {
	return &memStreams{keep: keep, streams: map[string]*memStream{}, listeners: map[string]map[chan string]struct{}{}}
}

func (m *memStreams) AppendStreamEvent(_ context.Context, stream, typ string, data []byte, at time.Time) (StreamEvent, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.appendErr != nil {
		return StreamEvent{}, m.appendErr
	}
	if stream == "" || typ == "" || len(data) > 0 && !json.Valid(data) {
		return StreamEvent{}, fmt.Errorf("append: %w", conversation.ErrInvalid)
	}
	s := m.streams[stream]
	if s == nil {
		s = &memStream{}
		m.streams[stream] = s
	}
	s.last++
	e := StreamEvent{Seq: s.last, Type: typ, At: conversation.Millis(at), Data: slices.Clone(data)}
	s.events = append(s.events, e)
	if n := len(s.events) - m.keep; n > 0 {
		s.events = slices.Delete(s.events, 0, n)
	}
	return e, nil
}

func (m *memStreams) StreamEvents(_ context.Context, stream string, after int64, limit int) (StreamPage, error) {
	if limit < 1 || limit > 1000 {
		return StreamPage{}, fmt.Errorf("limit %d: %w", limit, conversation.ErrInvalid)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	page := StreamPage{Items: []StreamEvent{}}
	s := m.streams[stream]
	if s == nil {
		return page, nil
	}
	page.Last = s.last
	if len(s.events) > 0 && s.events[0].Seq > after+1 {
		page.Gap = true
	}
	for _, e := range s.events {
		if e.Seq > after && len(page.Items) < limit {
			page.Items = append(page.Items, e)
		}
	}
	return page, nil
}

func (m *memStreams) Broadcast(_ context.Context, topic, payload string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for ch := range m.listeners[topic] {
		select {
		case ch <- payload:
		default:
			select {
			case ch <- "":
			default:
			}
		}
	}
	return nil
}

func (m *memStreams) Listen(ctx context.Context, topic string) (<-chan string, error) {
	ch := make(chan string, 1024)
	m.mu.Lock()
	if m.listeners[topic] == nil {
		m.listeners[topic] = map[chan string]struct{}{}
	}
	m.listeners[topic][ch] = struct{}{}
	m.mu.Unlock()
	context.AfterFunc(ctx, func() {
		m.mu.Lock()
		delete(m.listeners[topic], ch)
		close(ch)
		m.mu.Unlock()
	})
	return ch, nil
}
