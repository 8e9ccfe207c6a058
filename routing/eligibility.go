package routing

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Filter is one eligibility test a candidate RM must pass to be offered a
// conversation. Filters run in the order of their values, cheapest first.
type Filter uint8

// The eligibility filters.
const (
	// FilterPresence: the RM is available (presence lease in force) and has
	// not missed Policies.MaxMissedOffers offers in a row.
	FilterPresence Filter = iota
	// FilterCapacity: load + the channel's cost <= capacity, in cost units.
	FilterCapacity
	// FilterReserved: the RM is not reserved for another waiting
	// conversation earlier in the same Assign batch (see
	// ReservationConfig). Decide and Check see no reservations and never
	// fail it.
	FilterReserved
	// FilterDeclined: the RM has not declined or missed this conversation.
	FilterDeclined
	// FilterConflict: the (RM, customer) pair is not a conflict of interest.
	FilterConflict
	// FilterSegmentGate: a private-bank RM is never offered a prospect or a
	// client below PrivateGateConfig.MinVerification.
	FilterSegmentGate
	// FilterHours: the RM's team is open (hours in its time zone, holidays).
	FilterHours
	// FilterLanguage: the RM speaks the conversation's language, if any.
	FilterLanguage
	// FilterSkill: the RM has every required skill at its minimum level.
	FilterSkill
	// FilterLicence: the RM holds every licence the policy and the intent
	// require, in force at now.
	FilterLicence
)

// NumFilters is the number of filters.
const NumFilters = int(FilterLicence) + 1

var filterNames = [NumFilters]string{"presence", "capacity", "reserved", "declined", "conflict", "segment_gate", "hours", "language", "skill", "licence"}

// String returns the filter's name, e.g. "capacity".
func (f Filter) String() string {
	if int(f) < NumFilters {
		return filterNames[f]
	}
	return "unknown"
}

// Filters returns every filter in evaluation order.
func Filters() []Filter {
	out := make([]Filter, NumFilters)
	for i := range out {
		out[i] = Filter(i)
	}
	return out
}

// FilterSet is a set of filters, one bit per Filter.
type FilterSet uint16

// Has reports whether f is in the set.
func (s FilterSet) Has(f Filter) bool { return s&(1<<f) != 0 }

// List returns the filters in the set, in evaluation order.
func (s FilterSet) List() []Filter {
	var out []Filter
	for _, f := range Filters() {
		if s.Has(f) {
			out = append(out, f)
		}
	}
	return out
}

// String returns the names joined by ",", e.g. "presence,hours".
func (s FilterSet) String() string {
	names := make([]string, 0, NumFilters)
	for _, f := range s.List() {
		names = append(names, f.String())
	}
	return strings.Join(names, ",")
}

// MarshalJSON writes the set as a list of filter names.
func (s FilterSet) MarshalJSON() ([]byte, error) {
	names := make([]string, 0, NumFilters)
	for _, f := range s.List() {
		names = append(names, f.String())
	}
	return json.Marshal(names)
}

// evaluation is one conversation being decided against one snapshot.
type evaluation struct {
	p       *Policies
	pol     *Policy // nil when no policy matched
	snap    *Snapshot
	dyn     []rmDynamic
	cursors map[string]conversation.RMID
	conv    *ConversationView
	now     time.Time
	cost    int
	// reserved holds per RM the reservations made earlier in an Assign
	// batch (nil outside one); hold says whether the conversation may
	// reserve an RM (Assign only); heldRM is the best RM to reserve found
	// so far, when held.
	reserved []heldBy
	// topN is how many RMs the conversation is offered to at once; when it
	// is over 1, top keeps the best topN eligible RMs, best first.
	topN   int
	top    []ranked
	buf    CandidateBuffer // where full records' candidates go; nil: allocated
	hold   hold
	heldRM holdRank
	held   bool
	gated  bool // the private-bank gate bars this client
	// tr is the conversation's transfer target under the matched policy,
	// nil when it has none.
	tr       *TransferRecord
	licences []string
	conflict []conversation.RMID
	teamOpen []int8 // per team: 0 not yet known, 1 open, 2 closed
	machine  *vm.VM
	// ownID, deputyID and lastID are the client's named RMs ("" for none);
	// an empty conversation.RMID never matches a snapshot RM.
	ownID, deputyID, lastID conversation.RMID
}

// newEvaluation prepares the per-conversation facts every candidate is
// checked against.
func newEvaluation(p *Policies, snap *Snapshot, dyn []rmDynamic, cursors map[string]conversation.RMID, conv *ConversationView, now time.Time) *evaluation {
	e := &evaluation{
		p: p, snap: snap, dyn: dyn, cursors: cursors, conv: conv, now: now,
		cost:     p.Cost(conv.Channel),
		gated:    conv.Prospect || conv.Verification.Rank() < p.minVerify,
		conflict: p.conflicts[conv.CustomerID],
		teamOpen: make([]int8, len(snap.teams)),
		machine:  &vm.VM{},
	}
	e.licences = p.intentLicences[conv.Intent]
	e.ownID = conv.OwnRM
	e.deputyID = e.namedID(targetDeputy)
	e.lastID = e.namedID(targetLastRM)
	return e
}

