package sim

import (
	"container/heap"
	"time"
)

// eventKind is what happens at an event. Events at the same instant are
// applied in kind order, so that capacity freed at t is there for the
// evaluation at t, and an RM who accepts at the very instant the client's
// patience runs out answers them.
type eventKind uint8

const (
	evHours   eventKind = iota // a team opens or closes
	evBack                     // an RM set away for missed offers is back
	evWrapEnd                  // wrap-up ends: the conversation's capacity is released
	evDone                     // the RM finishes serving: wrap-up starts
	evAccept                   // the RM accepts the offer
	evExpire                   // the offer times out: missed
	evAbandon                  // the client's patience runs out
	evArrival                  // a conversation is queued
	evStep                     // a waiting conversation's step changes
)

// event is one scheduled happening. conv, rm and team index the engine's
// tables; seq guards offer events against a later offer of the same
// conversation (an accept or expiry of an older offer is ignored).
type event struct {
	at    time.Time
	kind  eventKind
	order uint64 // scheduling order: ties broken first-scheduled first
	conv  int
	rm    int
	team  int
	seq   int
	open  bool
}

// eventQueue is a min-heap of events by (at, kind, order).
type eventQueue struct {
	items []event
	next  uint64
}

func (q *eventQueue) Len() int { return len(q.items) }

func (q *eventQueue) Less(i, j int) bool {
	a, b := &q.items[i], &q.items[j]
	if !a.at.Equal(b.at) {
		return a.at.Before(b.at)
	}
	if a.kind != b.kind {
		return a.kind < b.kind
	}
	return a.order < b.order
}

func (q *eventQueue) Swap(i, j int) { q.items[i], q.items[j] = q.items[j], q.items[i] }

// Push implements heap.Interface; use push.
func (q *eventQueue) Push(x any) { q.items = append(q.items, x.(event)) }

// Pop implements heap.Interface; use pop.
func (q *eventQueue) Pop() any {
	n := len(q.items) - 1
	e := q.items[n]
	q.items = q.items[:n]
	return e
}

// push schedules e.
func (q *eventQueue) push(e event) {
	e.order = q.next
	q.next++
	heap.Push(q, e)
}

// pop removes and returns the earliest event.
func (q *eventQueue) pop() event { return heap.Pop(q).(event) }

// peek returns the time of the earliest event; the queue must not be empty.
func (q *eventQueue) peek() time.Time { return q.items[0].at }
