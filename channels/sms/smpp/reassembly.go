package smpp

import (
	"sync"
	"time"
)

// addResult says what became of a part given to the reassembler.
type addResult int

const (
	partHeld     addResult = iota // kept, more parts to come
	partComplete                  // every part is here
	partFull                      // too many messages in reassembly
	partInvalid                   // part number or total out of range
)

// partial is an incoming concatenated message being reassembled.
type partial struct {
	parts      [][]byte // index seq-1; nil while missing
	got        int
	dataCoding byte
	first      time.Time
	from, to   string
}

// reassembler holds the parts of incoming concatenated messages (3GPP TS
// 23.040 §9.2.3.24.1), keyed by sender, recipient, reference and total,
// bounded in messages and parts per message.
type reassembler struct {
	mu       sync.Mutex
	max      int
	maxParts int
	msgs     map[string]*partial
}

func newReassembler(maxMessages, maxParts int) *reassembler {
	return &reassembler{max: maxMessages, maxParts: maxParts, msgs: map[string]*partial{}}
}

// add stores part seq (1-based) of total under key and, once every part is
// there, returns them joined. A repeated part keeps its first copy. The
// message stays held until done, so an SMSC delivering its last part again
// (after a Sink failure) completes it again.
func (r *reassembler) add(key string, total, seq int, data []byte, dc byte, from, to string, now time.Time) ([]byte, addResult) {
	if total < 1 || total > r.maxParts || seq < 1 || seq > total {
		return nil, partInvalid
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	m, ok := r.msgs[key]
	if !ok {
		if len(r.msgs) >= r.max {
			return nil, partFull
		}
		m = &partial{parts: make([][]byte, total), dataCoding: dc, first: now, from: from, to: to}
		r.msgs[key] = m
	}
	if m.parts[seq-1] == nil {
		m.parts[seq-1] = append([]byte{}, data...)
		m.got++
	}
	if m.got < total {
		return nil, partHeld
	}
	var out []byte
	for _, p := range m.parts {
		out = append(out, p...)
	}
	return out, partComplete
}

// done forgets a message once it is stored.
func (r *reassembler) done(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.msgs, key)
}

// expired returns (and keeps) the messages whose first part is older than
// timeout at now.
func (r *reassembler) expired(now time.Time, timeout time.Duration) map[string]*partial {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]*partial{}
	for k, m := range r.msgs {
		if now.Sub(m.first) >= timeout {
			cp := *m
			cp.parts = append([][]byte(nil), m.parts...)
			out[k] = &cp
		}
	}
	return out
}

// dedup remembers the fingerprints of stored incoming messages for a
// window, bounded in entries (oldest forgotten first).
type dedup struct {
	mu     sync.Mutex
	window time.Duration
	max    int
	at     map[string]time.Time
	order  []string // insertion order, for eviction
}

func newDedup(window time.Duration, max int) *dedup {
	return &dedup{window: window, max: max, at: map[string]time.Time{}}
}

// seen reports whether key was stored within the window before now.
func (d *dedup) seen(key string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	t, ok := d.at[key]
	return ok && now.Sub(t) < d.window
}

// add remembers key as stored at now, forgetting expired and excess keys.
func (d *dedup) add(key string, now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.at[key]; !ok {
		d.order = append(d.order, key)
	}
	d.at[key] = now
	for len(d.order) > 0 {
		oldest := d.order[0]
		t, ok := d.at[oldest]
		if ok && len(d.at) <= d.max && now.Sub(t) < d.window {
			break
		}
		delete(d.at, oldest)
		d.order = d.order[1:]
	}
}
