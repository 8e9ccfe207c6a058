// Package routing decides which relationship manager (RM) a waiting
// conversation is offered to, in what order waiting conversations are
// served, and why. It decides; it does not act: every decision is a pure
// function of (Policies, Snapshot, conversation, now), with no I/O, no wall
// clock and no global random source, and it returns a Decision value that a
// committer applies atomically, re-checking what the decision assumed
// (the RM is still available, LoadBefore + Cost <= Capacity, the
// conversation is still queued), and stores as the decision record.
//
// # Configuration
//
// A Config (YAML) is compiled against the directory's teams and RMs by
// Compile, which reports every problem at once. Policies are tried in
// order; the first whose When expression (expr-lang, over the conversation's
// segment, channel, language, intent, verification, AUM band, prospect flag
// and required skills) is true routes the conversation.
//
// # Steps
//
// A policy is an ordered list of steps, each with a target (own_rm, deputy,
// last_rm, team:<id>, an RM expression, or a team narrowed by an RM
// expression) and an expiry. Step 1 starts when the conversation is queued;
// each later step starts when the previous one expires. Steps are
// cumulative by default, the contact-centre norm: when a step joins, the
// targets of earlier steps stay eligible, and eligible RMs of the earliest
// step are preferred (the own RM who frees up at 25 s still gets their
// client before the deputy). Mode replace makes only the newest step active.
// With the default private-bank policy, at 19.999 s only the own RM is a
// candidate; at 20 s the deputy joins.
//
// A personal step (own RM, deputy, last RM) is skipped, taking no time,
// when its RM does not exist, repeats an earlier personal step's RM, is
// offline, or fails a filter that cannot change while the conversation
// waits (declined or missed it, conflict of interest, private-bank gate,
// team closed, language, skill, licence): a client is not kept waiting for
// an RM who cannot take the conversation. A busy, away or wrapping-up own
// RM is waited for, for the step's expiry.
//
// When the last step expires the fallback applies: an overflow team joins
// as a final pool without expiry, or the wait ends with a callback,
// voicemail or auto-reply. A policy's after-hours action ends the wait at
// once when every team it could reach is closed.
//
// # Transfer to a team
//
// An RM may hand an active conversation back to the queue for one team's
// RMs (ConversationView.TransferTeam, e.g. from a private-bank RM to the
// wealth_advisers pool). Such a routing target overrides the policy's
// steps: from TransferredAt until TransferredAt + Config.TransferTimeout
// (2m by default) it is the only, synthetic, step, numbered 0: only that
// team's RMs are candidates, through every filter, chosen with the
// policy's strategy (a waiting call may reserve one of them, as in any
// step), and the policy's after-hours action waits, the team being open.
// Then the target lapses and the policy applies from its first step,
// started at the lapse, as if the conversation had been queued then (its
// queue order still counts from QueuedAt). A target naming a team the
// snapshot does not know, or a team that is closed at now, is skipped,
// taking no time, as a personal step is: the policy starts at
// TransferredAt. A transfer back to the queue without a team
// (TransferredAt alone) restarts the policy's steps at TransferredAt. The
// Decision records the target (Decision.Transfer) and its sentence starts
// with it, e.g. "transferred to team wealth_advisers by rm-pb-01; offered
// to rm-wa-02".
//
// # Eligibility and selection
//
// Every candidate passes through the filters (see Filter): presence,
// capacity in cost units, declined/missed, conflict of interest,
// private-bank gate, working hours of the RM's team, language, skills,
// licences in force at now, and, inside an Assign batch, not reserved for
// another waiting conversation. Among eligible candidates of the earliest
// active step, the policy's Strategy scores them (longest idle, least
// occupied, highest proficiency, round robin) and ties go to the smallest
// RM id. The Decision records the policy id and version hash, the active
// steps, every candidate with every filter outcome and score (or, in
// compact record mode, filtered-out counts plus the named RMs and the
// choice), the choice or the reason for waiting with the time of the next
// step change, and a plain English sentence.
//
// # Queue order
//
// Order serves conversations by effective priority (segment priority plus
// the conversation's priority plus ageing and wait-budget pressure, capped),
// then arrival, then id; Assign walks them in that order and decides each
// against the loads left by the offers before it, so a batch never puts an
// RM over capacity nor offers one conversation twice.
//
// # Reservation (blending calls with chats)
//
// A call or video takes an RM's whole capacity, a chat a quarter of it, and
// chats take any free slot: while chats keep arriving an RM's load seldom
// drops to 0, and waiting calls starve although occupancy is low. As
// contact-centre platforms do, Assign reserves (drains) an RM for such a
// call: when a waiting conversation on a channel of
// ReservationConfig.ReserveFor (voice and video by default), waiting at
// least MinWait, has a candidate of its active steps that fails only the
// capacity filter, the one of those with the least load to drain (then the
// policy's strategy, then the RM id) is reserved for it (Decision.Reserved;
// its sentence says, e.g., "rm-ms-03 reserved (75/100 → draining)"). No
// conversation after it in serving order is offered that RM: they record
// FilterReserved for the RM, with a note naming the conversation it is
// reserved for. The load drains, and once the call fits
// it is offered to the RM like any other offer. Reservations are not
// state: the gateway calls Assign with the whole waiting queue on every
// routing pass, so each pass derives them again, and one ends as soon as
// its conversation stops waiting. Decide and Check decide one conversation
// alone and see no reservations; only Assign's decisions are committed and
// recorded.
package routing
