package routing

import (
	"iter"
	"maps"
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Assign decides at now for every waiting conversation, in Order, as if
// each offer made earlier in the batch were already committed: the chosen
// RM's load grows by the offer's cost, their last offer becomes now (so
// longest idle moves on) and the policy's round-robin cursor moves to them.
// No RM is offered more than their capacity across the batch, and a
// conversation listed twice is decided once (the first in order). It
// returns one decision per distinct conversation, in serving order. Like
// Decide it is pure; snap is not modified.
//
// Reservation (ReservationConfig): when a conversation on a reserving
// channel that has waited MinWait must wait, and some candidate of its
// active steps fails only the capacity filter, Assign reserves one such RM
// for it for the rest of the batch: the one with the fewest cost units to
// drain (load + cost - capacity), then the best under the policy's
// strategy, then the smallest RM id (Decision.Reserved). Later
// conversations in the batch are not offered that RM: it fails
// FilterReserved for them, with a note naming the conversation it is held
// for (Candidate.Note). Conversations before it in serving
// order were decided already and are not affected. Nothing is stored: the
// gateway calls Assign with the whole waiting queue on every routing pass,
// so a reservation is derived again each pass, moves to a better RM when
// one appears, and ends when the conversation stops waiting; once the RM's
// load has drained the conversation is simply offered to them. A
// reservation is advisory, not a guard the committer re-checks: capacity
// and single offers stay guarded by the atomic commit.
func Assign(p *Policies, snap *Snapshot, waiting []ConversationView, now time.Time) []Decision {
	out := make([]Decision, 0, len(waiting))
	for d := range Assigned(p, snap, waiting, now) {
		out = append(out, d)
	}
	return out
}

// Assigned yields Assign's decisions one at a time, in serving order, each
// as soon as it is made, so a caller can commit the first ones while the
// later ones are still being decided (and need not hold every full record
// of a large queue at once). Each decision is final when yielded: later
// ones depend on it, never the reverse. Stopping early is allowed; the
// decisions not yet made are simply not made. Like Assign it is pure:
// ranging twice over the same sequence yields the same decisions.
func Assigned(p *Policies, snap *Snapshot, waiting []ConversationView, now time.Time) iter.Seq[Decision] {
	return AssignedWith(p, snap, waiting, now, nil)
}

// CandidateBuffer returns a slice with room for at least n candidates (its
// length and contents do not matter) for a full record's Candidates, so a
// caller that is done with a decision's record (stored, packed) can hand
// its slice back for a later decision instead of to the garbage collector.
type CandidateBuffer func(n int) []Candidate

// AssignedWith is Assigned with full records' candidates in slices from
// buf (nil: allocated). The decisions are the same; buf only decides where
// their Candidates live, and the caller must not hand a yielded decision's
// slice out again while it still reads that decision.
func AssignedWith(p *Policies, snap *Snapshot, waiting []ConversationView, now time.Time, buf CandidateBuffer) iter.Seq[Decision] {
	return func(yield func(Decision) bool) {
		dyn := slices.Clone(snap.dyn)
		cursors := maps.Clone(snap.cursors)
		if cursors == nil {
			cursors = map[string]conversation.RMID{}
		}
		var reserved []heldBy // per RM, made at the first reservation
		seen := make(map[conversation.ConversationID]bool, len(waiting))
		for _, k := range order(p, waiting, now) {
			c := &waiting[k]
			if seen[c.ID] {
				continue
			}
			seen[c.ID] = true
			d := decide(p, snap, dyn, cursors, reserved, c, now, p.holdOf(c, now), buf)
			switch {
			case d.Outcome == OutcomeOffer:
				i := snap.byID[d.Choice.RMID]
				dyn[i].load += d.Choice.Cost
				dyn[i].lastOffer = now
				dyn[i].lastActive = later(dyn[i].idleSince, now)
				cursors[d.Choice.CursorKey] = d.Choice.RMID
				for _, also := range d.Also {
					j := snap.byID[also.RMID]
					dyn[j].load += also.Cost
					dyn[j].lastOffer = now
					dyn[j].lastActive = later(dyn[j].idleSince, now)
				}
			case d.Reserved != nil:
				if reserved == nil {
					reserved = make([]heldBy, len(snap.rms))
				}
				reserved[snap.byID[d.Reserved.RMID]] = heldFor(c)
			}
			if !yield(d) {
				return
			}
		}
	}
}
