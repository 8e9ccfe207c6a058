package routing

import (
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// set builds a FilterSet.
func set(fs ...Filter) FilterSet {
	var s FilterSet
	for _, f := range fs {
		s |= bit(f)
	}
	return s
}

func TestFilters(t *testing.T) {
	t.Parallel()
	type states = map[conversation.RMID]*RMState
	hkOffice := []conversation.WorkingHours{{Days: []string{"mon-fri"}, Open: "09:00", Close: "18:00"}}
	withHours := func(h []conversation.WorkingHours, holidays ...string) func([]conversation.Team) {
		return func(ts []conversation.Team) { ts[0].Hours, ts[0].Holidays = h, holidays }
	}
	licenceUntil := func(until time.Time) func(states) {
		return func(st states) {
			st["rm-pb-01"].RM.Licences = []conversation.Licence{{Name: "investment_advice", Expires: until}}
		}
	}
	tests := []struct {
		name  string
		rm    conversation.RMID
		conv  func(*ConversationView)
		state func(states)
		teams func([]conversation.Team)
		cfg   func(*Config)
		at    time.Time
		want  FilterSet
		note  string
	}{
		{name: "all pass", rm: "rm-pb-01"},
		{name: "presence offline", rm: "rm-pb-01", state: func(st states) { st["rm-pb-01"].Presence.State = conversation.PresenceOffline }, want: set(FilterPresence), note: "offline"},
		{name: "presence away with reason", rm: "rm-pb-01", state: func(st states) {
			st["rm-pb-01"].Presence.State, st["rm-pb-01"].Presence.Reason = conversation.PresenceAway, "lunch"
		}, want: set(FilterPresence), note: "away (lunch)"},
		{name: "presence wrap-up", rm: "rm-pb-01", state: func(st states) { st["rm-pb-01"].Presence.State = conversation.PresenceWrapUp }, want: set(FilterPresence), note: "in wrap-up"},
		{name: "presence lease expired at now", rm: "rm-pb-01", state: func(st states) { st["rm-pb-01"].Presence.ExpiresAt = t0 }, want: set(FilterPresence), note: "offline"},
		{name: "presence lease in force until after now", rm: "rm-pb-01", state: func(st states) { st["rm-pb-01"].Presence.ExpiresAt = t0.Add(time.Millisecond) }},
		{name: "presence not responding after max missed", rm: "rm-pb-01", state: func(st states) { st["rm-pb-01"].MissedInRow = 3 }, want: set(FilterPresence), note: "not responding (3 missed offers in a row)"},
		{name: "presence responding below max missed", rm: "rm-pb-01", state: func(st states) { st["rm-pb-01"].MissedInRow = 2 }},
		{name: "capacity full for a call", rm: "rm-pb-01", state: busy("rm-pb-01"), want: set(FilterCapacity), note: "at capacity (100/100)"},
		{name: "capacity partly used for a call", rm: "rm-pb-01", state: func(st states) { st["rm-pb-01"].Load = 25 }, want: set(FilterCapacity), note: "at capacity (25/100, needs 100)"},
		{name: "capacity fits a fourth chat", rm: "rm-pb-01", conv: func(c *ConversationView) { c.Channel = conversation.ChannelWebChat }, state: func(st states) { st["rm-pb-01"].Load = 75 }},
		{name: "capacity refuses a chat over 100", rm: "rm-pb-01", conv: func(c *ConversationView) { c.Channel = conversation.ChannelWeChat }, state: func(st states) { st["rm-pb-01"].Load = 80 }, want: set(FilterCapacity), note: "at capacity (80/100, needs 25)"},
		{name: "capacity from the directory", rm: "rm-pb-01", conv: func(c *ConversationView) { c.Channel = conversation.ChannelSMS }, state: func(st states) { st["rm-pb-01"].RM.Capacity = 50; st["rm-pb-01"].Load = 50 }, want: set(FilterCapacity), note: "(50/50)"},
		{name: "declined this conversation", rm: "rm-pb-01", conv: func(c *ConversationView) { c.Declined = []conversation.RMID{"rm-pb-01"} }, want: set(FilterDeclined), note: "declined or missed this conversation"},
		{name: "conflict of interest", rm: "rm-pb-01", cfg: func(c *Config) { c.Conflicts = []ConflictConfig{{RM: "rm-pb-01", Customer: "cus-pb"}} }, want: set(FilterConflict), note: "conflict of interest"},
		{name: "conflict of another customer", rm: "rm-pb-01", cfg: func(c *Config) { c.Conflicts = []ConflictConfig{{RM: "rm-pb-01", Customer: "cus-other"}} }},
		{name: "conflict of another rm", rm: "rm-pb-01", cfg: func(c *Config) { c.Conflicts = []ConflictConfig{{RM: "rm-pb-02", Customer: "cus-pb"}} }},
		{name: "segment gate bars a prospect", rm: "rm-pb-01", conv: func(c *ConversationView) { c.Prospect = true }, want: set(FilterSegmentGate), note: "client is a prospect"},
		{name: "segment gate bars the unverified", rm: "rm-pb-01", conv: func(c *ConversationView) { c.Verification = conversation.VerificationNone }, want: set(FilterSegmentGate), note: "client is unverified"},
		{name: "segment gate bars an unknown verification", rm: "rm-pb-01", conv: func(c *ConversationView) { c.Verification = "" }, want: set(FilterSegmentGate)},
		{name: "segment gate passes basic", rm: "rm-pb-01", conv: func(c *ConversationView) { c.Verification = conversation.VerificationBasic }},
		{name: "segment gate at strong refuses basic", rm: "rm-pb-01", cfg: func(c *Config) { c.PrivateGate.MinVerification = conversation.VerificationStrong }, conv: func(c *ConversationView) { c.Verification = conversation.VerificationBasic }, want: set(FilterSegmentGate)},
		{name: "segment gate ignores other teams", rm: "rm-af-01", conv: func(c *ConversationView) { c.Prospect = true }},
		{name: "hours closed in the evening", rm: "rm-pb-01", teams: withHours(hkOffice), at: t0.Add(9 * time.Hour), want: set(FilterHours), note: "outside team private_bank hours"},
		{name: "hours open at opening time", rm: "rm-pb-01", teams: withHours(hkOffice), at: t0.Add(-time.Hour)},
		{name: "hours closed at closing time", rm: "rm-pb-01", teams: withHours(hkOffice), at: t0.Add(8 * time.Hour), want: set(FilterHours)},
		{name: "hours open a second before closing", rm: "rm-pb-01", teams: withHours(hkOffice), at: t0.Add(8*time.Hour - time.Second)},
		{name: "hours closed at the weekend", rm: "rm-pb-01", teams: withHours(hkOffice), at: t0.Add(-48 * time.Hour), want: set(FilterHours)},
		{name: "holiday in the team's zone", rm: "rm-pb-01", teams: withHours(nil, "2026-03-02"), at: time.Date(2026, 3, 1, 17, 0, 0, 0, time.UTC), want: set(FilterHours)},
		{name: "day before the holiday in the team's zone", rm: "rm-pb-01", teams: withHours(nil, "2026-03-02"), at: time.Date(2026, 3, 1, 15, 59, 59, 0, time.UTC)},
		{name: "language not spoken", rm: "rm-pb-01", conv: func(c *ConversationView) { c.Language = "zh" }, want: set(FilterLanguage), note: "does not speak zh"},
		{name: "language spoken", rm: "rm-pb-01", conv: func(c *ConversationView) { c.Language = "yue" }},
		{name: "skill missing", rm: "rm-pb-01", conv: func(c *ConversationView) {
			c.Skills = []conversation.SkillRequirement{{Skill: "mortgage", MinLevel: 1}}
		}, want: set(FilterSkill), note: "lacks mortgage >= 1 (has 0)"},
		{name: "skill below level", rm: "rm-pb-02", conv: func(c *ConversationView) { c.Skills = []conversation.SkillRequirement{{Skill: "wealth", MinLevel: 5}} }, want: set(FilterSkill), note: "lacks wealth >= 5 (has 4)"},
		{name: "skill at level", rm: "rm-pb-02", conv: func(c *ConversationView) { c.Skills = []conversation.SkillRequirement{{Skill: "wealth", MinLevel: 4}} }},
		{name: "every skill required", rm: "rm-pb-01", conv: func(c *ConversationView) {
			c.Skills = []conversation.SkillRequirement{{Skill: "wealth", MinLevel: 5}, {Skill: "fx", MinLevel: 4}}
		}, want: set(FilterSkill), note: "lacks fx >= 4 (has 3)"},
		{name: "licence of the intent missing", rm: "rm-pb-03", conv: func(c *ConversationView) { c.Intent = "investment" }, want: set(FilterLicence), note: "no investment_advice licence"},
		{name: "licence of the intent held", rm: "rm-pb-02", conv: func(c *ConversationView) { c.Intent = "investment" }},
		{name: "licence expires at now", rm: "rm-pb-01", conv: func(c *ConversationView) { c.Intent = "investment" }, state: licenceUntil(t0), want: set(FilterLicence), note: "licence investment_advice expired 2026-03-02"},
		{name: "licence expires just after now", rm: "rm-pb-01", conv: func(c *ConversationView) { c.Intent = "investment" }, state: licenceUntil(t0.Add(time.Nanosecond))},
		{name: "licence of the policy", rm: "rm-pb-03", cfg: func(c *Config) { c.Policies[0].Licences = []string{"investment_advice"} }, want: set(FilterLicence)},
		{name: "several failures at once", rm: "rm-pb-01", conv: func(c *ConversationView) { c.Language = "zh" }, state: func(st states) { st["rm-pb-01"].Presence.State = conversation.PresenceOffline }, want: set(FilterPresence, FilterLanguage), note: "offline, does not speak zh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			p := mustCompile(t, cfg)
			teams := testTeams()
			if tt.teams != nil {
				tt.teams(teams)
			}
			snap := snapWith(t, p, teams, tt.state)
			conv := privateConv()
			if tt.conv != nil {
				tt.conv(&conv)
			}
			at := tt.at
			if at.IsZero() {
				at = t0
			}
			got, ok := Check(p, snap, conv, tt.rm, at)
			if !ok {
				t.Fatalf("Check: rm %s not in snapshot", tt.rm)
			}
			if got.Failed != tt.want {
				t.Errorf("failed = [%v], want [%v] (note %q)", got.Failed, tt.want, got.Note)
			}
			if got.Eligible() != (tt.want == 0) {
				t.Errorf("Eligible() = %v", got.Eligible())
			}
			if !strings.Contains(got.Note, tt.note) {
				t.Errorf("note %q does not contain %q", got.Note, tt.note)
			}
		})
	}
}

func TestCheckUnknownRM(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	if _, ok := Check(p, snapWith(t, p, nil, nil), privateConv(), "rm-nobody", t0); ok {
		t.Error("Check found an RM that is not in the snapshot")
	}
}

func TestFilterSetJSON(t *testing.T) {
	t.Parallel()
	b, err := set(FilterCapacity, FilterHours).MarshalJSON()
	if err != nil || string(b) != `["capacity","hours"]` {
		t.Errorf("MarshalJSON = %s, %v", b, err)
	}
	if s := set().String(); s != "" {
		t.Errorf("empty set String = %q", s)
	}
	if len(Filters()) != NumFilters || Filter(200).String() != "unknown" {
		t.Error("Filters or String out of step with NumFilters")
	}
}
