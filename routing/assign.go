package routing

import (
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
func Assign(p *Policies, snap *Snapshot, waiting []ConversationView, now time.Time) []Decision {
	dyn := slices.Clone(snap.dyn)
	cursors := maps.Clone(snap.cursors)
	if cursors == nil {
		cursors = map[string]conversation.RMID{}
	}
	seen := make(map[conversation.ConversationID]bool, len(waiting))
	out := make([]Decision, 0, len(waiting))
	for _, k := range order(p, waiting, now) {
		c := &waiting[k]
		if seen[c.ID] {
			continue
		}
		seen[c.ID] = true
		d := decide(p, snap, dyn, cursors, c, now)
		if d.Outcome == OutcomeOffer {
			i := snap.byID[d.Choice.RMID]
			dyn[i].load += d.Choice.Cost
			dyn[i].lastOffer = now
			dyn[i].lastActive = later(dyn[i].idleSince, now)
			cursors[d.Choice.CursorKey] = d.Choice.RMID
		}
		out = append(out, d)
	}
	return out
}
