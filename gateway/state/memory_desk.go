package state

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// deskState is the memory store's desk streams and listeners.
type deskState struct {
	mu        sync.Mutex
	streams   map[conversation.RMID]*deskStream
	listeners map[string]map[chan string]*listener
}

type deskStream struct {
	last   int64
	events []DeskEvent // the kept window, oldest first
}

// listener is one Listen: overflowed is set when a payload was dropped,
// so "" is delivered once there is room.
type listener struct{ overflowed bool }

// listenBuffer is how many payloads a listener may have pending.
const listenBuffer = 4096

func (d *deskState) init() {
	d.streams = make(map[conversation.RMID]*deskStream)
	d.listeners = make(map[string]map[chan string]*listener)
}

// AppendDeskEvent appends to rm's stream (see Store).
func (m *Memory) AppendDeskEvent(_ context.Context, rm conversation.RMID, typ string, data []byte, at time.Time) (DeskEvent, error) {
	if !validDeskEvent(rm, typ, data) {
		return DeskEvent{}, fmt.Errorf("memory append desk event: %w: needs an rm, a type and JSON data", conversation.ErrInvalid)
	}
	m.desk.mu.Lock()
	defer m.desk.mu.Unlock()
	s := m.desk.streams[rm]
	if s == nil {
		s = &deskStream{}
		m.desk.streams[rm] = s
	}
	s.last++
	e := DeskEvent{Seq: s.last, Type: typ, At: conversation.Millis(at), Data: slices.Clone(data)}
	s.events = append(s.events, e)
	if n := len(s.events) - MaxDeskEventsKept; n > 0 {
		s.events = slices.Delete(s.events, 0, n)
	}
	return e, nil
}

// DeskEvents reads rm's stream after a seq (see Store).
func (m *Memory) DeskEvents(_ context.Context, rm conversation.RMID, after int64, limit int) (DeskPage, error) {
	if limit < 1 || limit > MaxDeskEventsKept {
		return DeskPage{}, fmt.Errorf("memory desk events: %w: limit %d (allowed 1 to %d)", conversation.ErrInvalid, limit, MaxDeskEventsKept)
	}
	m.desk.mu.Lock()
	defer m.desk.mu.Unlock()
	page := DeskPage{Items: []DeskEvent{}}
	s := m.desk.streams[rm]
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
	m.desk.mu.Lock()
	defer m.desk.mu.Unlock()
	for ch, l := range m.desk.listeners[topic] {
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
	m.desk.mu.Lock()
	if m.desk.listeners[topic] == nil {
		m.desk.listeners[topic] = make(map[chan string]*listener)
	}
	m.desk.listeners[topic][ch] = &listener{}
	m.desk.mu.Unlock()
	context.AfterFunc(ctx, func() {
		m.desk.mu.Lock()
		delete(m.desk.listeners[topic], ch)
		close(ch)
		m.desk.mu.Unlock()
	})
	return ch, nil
}
