package routing

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/airbranch/airbranch/channels/conversation"
)

// maxRosterLen bounds a roster: its indexes are int32.
const maxRosterLen = 1 << 24

// Roster is an ordered list of distinct RM ids that packed decision records
// (Decision.AppendPacked) refer to by index, from 0, so a record names
// each of hundreds of candidates in a byte or two instead of its id. A
// store keeps the roster once (its AppendBinary form, e.g. under a key
// named by its hash) and the records beside it. A Roster is immutable and
// safe for concurrent use.
type Roster struct {
	ids   []conversation.RMID
	index map[conversation.RMID]int32
}

// NewRoster returns the roster of ids in their order (a copy of the
// slice). An id listed twice, or more than 16,777,216 ids, is an error
// wrapping ErrPackedRecord.
func NewRoster(ids []conversation.RMID) (*Roster, error) {
	if len(ids) > maxRosterLen {
		return nil, fmt.Errorf("roster of %d ids (at most %d): %w", len(ids), maxRosterLen, ErrPackedRecord)
	}
	r := &Roster{ids: slices.Clone(ids), index: make(map[conversation.RMID]int32, len(ids))}
	for i, id := range r.ids {
		if _, dup := r.index[id]; dup {
			return nil, fmt.Errorf("roster: %q listed twice: %w", id, ErrPackedRecord)
		}
		r.index[id] = int32(i)
	}
	return r, nil
}

// Len returns the number of ids.
func (r *Roster) Len() int { return len(r.ids) }

// IDs returns a copy of the ids, in roster order.
func (r *Roster) IDs() []conversation.RMID { return slices.Clone(r.ids) }

// Index returns id's position in the roster (from 0), and false when it is
// not there.
func (r *Roster) Index(id conversation.RMID) (int, bool) {
	i, ok := r.index[id]
	return int(i), ok
}

// indexAfter is Index that first tries prev+1, the next id in roster
// order, as candidates of one step sorted by id usually are.
func (r *Roster) indexAfter(id conversation.RMID, prev int) (int, bool) {
	if next := prev + 1; next < len(r.ids) && r.ids[next] == id {
		return next, true
	}
	return r.Index(id)
}

// AppendBinary appends the roster's stored form to dst: a version byte
// (1), the number of ids (uvarint), then each id as its length (uvarint)
// and its bytes. ParseRoster reads it; equal rosters have equal bytes, so
// a hash of them names the roster. It never fails (the error is there for
// encoding.BinaryAppender).
func (r *Roster) AppendBinary(dst []byte) ([]byte, error) {
	n := 1 + binary.MaxVarintLen64
	for _, id := range r.ids {
		n += 2 + len(id)
	}
	dst = slices.Grow(dst, n)
	dst = append(dst, packVersion)
	dst = binary.AppendUvarint(dst, uint64(len(r.ids)))
	for _, id := range r.ids {
		dst = appendPackedString(dst, string(id))
	}
	return dst, nil
}

// ParseRoster reads a roster written by AppendBinary. Errors wrap
// ErrPackedRecord: another version, bytes cut short or left over, an id
// listed twice.
func ParseRoster(data []byte) (*Roster, error) {
	r := packReader{b: data}
	if v := r.byte(); v != packVersion && r.err == nil {
		return nil, fmt.Errorf("parse roster: version %d: %w", v, ErrPackedRecord)
	}
	n := r.count(1)
	if n > maxRosterLen && r.err == nil {
		r.fail(fmt.Errorf("%d ids (at most %d)", n, maxRosterLen))
	}
	ro := &Roster{ids: make([]conversation.RMID, n), index: make(map[conversation.RMID]int32, n)}
	for i := range ro.ids {
		id := conversation.RMID(r.str())
		if _, dup := ro.index[id]; dup && r.err == nil {
			r.fail(fmt.Errorf("%q listed twice", id))
		}
		ro.ids[i], ro.index[id] = id, int32(i)
	}
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d bytes left over", len(r.b))
	}
	if r.err != nil {
		return nil, fmt.Errorf("parse roster: %w: %w", r.err, ErrPackedRecord)
	}
	return ro, nil
}
