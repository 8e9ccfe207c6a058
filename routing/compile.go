package routing

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// dispositionPattern is the format of a wrap-up code: a lowercase word,
// optionally "kind:detail".
var dispositionPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(:[a-z0-9][a-z0-9_]*)?$`)

// policyIDPattern is the format of a policy id.
var policyIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// compiler collects every problem of one Compile call.
type compiler struct {
	errs     []error
	facts    exprFacts
	rms      map[conversation.RMID]conversation.RM
	licences map[string]bool
}

// bad records one problem at where ("costs.voice", `policy "mass" step 2`).
func (c *compiler) bad(where, format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf("%s: %s: %w", where, fmt.Sprintf(format, args...), ErrInvalidConfig))
}

// Compile checks cfg against the directory's teams and RMs, applies the
// defaults of DefaultConfig to zero fields, compiles every expression with
// expr-lang and returns the Policies. It reports every problem at once
// (errors.Join), each wrapping ErrInvalidConfig and naming its place (the
// setting, or the policy id and step number from 1) and what is allowed:
// an expression that does not compile or does not return bool, an unknown
// team, skill, licence or RM, a segment, channel or verification literal
// that never matches, a cost outside 1..100, a duration out of range, a
// malformed or duplicate disposition, a bad team calendar, a cycle of
// deputies. Compile reads time zone data (time.LoadLocation) to check team
// calendars; it does no other I/O.
func Compile(cfg Config, teams []conversation.Team, rms []conversation.RM) (*Policies, error) {
	cfg = cfg.withDefaults()
	c := &compiler{
		facts:    exprFacts{skills: map[string]bool{}, teams: map[conversation.TeamID]bool{}},
		rms:      make(map[conversation.RMID]conversation.RM, len(rms)),
		licences: map[string]bool{},
	}
	p := &Policies{exprs: &exprSet{}, zones: map[string]*time.Location{}}
	c.directory(teams, rms, p.zones)
	c.settings(cfg, p)
	seen := map[string]bool{}
	for i, pc := range cfg.Policies {
		pol := c.policy(i, pc, cfg, p.exprs)
		if pol == nil {
			continue
		}
		if seen[pol.ID] {
			c.bad(fmt.Sprintf("policy %q", pol.ID), "defined twice (policy ids must be unique)")
		}
		seen[pol.ID] = true
		p.list = append(p.list, pol)
	}
	if len(cfg.Policies) == 0 {
		c.bad("policies", "none configured (at least one policy is required; use when: \"true\" for a catch-all)")
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	return p, nil
}

// directory learns the known teams, skills, licences and RMs, and checks
// team calendars, skill levels, capacities and deputy chains.
func (c *compiler) directory(teams []conversation.Team, rms []conversation.RM, zones map[string]*time.Location) {
	for _, t := range teams {
		c.facts.teams[t.ID] = true
		cal, err := newCalendar(t, nil)
		if err != nil {
			c.bad(fmt.Sprintf("team %s", t.ID), "%v", err)
			continue
		}
		zones[cal.loc.String()] = cal.loc
	}
	for _, r := range rms {
		c.rms[r.ID] = r
		for s, lvl := range r.Skills {
			c.facts.skills[s] = true
			if lvl < 1 || lvl > 5 {
				c.bad(fmt.Sprintf("rm %s skill %s", r.ID, s), "proficiency %d (allowed: 1..5)", lvl)
			}
		}
		for _, l := range r.Licences {
			c.licences[l.Name] = true
		}
		if r.Capacity < 0 {
			c.bad(fmt.Sprintf("rm %s", r.ID), "capacity %d (allowed: 0 for the default %d, or a positive number of cost units)", r.Capacity, DefaultCapacity)
		}
	}
	c.deputyCycles(rms)
}

// deputyCycles reports every cycle of deputies once, from its smallest RM
// id: a chain of deputies must end at an RM without one.
func (c *compiler) deputyCycles(rms []conversation.RM) {
	reported := map[conversation.RMID]bool{}
	for _, start := range rms {
		var path []conversation.RMID
		at := start.ID
		for at != "" && !slices.Contains(path, at) {
			path = append(path, at)
			at = c.rms[at].Deputy
		}
		if at == "" {
			continue
		}
		cycle := path[slices.Index(path, at):]
		if reported[slices.Min(cycle)] {
			continue
		}
		reported[slices.Min(cycle)] = true
		pivot := slices.Index(cycle, slices.Min(cycle))
		cycle = append(slices.Clone(cycle[pivot:]), cycle[:pivot]...)
		names := make([]string, 0, len(cycle)+1)
		for _, id := range append(cycle, cycle[0]) {
			names = append(names, string(id))
		}
		c.bad(fmt.Sprintf("rm %s", cycle[0]), "deputy cycle %s (a chain of deputies must end at an RM without a deputy)", strings.Join(names, " → "))
	}
}

// settings checks and copies everything but the policies.
func (c *compiler) settings(cfg Config, p *Policies) {
	p.costs = map[conversation.Channel]int{}
	for _, ch := range slices.Sorted(maps.Keys(cfg.Costs)) {
		v := cfg.Costs[ch]
		switch {
		case !ch.Valid():
			c.bad("costs", "unknown channel %q (allowed: %v)", ch, conversation.Channels)
		case v < 1 || v > DefaultCapacity:
			c.bad("costs."+string(ch), "%d cost units (allowed: 1..100)", v)
		default:
			p.costs[ch] = v
		}
	}
	p.timeouts = map[conversation.Channel]time.Duration{}
	for _, key := range slices.Sorted(maps.Keys(cfg.OfferTimeouts)) {
		d := cfg.OfferTimeouts[key]
		if key != TimeoutChat && !conversation.Channel(key).Valid() {
			c.bad("offer_timeouts", "unknown key %q (allowed: %v or %q for every messaging channel)", key, conversation.Channels, TimeoutChat)
			continue
		}
		c.duration("offer_timeouts."+key, d, time.Second, 10*time.Minute)
	}
	for _, ch := range conversation.Channels {
		d, ok := cfg.OfferTimeouts[string(ch)]
		if !ok && ch.Messaging() {
			d = cfg.OfferTimeouts[TimeoutChat]
		}
		p.timeouts[ch] = d
	}
	c.simultaneous(cfg, p)
	if cfg.MaxMissedOffers < 1 || cfg.MaxMissedOffers > 20 {
		c.bad("max_missed_offers", "%d (allowed: 1..20)", cfg.MaxMissedOffers)
	}
	p.maxMissed = cfg.MaxMissedOffers
	c.duration("wrap_up.timeout", cfg.WrapUp.Timeout, 10*time.Second, time.Hour)
	p.wrapUpTimeout = cfg.WrapUp.Timeout
	if len(cfg.WrapUp.Dispositions) == 0 {
		c.bad("wrap_up.dispositions", "empty (at least one disposition, e.g. resolved)")
	}
	for i, d := range cfg.WrapUp.Dispositions {
		if !dispositionPattern.MatchString(d) {
			c.bad(fmt.Sprintf("wrap_up.dispositions[%d]", i), "%q is not a disposition (allowed: a lowercase word of a-z, 0-9, _, optionally kind:detail such as lead:mortgage)", d)
		} else if slices.Contains(cfg.WrapUp.Dispositions[:i], d) {
			c.bad(fmt.Sprintf("wrap_up.dispositions[%d]", i), "%q listed twice", d)
		}
	}
	p.dispositions = slices.Clone(cfg.WrapUp.Dispositions)
	c.segments(cfg, p)
	c.duration("last_rm_within", cfg.LastRMWithin, time.Minute, 30*24*time.Hour)
	p.lastRMWithin = cfg.LastRMWithin
	c.duration("transfer_timeout", cfg.TransferTimeout, time.Second, time.Hour)
	p.transferTimeout = cfg.TransferTimeout
	if !cfg.PrivateGate.MinVerification.Valid() {
		c.bad("private_gate.min_verification", "%q (allowed: %v)", cfg.PrivateGate.MinVerification, conversation.Verifications)
	}
	p.minVerify = cfg.PrivateGate.MinVerification.Rank()
	p.intentLicences = map[string][]string{}
	for _, intent := range slices.Sorted(maps.Keys(cfg.IntentLicences)) {
		c.knownLicences("intent_licences."+intent, cfg.IntentLicences[intent])
		p.intentLicences[intent] = slices.Clone(cfg.IntentLicences[intent])
	}
	p.conflicts = map[conversation.CustomerID][]conversation.RMID{}
	for i, cf := range cfg.Conflicts {
		where := fmt.Sprintf("conflicts[%d]", i)
		if _, ok := c.rms[cf.RM]; !ok {
			c.bad(where, "unknown rm %q (the rm must be in the directory)", cf.RM)
		}
		if cf.Customer == "" {
			c.bad(where, "empty customer (a customer id is required)")
		}
		p.conflicts[cf.Customer] = append(p.conflicts[cf.Customer], cf.RM)
	}
	c.reservation(cfg.Reservation, p)
	if !cfg.Selection.valid() {
		c.bad("selection", "%q (allowed: %v)", cfg.Selection, strategies)
	}
	if cfg.Record != RecordFull && cfg.Record != RecordCompact {
		c.bad("record", "%q (allowed: %s, %s)", cfg.Record, RecordFull, RecordCompact)
	}
	p.record = cfg.Record
}

// segments checks priorities, wait budgets and ageing.
func (c *compiler) segments(cfg Config, p *Policies) {
	p.segments = map[conversation.Segment]SegmentConfig{}
	highest := 0
	for _, seg := range slices.Sorted(maps.Keys(cfg.Segments)) {
		s := cfg.Segments[seg]
		where := "segments." + string(seg)
		if !seg.Valid() {
			c.bad("segments", "unknown segment %q (allowed: %v)", seg, conversation.Segments)
			continue
		}
		if s.Priority < 0 || s.Priority > 1000 {
			c.bad(where+".priority", "%d (allowed: 0..1000)", s.Priority)
		}
		if s.WaitBudget.Percent < 1 || s.WaitBudget.Percent > 100 {
			c.bad(where+".wait_budget.percent", "%d (allowed: 1..100)", s.WaitBudget.Percent)
		}
		c.duration(where+".wait_budget.within", s.WaitBudget.Within, time.Second, time.Hour)
		highest = max(highest, s.Priority)
		p.segments[seg] = s
	}
	a := cfg.Ageing
	if a.PerSecond <= 0 || a.PerSecond > 1000 {
		c.bad("ageing.per_second", "%g (allowed: more than 0, at most 1000)", a.PerSecond)
	}
	if a.BudgetBoost < 0 || a.BudgetBoost > 1000 {
		c.bad("ageing.budget_boost", "%g (allowed: 0..1000)", a.BudgetBoost)
	}
	if a.Cap <= float64(highest) {
		c.bad("ageing.cap", "%g (allowed: more than the highest segment priority, %d, so every conversation can age to the cap)", a.Cap, highest)
	}
	p.ageing = a
}

// duration checks that d lies in [lo, hi].
func (c *compiler) duration(where string, d, lo, hi time.Duration) {
	if d < lo || d > hi {
		c.bad(where, "%v (allowed: %v..%v)", d, lo, hi)
	}
}

// knownLicences checks that some RM holds each licence.
func (c *compiler) knownLicences(where string, names []string) {
	for _, l := range names {
		if !c.licences[l] {
			c.bad(where, "unknown licence %q: no RM holds it (known licences: %s)", l, sortedKeys(c.licences))
		}
	}
}

// knownTeam checks a team id.
func (c *compiler) knownTeam(where string, id conversation.TeamID) {
	if !c.facts.teams[id] {
		c.bad(where, "unknown team %q (known teams: %s)", id, sortedKeys(c.facts.teams))
	}
}

// parseAction reads an end action ("callback", "voicemail", "auto_reply").
func parseAction(s string) (Action, bool) {
	a := Action(s)
	return a, slices.Contains(endActions, a)
}

// MaxSimultaneousOffers bounds Config.SimultaneousOffers.
const MaxSimultaneousOffers = 5

// simultaneous checks and copies SimultaneousOffers: per channel 1..5,
// and 1 for voice and video.
func (c *compiler) simultaneous(cfg Config, p *Policies) {
	p.simultaneous = map[conversation.Channel]int{}
	for _, key := range slices.Sorted(maps.Keys(cfg.SimultaneousOffers)) {
		n := cfg.SimultaneousOffers[key]
		ch := conversation.Channel(key)
		switch {
		case key != TimeoutChat && !ch.Valid():
			c.bad("simultaneous_offers", "unknown key %q (allowed: %v or %q for every messaging channel)", key, conversation.Channels, TimeoutChat)
		case n < 1 || n > MaxSimultaneousOffers:
			c.bad("simultaneous_offers."+key, "%d RMs (allowed: 1..%d)", n, MaxSimultaneousOffers)
		case key != TimeoutChat && !ch.Messaging() && n != 1:
			c.bad("simultaneous_offers."+key, "%d RMs (allowed: 1: a %s conversation is offered to one RM at a time)", n, ch)
		}
	}
	for _, ch := range conversation.Channels {
		n, ok := cfg.SimultaneousOffers[string(ch)]
		if !ok && ch.Messaging() {
			n = cfg.SimultaneousOffers[TimeoutChat]
		}
		if n > 1 && n <= MaxSimultaneousOffers && ch.Messaging() {
			p.simultaneous[ch] = n
		}
	}
}
