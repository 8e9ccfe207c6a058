package router

import (
	"sync"

	"github.com/airbranch/airbranch/channels/conversation"
)

// waitMemo remembers, per waiting conversation, the sentence and next
// change of the last wait recorded (as one string key), so an unchanged
// wait is not written again on every pass. The pass's decider reads it
// while its committer writes it, hence the lock.
type waitMemo struct {
	mu   sync.Mutex
	last map[conversation.ConversationID]string
}

func newWaitMemo() *waitMemo {
	return &waitMemo{last: make(map[conversation.ConversationID]string)}
}

// get returns the key last recorded for id, "" for none.
func (w *waitMemo) get(id conversation.ConversationID) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last[id]
}

// set records key as id's last wait.
func (w *waitMemo) set(id conversation.ConversationID, key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last[id] = key
}

// forget drops id (it stopped waiting, or must be recorded again).
func (w *waitMemo) forget(id conversation.ConversationID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.last, id)
}

// keepOnly drops every conversation for which waiting reports false.
func (w *waitMemo) keepOnly(waiting func(conversation.ConversationID) bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id := range w.last {
		if !waiting(id) {
			delete(w.last, id)
		}
	}
}
