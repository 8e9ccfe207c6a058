package state

import (
	"cmp"
	"container/heap"
	"strings"
)

// deadline is one pending time of the memory store (a wake or an offer
// expiry), in Unix µs, with the key it belongs to.
type deadline struct {
	at  int64
	key string
}

// deadlineHeap is a min-heap of deadlines with lazy deletion: an entry is
// stale once its key no longer has that time (the wake moved, the offer
// was deleted), and is dropped when it reaches the top, or all at once
// when stale entries outnumber live ones. NextDeadline is then O(log n)
// amortised instead of a scan. Its owner's lock guards it.
type deadlineHeap struct {
	items deadlineItems
}

// push adds d. live is how many keys have a deadline now and all lists
// them; when the heap holds more than twice that (plus slack), it is
// rebuilt from all, dropping every stale entry.
func (h *deadlineHeap) push(d deadline, live int, all func() []deadline) {
	heap.Push(&h.items, d)
	if len(h.items) > 2*live+64 {
		h.items = all()
		heap.Init(&h.items)
	}
}

// peek returns the earliest entry for which valid holds, dropping stale
// ones on the way, and false when there is none.
func (h *deadlineHeap) peek(valid func(deadline) bool) (deadline, bool) {
	for len(h.items) > 0 {
		if top := h.items[0]; valid(top) {
			return top, true
		}
		heap.Pop(&h.items)
	}
	return deadline{}, false
}

// deadlineItems implements heap.Interface, earliest first, ties by key.
type deadlineItems []deadline

func (d deadlineItems) Len() int { return len(d) }
func (d deadlineItems) Less(i, j int) bool {
	return cmp.Or(cmp.Compare(d[i].at, d[j].at), strings.Compare(d[i].key, d[j].key)) < 0
}
func (d deadlineItems) Swap(i, j int) { d[i], d[j] = d[j], d[i] }
func (d *deadlineItems) Push(x any)   { *d = append(*d, x.(deadline)) }
func (d *deadlineItems) Pop() any {
	old := *d
	x := old[len(old)-1]
	*d = old[:len(old)-1]
	return x
}
