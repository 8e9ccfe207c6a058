package webchat

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// hub publishes clients' events to their streams and wakes their sessions
// on every instance. Payloads on Topic are "w|<instance>|<customer>" (the
// customer's stream grew) and "t|<instance>|<conversation>|<customer>"
// (the RM is typing); an instance ignores its own, which it delivered
// directly, and "" (payloads were dropped) wakes every session.
type hub struct {
	streams  Streams
	log      *slog.Logger
	now      func() time.Time
	instance string

	mu       sync.Mutex
	sessions map[conversation.CustomerID]map[*session]struct{}
}

func newHub(s Streams, log *slog.Logger, now func() time.Time) *hub {
	return &hub{streams: s, log: log, now: now, instance: conversation.NewUUIDv7(now())[24:],
		sessions: map[conversation.CustomerID]map[*session]struct{}{}}
}

func (h *hub) add(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.sessions[s.c.customer.ID]
	if set == nil {
		set = map[*session]struct{}{}
		h.sessions[s.c.customer.ID] = set
	}
	set[s] = struct{}{}
}

func (h *hub) remove(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.sessions[s.c.customer.ID], s)
	if len(h.sessions[s.c.customer.ID]) == 0 {
		delete(h.sessions, s.c.customer.ID)
	}
}

func (h *hub) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, set := range h.sessions {
		n += len(set)
	}
	return n
}

// each calls fn for every local session of customer c (every session for
// "").
func (h *hub) each(c conversation.CustomerID, fn func(*session)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c == "" {
		for _, set := range h.sessions {
			for s := range set {
				fn(s)
			}
		}
		return
	}
	for s := range h.sessions[c] {
		fn(s)
	}
}

// publish appends an event of type typ with data (JSON-encoded) to c's
// stream, wakes c's local sessions and tells the other instances. Errors
// are the store's: the event is then not in the stream.
func (h *hub) publish(ctx context.Context, c conversation.CustomerID, typ string, data any) (StreamEvent, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return StreamEvent{}, fmt.Errorf("webchat: encode %s event: %w", typ, err)
	}
	e, err := h.streams.AppendStreamEvent(ctx, StreamOf(c), typ, raw, h.now())
	if err != nil {
		return StreamEvent{}, fmt.Errorf("webchat: append %s event: %w", typ, err)
	}
	h.each(c, (*session).nudge)
	if err := h.streams.Broadcast(ctx, Topic, "w|"+h.instance+"|"+string(c)); err != nil {
		// Stored: other instances' sessions see it on their next wake or
		// reconnect.
		h.log.Warn("webchat event stored but not broadcast", "customer_id", c, "type", typ, "error", err)
	}
	return e, nil
}

// typing tells c's sessions everywhere that the RM is typing in conv.
func (h *hub) typing(ctx context.Context, c conversation.CustomerID, conv conversation.ConversationID) error {
	h.each(c, func(s *session) { s.typing(conv) })
	return h.streams.Broadcast(ctx, Topic, "t|"+h.instance+"|"+string(conv)+"|"+string(c))
}

// deliver acts on one payload of Topic.
func (h *hub) deliver(payload string) {
	if payload == "" {
		h.each("", (*session).nudge)
		return
	}
	kind, rest, _ := strings.Cut(payload, "|")
	inst, rest, ok := strings.Cut(rest, "|")
	if !ok || inst == h.instance {
		return
	}
	switch kind {
	case "w":
		h.each(conversation.CustomerID(rest), (*session).nudge)
	case "t":
		if conv, cust, ok := strings.Cut(rest, "|"); ok {
			h.each(conversation.CustomerID(cust), func(s *session) { s.typing(conversation.ConversationID(conv)) })
		}
	}
}
