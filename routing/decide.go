package routing

import (
	"cmp"
	"math/bits"
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Decide chooses whom to offer conversation conv to at now, or why it
// waits, or which fallback ends its wait. It is a pure function of (p,
// snap, conv, now): no I/O, no clock, no randomness; equal inputs give
// equal decisions. It is safe for concurrent use.
//
// The first policy whose When matches routes the conversation. Its steps
// start one after another from conv.QueuedAt (see the skipping of personal
// steps in the package documentation), or from the end of a transfer:
// while a transfer target (conv.TransferTeam) is active, only that team's
// RMs are candidates, at step 0, and the policy's steps start when it
// lapses (see "Transfer to a team" in the package documentation). In
// cumulative mode every started step stays active and its eligible RMs
// are preferred to those of later steps;
// in replace mode only the newest step is active. Candidates pass through
// every Filter; among the eligible ones of the earliest step, the policy's
// Strategy picks the highest score, ties going to the smallest RM id.
//
// When the policy has an after-hours action and every team it could reach
// is closed, the decision is that action. When the last step has expired,
// an end-action fallback (callback, voicemail, auto_reply) is the decision;
// an overflow fallback adds its team as a final pool without expiry.
//
// Decide decides conv alone. It neither makes nor sees reservations: those
// exist only inside an Assign batch, where a waiting call blocked only by
// capacity holds an RM against the conversations after it in serving
// order (see ReservationConfig). So Decide may offer conv to an RM that
// Assign, deciding the whole queue, keeps for such a call, and Decide's
// wait never names a reserved RM. The gateway commits and stores only
// Assign's decisions; read those records, not a fresh Decide, to answer
// "why not my RM" (a reserved RM shows FilterReserved there, with a note
// naming the conversation it is reserved for).
func Decide(p *Policies, snap *Snapshot, conv ConversationView, now time.Time) Decision {
	return decide(p, snap, snap.dyn, snap.cursors, nil, &conv, now, hold{}, nil)
}

// decide is Decide over a given dynamic state (Assign's working copy);
// reserved holds, per RM, the reservation made earlier in the batch (nil
// outside Assign), and h says whether the conversation may reserve an RM
// when it must wait.
func decide(p *Policies, snap *Snapshot, dyn []rmDynamic, cursors map[string]conversation.RMID, reserved []heldBy, conv *ConversationView, now time.Time, h hold, buf CandidateBuffer) Decision {
	e := newEvaluation(p, snap, dyn, cursors, conv, now)
	e.buf = buf
	e.reserved, e.hold = reserved, h
	e.topN = p.SimultaneousOffers(conv.Channel)
	d := Decision{ConversationID: conv.ID, At: now, Record: p.record}
	pol, whenErr := e.selectPolicy()
	if pol == nil {
		d.Outcome = OutcomeNoPolicy
		d.Reason = noPolicyReason(conv, whenErr)
		d.Sentence = d.Reason
		return d
	}
	e.usePolicy(pol)
	d.PolicyID, d.PolicyVersion = pol.ID, pol.Version
	e.tr = e.transferTarget()
	d.Transfer = e.tr
	pl := e.plan()
	if pol.afterHours != "" && !e.transferring() {
		if closed := e.closedTeams(&pl); closed != nil {
			d.Outcome, d.Action = OutcomeFallback, pol.afterHours
			d.Reason = afterHoursReason(closed)
			d.Sentence = e.sentence(&d, &pl)
			return d
		}
	}
	if pl.expired(now) && pol.fallback != ActionOverflow {
		d.Outcome, d.Action = OutcomeFallback, pol.fallback
		d.Reason = expiredReason(len(pol.steps), now.Sub(pl.steps[0].start))
		d.Sentence = e.sentence(&d, &pl)
		return d
	}
	best, found := e.gather(&d, &pl)
	d.NextChange = pl.nextChange(now)
	switch {
	case found:
		e.offer(&d, best)
	default:
		d.Outcome = OutcomeWait
		switch {
		case e.held && e.hold.now:
			d.Reserved = e.reservation()
		case e.held && (d.NextChange.IsZero() || e.hold.at.Before(d.NextChange)):
			// Blocked by capacity alone, it reserves an RM once it has
			// waited MinWait: decide again then.
			d.NextChange = e.hold.at
		}
		d.Reason = e.waitReason(&d, &pl)
	}
	if p.record == RecordCompact {
		slices.SortFunc(d.Candidates, func(a, b Candidate) int {
			return cmp.Or(cmp.Compare(a.Step, b.Step), cmp.Compare(a.RMID, b.RMID))
		})
	}
	d.Sentence = e.sentence(&d, &pl)
	return d
}

// selectPolicy returns the first policy whose When is true for the
// conversation, and the first evaluation error met on the way, if any.
func (e *evaluation) selectPolicy() (*Policy, error) {
	env := newConvEnv(e.conv)
	var firstErr error
	for _, pol := range e.p.list {
		out, err := e.machine.Run(pol.when, env)
		if err != nil {
			firstErr = cmp.Or(firstErr, err)
			continue
		}
		if ok, _ := out.(bool); ok {
			return pol, firstErr
		}
	}
	return nil, firstErr
}

// gather walks the active steps' candidates, records them as the record
// mode asks, counts the filtered ones, and returns the best eligible one.
func (e *evaluation) gather(d *Decision, pl *plan) (ranked, bool) {
	full := e.p.record == RecordFull
	seen := make([]uint64, (len(e.snap.rms)+63)/64)
	var best ranked
	found := false
	consider := func(i, stepNo int, failed FilterSet, role Role, keep bool) {
		d.Considered++
		var score int64
		if failed == 0 {
			score = e.score(i)
			r := ranked{idx: i, step: stepNo, score: score, id: e.snap.rms[i].rm.ID}
			if !found || r.beats(best) {
				best, found = r, true
			}
			if e.topN > 1 {
				e.top = insertRanked(e.top, r, e.topN)
			}
		} else {
			d.Filtered[bits.TrailingZeros16(uint16(failed))]++
		}
		if failed == bit(FilterCapacity) && e.hold.probe() {
			e.considerHold(i, stepNo)
		}
		if keep {
			c := e.candidate(i, stepNo, role, failed)
			c.Score = score
			switch {
			case role != "" && failed != 0:
				c.Note = e.note(i, failed)
			case failed.Has(FilterReserved):
				// The reservation's note, made once per batch: no
				// allocation per candidate.
				c.Note = e.reserved[i].note
			}
			d.Candidates = append(d.Candidates, c)
		}
	}
	if full {
		if n := e.poolBound(pl); e.buf != nil {
			d.Candidates = e.buf(n)[:0]
		} else {
			d.Candidates = make([]Candidate, 0, n)
		}
	}
	if e.transferring() {
		// Only the target team, as step 0: the policy's steps start when
		// the transfer lapses, so none of them is active yet.
		e.walkPool(step{kind: targetTeam, team: e.tr.Team}, 0, seen, full, consider)
	}
	for k, st := range e.pol.steps {
		stepNo, ps := k+1, pl.steps[k]
		active := pl.active(k, e.pol.mode, e.now)
		switch {
		case st.kind.personal():
			// A named RM is recorded when their step is active, and also
			// when it was skipped, to say why the client did not reach
			// them (a skipped step's RM always fails a filter).
			if ps.rm < 0 || ps.start.After(e.now) || (!active && !ps.skipped) || markSeen(seen, ps.rm) {
				continue
			}
			if active {
				d.Steps = append(d.Steps, stepNo)
			}
			consider(ps.rm, stepNo, ps.failed, e.role(ps.rm), true)
		case active:
			d.Steps = append(d.Steps, stepNo)
			e.walkPool(st, stepNo, seen, full, consider)
		}
	}
	if e.pol.fallback == ActionOverflow && pl.expired(e.now) {
		d.Overflow = true
		e.walkPool(step{kind: targetTeam, team: e.pol.overflow}, e.pol.overflowStep(), seen, full, consider)
	}
	if found && !full {
		chosen := []ranked{best}
		if len(e.top) > 1 {
			chosen = e.top
		}
		for _, r := range chosen {
			if e.role(r.idx) == "" {
				c := e.candidate(r.idx, r.step, "", 0)
				c.Score = r.score
				d.Candidates = append(d.Candidates, c)
			}
		}
	}
	return best, found
}

// poolBound is an upper bound of the candidates of the active steps, to
// size a full record once.
func (e *evaluation) poolBound(pl *plan) int {
	n := 0
	add := func(team conversation.TeamID) {
		if ti, ok := e.snap.teamIdx[team]; ok {
			n += len(e.snap.members[ti])
		}
	}
	if e.transferring() {
		add(e.tr.Team)
	}
	for k, st := range e.pol.steps {
		switch {
		case st.kind.personal():
			n++
		case !pl.active(k, e.pol.mode, e.now):
		case st.kind == targetExpr:
			n += len(e.snap.rms)
		default:
			add(st.team)
		}
	}
	if e.pol.fallback == ActionOverflow && pl.expired(e.now) {
		add(e.pol.overflow)
	}
	return min(n, len(e.snap.rms))
}

// walkPool considers the RMs of a team or RM-expression step not seen yet,
// by RM id.
func (e *evaluation) walkPool(st step, stepNo int, seen []uint64, full bool, consider func(i, stepNo int, failed FilterSet, role Role, keep bool)) {
	visit := func(i int) {
		if (st.expr != nil && !e.matches(st.expr, i)) || markSeen(seen, i) {
			return
		}
		role := e.role(i)
		all := full || role != ""
		consider(i, stepNo, e.check(i, all), role, all)
	}
	if st.kind == targetExpr {
		for i := range e.snap.rms {
			visit(i)
		}
		return
	}
	if ti, ok := e.snap.teamIdx[st.team]; ok {
		for _, i := range e.snap.members[ti] {
			visit(i)
		}
	}
}

// offer fills the decision's choice.
func (e *evaluation) offer(d *Decision, best ranked) {
	d.Outcome = OutcomeOffer
	c := e.choice(best)
	d.Choice = &c
	if len(e.top) > 1 {
		d.Also = make([]Choice, 0, len(e.top)-1)
		for _, r := range e.top[1:] {
			d.Also = append(d.Also, e.choice(r))
		}
	}
}

// choice is the offer to ranked RM r.
func (e *evaluation) choice(r ranked) Choice {
	rm, dy := &e.snap.rms[r.idx], &e.dyn[r.idx]
	timeout := e.p.OfferTimeout(e.conv.Channel)
	return Choice{
		RMID: rm.rm.ID, Step: r.step, Role: e.role(r.idx),
		Cost: e.cost, LoadBefore: dy.load, Capacity: rm.capacity,
		Timeout: timeout, ExpiresAt: e.now.Add(timeout),
		Score: r.score, CursorKey: e.pol.ID,
	}
}

// insertRanked inserts r into top (best first, as ranked.beats orders)
// and keeps at most n.
func insertRanked(top []ranked, r ranked, n int) []ranked {
	i := len(top)
	for i > 0 && r.beats(top[i-1]) {
		i--
	}
	if i >= n {
		return top
	}
	top = slices.Insert(top, i, r)
	if len(top) > n {
		top = top[:n]
	}
	return top
}

// candidate builds the record of RM i.
func (e *evaluation) candidate(i, stepNo int, role Role, failed FilterSet) Candidate {
	return Candidate{
		RMID: e.snap.rms[i].rm.ID, Step: stepNo, Role: role, Failed: failed,
		Presence: e.dyn[i].presence.At(e.now).State,
		Load:     e.dyn[i].load, Capacity: e.snap.rms[i].capacity,
	}
}

// role names RM i's relation to the client, "" for none.
func (e *evaluation) role(i int) Role {
	switch id := e.snap.rms[i].rm.ID; id {
	case e.ownID:
		return RoleOwnRM
	case e.deputyID:
		return RoleDeputy
	case e.lastID:
		return RoleLastRM
	}
	return ""
}

// closedTeams returns the teams the policy could reach, when every one of
// them is closed at now; nil when one is open or none is known.
func (e *evaluation) closedTeams(pl *plan) []conversation.TeamID {
	var teams []int
	add := func(ti int) {
		if !slices.Contains(teams, ti) {
			teams = append(teams, ti)
		}
	}
	for k, st := range e.pol.steps {
		if rm := pl.steps[k].rm; rm >= 0 {
			add(e.snap.rms[rm].team)
		}
		if st.kind == targetTeam {
			if ti, ok := e.snap.teamIdx[st.team]; ok {
				add(ti)
			}
		}
	}
	if e.pol.fallback == ActionOverflow {
		if ti, ok := e.snap.teamIdx[e.pol.overflow]; ok {
			add(ti)
		}
	}
	if e.pol.anyTeam {
		for ti := range e.snap.teams {
			add(ti)
		}
	}
	if len(teams) == 0 {
		return nil
	}
	slices.Sort(teams)
	out := make([]conversation.TeamID, 0, len(teams))
	for _, ti := range teams {
		if e.open(ti) {
			return nil
		}
		out = append(out, e.snap.teams[ti].team.ID)
	}
	return out
}

// markSeen marks RM i as a candidate already and reports whether it was.
func markSeen(seen []uint64, i int) bool {
	w, b := i/64, uint64(1)<<(i%64)
	was := seen[w]&b != 0
	seen[w] |= b
	return was
}
