package routing

import (
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// permanent are the filters a named RM cannot come to pass while the
// conversation waits; failing one (or being offline) skips a personal step.
const permanent = FilterSet(1<<FilterDeclined | 1<<FilterConflict | 1<<FilterSegmentGate |
	1<<FilterHours | 1<<FilterLanguage | 1<<FilterSkill | 1<<FilterLicence)

// plannedStep is one step of a policy laid out on the conversation's clock.
type plannedStep struct {
	start, end time.Time // end zero: never expires
	skipped    bool
	// rm is the named RM's index in the snapshot for a personal step, -1
	// when there is none; failed holds its filter outcomes.
	rm     int
	failed FilterSet
}

// plan is the step clock of one conversation under one policy.
type plan struct {
	steps []plannedStep
	// fallbackAt is when the last step expires and the fallback applies;
	// zero when the last step never expires.
	fallbackAt time.Time
}

// plan lays the policy's steps on the conversation's clock, from
// policyStart (QueuedAt, or the end of a transfer target, or a transfer
// back to the queue): each step starts when the previous one expires. A
// personal step (own RM, deputy, last RM) is skipped, taking no time, when
// its RM does not exist, is the RM of an earlier personal step, is offline,
// or fails a filter that cannot change while the conversation waits
// (declined, conflict, segment gate, hours, language, skill, licence): a
// client is not kept waiting for an RM who cannot take the conversation.
func (e *evaluation) plan() plan {
	t := e.policyStart()
	steps := e.pol.steps
	pl := plan{steps: make([]plannedStep, len(steps))}
	var named []int
	for k, st := range steps {
		ps := plannedStep{start: t, rm: -1}
		if st.kind.personal() {
			ps.rm = e.named(st.kind)
			switch {
			case ps.rm < 0, slices.Contains(named, ps.rm):
				ps.skipped = true
			default:
				named = append(named, ps.rm)
				ps.failed = e.check(ps.rm, true)
				ps.skipped = ps.failed&permanent != 0 || e.offline(ps.rm)
			}
		}
		switch {
		case ps.skipped:
			ps.end = t
		case st.expiry > 0:
			ps.end = t.Add(st.expiry)
		}
		pl.steps[k] = ps
		t = ps.end
	}
	if last := pl.steps[len(pl.steps)-1]; !last.end.IsZero() {
		pl.fallbackAt = last.end
	}
	return pl
}

// named returns the snapshot index of a personal step's RM, -1 if none.
func (e *evaluation) named(k targetKind) int {
	id := e.namedID(k)
	if id == "" {
		return -1
	}
	if i, ok := e.snap.byID[id]; ok {
		return i
	}
	return -1
}

// namedID resolves own RM, deputy and last RM for the conversation. The
// deputy is the client's, else the own RM's in the directory; the last RM
// counts when they served the client within LastRMWithin before QueuedAt.
func (e *evaluation) namedID(k targetKind) conversation.RMID {
	c := e.conv
	switch k {
	case targetOwnRM:
		return c.OwnRM
	case targetDeputy:
		if c.Deputy != "" {
			return c.Deputy
		}
		if i, ok := e.snap.byID[c.OwnRM]; ok {
			return e.snap.rms[i].rm.Deputy
		}
	case targetLastRM:
		back := c.QueuedAt
		if back.IsZero() {
			back = e.now
		}
		if c.LastRM != "" && !c.LastRMAt.IsZero() && back.Sub(c.LastRMAt) <= e.p.lastRMWithin {
			return c.LastRM
		}
	}
	return ""
}

// offline reports whether RM i is offline or their presence lease expired.
func (e *evaluation) offline(i int) bool {
	return e.dyn[i].presence.At(e.now).State == conversation.PresenceOffline
}

// active reports whether step k is active at now: started and not skipped,
// and in replace mode not yet expired.
func (pl *plan) active(k int, mode StepMode, now time.Time) bool {
	ps := pl.steps[k]
	if ps.skipped || now.Before(ps.start) {
		return false
	}
	if mode == ModeReplace && !ps.end.IsZero() && !now.Before(ps.end) {
		return false
	}
	return true
}

// expired reports whether every step has expired at now.
func (pl *plan) expired(now time.Time) bool {
	return !pl.fallbackAt.IsZero() && !now.Before(pl.fallbackAt)
}

// nextChange returns the first step start, step end or fallback time after
// now, zero if none.
func (pl *plan) nextChange(now time.Time) time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, ps := range pl.steps {
		if !ps.skipped {
			consider(ps.start)
			consider(ps.end)
		}
	}
	consider(pl.fallbackAt)
	return next
}
