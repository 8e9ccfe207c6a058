package sim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/routing"
)

// convState is where a simulated conversation stands.
type convState uint8

const (
	stateNew convState = iota
	stateWaiting
	stateOffered
	stateAnswered
	stateServed // released after wrap-up
	stateAbandoned
	stateFallback
	stateUnrouted
)

// simConv is one arrival as it goes through the queue.
type simConv struct {
	arr    *Arrival
	view   routing.ConversationView
	state  convState
	listed bool // in engine.waiting
	seq    int  // offers made; events carry it
	rm     int  // index of the RM offered or serving, -1 before
	cost   int
	offers int
	step   int
	role   routing.Role
	action routing.Action
	// nextStep is the step change an evStep is scheduled for.
	nextStep                       time.Time
	answeredAt, releasedAt, leftAt time.Time
}

// simRM is one RM's changing state.
type simRM struct {
	rm                   conversation.RM
	team                 int
	capacity             int
	load                 int
	idleSince, lastOffer time.Time
	missed               int
	away                 bool
	awaySince            time.Time
	awayTotal            time.Duration
	busy                 float64 // seconds served and wrapping up, weighted by cost/capacity
	answered             int
}

// lastServed is who served a customer last, and when that ended.
type lastServed struct {
	rm conversation.RMID
	at time.Time
}

// engine is one simulation run.
type engine struct {
	p       *routing.Policies
	opts    Options
	teams   []conversation.Team
	rms     []simRM
	rmIdx   map[conversation.RMID]int
	convs   []simConv
	byID    map[conversation.ConversationID]int
	waiting []int
	q       eventQueue
	hours   *openings
	cursors map[string]conversation.RMID
	last    map[conversation.CustomerID]lastServed
	rng     *rand.Rand
	now     time.Time
	dirty   bool
	rep     Report
	ended   int
	// bucket is the last 2% step reported, reported the count it was
	// reported with.
	bucket, reported int
	// buffers reused across evaluations
	views  []routing.ConversationView
	states []routing.RMState
}

// Run replays arrivals through the real routing code on a virtual clock
// and returns the report. teams and rms are the directory's (the ones p
// was compiled against); customers give own RM, deputy, verification and
// preferred language to arrivals that name one.
//
// Every RM is available while their team is open (routing's calendar),
// offline otherwise, and away for Options.AwayFor after missing
// MaxMissedOffers offers in a row. The engine is event-driven: it keeps a
// queue of events (arrivals, offer accepts and expiries, the end of
// service and of wrap-up, step changes from Decision.NextChange, patience
// running out, teams opening and closing, RMs coming back) and, after
// applying every event of an instant that can change a decision, builds a
// routing.Snapshot with routing.NewSnapshot and decides every waiting
// conversation with routing.Assign, committing each offer as the gateway
// would: the RM's load grows by the offer's cost (re-checked against their
// capacity), the round-robin cursor moves. An RM accepts after
// Options.AnswerDelay unless the offer is missed (Options.MissRate); a
// missed offer expires at its timeout, the RM joins the conversation's
// declined list and their missed-in-a-row count grows. After accepting,
// the RM serves for the arrival's HandleTime, then wraps up for
// Options.ACW; the conversation's cost is released when wrap-up ends. A
// client abandons when their patience runs out before an RM accepts (an
// offer in flight is withdrawn). A fallback decision (callback, voicemail,
// auto-reply, after hours or after the last step) ends the wait. The run
// ends when every conversation has ended or no event is left.
//
// Same input and options (Seed included) give the same report. Errors:
// ErrInvalidArrival for an arrival out of range, a duplicate id or an
// unknown customer (naming its line); ErrInvalidOptions; the error of
// routing.NewSnapshot for teams and RMs it refuses; ErrInvariant if the
// routing code offers an RM more than their capacity or offers one
// conversation twice.
func Run(p *routing.Policies, teams []conversation.Team, rms []conversation.RM, customers []conversation.Customer, arrivals []Arrival, opts Options) (Report, error) {
	opts, err := opts.resolved(teams, p.WrapUpTimeout())
	if err != nil {
		return Report{}, err
	}
	e := &engine{
		p: p, opts: opts, teams: teams,
		rmIdx:   make(map[conversation.RMID]int, len(rms)),
		byID:    make(map[conversation.ConversationID]int, len(arrivals)),
		cursors: map[string]conversation.RMID{},
		last:    map[conversation.CustomerID]lastServed{},
	}
	if opts.MissRate > 0 {
		e.rng = rand.New(rand.NewPCG(opts.Seed, 0x5a17b7a9c4e3d201))
	}
	if err := e.setup(rms, customers, arrivals); err != nil {
		return Report{}, err
	}
	if err := e.loop(); err != nil {
		return Report{}, err
	}
	return e.report(), nil
}

