package state

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// streamState is the memory store's named streams and listeners.
type streamState struct {
	mu        sync.Mutex
	streams   map[string]*memStream
	listeners map[string]map[chan string]*listener
}

type memStream struct {
	last   int64
	events []StreamEvent // the kept window, oldest first
}

// listener is one Listen: overflowed is set when a payload was dropped,
// so "" is delivered once there is room.
type listener struct{ overflowed bool }

// listenBuffer is how many payloads a listener may have pending.
const listenBuffer = 4096

func (d *streamState) init() {
	d.streams = make(map[string]*memStream)
	d.listeners = make(map[string]map[chan string]*listener)
}

// AppendStreamEvent appends to the stream (see Store).
func (m *Memory) AppendStreamEvent(_ context.Context, stream, typ string, data []byte, at time.Time) (StreamEvent, error) {
	if !validStreamEvent(stream, typ, data) {
		return StreamEvent{}, fmt.Errorf("memory append stream event: %w: needs a stream, a type and JSON data", conversation.ErrInvalid)
	}
	m.streams.mu.Lock()
	defer m.streams.mu.Unlock()
	s := m.streams.streams[stream]
	if s == nil {
		s = &memStream{}
		m.streams.streams[stream] = s
	}
	s.last++
	e := StreamEvent{Seq: s.last, Type: typ, At: conversation.Millis(at), Data: slices.Clone(data)}
	s.events = append(s.events, e)
	if n := len(s.events) - MaxStreamEventsKept; n > 0 {
		s.events = slices.Delete(s.events, 0, n)
	}
	return e, nil
}

// StreamEvents reads a stream after a seq (see Store).
func (m *Memory) StreamEvents(_ context.Context, stream string, after int64, limit int) (StreamPage, error) {
	if limit < 1 || limit > MaxStreamEventsKept {
		return StreamPage{}, fmt.Errorf("memory desk events: %w: limit %d (allowed 1 to %d)", conversation.ErrInvalid, limit, MaxStreamEventsKept)
	}
	m.streams.mu.Lock()
	defer m.streams.mu.Unlock()
	page := StreamPage{Items: []StreamEvent{}}
	s := m.streams.streams[stream]
	if s == nil {
		return page, nil
	}
	page.Last = s.last
	if len(s.events) > 0 && s.events[0].Seq > after+1 {
		page.Gap = true
	}
	for _, e := range s.events {
		if e.Seq > after {
			e.Data = slices.Clone(e.Data)
			page.Items = append(page.Items, e)
			if len(page.Items) == limit {
				break
			}
		}
	}
	return page, nil
}

// Broadcast delivers payload to this process's listeners of topic.
func (m *Memory) Broadcast(_ context.Context, topic, payload string) error {
	if topic == "" {
		return fmt.Errorf("memory broadcast: %w: empty topic", conversation.ErrInvalid)
	}
	m.streams.mu.Lock()
	defer m.streams.mu.Unlock()
	for ch, l := range m.streams.listeners[topic] {
		deliver(ch, l, payload)
	}
	return nil
}

// deliver sends payload, or marks the listener overflowed (then "" is
// sent as soon as there is room for it).
func deliver(ch chan string, l *listener, payload string) {
	if l.overflowed {
		select {
		case ch <- "":
			l.overflowed = false
		default:
		}
		return
	}
	select {
	case ch <- payload:
	default:
		l.overflowed = true
	}
}

// Listen registers a listener of topic until ctx ends.
func (m *Memory) Listen(ctx context.Context, topic string) (<-chan string, error) {
	if topic == "" {
		return nil, fmt.Errorf("memory listen: %w: empty topic", conversation.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("memory listen %s: %w", topic, err)
	}
	ch := make(chan string, listenBuffer)
	m.streams.mu.Lock()
	if m.streams.listeners[topic] == nil {
		m.streams.listeners[topic] = make(map[chan string]*listener)
	}
	m.streams.listeners[topic][ch] = &listener{}
	m.streams.mu.Unlock()
	context.AfterFunc(ctx, func() {
		m.streams.mu.Lock()
		delete(m.streams.listeners[topic], ch)
		close(ch)
		m.streams.mu.Unlock()
	})
	return ch, nil
}
