package sim

import (
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/routing"
)

// Result is how a simulated conversation ended.
type Result string

// Results.
const (
	// ResultAnswered: an RM accepted it (and served it to the end).
	ResultAnswered Result = "answered"
	// ResultAbandoned: the client's patience ran out before an RM accepted.
	ResultAbandoned Result = "abandoned"
	// ResultFallback: routing ended the wait with a callback, voicemail or
	// auto-reply (after hours, or after the last step).
	ResultFallback Result = "fallback"
	// ResultUnrouted: no policy's When matched the conversation.
	ResultUnrouted Result = "unrouted"
	// ResultWaiting: still queued when the run ended (no event left that
	// could serve it, e.g. infinite patience and no team to open).
	ResultWaiting Result = "waiting"
)

// Outcome is the end of one simulated conversation.
type Outcome struct {
	ID      conversation.ConversationID
	Segment conversation.Segment
	Channel conversation.Channel
	Result  Result
	// QueuedAt is when it arrived; AnsweredAt when an RM accepted (zero
	// unless answered); LeftAt when it ended: wrap-up over for an answered
	// one, patience out, fallback (zero while waiting).
	QueuedAt, AnsweredAt, LeftAt time.Time
	// Wait is the time to answer (answered) or to leave (abandoned,
	// fallback); 0 while waiting.
	Wait time.Duration
	// RM, Team, Step and Role: who answered, found at which step (from 1;
	// one past the last for the overflow pool) and as whose RM.
	RM   conversation.RMID
	Team conversation.TeamID
	Step int
	Role routing.Role
	// Cost is the capacity the conversation took, in cost units.
	Cost int
	// Action is the fallback action, for ResultFallback.
	Action routing.Action
	// Offers counts the offers made (missed ones included).
	Offers int
}

// SegmentStats is the service of one segment (or of all, in Report.Total).
// Offered counts the conversations that entered the queue (the contact
// centre's "offered" calls, not offers to RMs); every one of them ends in
// exactly one of Answered, Abandoned, Fallback, Unrouted or Waiting.
type SegmentStats struct {
	// Segment is "" in Report.Total.
	Segment conversation.Segment
	// Offered counts arrivals; the others how they ended.
	Offered, Answered, Abandoned, Fallback, Unrouted, Waiting int
	// AnsweredInTarget counts answered conversations whose Wait was at
	// most the segment's wait budget (Target; each conversation's own
	// segment's in Report.Total).
	AnsweredInTarget int
	// Target and TargetPercent are the segment's wait budget
	// (routing.WaitBudget); zero when it has none, and in Report.Total.
	Target        time.Duration
	TargetPercent int
	// SLA is the service level, in percent: 100 × AnsweredInTarget /
	// Offered, that is answered within the wait budget over every
	// conversation that entered the queue, abandoned, fallen back,
	// unrouted and still waiting ones included (no short-abandon
	// exclusion). 0 when nothing was offered.
	SLA float64
	// ASA is the average speed of answer: the mean Wait of answered
	// conversations, from queued to accepted (answer delay included).
	ASA time.Duration
	// AHT is the average handle time of answered conversations: handle
	// time plus wrap-up, from accepted to capacity released.
	AHT time.Duration
	// AbandonRate is 100 × Abandoned / Offered, in percent.
	AbandonRate float64
}

// TeamStats is one team's work.
type TeamStats struct {
	Team conversation.TeamID
	RMs  int
	// Answered counts the conversations the team's RMs served.
	Answered int
	// Busy is the time the team's RMs spent serving and wrapping up, each
	// conversation weighted by its cost over the RM's capacity (a chat at
	// 25 of 100 for 8 minutes counts 2 minutes).
	Busy time.Duration
	// Available is the time the team's RMs were available: the team's
	// open hours between Report.Day and Report.End, per RM, less the time
	// they were set away for missed offers.
	Available time.Duration
	// Occupancy is 100 × Busy / Available, in percent (0 when Available
	// is 0); work that runs past closing time counts in Busy only.
	Occupancy float64
}

// Report is the result of a run.
type Report struct {
	// Day is the start of the simulated day; End the time of the last
	// event applied.
	Day, End time.Time
	// Segments holds one entry per segment that had arrivals, in the order
	// of conversation.Segments; Total sums them.
	Segments []SegmentStats
	Total    SegmentStats
	// Teams holds one entry per team with RMs, by team id as given.
	Teams []TeamStats
	// Offers counts offers made to RMs; MissedOffers those that expired;
	// NotResponding how often an RM was set away for missing offers.
	Offers, MissedOffers, NotResponding int
	// Events counts the events applied.
	Events int
	// Conversations holds every arrival's outcome, in input order.
	Conversations []Outcome
}

