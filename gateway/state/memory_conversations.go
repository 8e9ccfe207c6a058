package state

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/airbranch/airbranch/channels/conversation"
)

func compareEntryID(e *convEntry, id conversation.ConversationID) int {
	return strings.Compare(string(e.c.ID), string(id))
}

// CreateConversation stores a copy of c with Version 1 and returns it;
// ErrExists if the id is taken, a conversation.ErrInvalid error if c does
// not validate.
func (m *Memory) CreateConversation(_ context.Context, c conversation.Conversation) (conversation.Conversation, error) {
	if err := c.Validate(); err != nil {
		return conversation.Conversation{}, fmt.Errorf("memory create conversation: %w", err)
	}
	e := &convEntry{c: cloneConversation(c)}
	e.c.Version = 1
	sh := &m.convs[m.shard(string(c.ID))]
	sh.mu.Lock()
	if _, ok := sh.byID[c.ID]; ok {
		sh.mu.Unlock()
		return conversation.Conversation{}, fmt.Errorf("memory create conversation %s: %w", c.ID, ErrExists)
	}
	sh.byID[c.ID] = e
	// UUIDv7 ids mostly arrive in order, so this is nearly always an append.
	if n := len(sh.order); n == 0 || compareEntryID(sh.order[n-1], c.ID) < 0 {
		sh.order = append(sh.order, e)
	} else {
		i, _ := slices.BinarySearchFunc(sh.order, c.ID, compareEntryID)
		sh.order = slices.Insert(sh.order, i, e)
	}
	out := cloneConversation(e.c)
	sh.mu.Unlock()
	m.byCustomer.add(c.CustomerID, c.ID)
	return out, nil
}

// customerIndex lists each customer's conversation ids in id order, so a
// listing filtered by customer (routing's last-RM lookup on every route,
// the customer card) reads that customer's conversations only.
type customerIndex struct {
	mu  sync.RWMutex
	ids map[conversation.CustomerID][]conversation.ConversationID
}

func (x *customerIndex) add(cust conversation.CustomerID, id conversation.ConversationID) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.ids == nil {
		x.ids = make(map[conversation.CustomerID][]conversation.ConversationID)
	}
	list := x.ids[cust]
	i, _ := slices.BinarySearch(list, id)
	x.ids[cust] = slices.Insert(list, i, id)
}

// before returns a copy of cust's ids below cursor ("" for all), oldest
// first.
func (x *customerIndex) before(cust conversation.CustomerID, cursor conversation.ConversationID) []conversation.ConversationID {
	x.mu.RLock()
	defer x.mu.RUnlock()
	list := x.ids[cust]
	if cursor != "" {
		i, _ := slices.BinarySearch(list, cursor)
		list = list[:i]
	}
	return slices.Clone(list)
}

// listCustomer is ListConversations for a filter with a customer: that
// customer's conversations, newest first, until Limit+1 match.
func (m *Memory) listCustomer(f ConversationFilter, need int) []conversation.Conversation {
	ids := m.byCustomer.before(f.CustomerID, conversation.ConversationID(f.Cursor))
	var cands []conversation.Conversation
	for i := len(ids) - 1; i >= 0 && len(cands) < need; i-- {
		sh := &m.convs[m.shard(string(ids[i]))]
		sh.mu.RLock()
		if e, ok := sh.byID[ids[i]]; ok && f.matches(&e.c) {
			cands = append(cands, e.c) // shallow: slices are never changed in place
		}
		sh.mu.RUnlock()
	}
	return cands
}

// Conversation returns a copy of the conversation with id, or ErrNotFound.
func (m *Memory) Conversation(_ context.Context, id conversation.ConversationID) (conversation.Conversation, error) {
	sh := &m.convs[m.shard(string(id))]
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	e, ok := sh.byID[id]
	if !ok {
		return conversation.Conversation{}, fmt.Errorf("memory conversation %s: %w", id, ErrNotFound)
	}
	return cloneConversation(e.c), nil
}

// UpdateConversation applies fn to a copy of the conversation and stores
// the result with Version incremented. Updaters of one conversation take
// turns, so fn runs once per call and there is never a conflict; fn must
// not call UpdateConversation for the same conversation. An error from fn
// is returned as is and nothing changes; a result that changes the id or
// does not validate is refused with a conversation.ErrInvalid error.
func (m *Memory) UpdateConversation(_ context.Context, id conversation.ConversationID, fn func(*conversation.Conversation) error) (conversation.Conversation, error) {
	sh := &m.convs[m.shard(string(id))]
	sh.mu.RLock()
	e, ok := sh.byID[id]
	sh.mu.RUnlock()
	if !ok {
		return conversation.Conversation{}, fmt.Errorf("memory update conversation %s: %w", id, ErrNotFound)
	}
	e.upd.Lock()
	defer e.upd.Unlock()
	sh.mu.RLock()
	cur := e.c
	sh.mu.RUnlock()

	next := cloneConversation(cur)
	if err := fn(&next); err != nil {
		return conversation.Conversation{}, err
	}
	if err := checkUpdate(id, next); err != nil {
		return conversation.Conversation{}, fmt.Errorf("memory update conversation: %w", err)
	}
	next.Version = cur.Version + 1
	stored := cloneConversation(next)
	sh.mu.Lock()
	e.c = stored
	sh.mu.Unlock()
	return next, nil
}

// checkUpdate validates the result of an update function.
func checkUpdate(id conversation.ConversationID, next conversation.Conversation) error {
	if next.ID != id {
		return fmt.Errorf("conversation %s: %w: the update changed the id to %q", id, conversation.ErrInvalid, next.ID)
	}
	return next.Validate()
}

// ListConversations returns conversations matching f, newest (highest id)
// first. Each shard is walked backwards from the cursor until it has given
// Limit+1 matches; the shards' candidates are then merged. A filter that
// matches few conversations walks every conversation older than the
// cursor, except a filter with a customer, which reads only that
// customer's conversations (customerIndex).
func (m *Memory) ListConversations(_ context.Context, f ConversationFilter) (ConversationPage, error) {
	f, err := f.normalize()
	if err != nil {
		return ConversationPage{}, fmt.Errorf("memory list conversations: %w", err)
	}
	need := f.Limit + 1
	cursor := conversation.ConversationID(f.Cursor)
	var cands []conversation.Conversation
	if f.CustomerID != "" {
		cands = m.listCustomer(f, need)
	}
	for i := 0; i < len(m.convs) && f.CustomerID == ""; i++ {
		sh := &m.convs[i]
		sh.mu.RLock()
		end := len(sh.order)
		if cursor != "" {
			end, _ = slices.BinarySearchFunc(sh.order, cursor, compareEntryID)
		}
		found := 0
		for j := end - 1; j >= 0 && found < need; j-- {
			if c := &sh.order[j].c; f.matches(c) {
				cands = append(cands, *c) // shallow: slices are never changed in place
				found++
			}
		}
		sh.mu.RUnlock()
	}
	slices.SortFunc(cands, func(a, b conversation.Conversation) int { return strings.Compare(string(b.ID), string(a.ID)) })
	var page ConversationPage
	if len(cands) > f.Limit {
		cands = cands[:f.Limit]
		page.NextCursor = string(cands[f.Limit-1].ID)
	}
	page.Items = make([]conversation.Conversation, len(cands))
	for i, c := range cands {
		page.Items[i] = cloneConversation(c)
	}
	return page, nil
}