// setup indexes RMs, turns arrivals into conversations, samples team hours
// and schedules the arrivals and the teams' openings and closings.
func (e *engine) setup(rms []conversation.RM, customers []conversation.Customer, arrivals []Arrival) error {
	teamIdx := make(map[conversation.TeamID]int, len(e.teams))
	for i, t := range e.teams {
		teamIdx[t.ID] = i
	}
	for i, r := range rms {
		ti, ok := teamIdx[r.TeamID]
		if !ok {
			return fmt.Errorf("sim: rm %s: unknown team %q: %w", r.ID, r.TeamID, routing.ErrInvalidSnapshot)
		}
		e.rmIdx[r.ID] = i
		e.rms = append(e.rms, simRM{rm: r, team: ti, capacity: cmp.Or(max(r.Capacity, 0), routing.DefaultCapacity)})
	}
	custs := make(map[conversation.CustomerID]conversation.Customer, len(customers))
	for _, c := range customers {
		custs[c.ID] = c
	}
	order := make([]int, len(arrivals))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(arrivals[a].At, arrivals[b].At) })
	e.convs = make([]simConv, len(arrivals))
	var lastAt time.Duration
	for i := range arrivals {
		a := &arrivals[i]
		c, err := e.conversation(i, a, custs)
		if err != nil {
			return err
		}
		e.convs[i] = c
		lastAt = max(lastAt, a.At)
	}
	horizon := e.opts.Day.Add(lastAt + MaxDuration)
	h, err := newOpenings(e.p, e.teams, rms, e.opts.Day, horizon)
	if err != nil {
		return fmt.Errorf("sim: %w", err)
	}
	e.hours = h
	for ti := range e.teams {
		open := h.initial[ti]
		for _, f := range h.flips[ti] {
			open = !open
			e.q.push(event{at: f, kind: evHours, team: ti, open: open})
		}
	}
	for _, i := range order {
		e.q.push(event{at: e.convs[i].view.QueuedAt, kind: evArrival, conv: i})
	}
	e.rep.Day = e.opts.Day
	return nil
}

// conversation builds the view of arrival i with routing.ViewOf.
func (e *engine) conversation(i int, a *Arrival, custs map[conversation.CustomerID]conversation.Customer) (simConv, error) {
	where := fmt.Sprintf("arrival %d", i+1)
	if a.Line > 0 {
		where = fmt.Sprintf("line %d", a.Line)
	}
	if err := a.Validate(); err != nil {
		return simConv{}, fmt.Errorf("sim: %s: %w", where, err)
	}
	id := conversation.ConversationID(a.ID)
	if id == "" {
		id = conversation.ConversationID(fmt.Sprintf("arr-%06d", i+1))
	}
	if j, dup := e.byID[id]; dup {
		return simConv{}, fmt.Errorf("sim: %s: id: %q already used by arrival %d (allowed: unique ids): %w", where, id, j+1, ErrInvalidArrival)
	}
	e.byID[id] = i
	cust := conversation.Customer{Segment: a.Segment, Verification: conversation.VerificationBasic}
	if a.Customer != "" {
		found, ok := custs[a.Customer]
		if !ok {
			return simConv{}, fmt.Errorf("sim: %s: customer: %q is not in the directory (allowed: a customer id of the directory, or none): %w", where, a.Customer, ErrInvalidArrival)
		}
		cust = found
	}
	skills := make([]conversation.SkillRequirement, 0, len(a.Skills))
	for s, lvl := range a.Skills {
		skills = append(skills, conversation.SkillRequirement{Skill: s, MinLevel: lvl})
	}
	slices.SortFunc(skills, func(x, y conversation.SkillRequirement) int { return cmp.Compare(x.Skill, y.Skill) })
	conv := conversation.Conversation{
		ID: id, CustomerID: cust.ID, Segment: a.Segment, Channel: a.Channel, Language: a.Language,
		Intent: a.Intent, Skills: skills, QueuedAt: e.opts.Day.Add(a.At), Priority: a.Priority,
	}
	return simConv{arr: a, view: routing.ViewOf(conv, cust), rm: -1}, nil
}

