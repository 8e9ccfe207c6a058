package routing

import (
	"encoding/binary"
	"errors"
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Sentinel errors of packed decision records (kept beside the format they
// describe).
var (
	// ErrNotInRoster is returned by Decision.AppendPacked when a
	// candidate's RM is not in the roster it was given; the caller packs
	// again with a roster that holds every candidate.
	ErrNotInRoster = errors.New("candidate rm not in roster")
	// ErrPackedRecord is wrapped by UnpackDecision and ParseRoster for
	// bytes that are not a packed record or roster of this format (cut
	// short, trailing bytes, an unknown version or flag, an index outside
	// the roster), and by NewRoster for an id listed twice.
	ErrPackedRecord = errors.New("malformed packed decision record")
)

// packVersion is the first byte of a packed record and of a roster.
const packVersion = 1

// Header flags of a packed record (one uvarint after the version).
const (
	packOverflow   = 1 << iota // Decision.Overflow
	packChoice                 // a Choice follows
	packReserved               // a Reservation follows
	packTransfer               // a TransferRecord follows
	packNextChange             // NextChange follows (else zero)
	packRoster                 // candidates name their RM by roster index
	packAlso                   // a count and that many Choices follow the Choice
	packFlagsKnown = 1<<iota - 1
)

// Bits of a candidate's first byte. The fields they flag follow in this
// order: the RM, the rare byte, step, failed, load, capacity, score, then
// the rare byte's strings (role, note, presence).
const (
	candStep          = 1 << iota // step differs from the previous candidate's: varint
	candFailed                    // failed differs: uvarint
	candLoad                      // load differs: varint
	candCapacity                  // capacity differs: varint
	candScore                     // score differs: varint of the difference
	candRare                      // the rare byte follows
	candPresenceShift = 6         // bits 6–7: presence code (candPresences)
)

// Bits of a candidate's rare byte: role code (bits 0–2, rareRoles, or
// rareRoleText for a role written out), a note, a presence written out
// (which overrides the code).
const (
	rareRoleMask     = 7
	rareRoleText     = 4
	rareNote         = 1 << 3
	rarePresenceText = 1 << 4
	rareKnown        = rareRoleMask | rareNote | rarePresenceText
)

// candPresences are the presence codes of a candidate's first byte.
var candPresences = [4]conversation.PresenceState{
	conversation.PresenceAvailable, conversation.PresenceOffline, conversation.PresenceAway, conversation.PresenceWrapUp,
}

// rareRoles are the role codes of a candidate's rare byte (0: no role).
var rareRoles = [4]Role{"", RoleOwnRM, RoleDeputy, RoleLastRM}

// AppendPacked appends the packed binary form of d to dst and returns the
// extended buffer; UnpackDecision reads it back to a Decision whose
// AppendJSON is byte for byte d's. It is about a tenth of the JSON's size
// for a full record: integers are varints (zig-zag for signed ones), times
// are Unix seconds, nanoseconds and zone offset, strings are
// length-prefixed bytes as they are, and each candidate takes a byte of
// flags (presence and role as codes, and which of step, failed filters,
// load, capacity and score differ from the previous candidate's) plus
// what differs; notes and uncommon roles and presences are kept as text.
//
// With a roster, a candidate names its RM by index into it (written as
// the difference from the previous candidate's index plus one, so a run
// of RMs in roster order takes a byte each); an RM the roster lacks is
// ErrNotInRoster, and dst is then returned as it was given. With a nil
// roster the ids are written out. Unknown bits of a FilterSet are kept.
// It does not allocate when dst has room (it grows dst once otherwise).
func (d Decision) AppendPacked(dst []byte, roster *Roster) ([]byte, error) {
	start := len(dst)
	if n := d.packedSize(roster != nil); dst == nil {
		dst = make([]byte, 0, n)
	} else {
		dst = slices.Grow(dst, n)
	}
	flags := uint64(0)
	if d.Overflow {
		flags |= packOverflow
	}
	if d.Choice != nil {
		flags |= packChoice
	}
	if d.Reserved != nil {
		flags |= packReserved
	}
	if d.Transfer != nil {
		flags |= packTransfer
	}
	if !d.NextChange.IsZero() {
		flags |= packNextChange
	}
	if roster != nil {
		flags |= packRoster
	}
	if len(d.Also) > 0 {
		flags |= packAlso
	}
	dst = append(dst, packVersion)
	dst = binary.AppendUvarint(dst, flags)
	dst = appendPackedString(dst, string(d.ConversationID))
	dst = appendPackedTime(dst, d.At)
	dst = appendPackedString(dst, d.PolicyID)
	dst = appendPackedString(dst, d.PolicyVersion)
	dst = appendPackedString(dst, string(d.Outcome))
	dst = binary.AppendUvarint(dst, uint64(len(d.Steps)))
	for _, s := range d.Steps {
		dst = binary.AppendVarint(dst, int64(s))
	}
	if c := d.Choice; c != nil {
		dst = c.appendPacked(dst)
	}
	if len(d.Also) > 0 {
		dst = binary.AppendUvarint(dst, uint64(len(d.Also)))
		for i := range d.Also {
			dst = d.Also[i].appendPacked(dst)
		}
	}
	if r := d.Reserved; r != nil {
		dst = appendPackedString(dst, string(r.RMID))
		dst = binary.AppendVarint(dst, int64(r.Step))
		dst = appendPackedString(dst, string(r.Role))
		dst = binary.AppendVarint(dst, int64(r.Load))
		dst = binary.AppendVarint(dst, int64(r.Capacity))
		dst = binary.AppendVarint(dst, int64(r.Cost))
	}
	dst = appendPackedString(dst, string(d.Action))
	if tr := d.Transfer; tr != nil {
		dst = appendPackedString(dst, string(tr.Team))
		dst = appendPackedString(dst, string(tr.By))
		dst = appendPackedTime(dst, tr.At)
		dst = appendPackedTime(dst, tr.Until)
		dst = appendPackedString(dst, string(tr.State))
	}
	dst = appendPackedString(dst, d.Reason)
	if !d.NextChange.IsZero() {
		dst = appendPackedTime(dst, d.NextChange)
	}
	dst = appendPackedString(dst, string(d.Record))
	dst = binary.AppendVarint(dst, int64(d.Considered))
	dst = binary.AppendUvarint(dst, uint64(NumFilters))
	for _, n := range d.Filtered {
		dst = binary.AppendVarint(dst, int64(n))
	}
	dst = appendPackedString(dst, d.Sentence)
	dst = binary.AppendUvarint(dst, uint64(len(d.Candidates)))
	prev := &Candidate{}
	prevIdx := -1
	for i := range d.Candidates {
		c := &d.Candidates[i]
		var ok bool
		if dst, prevIdx, ok = c.appendPacked(dst, prev, prevIdx, roster); !ok {
			return dst[:start], ErrNotInRoster
		}
		prev = c
	}
	return dst, nil
}

// appendPacked appends the packed form of a choice.
func (c *Choice) appendPacked(dst []byte) []byte {
	dst = appendPackedString(dst, string(c.RMID))
	dst = binary.AppendVarint(dst, int64(c.Step))
	dst = appendPackedString(dst, string(c.Role))
	dst = binary.AppendVarint(dst, int64(c.Cost))
	dst = binary.AppendVarint(dst, int64(c.LoadBefore))
	dst = binary.AppendVarint(dst, int64(c.Capacity))
	dst = binary.AppendVarint(dst, int64(c.Timeout))
	dst = appendPackedTime(dst, c.ExpiresAt)
	dst = binary.AppendVarint(dst, c.Score)
	return appendPackedString(dst, c.CursorKey)
}

// appendPacked appends c after prev (the previous candidate, zero for the
// first), naming its RM by index into roster after prevIdx, or by id when
// roster is nil. It returns the extended buffer, c's roster index and
// false when roster lacks c's RM.
func (c *Candidate) appendPacked(dst []byte, prev *Candidate, prevIdx int, roster *Roster) ([]byte, int, bool) {
	head := byte(0)
	if c.Step != prev.Step {
		head |= candStep
	}
	if c.Failed != prev.Failed {
		head |= candFailed
	}
	if c.Load != prev.Load {
		head |= candLoad
	}
	if c.Capacity != prev.Capacity {
		head |= candCapacity
	}
	if c.Score != prev.Score {
		head |= candScore
	}
	rare := byte(0)
	switch c.Role {
	case "":
	case RoleOwnRM:
		rare = 1
	case RoleDeputy:
		rare = 2
	case RoleLastRM:
		rare = 3
	default:
		rare = rareRoleText
	}
	if c.Note != "" {
		rare |= rareNote
	}
	switch c.Presence {
	case conversation.PresenceAvailable:
	case conversation.PresenceOffline:
		head |= 1 << candPresenceShift
	case conversation.PresenceAway:
		head |= 2 << candPresenceShift
	case conversation.PresenceWrapUp:
		head |= 3 << candPresenceShift
	default:
		rare |= rarePresenceText
	}
	if rare != 0 {
		head |= candRare
	}
	dst = append(dst, head)
	idx := prevIdx
	if roster != nil {
		var ok bool
		if idx, ok = roster.indexAfter(c.RMID, prevIdx); !ok {
			return dst, prevIdx, false
		}
		dst = binary.AppendVarint(dst, int64(idx-prevIdx-1))
	} else {
		dst = appendPackedString(dst, string(c.RMID))
	}
	if rare != 0 {
		dst = append(dst, rare)
	}
	if head&candStep != 0 {
		dst = binary.AppendVarint(dst, int64(c.Step))
	}
	if head&candFailed != 0 {
		dst = binary.AppendUvarint(dst, uint64(c.Failed))
	}
	if head&candLoad != 0 {
		dst = binary.AppendVarint(dst, int64(c.Load))
	}
	if head&candCapacity != 0 {
		dst = binary.AppendVarint(dst, int64(c.Capacity))
	}
	if head&candScore != 0 {
		dst = binary.AppendVarint(dst, c.Score-prev.Score) // wraps, as the reader's sum does
	}
	if rare&rareRoleMask == rareRoleText {
		dst = appendPackedString(dst, string(c.Role))
	}
	if rare&rareNote != 0 {
		dst = appendPackedString(dst, c.Note)
	}
	if rare&rarePresenceText != 0 {
		dst = appendPackedString(dst, string(c.Presence))
	}
	return dst, idx, true
}

// packedSize estimates the packed length of d in bytes, for growing the
// buffer once: 12 bytes a candidate (about twice what a run of plain
// candidates takes, which leaves room for a few notes) and 24 more for
// an id written out, without walking the candidates; a record beyond it
// grows the buffer again.
func (d Decision) packedSize(roster bool) int {
	n := 160 + len(d.ConversationID) + len(d.PolicyID) + len(d.PolicyVersion) + len(d.Outcome) + len(d.Action) +
		len(d.Reason) + len(d.Record) + len(d.Sentence) + 10*len(d.Steps)
	if c := d.Choice; c != nil {
		n += 80 + len(c.RMID) + len(c.Role) + len(c.CursorKey)
	}
	for i := range d.Also {
		n += 80 + len(d.Also[i].RMID) + len(d.Also[i].Role) + len(d.Also[i].CursorKey)
	}
	if r := d.Reserved; r != nil {
		n += 50 + len(r.RMID) + len(r.Role)
	}
	if tr := d.Transfer; tr != nil {
		n += 50 + len(tr.Team) + len(tr.By) + len(tr.State)
	}
	perCandidate := 12
	if !roster {
		perCandidate += 24
	}
	return n + perCandidate*len(d.Candidates)
}

// appendPackedString appends s as its length (uvarint) and its bytes.
func appendPackedString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// appendPackedTime appends t as Unix seconds (varint), nanoseconds
// (uvarint) and zone offset in seconds (varint): all its JSON depends on.
func appendPackedTime(dst []byte, t time.Time) []byte {
	_, offset := t.Zone()
	dst = binary.AppendVarint(dst, t.Unix())
	dst = binary.AppendUvarint(dst, uint64(t.Nanosecond()))
	return binary.AppendVarint(dst, int64(offset))
}
