package routing

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// maxReserveAfter bounds ReservationConfig.MinWait.
const maxReserveAfter = 10 * time.Minute

// reservation checks and compiles ReservationConfig: every channel known
// and listed once, MinWait within 0..10m.
func (c *compiler) reservation(rc ReservationConfig, p *Policies) {
	p.reserveFor = map[conversation.Channel]bool{}
	for i, ch := range rc.ReserveFor {
		where := fmt.Sprintf("reservation.reserve_for[%d]", i)
		switch {
		case !ch.Valid():
			c.bad(where, "unknown channel %q (allowed: %v)", ch, conversation.Channels)
		case p.reserveFor[ch]:
			c.bad(where, "channel %q listed twice", ch)
		default:
			p.reserveFor[ch] = true
		}
	}
	c.duration("reservation.min_wait", rc.MinWait, 0, maxReserveAfter)
	p.reserveAfter = rc.MinWait
}

// Reservation returns the compiled reservation settings: the channels that
// reserve an RM, in the order of conversation.Channels, and the wait before
// they do.
func (p *Policies) Reservation() ReservationConfig {
	return ReservationConfig{ReserveFor: channelsOf(p.reserveFor), MinWait: p.reserveAfter}
}

// hold is whether, and from when, a conversation decided by Assign may
// reserve an RM.
type hold struct {
	// now: the conversation may reserve in this pass.
	now bool
	// at: it may reserve from this time on, later than the decision's now
	// (zero when it never does or already may).
	at time.Time
}

// probe reports whether the evaluation must learn which candidates fail
// only the capacity filter.
func (h hold) probe() bool { return h.now || !h.at.IsZero() }

// holdOf says whether conversation c may reserve an RM at now: its channel
// is in ReserveFor and it has waited MinWait since QueuedAt (since now when
// QueuedAt is zero).
func (p *Policies) holdOf(c *ConversationView, now time.Time) hold {
	if !p.reserveFor[c.Channel] {
		return hold{}
	}
	queued := c.QueuedAt
	if queued.IsZero() {
		queued = now
	}
	if due := queued.Add(p.reserveAfter); due.After(now) {
		return hold{at: due}
	}
	return hold{now: true}
}

// holdRank is a candidate that fails only the capacity filter, as the
// choice of the RM to reserve compares them.
type holdRank struct {
	idx   int
	step  int
	need  int // cost units to drain before the conversation fits
	score int64
	id    conversation.RMID
}

// beats reports whether a is reserved over b: the fewest cost units to
// drain (load + cost - capacity: with equal capacities, the least load),
// then the policy's strategy score, then the smallest RM id.
func (a holdRank) beats(b holdRank) bool {
	if a.need != b.need {
		return a.need < b.need
	}
	if a.score != b.score {
		return a.score > b.score
	}
	return a.id < b.id
}

// holdRankOf ranks RM i, found at step stepNo, as an RM to reserve.
func (e *evaluation) holdRankOf(i, stepNo int) holdRank {
	return holdRank{
		idx: i, step: stepNo, need: e.dyn[i].load + e.cost - e.snap.rms[i].capacity,
		score: e.score(i), id: e.snap.rms[i].rm.ID,
	}
}

// improvesHold reports whether RM i would be reserved over the best found
// so far; check skips the other filters of an RM that would not.
func (e *evaluation) improvesHold(i int) bool {
	if !e.held {
		return true
	}
	// The need decides most comparisons, without scoring.
	switch need := e.dyn[i].load + e.cost - e.snap.rms[i].capacity; {
	case need > e.heldRM.need:
		return false
	case need < e.heldRM.need:
		return true
	}
	return e.holdRankOf(i, 0).beats(e.heldRM)
}

// considerHold records RM i, found at step stepNo, as an RM the
// conversation could reserve, keeping the best.
func (e *evaluation) considerHold(i, stepNo int) {
	if r := e.holdRankOf(i, stepNo); !e.held || r.beats(e.heldRM) {
		e.heldRM, e.held = r, true
	}
}

// reservation returns the record of the RM reserved for the conversation.
func (e *evaluation) reservation() *Reservation {
	h := e.heldRM
	return &Reservation{
		RMID: h.id, Step: h.step, Role: e.role(h.idx),
		Load: e.dyn[h.idx].load, Capacity: e.snap.rms[h.idx].capacity, Cost: e.cost,
	}
}

// heldBy is an RM's reservation in an Assign batch: the conversation it is
// reserved for ("" for none) and the note candidates record for it.
type heldBy struct {
	conv conversation.ConversationID
	note string
}

// heldFor is the reservation of an RM for conversation c, with its note,
// e.g. "reserved for c0 (waiting voice)".
func heldFor(c *ConversationView) heldBy {
	return heldBy{conv: c.ID, note: "reserved for " + string(c.ID) + " (waiting " + string(c.Channel) + ")"}
}

// reservedElsewhere reports whether RM i is reserved, earlier in the
// batch, for a conversation other than the one being decided.
func (e *evaluation) reservedElsewhere(i int) bool {
	if e.reserved == nil {
		return false
	}
	id := e.reserved[i].conv
	return id != "" && id != e.conv.ID
}

// reservedClause says which RM is reserved for a waiting conversation, e.g.
// "rm-ms-03 reserved (75/100 → draining)".
func reservedClause(r *Reservation) string {
	who := string(r.RMID)
	if r.Role != "" {
		who = roleWords(r.Role) + " " + who
	}
	return who + " reserved (" + strconv.Itoa(r.Load) + "/" + strconv.Itoa(r.Capacity) + " → draining)"
}

// channelsOf lists the channels of a set in the order of
// conversation.Channels.
func channelsOf(set map[conversation.Channel]bool) []conversation.Channel {
	return slices.DeleteFunc(slices.Clone(conversation.Channels), func(ch conversation.Channel) bool { return !set[ch] })
}