// report builds the Report from the engine's state.
func (e *engine) report() Report {
	rep := e.rep
	bySeg := map[conversation.Segment]*SegmentStats{}
	var asa, aht = map[conversation.Segment]time.Duration{}, map[conversation.Segment]time.Duration{}
	rep.Conversations = make([]Outcome, len(e.convs))
	for i := range e.convs {
		c := &e.convs[i]
		o := e.outcome(c)
		rep.Conversations[i] = o
		s := bySeg[o.Segment]
		if s == nil {
			s = &SegmentStats{Segment: o.Segment}
			if b, ok := e.p.WaitBudget(o.Segment); ok {
				s.Target, s.TargetPercent = b.Within, b.Percent
			}
			bySeg[o.Segment] = s
		}
		s.Offered++
		switch o.Result {
		case ResultAnswered:
			s.Answered++
			asa[o.Segment] += o.Wait
			aht[o.Segment] += o.LeftAt.Sub(o.AnsweredAt)
			if s.Target > 0 && o.Wait <= s.Target {
				s.AnsweredInTarget++
			}
		case ResultAbandoned:
			s.Abandoned++
		case ResultFallback:
			s.Fallback++
		case ResultUnrouted:
			s.Unrouted++
		default:
			s.Waiting++
		}
	}
	var totalASA, totalAHT time.Duration
	for _, seg := range conversation.Segments {
		s := bySeg[seg]
		if s == nil {
			continue
		}
		finish(s, asa[seg], aht[seg])
		rep.Segments = append(rep.Segments, *s)
		t := &rep.Total
		t.Offered += s.Offered
		t.Answered += s.Answered
		t.Abandoned += s.Abandoned
		t.Fallback += s.Fallback
		t.Unrouted += s.Unrouted
		t.Waiting += s.Waiting
		t.AnsweredInTarget += s.AnsweredInTarget
		totalASA += asa[seg]
		totalAHT += aht[seg]
	}
	finish(&rep.Total, totalASA, totalAHT)
	rep.Teams = e.teamStats()
	return rep
}

// finish computes the rates and means of s from its counts and the sums of
// waits and handle times of its answered conversations.
func finish(s *SegmentStats, waits, handles time.Duration) {
	if s.Offered > 0 {
		s.SLA = 100 * float64(s.AnsweredInTarget) / float64(s.Offered)
		s.AbandonRate = 100 * float64(s.Abandoned) / float64(s.Offered)
	}
	if s.Answered > 0 {
		n := time.Duration(s.Answered)
		s.ASA = (waits / n).Round(time.Millisecond)
		s.AHT = (handles / n).Round(time.Millisecond)
	}
}

// outcome describes how conversation c ended.
func (e *engine) outcome(c *simConv) Outcome {
	o := Outcome{
		ID: c.view.ID, Segment: c.view.Segment, Channel: c.view.Channel, QueuedAt: c.view.QueuedAt,
		Offers: c.offers, Action: c.action,
	}
	switch c.state {
	case stateServed, stateAnswered:
		o.Result, o.AnsweredAt, o.LeftAt = ResultAnswered, c.answeredAt, c.releasedAt
		o.Wait = c.answeredAt.Sub(c.view.QueuedAt)
		r := &e.rms[c.rm]
		o.RM, o.Team, o.Step, o.Role, o.Cost = r.rm.ID, r.rm.TeamID, c.step, c.role, c.cost
	case stateAbandoned:
		o.Result, o.LeftAt, o.Wait = ResultAbandoned, c.leftAt, c.leftAt.Sub(c.view.QueuedAt)
	case stateFallback:
		o.Result, o.LeftAt, o.Wait = ResultFallback, c.leftAt, c.leftAt.Sub(c.view.QueuedAt)
	case stateUnrouted:
		o.Result, o.LeftAt = ResultUnrouted, c.leftAt
	default:
		o.Result = ResultWaiting
	}
	return o
}

// teamStats sums each team's work and availability.
func (e *engine) teamStats() []TeamStats {
	out := make([]TeamStats, 0, len(e.teams))
	for ti, t := range e.teams {
		ts := TeamStats{Team: t.ID}
		open := e.hours.openTime(ti, e.rep.End)
		var busy float64
		for i := range e.rms {
			r := &e.rms[i]
			if r.team != ti {
				continue
			}
			ts.RMs++
			ts.Answered += r.answered
			busy += r.busy
			away := r.awayTotal
			if r.away {
				away += e.rep.End.Sub(r.awaySince)
			}
			ts.Available += max(0, open-away)
		}
		if ts.RMs == 0 {
			continue
		}
		ts.Busy = time.Duration(busy * float64(time.Second)).Round(time.Millisecond)
		if ts.Available > 0 {
			ts.Occupancy = 100 * ts.Busy.Seconds() / ts.Available.Seconds()
		}
		out = append(out, ts)
	}
	slices.SortStableFunc(out, func(a, b TeamStats) int {
		switch {
		case a.Team < b.Team:
			return -1
		case a.Team > b.Team:
			return 1
		}
		return 0
	})
	return out
}