// usePolicy sets the matched policy and adds its licences.
func (e *evaluation) usePolicy(pol *Policy) {
	e.pol = pol
	if len(pol.licences) > 0 {
		e.licences = append(slices.Clip(e.licences), pol.licences...)
	}
}

// bit is the FilterSet of one filter.
func bit(f Filter) FilterSet { return 1 << f }

// check runs the filters on RM i and returns those it fails. With all
// false it stops at the first failure (compact record mode), except that a
// conversation that may reserve an RM goes on past a capacity failure,
// to the next failure if any, when the RM would be reserved over the best
// found so far.
func (e *evaluation) check(i int, all bool) FilterSet {
	r, d, c := &e.snap.rms[i], &e.dyn[i], e.conv
	var failed FilterSet
	if !e.available(d) {
		if failed |= bit(FilterPresence); !all {
			return failed
		}
	}
	if d.load+e.cost > r.capacity {
		// A conversation that may reserve an RM goes on, to learn whether
		// capacity is all this RM fails, when they would be reserved over
		// the best found so far.
		if failed |= bit(FilterCapacity); !all && (!e.hold.probe() || !e.improvesHold(i)) {
			return failed
		}
	}
	if e.reservedElsewhere(i) {
		if failed |= bit(FilterReserved); !all {
			return failed
		}
	}
	if slices.Contains(c.Declined, r.rm.ID) {
		if failed |= bit(FilterDeclined); !all {
			return failed
		}
	}
	if slices.Contains(e.conflict, r.rm.ID) {
		if failed |= bit(FilterConflict); !all {
			return failed
		}
	}
	if r.private && e.gated {
		if failed |= bit(FilterSegmentGate); !all {
			return failed
		}
	}
	if !e.open(r.team) {
		if failed |= bit(FilterHours); !all {
			return failed
		}
	}
	if c.Language != "" && !slices.Contains(r.rm.Languages, c.Language) {
		if failed |= bit(FilterLanguage); !all {
			return failed
		}
	}
	for _, s := range c.Skills {
		if r.rm.Skills[s.Skill] < s.MinLevel {
			if failed |= bit(FilterSkill); !all {
				return failed
			}
			break
		}
	}
	for _, l := range e.licences {
		if !r.rm.HasLicence(l, e.now) {
			if failed |= bit(FilterLicence); !all {
				return failed
			}
			break
		}
	}
	return failed
}

// available reports whether the RM's presence is available, its lease in
// force, and the RM is not set aside for missing offers.
func (e *evaluation) available(d *rmDynamic) bool {
	p := d.presence
	return p.State == conversation.PresenceAvailable &&
		(p.ExpiresAt.IsZero() || e.now.Before(p.ExpiresAt)) &&
		!e.p.NotResponding(d.missed)
}

// open reports whether team ti is open at now, memoised per evaluation.
func (e *evaluation) open(ti int) bool {
	switch e.teamOpen[ti] {
	case 1:
		return true
	case 2:
		return false
	}
	open := e.snap.teams[ti].cal.open(e.now)
	e.teamOpen[ti] = 2
	if open {
		e.teamOpen[ti] = 1
	}
	return open
}

// matches reports whether RM i satisfies an RM expression, from the
// snapshot's cache when it was built for these Policies.
func (e *evaluation) matches(x *rmExpr, i int) bool {
	if e.snap.exprs == e.p.exprs && e.snap.exprHit != nil {
		return e.snap.exprHit[x.index][i]
	}
	return x.eval(e.machine, &e.snap.rms[i].env)
}

// Check runs every filter for one RM on conversation conv at now, as Decide
// would: with the cost of conv's channel and the licences of the first
// matching policy and of conv's intent. It serves transfers to a named RM
// and escalations (pass a snapshot whose load for the RM no longer counts
// the conversation's old channel). It returns false when the RM is not in
// the snapshot. The candidate's Step is 0 and its Note explains failures.
// Like Decide, Check sees the snapshot alone: it knows nothing of the RMs
// an Assign batch reserves for waiting calls, and never fails
// FilterReserved.
func Check(p *Policies, snap *Snapshot, conv ConversationView, id conversation.RMID, now time.Time) (Candidate, bool) {
	i, ok := snap.byID[id]
	if !ok {
		return Candidate{}, false
	}
	e := newEvaluation(p, snap, snap.dyn, snap.cursors, &conv, now)
	if pol, _ := e.selectPolicy(); pol != nil {
		e.usePolicy(pol)
	}
	c := e.candidate(i, 0, e.role(i), e.check(i, true))
	c.Note = e.note(i, c.Failed)
	return c, true
}