// loop applies events instant by instant and decides after each instant
// that can change a decision.
func (e *engine) loop() error {
	for e.q.Len() > 0 && e.ended < len(e.convs) {
		e.now = e.q.peek()
		for e.q.Len() > 0 && e.q.peek().Equal(e.now) {
			e.apply(e.q.pop())
			e.rep.Events++
		}
		if e.dirty {
			e.dirty = false
			if err := e.evaluate(); err != nil {
				return err
			}
		}
	}
	e.rep.End = e.now
	if e.opts.Progress != nil && e.reported != e.ended {
		e.opts.Progress(e.ended, len(e.convs))
	}
	return nil
}

// rmStates returns every RM's state at now for a snapshot.
func (e *engine) rmStates() []routing.RMState {
	e.states = e.states[:0]
	for i := range e.rms {
		r := &e.rms[i]
		st := conversation.PresenceOffline
		reason := ""
		switch {
		case r.away:
			st, reason = conversation.PresenceAway, "not_responding"
		case e.hours.open(r.team, e.now):
			st = conversation.PresenceAvailable
		}
		e.states = append(e.states, routing.RMState{
			RM: r.rm, Presence: conversation.Presence{RMID: r.rm.ID, State: st, Reason: reason},
			Load: r.load, IdleSince: r.idleSince, LastOfferAt: r.lastOffer, MissedInRow: r.missed,
		})
	}
	return e.states
}

// evaluate decides every waiting conversation at now with routing.Assign
// and commits the decisions.
func (e *engine) evaluate() error {
	e.views = e.views[:0]
	e.waiting = slices.DeleteFunc(e.waiting, func(ci int) bool {
		c := &e.convs[ci]
		if c.state != stateWaiting {
			c.listed = false
			return true
		}
		e.views = append(e.views, c.view)
		return false
	})
	if len(e.views) == 0 {
		return nil
	}
	snap, err := routing.NewSnapshot(e.p, e.teams, e.rmStates(), e.cursors)
	if err != nil {
		return fmt.Errorf("sim: at %s: %w", e.clock(), err)
	}
	for _, d := range routing.Assign(e.p, snap, e.views, e.now) {
		ci := e.byID[d.ConversationID]
		c := &e.convs[ci]
		switch d.Outcome {
		case routing.OutcomeOffer:
			if err := e.offer(ci, d.Choice); err != nil {
				return err
			}
		case routing.OutcomeWait:
			if !d.NextChange.IsZero() && !d.NextChange.Equal(c.nextStep) {
				c.nextStep = d.NextChange
				e.q.push(event{at: d.NextChange, kind: evStep, conv: ci})
			}
		case routing.OutcomeFallback:
			c.state, c.action = stateFallback, d.Action
			e.end(c)
		default:
			c.state = stateUnrouted
			e.end(c)
		}
	}
	return nil
}

// offer commits an offer, re-checking what the decision assumed, and
// schedules the RM's answer.
func (e *engine) offer(ci int, ch *routing.Choice) error {
	c := &e.convs[ci]
	ri, ok := e.rmIdx[ch.RMID]
	if !ok {
		return fmt.Errorf("sim: at %s: %s offered to unknown rm %s: %w", e.clock(), c.view.ID, ch.RMID, ErrInvariant)
	}
	r := &e.rms[ri]
	if c.state != stateWaiting {
		return fmt.Errorf("sim: at %s: %s offered to %s while not waiting: %w", e.clock(), c.view.ID, ch.RMID, ErrInvariant)
	}
	if r.load+ch.Cost > r.capacity {
		return fmt.Errorf("sim: at %s: %s offered to %s at load %d+%d over capacity %d: %w", e.clock(), c.view.ID, ch.RMID, r.load, ch.Cost, r.capacity, ErrInvariant)
	}
	r.load += ch.Cost
	r.lastOffer = e.now
	e.cursors[ch.CursorKey] = ch.RMID
	c.state, c.rm, c.cost, c.step, c.role = stateOffered, ri, ch.Cost, ch.Step, ch.Role
	c.seq++
	c.offers++
	e.rep.Offers++
	miss := e.rng != nil && e.rng.Float64() < e.opts.MissRate
	if !miss && e.opts.AnswerDelay < ch.Timeout {
		e.q.push(event{at: e.now.Add(e.opts.AnswerDelay), kind: evAccept, conv: ci, seq: c.seq})
	} else {
		e.q.push(event{at: ch.ExpiresAt, kind: evExpire, conv: ci, seq: c.seq})
	}
	return nil
}

// clock formats now as an offset from the start of the day.
func (e *engine) clock() string { return formatOffset(e.now.Sub(e.opts.Day)) }
