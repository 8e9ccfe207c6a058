package routing

import (
	"fmt"
	"slices"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Step targets, as written in StepConfig.Target.
const (
	// TargetOwnRM is the client's own RM (ConversationView.OwnRM).
	TargetOwnRM = "own_rm"
	// TargetDeputy is the client's deputy RM (ConversationView.Deputy), or
	// else the own RM's deputy in the directory.
	TargetDeputy = "deputy"
	// TargetLastRM is the RM who last served the client, when that was
	// within Config.LastRMWithin.
	TargetLastRM = "last_rm"
	// TargetTeamPrefix starts a team target: "team:private_bank".
	TargetTeamPrefix = "team:"
)

// Action is what a policy does instead of, or after, offering.
type Action string

// Fallback and after-hours actions.
const (
	// ActionCallback ends the wait with a callback task for the team.
	ActionCallback Action = "callback"
	// ActionVoicemail ends a call in voicemail.
	ActionVoicemail Action = "voicemail"
	// ActionAutoReply answers a message with the configured auto-reply.
	ActionAutoReply Action = "auto_reply"
	// ActionOverflow widens the pool to an overflow team, without expiry;
	// written "overflow:team:<id>".
	ActionOverflow Action = "overflow"
)

// endActions are the actions that end a wait (all but overflow).
var endActions = []Action{ActionCallback, ActionVoicemail, ActionAutoReply}

// targetKind says how a step finds its RMs.
type targetKind uint8

const (
	targetOwnRM targetKind = iota
	targetDeputy
	targetLastRM
	targetTeam // a team, optionally narrowed by an RM expression
	targetExpr // an RM expression over every RM
)

// personal reports whether the step targets one named RM.
func (k targetKind) personal() bool { return k <= targetLastRM }

// role names a personal target in sentences.
func (k targetKind) role() string {
	switch k {
	case targetOwnRM:
		return "own RM"
	case targetDeputy:
		return "deputy"
	case targetLastRM:
		return "last RM"
	}
	return ""
}

// step is one compiled step of a policy.
type step struct {
	kind   targetKind
	team   conversation.TeamID
	expr   *rmExpr
	expiry time.Duration
	// label describes the target in sentences, e.g. "team affluent where
	// rm.skills.wealth >= 4".
	label string
}

// Policy is one compiled routing policy. Its fields are read-only.
type Policy struct {
	// ID is the policy's id from its config.
	ID string
	// Version is the hex SHA-256 of the policy's canonical form (its
	// PolicyConfig with defaults applied, as JSON with sorted keys); it goes
	// into every decision record.
	Version string
	// Config is the policy as compiled, defaults applied.
	Config PolicyConfig

	when       *vm.Program
	steps      []step
	mode       StepMode
	selection  Strategy
	licences   []string
	fallback   Action
	overflow   conversation.TeamID
	afterHours Action
	// teams are the teams of team steps and of the overflow; anyTeam is
	// set when an RM expression without a team can reach every team.
	teams   []conversation.TeamID
	anyTeam bool
}

// overflowStep is the step number of the overflow pool: one past the last.
func (pol *Policy) overflowStep() int { return len(pol.steps) + 1 }

// Policies is a compiled routing configuration: the policies in order and
// the settings decisions and queue order need. It is immutable and safe for
// concurrent use. Build it with Compile.
type Policies struct {
	list           []*Policy
	costs          map[conversation.Channel]int
	timeouts       map[conversation.Channel]time.Duration
	simultaneous   map[conversation.Channel]int // > 1 only
	maxMissed      int
	wrapUpTimeout  time.Duration
	dispositions   []string
	segments       map[conversation.Segment]SegmentConfig
	ageing         AgeingConfig
	lastRMWithin   time.Duration
	minVerify      int
	conflicts      map[conversation.CustomerID][]conversation.RMID
	intentLicences map[string][]string
	record         RecordMode
	// reserveFor marks, per channel, the conversations that reserve an RM
	// when blocked only by capacity; reserveAfter is the wait before they do.
	reserveFor   map[conversation.Channel]bool
	reserveAfter time.Duration
	// transferTimeout is how long a transfer to a team keeps the
	// conversation for that team's RMs alone.
	transferTimeout time.Duration
	// exprs lists every RM expression; a Snapshot built for these Policies
	// caches their results per RM.
	exprs *exprSet
	// zones are the time zones of the teams Compile saw, by name, for
	// NewSnapshot to reuse.
	zones map[string]*time.Location
}

// exprSet is the shared identity of one compilation's RM expressions.
type exprSet struct{ list []*rmExpr }

// All returns the policies in the order they are tried.
func (p *Policies) All() []*Policy { return slices.Clone(p.list) }

// Policy returns the policy with id.
func (p *Policies) Policy(id string) (*Policy, bool) {
	for _, pol := range p.list {
		if pol.ID == id {
			return pol, true
		}
	}
	return nil, false
}

// Cost returns the capacity a conversation on ch takes from an RM, in cost
// units; an unknown channel costs DefaultCapacity (a whole RM).
func (p *Policies) Cost(ch conversation.Channel) int {
	if c, ok := p.costs[ch]; ok {
		return c
	}
	return DefaultCapacity
}

// OfferTimeout returns how long an RM has to accept an offer on ch; an
// unknown channel gets the voice timeout.
func (p *Policies) OfferTimeout(ch conversation.Channel) time.Duration {
	if d, ok := p.timeouts[ch]; ok {
		return d
	}
	return p.timeouts[conversation.ChannelVoice]
}

// SimultaneousOffers returns how many RMs a conversation on ch is offered
// to at once (Config.SimultaneousOffers): 1 unless configured.
func (p *Policies) SimultaneousOffers(ch conversation.Channel) int {
	if n := p.simultaneous[ch]; n > 1 {
		return n
	}
	return 1
}

// MaxMissedOffers returns how many offers in a row an RM may miss before
// being set away.
func (p *Policies) MaxMissedOffers() int { return p.maxMissed }

// NotResponding reports whether an RM who has missed missedInRow offers in
// a row must be set away with reason "not_responding"; Decide never offers
// to such an RM.
func (p *Policies) NotResponding(missedInRow int) bool { return missedInRow >= p.maxMissed }

// TransferTimeout returns how long a conversation transferred to a team is
// offered to that team's RMs alone before its policy takes over
// (Config.TransferTimeout).
func (p *Policies) TransferTimeout() time.Duration { return p.transferTimeout }

// WrapUpTimeout returns how long wrap-up lasts when the RM chooses no
// disposition.
func (p *Policies) WrapUpTimeout() time.Duration { return p.wrapUpTimeout }

// Dispositions returns the wrap-up codes an RM may choose.
func (p *Policies) Dispositions() []string { return slices.Clone(p.dispositions) }

// CheckDisposition returns nil when d is a configured disposition, or an
// error wrapping ErrUnknownDisposition that lists the allowed codes.
func (p *Policies) CheckDisposition(d string) error {
	if slices.Contains(p.dispositions, d) {
		return nil
	}
	return fmt.Errorf("wrap-up: disposition %q: %w (allowed: %v)", d, ErrUnknownDisposition, p.dispositions)
}

// WaitBudget returns the service-level target of seg.
func (p *Policies) WaitBudget(seg conversation.Segment) (WaitBudget, bool) {
	s, ok := p.segments[seg]
	return s.WaitBudget, ok
}

// RecordMode returns how much of each evaluation a Decision keeps.
func (p *Policies) RecordMode() RecordMode { return p.record }

// WithRecordMode returns a copy of p that keeps decision records in mode m
// (RecordFull or RecordCompact; anything else keeps p's mode). The copy
// shares p's compiled expressions, so Snapshots built for p serve it too.
func (p *Policies) WithRecordMode(m RecordMode) *Policies {
	cp := *p
	if m == RecordFull || m == RecordCompact {
		cp.record = m
	}
	return &cp
}
