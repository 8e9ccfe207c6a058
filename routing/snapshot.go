package routing

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/airbranch/airbranch/channels/conversation"
)

// RMState is one RM as routing sees them at one moment: who they are (from
// the directory) and where they stand (from the store).
type RMState struct {
	RM       conversation.RM       `json:"rm"`
	Presence conversation.Presence `json:"presence"`
	// Load is the cost of the RM's offered and active conversations, in
	// cost units; an RM is never offered more than Capacity (RM.Capacity,
	// DefaultCapacity when zero).
	Load int `json:"load"`
	// IdleSince is when the RM last became free (end of their last
	// conversation or wrap-up); LastOfferAt is their last offer. Longest
	// idle counts from the later of the two; zero times count as long ago.
	IdleSince   time.Time `json:"idle_since,omitzero"`
	LastOfferAt time.Time `json:"last_offer_at,omitzero"`
	// MissedInRow counts offers missed in a row; at
	// Policies.MaxMissedOffers the RM is not offered anything more.
	MissedInRow int `json:"missed_in_row,omitempty"`
}

// rmStatic is what a Snapshot indexes of an RM's directory record.
type rmStatic struct {
	rm       conversation.RM
	team     int // index into Snapshot.teams, -1 when unknown
	private  bool
	capacity int
	env      rmEnv
}

// rmDynamic is an RM's changing state; Assign works on a copy of it.
type rmDynamic struct {
	presence   conversation.Presence
	load       int
	idleSince  time.Time
	lastOffer  time.Time
	lastActive time.Time // the later of idleSince and lastOffer
	missed     int
}

// teamEntry is a team with its parsed calendar.
type teamEntry struct {
	team conversation.Team
	cal  *calendar
}

// Snapshot is the state a decision is made on: the RMs (directory record,
// presence, load, idle and offer times, missed offers), the teams (hours,
// time zone, holidays) and the round-robin cursors, indexed for Decide.
// It is immutable and safe for concurrent use. Build it with NewSnapshot.
type Snapshot struct {
	rms     []rmStatic // sorted by RM id
	dyn     []rmDynamic
	byID    map[conversation.RMID]int
	teams   []teamEntry // sorted by team id
	teamIdx map[conversation.TeamID]int
	members [][]int // per team: RM indexes, by RM id
	cursors map[string]conversation.RMID
	// exprs and exprHit cache, per RM, the RM expressions of the Policies
	// the snapshot was built for: exprHit[expr.index][rm index].
	exprs   *exprSet
	exprHit [][]bool
}

// NewSnapshot indexes teams and RMs for Decide, Assign and Check. p, when
// not nil, is the Policies the snapshot will be used with: their RM
// expressions are evaluated once per RM here rather than per decision.
// cursors maps a round-robin key (a policy id, see Choice.CursorKey) to the
// RM last chosen. It reports every problem joined, each wrapping
// ErrInvalidSnapshot: duplicate teams or RMs, an RM in an unknown team, a
// negative load, a team calendar that does not parse. It reuses the time
// zones p's Compile loaded, reads any other with time.LoadLocation, and
// does no other I/O.
func NewSnapshot(p *Policies, teams []conversation.Team, rms []RMState, cursors map[string]conversation.RMID) (*Snapshot, error) {
	s := &Snapshot{
		byID:    make(map[conversation.RMID]int, len(rms)),
		teamIdx: make(map[conversation.TeamID]int, len(teams)),
		cursors: maps.Clone(cursors),
	}
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("snapshot: %s: %w", fmt.Sprintf(format, args...), ErrInvalidSnapshot))
	}
	sortedTeams := slices.SortedFunc(slices.Values(teams), func(a, b conversation.Team) int { return cmp.Compare(a.ID, b.ID) })
	for _, t := range sortedTeams {
		if _, dup := s.teamIdx[t.ID]; dup {
			bad("team %s defined twice", t.ID)
			continue
		}
		var zones map[string]*time.Location
		if p != nil {
			zones = p.zones
		}
		cal, err := newCalendar(t, zones)
		if err != nil {
			bad("team %s: %v", t.ID, err)
			continue
		}
		s.teamIdx[t.ID] = len(s.teams)
		s.teams = append(s.teams, teamEntry{team: t, cal: cal})
	}
	s.members = make([][]int, len(s.teams))
	s.rms = make([]rmStatic, 0, len(rms))
	s.dyn = make([]rmDynamic, 0, len(rms))
	order := make([]int, len(rms))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(rms[a].RM.ID, rms[b].RM.ID) })
	for _, k := range order {
		st := &rms[k]
		r := st.RM
		if _, dup := s.byID[r.ID]; dup {
			bad("rm %s defined twice", r.ID)
			continue
		}
		ti, ok := s.teamIdx[r.TeamID]
		if !ok {
			bad("rm %s: unknown team %q", r.ID, r.TeamID)
			continue
		}
		if st.Load < 0 {
			bad("rm %s: load %d (allowed: 0 or more cost units)", r.ID, st.Load)
			continue
		}
		capacity := r.Capacity
		if capacity <= 0 {
			capacity = DefaultCapacity
		}
		team := s.teams[ti].team
		idx := len(s.rms)
		s.byID[r.ID] = idx
		s.members[ti] = append(s.members[ti], idx)
		s.rms = append(s.rms, rmStatic{
			rm: r, team: ti, private: team.Segment == conversation.SegmentPrivate, capacity: capacity,
			env: rmEnv{RM: &rmAttrs{
				ID: string(r.ID), Team: string(r.TeamID), Segment: string(team.Segment), Group: string(r.Group),
				Languages: r.Languages, Skills: r.Skills, Capacity: capacity,
			}},
		})
		s.dyn = append(s.dyn, rmDynamic{
			presence: st.Presence, load: st.Load, idleSince: st.IdleSince, lastOffer: st.LastOfferAt,
			lastActive: later(st.IdleSince, st.LastOfferAt), missed: st.MissedInRow,
		})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if p != nil {
		s.cacheExprs(p)
	}
	return s, nil
}

// cacheExprs evaluates every RM expression of p for every RM (only the
// team's RMs for an expression narrowing a team).
func (s *Snapshot) cacheExprs(p *Policies) {
	s.exprs = p.exprs
	s.exprHit = make([][]bool, len(p.exprs.list))
	var machine vm.VM
	for _, e := range p.exprs.list {
		hits := make([]bool, len(s.rms))
		idx := make([]int, 0, len(s.rms))
		if ti, ok := s.teamIdx[e.team]; ok && e.team != "" {
			idx = append(idx, s.members[ti]...)
		} else if e.team == "" {
			for i := range s.rms {
				idx = append(idx, i)
			}
		}
		for _, i := range idx {
			hits[i] = e.eval(&machine, &s.rms[i].env)
		}
		s.exprHit[e.index] = hits
	}
}

// RM returns the state of the RM with id.
func (s *Snapshot) RM(id conversation.RMID) (RMState, bool) {
	i, ok := s.byID[id]
	if !ok {
		return RMState{}, false
	}
	d := s.dyn[i]
	return RMState{
		RM: s.rms[i].rm, Presence: d.presence, Load: d.load,
		IdleSince: d.idleSince, LastOfferAt: d.lastOffer, MissedInRow: d.missed,
	}, true
}

// Len returns the number of RMs.
func (s *Snapshot) Len() int { return len(s.rms) }

// Cursor returns the RM last chosen under round-robin key, "" if none.
func (s *Snapshot) Cursor(key string) conversation.RMID { return s.cursors[key] }

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
