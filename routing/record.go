package routing

import (
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Outcome is what a decision concluded.
type Outcome string

// Decision outcomes.
const (
	// OutcomeOffer: offer the conversation to Decision.Choice.RMID.
	OutcomeOffer Outcome = "offer"
	// OutcomeWait: no eligible RM now; re-evaluate when an RM frees up or
	// at Decision.NextChange.
	OutcomeWait Outcome = "wait"
	// OutcomeFallback: end the wait with Decision.Action (callback,
	// voicemail, auto_reply), because every step expired or every team the
	// policy could reach is closed.
	OutcomeFallback Outcome = "fallback"
	// OutcomeNoPolicy: no policy's When matched the conversation.
	OutcomeNoPolicy Outcome = "no_policy"
)

// Role says why a candidate is in the pool when it is a named RM.
type Role string

// Candidate roles; RMs found through a team or an RM expression have none.
const (
	RoleOwnRM  Role = "own_rm"
	RoleDeputy Role = "deputy"
	RoleLastRM Role = "last_rm"
)

// Candidate is one RM considered for a conversation, with the outcome of
// every filter: those in Failed failed, all others passed.
type Candidate struct {
	RMID conversation.RMID `json:"rm_id"`
	// Step is the step number (from 1) of the earliest active step whose
	// target includes the RM; the overflow pool is one past the last step,
	// and the team of an active transfer target (Decision.Transfer) is 0.
	Step int  `json:"step"`
	Role Role `json:"role,omitempty"`
	// Failed is the set of filters the RM failed; empty means eligible.
	Failed   FilterSet                  `json:"failed"`
	Presence conversation.PresenceState `json:"presence"`
	// Load and Capacity are in cost units, Load before this conversation.
	Load     int `json:"load"`
	Capacity int `json:"capacity"`
	// Score ranks eligible candidates under the policy's strategy (higher
	// is better; see Strategy).
	Score int64 `json:"score,omitempty"`
	// Note explains the failures in words for named RMs (own RM, deputy,
	// last RM) and in Check, e.g. "at capacity (100/100)"; for an RM
	// reserved for another conversation (FilterReserved) it names that
	// conversation, e.g. "reserved for c0 (waiting voice)"; empty
	// otherwise.
	Note string `json:"note,omitempty"`
}

// Eligible reports whether the candidate passed every filter.
func (c Candidate) Eligible() bool { return c.Failed == 0 }

// Choice is the RM a conversation is offered to, and what the committer
// must re-check atomically before making the offer: the RM is still
// available and LoadBefore + Cost <= Capacity.
type Choice struct {
	RMID conversation.RMID `json:"rm_id"`
	// Step is the step number (from 1) the RM was found at, 0 for the
	// team of an active transfer target; Role is set when the RM is the
	// client's own RM, deputy or last RM.
	Step int  `json:"step"`
	Role Role `json:"role,omitempty"`
	// Cost is the capacity the offer takes, in cost units.
	Cost       int `json:"cost"`
	LoadBefore int `json:"load_before"`
	Capacity   int `json:"capacity"`
	// Timeout is how long the RM has to accept; ExpiresAt = decision time +
	// Timeout.
	Timeout   time.Duration `json:"timeout"`
	ExpiresAt time.Time     `json:"expires_at"`
	Score     int64         `json:"score"`
	// CursorKey is the round-robin key (the policy id); the committer
	// stores RMID under it as the next snapshot's cursor.
	CursorKey string `json:"cursor_key"`
}

// Reservation is the RM reserved (drained) for a waiting conversation in
// an Assign batch: they failed only the capacity filter for it, and no
// conversation after it in serving order is offered to them (those record
// FilterReserved, with a note naming it), so their load drains until
// the conversation fits (Load + Cost <= Capacity). It is not stored state:
// every Assign derives it again from the waiting queue, and it ends when
// the conversation stops waiting.
type Reservation struct {
	RMID conversation.RMID `json:"rm_id"`
	// Step is the step number (from 1) the RM was found at; Role is set
	// when the RM is the client's own RM, deputy or last RM.
	Step int  `json:"step"`
	Role Role `json:"role,omitempty"`
	// Load is the RM's load when reserved, Capacity theirs and Cost the
	// conversation's, in cost units.
	Load     int `json:"load"`
	Capacity int `json:"capacity"`
	Cost     int `json:"cost"`
}

// FilterCounts counts, per filter, the candidates it ruled out; a candidate
// counts under the first filter it failed, in evaluation order.
type FilterCounts [NumFilters]int

// Total returns the number of candidates ruled out.
func (fc FilterCounts) Total() int {
	n := 0
	for _, c := range fc {
		n += c
	}
	return n
}

// MarshalJSON writes the positive counts as an object keyed by filter
// name, keys sorted, as encoding/json writes a map[string]int of them:
// {"capacity":3,"presence":12}; {} when none.
func (fc FilterCounts) MarshalJSON() ([]byte, error) {
	return fc.appendJSON(make([]byte, 0, 16*NumFilters)), nil
}

// Decision is the record of one evaluation of one conversation: what was
// decided and why. It is a value: the committer applies it atomically
// (re-checking Choice), stores it with bounded retention, and schedules a
// re-evaluation at NextChange when waiting. Its JSON (AppendJSON,
// MarshalJSON) is what encoding/json writes for its fields.
type Decision struct {
	ConversationID conversation.ConversationID `json:"conversation_id"`
	// At is the now the decision was made for.
	At            time.Time `json:"at"`
	PolicyID      string    `json:"policy_id,omitempty"`
	PolicyVersion string    `json:"policy_version,omitempty"`
	Outcome       Outcome   `json:"outcome"`
	// Steps are the active step numbers, from 1; Overflow is set when the
	// overflow pool is active too.
	Steps    []int `json:"steps,omitempty"`
	Overflow bool  `json:"overflow,omitempty"`
	// Choice is set when Outcome is offer.
	Choice *Choice `json:"choice,omitempty"`
	// Also are the further RMs offered the conversation at the same time
	// as Choice (a simultaneous offer, Config.SimultaneousOffers), next
	// best first; empty for an offer to one RM.
	Also []Choice `json:"also,omitempty"`
	// Reserved is set when Outcome is wait and Assign reserved an RM for
	// the conversation (see Reservation); Decide never reserves.
	Reserved *Reservation `json:"reserved,omitempty"`
	// Action is set when Outcome is fallback.
	Action Action `json:"action,omitempty"`
	// Transfer is set when the conversation carries a transfer target
	// (ConversationView.TransferTeam): the team, who transferred it and
	// when, when the policy starts, and whether only that team's RMs were
	// candidates (candidates, choice and reservation at step 0) or the
	// target lapsed or was skipped.
	Transfer *TransferRecord `json:"transfer,omitempty"`
	// Reason says why the conversation waits, falls back or has no policy.
	Reason string `json:"reason,omitempty"`
	// NextChange is when the set of active steps changes next (a step
	// joins, one expires, the fallback applies), for offers and waits;
	// zero when nothing will. A waiting conversation is re-evaluated then,
	// or sooner when an RM frees capacity.
	NextChange time.Time `json:"next_change,omitzero"`
	// Record is how much of the evaluation the decision kept.
	Record RecordMode `json:"record"`
	// Considered counts the candidates of the active steps; Filtered counts
	// those ruled out, per first failing filter.
	Considered int          `json:"considered"`
	Filtered   FilterCounts `json:"filtered"`
	// Candidates: every candidate in full mode; in compact mode the named
	// RMs (own RM, deputy, last RM) and the chosen RM. Ordered by step,
	// then RM id.
	Candidates []Candidate `json:"candidates,omitempty"`
	// Sentence says it in plain English, e.g. "own RM rm-pb-01 at capacity
	// (100/100); offered to deputy rm-pb-02 at step 2", or for a waiting
	// call "...; rm-ms-03 reserved (75/100 → draining)".
	Sentence string `json:"sentence"`
}

// Candidate returns the recorded candidate id, if any.
func (d Decision) Candidate(id conversation.RMID) (Candidate, bool) {
	for _, c := range d.Candidates {
		if c.RMID == id {
			return c, true
		}
	}
	return Candidate{}, false
}
