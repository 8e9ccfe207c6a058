package routing

import (
	"maps"
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Default values that Compile applies to zero fields of a Config.
const (
	// DefaultCapacity is an RM's capacity in cost units when the directory
	// gives none: one call, or four chats at 25.
	DefaultCapacity = 100
	// DefaultMaxMissedOffers is how many offers in a row an RM may miss
	// before being set away.
	DefaultMaxMissedOffers = 3
	// DefaultWrapUpTimeout ends wrap-up when no disposition was chosen.
	DefaultWrapUpTimeout = 60 * time.Second
	// DefaultLastRMWithin is how long a returning client goes to their
	// last RM first.
	DefaultLastRMWithin = 2 * time.Hour
	// DefaultTransferTimeout is how long a conversation transferred to a
	// team is offered to that team's RMs alone.
	DefaultTransferTimeout = 2 * time.Minute
	// DefaultOverflowTeam is the team the default policies overflow to.
	DefaultOverflowTeam conversation.TeamID = "overflow"
	// TimeoutChat is the OfferTimeouts key covering sms, wechat and webchat.
	TimeoutChat = "chat"
)

// DefaultConfig returns the routing configuration Airbranch ships with; the
// same configuration, as YAML, is routing/testdata/policies.yaml. Its
// policies expect the teams private_bank, affluent, mass_affluent, mass,
// small_business, retail_lending and overflow:
//   - private-bank: own RM for 20s, then the deputy for 20s, then the
//     private_bank team for 60s, then affluent RMs with wealth >= 4 for 120s,
//     then a callback; a callback at once when every team is closed;
//   - every other segment: the last RM for 15s (a returning client), then
//     the segment's own team for 90s, then the overflow team too; a callback
//     when every team is closed;
//   - a waiting voice or video conversation blocked only by capacity
//     reserves an RM at once (see ReservationConfig);
//   - a conversation transferred to a team is offered to that team's RMs
//     alone for 2m, then its policy applies from its first step.
func DefaultConfig() Config {
	segmentPolicy := func(id string, seg conversation.Segment, team conversation.TeamID) PolicyConfig {
		return PolicyConfig{
			ID:   id,
			When: `segment == "` + string(seg) + `"`,
			Steps: []StepConfig{
				{Target: TargetLastRM, Expiry: 15 * time.Second},
				{Target: "team:" + string(team), Expiry: 90 * time.Second},
			},
			Fallback:   "overflow:team:" + string(DefaultOverflowTeam),
			AfterHours: string(ActionCallback),
		}
	}
	return Config{
		Costs: map[conversation.Channel]int{
			conversation.ChannelVoice: 100, conversation.ChannelVideo: 100,
			conversation.ChannelSMS: 25, conversation.ChannelWeChat: 25, conversation.ChannelWebChat: 25,
		},
		OfferTimeouts: map[string]time.Duration{
			string(conversation.ChannelVoice): 15 * time.Second,
			string(conversation.ChannelVideo): 30 * time.Second,
			TimeoutChat:                       30 * time.Second,
		},
		SimultaneousOffers: map[string]int{TimeoutChat: 1},
		MaxMissedOffers:    DefaultMaxMissedOffers,
		WrapUp: WrapUpConfig{
			Timeout: DefaultWrapUpTimeout,
			Dispositions: []string{
				"resolved", "lead:mortgage", "lead:wealth", "lead:insurance",
				"complaint", "callback_scheduled", "transferred",
			},
		},
		Segments: map[conversation.Segment]SegmentConfig{
			conversation.SegmentPrivate:       {Priority: 60, WaitBudget: WaitBudget{Percent: 80, Within: 20 * time.Second}},
			conversation.SegmentAffluent:      {Priority: 40, WaitBudget: WaitBudget{Percent: 80, Within: 30 * time.Second}},
			conversation.SegmentMassAffluent:  {Priority: 30, WaitBudget: WaitBudget{Percent: 80, Within: 45 * time.Second}},
			conversation.SegmentSmallBusiness: {Priority: 30, WaitBudget: WaitBudget{Percent: 80, Within: 45 * time.Second}},
			conversation.SegmentRetailLending: {Priority: 20, WaitBudget: WaitBudget{Percent: 80, Within: 60 * time.Second}},
			conversation.SegmentMass:          {Priority: 10, WaitBudget: WaitBudget{Percent: 80, Within: 60 * time.Second}},
		},
		Ageing:          AgeingConfig{PerSecond: 1, BudgetBoost: 40, Cap: 200},
		LastRMWithin:    DefaultLastRMWithin,
		TransferTimeout: DefaultTransferTimeout,
		PrivateGate:     PrivateGateConfig{MinVerification: conversation.VerificationBasic},
		IntentLicences: map[string][]string{
			"investment": {"investment_advice"},
		},
		Reservation: ReservationConfig{
			ReserveFor: []conversation.Channel{conversation.ChannelVoice, conversation.ChannelVideo},
		},
		Selection: SelectLongestIdle,
		Record:    RecordFull,
		Policies: []PolicyConfig{
			{
				ID:   "private-bank",
				When: `segment == "private"`,
				Steps: []StepConfig{
					{Target: TargetOwnRM, Expiry: 20 * time.Second},
					{Target: TargetDeputy, Expiry: 20 * time.Second},
					{Target: "team:private_bank", Expiry: 60 * time.Second},
					{Target: "team:affluent", RM: "rm.skills.wealth >= 4", Expiry: 120 * time.Second},
				},
				Fallback:   string(ActionCallback),
				AfterHours: string(ActionCallback),
			},
			segmentPolicy("affluent", conversation.SegmentAffluent, "affluent"),
			segmentPolicy("mass-affluent", conversation.SegmentMassAffluent, "mass_affluent"),
			segmentPolicy("small-business", conversation.SegmentSmallBusiness, "small_business"),
			segmentPolicy("retail-lending", conversation.SegmentRetailLending, "retail_lending"),
			segmentPolicy("mass", conversation.SegmentMass, "mass"),
		},
	}
}

// withDefaults returns cfg with every zero field, and every missing map key,
// taken from DefaultConfig. Maps and slices are copied, never shared.
func (cfg Config) withDefaults() Config {
	def := DefaultConfig()
	out := cfg
	out.Costs = mergeMap(cfg.Costs, def.Costs)
	out.OfferTimeouts = mergeMap(cfg.OfferTimeouts, def.OfferTimeouts)
	out.SimultaneousOffers = mergeMap(cfg.SimultaneousOffers, def.SimultaneousOffers)
	out.Segments = mergeMap(cfg.Segments, def.Segments)
	if out.MaxMissedOffers == 0 {
		out.MaxMissedOffers = def.MaxMissedOffers
	}
	if out.WrapUp.Timeout == 0 {
		out.WrapUp.Timeout = def.WrapUp.Timeout
	}
	if out.WrapUp.Dispositions == nil {
		out.WrapUp.Dispositions = def.WrapUp.Dispositions
	}
	if out.Ageing.PerSecond == 0 {
		out.Ageing.PerSecond = def.Ageing.PerSecond
	}
	if out.Ageing.BudgetBoost == 0 {
		out.Ageing.BudgetBoost = def.Ageing.BudgetBoost
	}
	if out.Ageing.Cap == 0 {
		out.Ageing.Cap = def.Ageing.Cap
	}
	if out.LastRMWithin == 0 {
		out.LastRMWithin = def.LastRMWithin
	}
	if out.TransferTimeout == 0 {
		out.TransferTimeout = def.TransferTimeout
	}
	if out.PrivateGate.MinVerification == "" {
		out.PrivateGate.MinVerification = def.PrivateGate.MinVerification
	}
	if out.IntentLicences == nil {
		out.IntentLicences = def.IntentLicences
	}
	if out.Reservation.ReserveFor == nil {
		out.Reservation.ReserveFor = def.Reservation.ReserveFor
	}
	out.Reservation.ReserveFor = slices.Clone(out.Reservation.ReserveFor)
	if out.Selection == "" {
		out.Selection = def.Selection
	}
	if out.Record == "" {
		out.Record = def.Record
	}
	if out.Policies == nil {
		out.Policies = def.Policies
	}
	out.Policies = slices.Clone(out.Policies)
	out.Conflicts = slices.Clone(out.Conflicts)
	return out
}

// mergeMap returns a copy of have with the keys of def it lacks.
func mergeMap[K comparable, V any](have, def map[K]V) map[K]V {
	out := maps.Clone(def)
	if out == nil {
		out = make(map[K]V, len(have))
	}
	maps.Copy(out, have)
	return out
}
