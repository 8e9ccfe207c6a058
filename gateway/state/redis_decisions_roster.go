package state

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/routing"
)

// Limits of the process's roster book.
const (
	// maxRosterIDs bounds the roster packing grows: past it a new roster
	// starts from the record's own candidates (a directory of more RMs
	// than this would make a roster per team or so; still correct).
	maxRosterIDs = 1 << 16
	// maxBookEntries bounds the rosters kept parsed for reading and the
	// roster keys remembered as stored; past it the map starts afresh
	// (a roster is then fetched, or sent, once more).
	maxBookEntries = 1024
)

// rosterEntry is one roster with its stored form (routing.Roster's
// AppendBinary) and its name: the first 16 bytes of the SHA-256 of that
// form, in lowercase hex (32 characters), so equal rosters made by
// different instances share one key.
type rosterEntry struct {
	roster *routing.Roster
	data   []byte
	hash   string
}

func newRosterEntry(ro *routing.Roster) *rosterEntry {
	data, _ := ro.AppendBinary(nil) // never fails
	return &rosterEntry{roster: ro, data: data, hash: rosterHash(data)}
}

// rosterHash names a roster's stored form.
func rosterHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:16])
}

// rosterBook is this process's memory of rosters, shared by its Redis
// stores (rosters are content-addressed, so sharing is safe): the roster
// packing uses now (current), the rosters parsed for reading, and the roster keys
// this process has stored (or found present) on a server. The last is
// only a hint to skip re-sending: the commit script checks that every
// roster it is not sent exists, and a store that finds one missing sends
// it again (see Redis.runCommit), so a key expired, evicted or deleted
// behind the hint's back, or another server under the same prefix, costs
// one more EVALSHA and is never a dangling record.
type rosterBook struct {
	maxIDs  int // maxRosterIDs, but in tests
	current atomic.Pointer[rosterEntry]
	mu      sync.Mutex
	parsed  map[string]*routing.Roster // by hash
	stored  map[string]struct{}        // roster keys, prefix included
}

// rosters is the process's roster book.
var rosters = newRosterBook(maxRosterIDs)

func newRosterBook(maxIDs int) *rosterBook {
	return &rosterBook{maxIDs: maxIDs, parsed: map[string]*routing.Roster{}, stored: map[string]struct{}{}}
}

// grow returns a roster that holds every candidate's RM, for a record the
// current roster could not pack: the current one if another commit grew
// it meanwhile, else a new current one, the sorted union of the current
// roster and the candidates' RMs (or, past b.maxIDs, the candidates' RMs
// alone).
func (b *rosterBook) grow(cands []routing.Candidate) (*rosterEntry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.current.Load()
	if cur != nil && holdsAll(cur.roster, cands) {
		return cur, nil
	}
	var ids []conversation.RMID
	if cur != nil {
		ids = cur.roster.IDs()
	}
	seen := make(map[conversation.RMID]struct{}, len(ids)+len(cands))
	add := func(id conversation.RMID) {
		if _, ok := seen[id]; !ok {
			seen[id] = struct{}{}
			ids = append(ids, id)
		}
	}
	for _, id := range ids {
		seen[id] = struct{}{}
	}
	for i := range cands {
		add(cands[i].RMID)
	}
	if len(ids) > b.maxIDs {
		ids = ids[:0]
		clear(seen)
		for i := range cands {
			add(cands[i].RMID)
		}
	}
	slices.Sort(ids)
	ro, err := routing.NewRoster(ids) // distinct ids: only a roster too long fails
	if err != nil {
		return nil, err
	}
	e := newRosterEntry(ro)
	b.current.Store(e)
	b.rememberLocked(e.hash, ro)
	return e, nil
}

// holdsAll reports whether ro holds every candidate's RM.
func holdsAll(ro *routing.Roster, cands []routing.Candidate) bool {
	for i := range cands {
		if _, ok := ro.Index(cands[i].RMID); !ok {
			return false
		}
	}
	return true
}

// lookup returns the parsed roster of hash, nil when the book has none.
func (b *rosterBook) lookup(hash string) *routing.Roster {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.parsed[hash]
}

// remember keeps a parsed roster for reading.
func (b *rosterBook) remember(hash string, ro *routing.Roster) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rememberLocked(hash, ro)
}

func (b *rosterBook) rememberLocked(hash string, ro *routing.Roster) {
	if len(b.parsed) >= maxBookEntries {
		clear(b.parsed)
	}
	b.parsed[hash] = ro
}

// isStored reports whether this process stored (or found) roster key.
func (b *rosterBook) isStored(key string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.stored[key]
	return ok
}

// markStored records roster keys a commit stored or found present.
func (b *rosterBook) markStored(keys []string) {
	if len(keys) == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.stored)+len(keys) > maxBookEntries {
		clear(b.stored)
	}
	for _, k := range keys {
		b.stored[k] = struct{}{}
	}
}

// forget drops roster keys a commit found missing.
func (b *rosterBook) forget(keys []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys {
		delete(b.stored, k)
	}
}
