package webchat

import (
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"

	"github.com/airbranch/airbranch/channels/conversation"
)

// tailEvents is how many of a stream's latest events a fresh state reads
// to find the client's latest conversation.
const tailEvents = 200

// ConversationChanged tells the client of conversation c its state as the
// client sees it (waiting: new, queued or offered; assigned: active, with
// the RM; ended: wrap-up, closed, abandoned), as an event on its stream,
// when that state differs from the last one this instance published.
// Conversations on other channels are only counted for estimated waits.
// The gateway calls it for every conversation change routing commits
// (router.Observer's Changed). Errors are logged: the client sees the
// state on its next fresh start.
func (a *Adapter) ConversationChanged(ctx context.Context, c conversation.Conversation) {
	a.waits.observe(c, a.now())
	if c.Channel != conversation.ChannelWebChat {
		return
	}
	st := a.clientState(ctx, c)
	key := st.State
	if st.RM != nil {
		key += "|" + string(st.RM.ID)
	}
	if !a.changes.differs(c.ID, key) {
		return
	}
	if _, err := a.hub.publish(context.WithoutCancel(ctx), c.CustomerID, EventConversation, st); err != nil {
		a.log.Warn("chat conversation state not published", "conversation_id", c.ID, "state", st.State, "error", err)
		return
	}
	a.changes.set(c.ID, key)
}

// clientState is conversation c as its client sees it.
func (a *Adapter) clientState(ctx context.Context, c conversation.Conversation) ConversationState {
	st := ConversationState{ConversationID: c.ID, At: c.UpdatedAt}
	switch c.Status {
	case conversation.StatusNew, conversation.StatusQueued, conversation.StatusOffered:
		st.State = StateWaiting
	case conversation.StatusActive:
		st.State = StateAssigned
		if c.AssigneeID != "" {
			st.RM = a.rmInfo(ctx, c.AssigneeID)
		}
	default:
		st.State = StateEnded
	}
	return st
}

// rmInfo names RM id: the directory's display name, else the id.
func (a *Adapter) rmInfo(ctx context.Context, id conversation.RMID) *RMInfo {
	info := &RMInfo{ID: id, Name: string(id)}
	if a.rms != nil {
		if rm, err := a.rms.RM(ctx, id); err == nil && rm.Name != "" {
			info.Name = rm.Name
		}
	}
	return info
}

// latest returns the state of the client's latest conversation: the last
// one its stream names (among its latest tailEvents events, up to seq
// last); nil when none is known.
func (a *Adapter) latest(ctx context.Context, cl client, last int64) (*ConversationState, error) {
	page, err := a.streams.StreamEvents(ctx, StreamOf(cl.customer.ID), max(0, last-tailEvents), tailEvents)
	if err != nil {
		return nil, err
	}
	var id conversation.ConversationID
	for i := len(page.Items) - 1; i >= 0 && id == ""; i-- {
		var named struct {
			ConversationID conversation.ConversationID `json:"conversation_id"`
		}
		if json.Unmarshal(page.Items[i].Data, &named) == nil {
			id = named.ConversationID
		}
	}
	if id == "" {
		return nil, nil
	}
	c, err := a.convs.Conversation(ctx, id)
	switch {
	case errors.Is(err, conversation.ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	case c.CustomerID != cl.customer.ID:
		return nil, nil
	}
	st := a.clientState(ctx, c)
	return &st, nil
}

// snapshot is the client's state now, for a client that starts afresh:
// its latest conversation and that conversation's latest messages (the
// client's, and the RM's that were sent).
func (a *Adapter) snapshot(ctx context.Context, cl client, last int64) (*State, error) {
	st := &State{Messages: []MessageData{}}
	cs, err := a.latest(ctx, cl, last)
	if err != nil || cs == nil {
		return st, err
	}
	st.Conversation = cs
	msgs, err := a.convs.Messages(ctx, cs.ConversationID, a.cfg.HistoryMessages)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if m.Direction == conversation.Outbound && (m.Status == conversation.DeliveryQueued || m.Status == conversation.DeliveryFailed) {
			continue // never reached the client
		}
		st.Messages = append(st.Messages, a.messageData(ctx, m))
	}
	return st, nil
}

// messageData is m as the client sees it.
func (a *Adapter) messageData(ctx context.Context, m conversation.Message) MessageData {
	d := MessageData{ID: m.ID, ConversationID: m.ConversationID, Text: m.Text, Attachments: refsOf(m.Attachments), CreatedAt: m.CreatedAt}
	if m.Direction == conversation.Inbound {
		d.From, d.ClientID = "client", clientIDOf(m.ProviderID)
	} else {
		d.From, d.RM, d.Status = "rm", a.rmInfo(ctx, conversation.RMID(m.Sender)), string(m.Status)
	}
	return d
}

// refsOf returns the client's view of attachments: an upload's id, or the
// reference as given.
func refsOf(atts []conversation.Attachment) []AttachmentRef {
	var out []AttachmentRef
	for _, at := range atts {
		r := AttachmentRef{Type: at.Type, Size: at.Size, Name: at.Name}
		if id, ok := strings.CutPrefix(at.Ref, AttachmentRefPrefix); ok {
			r.ID = id
		} else {
			r.Ref = at.Ref
		}
		out = append(out, r)
	}
	return out
}

// limits are the Limits of a welcome.
func (a *Adapter) limits() Limits {
	return Limits{MaxFrameBytes: a.cfg.MaxFrameBytes, MaxTextBytes: a.cfg.MaxTextBytes, MessagesPerSecond: a.cfg.MessagesPerSecond,
		MaxAttachmentBytes: a.cfg.Attachments.MaxBytes, AttachmentTypes: a.cfg.Attachments.Types, AttachmentsPerMsg: a.cfg.Attachments.PerMessage}
}

// hoursNow asks the gateway's business-hours hook about segment now; nil
// without a hook.
func (a *Adapter) hoursNow(ctx context.Context, segment conversation.Segment) *Hours {
	if a.hours == nil {
		return nil
	}
	open, notice := a.hours(ctx, segment, a.now())
	return &Hours{Open: open, Notice: notice}
}

// stateMemo remembers the last client state published per conversation
// (at most n, least recently set dropped first), so repeated changes that
// the client would not see are not published.
type stateMemo struct {
	mu    sync.Mutex
	n     int
	order *list.List // of conversation ids, most recent at the front
	items map[conversation.ConversationID]*list.Element
	keys  map[conversation.ConversationID]string
}

func newStateMemo(n int) *stateMemo {
	return &stateMemo{n: n, order: list.New(), items: map[conversation.ConversationID]*list.Element{}, keys: map[conversation.ConversationID]string{}}
}

// differs reports whether key is not the last one set for id.
func (m *stateMemo) differs(id conversation.ConversationID, key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	k, ok := m.keys[id]
	return !ok || k != key
}

// set records key for id.
func (m *stateMemo) set(id conversation.ConversationID, key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e, ok := m.items[id]; ok {
		m.order.MoveToFront(e)
	} else {
		m.items[id] = m.order.PushFront(id)
	}
	m.keys[id] = key
	for m.order.Len() > m.n {
		e := m.order.Back()
		old := e.Value.(conversation.ConversationID)
		m.order.Remove(e)
		delete(m.items, old)
		delete(m.keys, old)
	}
}
