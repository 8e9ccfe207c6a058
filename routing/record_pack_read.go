package routing

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// UnpackDecision reads a record written by Decision.AppendPacked. roster
// must be the roster it was packed with (nil when it was packed without
// one); the candidates' RM ids are roster's strings. The Decision's
// AppendJSON is byte for byte the packed one's; its times are in a fixed
// zone of their offset (UTC for offset 0), nil and empty slices come back
// nil. Errors wrap ErrPackedRecord: bytes cut short or left over, another
// version, an unknown flag, a record that names a roster given none (or
// the reverse), an index outside the roster.
func UnpackDecision(data []byte, roster *Roster) (Decision, error) {
	r := packReader{b: data}
	var d Decision
	if v := r.byte(); v != packVersion && r.err == nil {
		return Decision{}, fmt.Errorf("unpack decision: version %d: %w", v, ErrPackedRecord)
	}
	flags := r.uvarint()
	if r.err == nil && flags&^packFlagsKnown != 0 {
		return Decision{}, fmt.Errorf("unpack decision: flags %#x: %w", flags, ErrPackedRecord)
	}
	if r.err == nil && (flags&packRoster != 0) != (roster != nil) {
		return Decision{}, fmt.Errorf("unpack decision: packed with a roster: %v, given one: %v: %w", flags&packRoster != 0, roster != nil, ErrPackedRecord)
	}
	d.ConversationID = conversation.ConversationID(r.str())
	d.At = r.time()
	d.PolicyID = r.str()
	d.PolicyVersion = r.str()
	d.Outcome = Outcome(r.str())
	if n := r.count(1); n > 0 {
		d.Steps = make([]int, n)
		for i := range d.Steps {
			d.Steps[i] = int(r.varint())
		}
	}
	d.Overflow = flags&packOverflow != 0
	if flags&packChoice != 0 {
		c := r.choice()
		d.Choice = &c
	}
	if flags&packAlso != 0 {
		if n := r.count(12); n > 0 {
			d.Also = make([]Choice, n)
			for i := range d.Also {
				d.Also[i] = r.choice()
			}
		}
	}
	if flags&packReserved != 0 {
		d.Reserved = &Reservation{
			RMID: conversation.RMID(r.str()), Step: int(r.varint()), Role: Role(r.str()),
			Load: int(r.varint()), Capacity: int(r.varint()), Cost: int(r.varint()),
		}
	}
	d.Action = Action(r.str())
	if flags&packTransfer != 0 {
		d.Transfer = &TransferRecord{Team: conversation.TeamID(r.str()), By: conversation.RMID(r.str()), At: r.time(), Until: r.time(), State: TransferState(r.str())}
	}
	d.Reason = r.str()
	if flags&packNextChange != 0 {
		d.NextChange = r.time()
	}
	d.Record = RecordMode(r.str())
	d.Considered = int(r.varint())
	nf := r.count(1)
	if nf > NumFilters && r.err == nil {
		return Decision{}, fmt.Errorf("unpack decision: %d filter counts, this version knows %d: %w", nf, NumFilters, ErrPackedRecord)
	}
	for i := range nf {
		d.Filtered[i] = int(r.varint())
	}
	d.Sentence = r.str()
	if n := r.count(2); n > 0 {
		d.Candidates = make([]Candidate, n)
		var prev Candidate
		prevIdx := -1
		for i := range d.Candidates {
			c := &d.Candidates[i]
			prevIdx = r.candidate(c, &prev, prevIdx, roster)
			prev = *c
		}
	}
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d bytes left over", len(r.b))
	}
	if r.err != nil {
		return Decision{}, fmt.Errorf("unpack decision: %w: %w", r.err, ErrPackedRecord)
	}
	return d, nil
}

// choice reads one choice (see Choice.appendPacked).
func (r *packReader) choice() Choice {
	return Choice{
		RMID: conversation.RMID(r.str()), Step: int(r.varint()), Role: Role(r.str()),
		Cost: int(r.varint()), LoadBefore: int(r.varint()), Capacity: int(r.varint()),
		Timeout: time.Duration(r.varint()), ExpiresAt: r.time(), Score: r.varint(), CursorKey: r.str(),
	}
}

// candidate reads one candidate written after prev into c and returns its
// roster index (see Candidate.appendPacked).
func (r *packReader) candidate(c *Candidate, prev *Candidate, prevIdx int, roster *Roster) int {
	head := r.byte()
	idx := prevIdx
	if roster != nil {
		idx = prevIdx + 1 + int(r.varint())
		if idx < 0 || idx >= roster.Len() {
			r.fail(fmt.Errorf("roster index %d outside 0–%d", idx, roster.Len()-1))
			return prevIdx
		}
		c.RMID = roster.ids[idx]
	} else {
		c.RMID = conversation.RMID(r.str())
	}
	rare := byte(0)
	if head&candRare != 0 {
		if rare = r.byte(); rare&^rareKnown != 0 || rare&rareRoleMask > rareRoleText {
			r.fail(fmt.Errorf("candidate flags %#x", rare))
		}
	}
	*c = Candidate{RMID: c.RMID, Step: prev.Step, Failed: prev.Failed, Load: prev.Load, Capacity: prev.Capacity, Score: prev.Score,
		Presence: candPresences[head>>candPresenceShift]}
	if head&candStep != 0 {
		c.Step = int(r.varint())
	}
	if head&candFailed != 0 {
		c.Failed = FilterSet(r.uvarint())
	}
	if head&candLoad != 0 {
		c.Load = int(r.varint())
	}
	if head&candCapacity != 0 {
		c.Capacity = int(r.varint())
	}
	if head&candScore != 0 {
		c.Score = prev.Score + r.varint()
	}
	if role := rare & rareRoleMask; role == rareRoleText {
		c.Role = Role(r.str())
	} else if role < rareRoleText {
		c.Role = rareRoles[role]
	}
	if rare&rareNote != 0 {
		c.Note = r.str()
	}
	if rare&rarePresenceText != 0 {
		c.Presence = conversation.PresenceState(r.str())
	}
	return idx
}

// packReader reads a packed record; the first problem sticks in err and
// every later read returns zero.
type packReader struct {
	b   []byte
	err error
}

func (r *packReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *packReader) byte() byte {
	if len(r.b) == 0 {
		r.fail(errShort)
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *packReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *packReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail(errShort)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a number of items of at least min bytes each, refusing one
// the bytes left cannot hold (so a corrupt count allocates nothing).
func (r *packReader) count(min int) int {
	n := r.uvarint()
	if n > uint64(len(r.b)/min) {
		r.fail(fmt.Errorf("%d items in %d bytes", n, len(r.b)))
		return 0
	}
	return int(n)
}

func (r *packReader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail(errShort)
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// time reads a time written by appendPackedTime, in a fixed zone of its
// offset (UTC when 0).
func (r *packReader) time() time.Time {
	sec, nsec, offset := r.varint(), r.uvarint(), r.varint()
	if r.err != nil {
		return time.Time{}
	}
	if nsec >= 1e9 || int64(int(offset)) != offset {
		r.fail(fmt.Errorf("time %d.%d offset %d", sec, nsec, offset))
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec))
	if offset == 0 {
		return t.UTC()
	}
	return t.In(time.FixedZone("", int(offset)))
}

// errShort: the bytes end inside a field.
var errShort = fmt.Errorf("cut short")
