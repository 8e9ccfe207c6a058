package routing

import (
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Config is the routing section of the gateway configuration, as written in
// YAML (strict-decodable: every field has a yaml tag, unknown keys are the
// decoder's to refuse). Zero values take the defaults of DefaultConfig when
// compiled, field by field and, for maps, key by key. Compile turns a Config
// into Policies and reports every problem at once.
type Config struct {
	// Costs is the capacity an offered or active conversation takes from an
	// RM, per channel, in cost units of the RM's capacity (1..100).
	// Defaults: voice 100, video 100, sms 25, wechat 25, webchat 25.
	Costs map[conversation.Channel]int `yaml:"costs" json:"costs,omitempty"`
	// OfferTimeouts is how long an RM has to accept an offer before it
	// counts as missed, per channel; the key "chat" covers sms, wechat and
	// webchat unless the channel has its own key (1s..10m). Defaults: voice
	// 15s, video 30s, chat 30s.
	OfferTimeouts map[string]time.Duration `yaml:"offer_timeouts" json:"offer_timeouts,omitempty"`
	// SimultaneousOffers offers a conversation to several RMs at once, per
	// messaging channel (key as in OfferTimeouts: a channel, or "chat" for
	// sms, wechat and webchat): the best N eligible RMs under the policy
	// each get an offer, the first to accept takes the conversation and
	// the others' offers are withdrawn; a decline or timeout withdraws only
	// that RM's offer, and the conversation returns to the queue when none
	// is left. Each offered RM holds the conversation's cost until then
	// (1..5; voice and video ring one RM at a time, so only 1). Default 1
	// for every channel: one RM at a time.
	SimultaneousOffers map[string]int `yaml:"simultaneous_offers" json:"simultaneous_offers,omitempty"`
	// MaxMissedOffers is how many offers an RM may miss (decline by timeout)
	// in a row before being set away with reason "not_responding" (1..20).
	// Default 3.
	MaxMissedOffers int `yaml:"max_missed_offers" json:"max_missed_offers,omitempty"`
	// WrapUp sets after-conversation work.
	WrapUp WrapUpConfig `yaml:"wrap_up" json:"wrap_up"`
	// Segments sets queue priority and wait budget per segment.
	Segments map[conversation.Segment]SegmentConfig `yaml:"segments" json:"segments,omitempty"`
	// Ageing raises a waiting conversation's priority with its wait.
	Ageing AgeingConfig `yaml:"ageing" json:"ageing"`
	// LastRMWithin is how long after the last conversation a returning
	// client is still routed to the RM who served them (the last_rm step
	// target). Default 2h.
	LastRMWithin time.Duration `yaml:"last_rm_within" json:"last_rm_within,omitempty"`
	// TransferTimeout is how long a conversation an RM transferred to a
	// team waits for an RM of that team alone before its normal policy
	// takes over, from its first step (1s..1h). Default 2m.
	TransferTimeout time.Duration `yaml:"transfer_timeout" json:"transfer_timeout,omitempty"`
	// PrivateGate keeps prospects and unverified clients away from the RMs
	// of private-bank teams (teams whose segment is private).
	PrivateGate PrivateGateConfig `yaml:"private_gate" json:"private_gate"`
	// IntentLicences maps an intent (e.g. "investment") to the licences an
	// RM must hold, in force, to be offered such a conversation, whatever
	// the policy.
	IntentLicences map[string][]string `yaml:"intent_licences" json:"intent_licences,omitempty"`
	// Conflicts lists (RM, customer) pairs that must never be matched, e.g.
	// an RM related to the client.
	Conflicts []ConflictConfig `yaml:"conflicts" json:"conflicts,omitempty"`
	// Selection is the default way to choose among eligible RMs:
	// longest_idle (default), least_occupied, highest_proficiency or
	// round_robin.
	Selection Strategy `yaml:"selection" json:"selection,omitempty"`
	// Reservation holds (drains) an RM for a waiting call or video blocked
	// only by capacity, so that a steady stream of chats cannot starve it.
	Reservation ReservationConfig `yaml:"reservation" json:"reservation"`
	// Record is how much of each evaluation a Decision keeps: full (every
	// candidate with every filter outcome, the default) or compact (counts
	// of filtered-out candidates, plus the own RM, deputy, last RM and the
	// chosen RM in full).
	Record RecordMode `yaml:"record" json:"record,omitempty"`
	// Policies are tried in order; the first whose When matches routes the
	// conversation. Nil takes DefaultConfig's policies.
	Policies []PolicyConfig `yaml:"policies" json:"policies,omitempty"`
}

// ReservationConfig sets RM reservation, the contact-centre answer to
// blending calls with chats. A call costs an RM's whole capacity and chats
// take any free slot, so without it an RM's load seldom drops to 0 while
// chats keep arriving, and waiting calls starve. With it, when Assign meets
// a waiting conversation on one of ReserveFor's channels that has waited
// at least MinWait and that some candidate of its active steps fails only
// for capacity (every other filter passes), one such RM is reserved for it
// for the rest of the routing pass: no conversation after it in serving
// order is offered to that RM (filter reserved), so their load drains and
// the call gets them. Reservations are derived again on every pass from the
// waiting queue and hold only while the conversation waits; they are never
// stored.
type ReservationConfig struct {
	// ReserveFor lists the channels whose waiting conversations reserve an
	// RM, e.g. [voice, video]. Nil (the key absent or null) takes the
	// default, voice and video; an empty list ([]) turns reservation off.
	ReserveFor []conversation.Channel `yaml:"reserve_for" json:"reserve_for"`
	// MinWait is how long a conversation waits, from QueuedAt, before it
	// reserves an RM (0..10m). Default 0: at once.
	MinWait time.Duration `yaml:"min_wait" json:"min_wait,omitempty"`
}

// WrapUpConfig sets wrap-up (after-conversation work).
type WrapUpConfig struct {
	// Timeout ends wrap-up when the RM has not chosen a disposition
	// (10s..1h). Default 60s.
	Timeout time.Duration `yaml:"timeout" json:"timeout,omitempty"`
	// Dispositions are the codes an RM may choose: lowercase words of
	// a-z, 0-9 and "_", optionally "kind:detail" (e.g. "lead:mortgage").
	// Default: resolved, lead:mortgage, lead:wealth, lead:insurance,
	// complaint, callback_scheduled, transferred.
	Dispositions []string `yaml:"dispositions" json:"dispositions,omitempty"`
}

// SegmentConfig sets how a segment's conversations are queued.
type SegmentConfig struct {
	// Priority is the segment's base queue priority (0..1000); higher is
	// served first.
	Priority int `yaml:"priority" json:"priority"`
	// WaitBudget is the segment's service-level target.
	WaitBudget WaitBudget `yaml:"wait_budget" json:"wait_budget"`
}

// WaitBudget is a service-level target: Percent of conversations answered
// within Within (e.g. 80% in 20s). A conversation's priority rises as its
// wait approaches Within (see AgeingConfig.BudgetBoost).
type WaitBudget struct {
	// Percent of conversations to answer within Within (1..100).
	Percent int `yaml:"percent" json:"percent"`
	// Within is the target answer time (1s..1h).
	Within time.Duration `yaml:"within" json:"within"`
}

// AgeingConfig sets how a waiting conversation's priority rises. The
// effective priority is
//
//	min(Cap, segment priority + conversation priority
//	         + PerSecond × seconds waited
//	         + BudgetBoost × min(1, waited / segment wait budget))
//
// Cap bounds the whole sum, not only the ageing term: every conversation
// reaches Cap after a bounded wait, and conversations at Cap are served in
// arrival order, so no segment starves whatever the mix of arrivals.
type AgeingConfig struct {
	// PerSecond is the priority gained per second waited (>0). Default 1.
	PerSecond float64 `yaml:"per_second" json:"per_second,omitempty"`
	// BudgetBoost is the priority gained over the segment's wait budget,
	// growing linearly to BudgetBoost at Within (>=0). Default 40.
	BudgetBoost float64 `yaml:"budget_boost" json:"budget_boost,omitempty"`
	// Cap is the ceiling of the effective priority; it must exceed every
	// segment priority. Default 200.
	Cap float64 `yaml:"cap" json:"cap,omitempty"`
}

// PrivateGateConfig sets who may reach private-bank RMs.
type PrivateGateConfig struct {
	// MinVerification is the weakest verification level a client must have
	// to be offered to a private-bank RM: none, basic or strong. Prospects
	// never are. Default basic.
	MinVerification conversation.Verification `yaml:"min_verification" json:"min_verification,omitempty"`
}

// ConflictConfig is one conflict of interest: RM must never be offered a
// conversation of Customer.
type ConflictConfig struct {
	RM       conversation.RMID       `yaml:"rm" json:"rm"`
	Customer conversation.CustomerID `yaml:"customer" json:"customer"`
}

// PolicyConfig is one routing policy: which conversations it takes (When),
// whom they are offered to and in which order (Steps), and what happens when
// every step has expired (Fallback) or every team is closed (AfterHours).
type PolicyConfig struct {
	// ID names the policy in decision records, e.g. "private-bank".
	ID string `yaml:"id" json:"id"`
	// When is an expr-lang boolean expression over the conversation:
	// segment, channel, language, intent, verification, aum_band (strings),
	// prospect (bool), skills (map of required skill to minimum level), e.g.
	// `segment == "private" && channel in ["voice", "video"]`. Use "true"
	// for a catch-all.
	When string `yaml:"when" json:"when"`
	// Mode is how steps widen the pool: cumulative (default: the targets of
	// earlier steps stay eligible when a later step joins, and are preferred
	// to it) or replace (only the latest active step's targets are eligible).
	Mode StepMode `yaml:"mode" json:"mode,omitempty"`
	// Selection overrides Config.Selection for this policy.
	Selection Strategy `yaml:"selection" json:"selection,omitempty"`
	// Licences are required, in force, of every RM offered a conversation
	// of this policy (e.g. "investment_advice").
	Licences []string `yaml:"licences" json:"licences,omitempty"`
	// Steps are tried in order, each for its Expiry.
	Steps []StepConfig `yaml:"steps" json:"steps"`
	// Fallback applies once the last step has expired: "overflow:team:<id>"
	// offers the conversation to that team too, without expiry;
	// "callback", "voicemail" or "auto_reply" end the wait with that action.
	// Required when the last step has an expiry, refused otherwise.
	Fallback string `yaml:"fallback" json:"fallback,omitempty"`
	// AfterHours, when set ("callback", "voicemail" or "auto_reply"), is
	// taken at once when every team the policy could reach is closed.
	AfterHours string `yaml:"after_hours" json:"after_hours,omitempty"`
}

// StepConfig is one step of a policy. Target is one of own_rm, deputy,
// last_rm or team:<id>; RM is an expr-lang boolean expression over rm (id,
// team, segment, group, languages, skills, capacity), e.g.
// `"yue" in rm.languages && rm.skills.wealth >= 4`. A step has a Target, an
// RM expression, or both when Target is team:<id> (the team's RMs matching
// the expression).
type StepConfig struct {
	Target string `yaml:"target" json:"target,omitempty"`
	RM     string `yaml:"rm" json:"rm,omitempty"`
	// Expiry is how long the step stays the newest one before the next
	// joins (or, in replace mode, replaces it), counted from when it
	// started (1s..24h). Zero means the step never expires; only the last
	// step may have zero.
	Expiry time.Duration `yaml:"expiry" json:"expiry,omitempty"`
}

// StepMode is how a policy's steps widen the pool of candidates.
type StepMode string

// Step modes.
const (
	// ModeCumulative keeps earlier targets eligible as later steps join;
	// the earliest step's eligible RMs are preferred (contact-centre norm).
	ModeCumulative StepMode = "cumulative"
	// ModeReplace makes only the newest active step's targets eligible.
	ModeReplace StepMode = "replace"
)

// RecordMode is how much of each evaluation a Decision keeps.
type RecordMode string

// Record modes.
const (
	// RecordFull keeps every candidate with every filter outcome.
	RecordFull RecordMode = "full"
	// RecordCompact keeps filtered-out counts, the own RM, deputy and last
	// RM with every filter outcome, and the chosen RM: enough to answer
	// "why not my RM" at a fraction of the cost.
	RecordCompact RecordMode = "compact"
)
