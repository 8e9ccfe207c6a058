package sim

import (
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/routing"
)

// openings is when each team is open between the start of the day and a
// horizon, learnt from routing itself: routing.Check's hours filter is
// sampled at every minute (team hours are written to the minute, and time
// zone offsets are whole minutes), so the simulation and the decisions it
// drives agree on the calendar.
type openings struct {
	day time.Time
	// flips holds, per team, the times its state changes, ascending;
	// initial is the state at day. A team without RMs is never open here
	// (nobody is there to be available).
	flips   [][]time.Time
	initial []bool
}

// probeID names the conversation used to sample team hours.
const probeID conversation.ConversationID = "sim-hours-probe"

// newOpenings samples every team with at least one RM from day to horizon.
func newOpenings(p *routing.Policies, teams []conversation.Team, rms []conversation.RM, day, horizon time.Time) (*openings, error) {
	o := &openings{day: day, flips: make([][]time.Time, len(teams)), initial: make([]bool, len(teams))}
	states := make([]routing.RMState, len(rms))
	for i, r := range rms {
		states[i] = routing.RMState{RM: r, Presence: conversation.Presence{RMID: r.ID, State: conversation.PresenceAvailable}}
	}
	snap, err := routing.NewSnapshot(p, teams, states, nil)
	if err != nil {
		return nil, err
	}
	for ti, t := range teams {
		k := slices.IndexFunc(rms, func(r conversation.RM) bool { return r.TeamID == t.ID })
		if k < 0 {
			continue
		}
		seg := t.Segment
		if seg == "" {
			seg = conversation.SegmentMass
		}
		probe := routing.ConversationView{
			ID: probeID, Segment: seg, Channel: conversation.ChannelWebChat,
			Verification: conversation.VerificationStrong,
		}
		open := func(at time.Time) bool {
			probe.QueuedAt = at
			c, _ := routing.Check(p, snap, probe, rms[k].ID, at)
			return !c.Failed.Has(routing.FilterHours)
		}
		state := open(day)
		o.initial[ti] = state
		for at := day.Add(time.Minute); !at.After(horizon); at = at.Add(time.Minute) {
			if now := open(at); now != state {
				o.flips[ti] = append(o.flips[ti], at)
				state = now
			}
		}
	}
	return o, nil
}

// open reports whether team ti is open at t.
func (o *openings) open(ti int, t time.Time) bool {
	n, _ := slices.BinarySearchFunc(o.flips[ti], t, func(f, t time.Time) int { return f.Compare(t) })
	// n flips happened strictly before t; a flip at t counts too.
	if n < len(o.flips[ti]) && o.flips[ti][n].Equal(t) {
		n++
	}
	return o.initial[ti] != (n%2 == 1)
}

// openTime returns how long team ti is open between the day's start and end.
func (o *openings) openTime(ti int, end time.Time) time.Duration {
	var total time.Duration
	from, state := o.day, o.initial[ti]
	for _, f := range o.flips[ti] {
		if !f.Before(end) {
			break
		}
		if state {
			total += f.Sub(from)
		}
		from, state = f, !state
	}
	if state && end.After(from) {
		total += end.Sub(from)
	}
	return total
}
