package routing

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	type dir struct {
		teams []conversation.Team
		rms   []conversation.RM
	}
	pb := func(c *Config) *PolicyConfig { return &c.Policies[0] }
	tests := []struct {
		name   string
		mutate func(*Config, *dir)
		want   []string // substrings of the one problem reported
	}{
		{"when does not compile", func(c *Config, _ *dir) { pb(c).When = `segment ==` }, []string{`policy "private-bank" when`, "does not compile", "must return bool"}},
		{"when is not bool", func(c *Config, _ *dir) { pb(c).When = `segment` }, []string{`policy "private-bank" when`, "expected bool"}},
		{"when is empty", func(c *Config, _ *dir) { pb(c).When = " " }, []string{"when: empty", `use "true" for a catch-all`}},
		{"when names an unknown field", func(c *Config, _ *dir) { pb(c).When = `segmnt == "private"` }, []string{"does not compile", "segmnt"}},
		{"when compares to an unknown segment", func(c *Config, _ *dir) { pb(c).When = `segment == "privat"` }, []string{`segment "privat" never matches`, "allowed: [mass"}},
		{"when lists an unknown channel", func(c *Config, _ *dir) { pb(c).When = `channel in ["voice", "fax"]` }, []string{`channel "fax" never matches`}},
		{"when names an unknown skill", func(c *Config, _ *dir) { pb(c).When = `skills.welth >= 2` }, []string{`unknown skill "welth"`, "known skills: cards, fx, mortgage, sme_lending, wealth"}},
		{"rm expression does not compile", func(c *Config, _ *dir) { pb(c).Steps[3].RM = `rm.skills.wealth >=` }, []string{`policy "private-bank" step 4`, "rm expression", "does not compile"}},
		{"rm expression is not bool", func(c *Config, _ *dir) { pb(c).Steps[3].RM = `rm.skills.wealth` }, []string{"step 4", "expected bool"}},
		{"rm expression names an unknown skill", func(c *Config, _ *dir) { pb(c).Steps[3].RM = `rm.skills.welth >= 4` }, []string{"step 4", `unknown skill "welth"`}},
		{"rm expression indexes an unknown skill", func(c *Config, _ *dir) { pb(c).Steps[3].RM = `rm.skills["welth"] >= 4` }, []string{"step 4", `unknown skill "welth"`}},
		{"rm expression names an unknown team", func(c *Config, _ *dir) { pb(c).Steps[3].RM = `rm.team == "afluent"` }, []string{"step 4", `team "afluent" never matches`, "affluent, mass"}},
		{"unknown target", func(c *Config, _ *dir) { pb(c).Steps[0].Target = "boss" }, []string{"step 1 target", `"boss"`, "allowed: own_rm, deputy, last_rm, team:<id>"}},
		{"unknown team target", func(c *Config, _ *dir) { pb(c).Steps[2].Target = "team:private" }, []string{"step 3 target", `unknown team "private"`, "known teams: affluent"}},
		{"personal target with rm expression", func(c *Config, _ *dir) { pb(c).Steps[0].RM = "true" }, []string{"step 1", "target own_rm with an rm expression"}},
		{"zero expiry before the last step", func(c *Config, _ *dir) { pb(c).Steps[1].Expiry = 0 }, []string{"step 2 expiry", "only the last step may have no expiry"}},
		{"expiry out of range", func(c *Config, _ *dir) { pb(c).Steps[0].Expiry = 500 * time.Millisecond }, []string{"step 1 expiry", "allowed: 1s..24h"}},
		{"fallback missing", func(c *Config, _ *dir) { pb(c).Fallback = "" }, []string{"fallback: missing", "overflow:team:<id>"}},
		{"fallback never reached", func(c *Config, _ *dir) { pb(c).Steps[3].Expiry = 0 }, []string{"fallback", "never reached"}},
		{"fallback unknown action", func(c *Config, _ *dir) { pb(c).Fallback = "hang_up" }, []string{"fallback", `"hang_up"`, "callback voicemail auto_reply"}},
		{"overflow to an unknown team", func(c *Config, _ *dir) { c.Policies[5].Fallback = "overflow:team:spill" }, []string{`policy "mass" fallback`, `unknown team "spill"`}},
		{"after-hours unknown action", func(c *Config, _ *dir) { pb(c).AfterHours = "overflow" }, []string{"after_hours", `"overflow"`}},
		{"mode unknown", func(c *Config, _ *dir) { pb(c).Mode = "widen" }, []string{"mode", `"widen"`, "cumulative, replace"}},
		{"policy selection unknown", func(c *Config, _ *dir) { pb(c).Selection = "random" }, []string{"selection", `"random"`, "longest_idle"}},
		{"policy licence unknown", func(c *Config, _ *dir) { pb(c).Licences = []string{"insurance"} }, []string{"licences", `unknown licence "insurance"`, "investment_advice"}},
		{"policy id malformed", func(c *Config, _ *dir) { pb(c).ID = "Private Bank" }, []string{"policies[0]", `id "Private Bank"`}},
		{"policy id duplicated", func(c *Config, _ *dir) { c.Policies[1].ID = "private-bank" }, []string{`policy "private-bank"`, "defined twice"}},
		{"policy without steps", func(c *Config, _ *dir) { pb(c).Steps = nil; pb(c).Fallback = "" }, []string{"no steps"}},
		{"no policies", func(c *Config, _ *dir) { c.Policies = []PolicyConfig{} }, []string{"policies: none configured"}},
		{"cost zero", func(c *Config, _ *dir) { c.Costs = map[conversation.Channel]int{conversation.ChannelSMS: 0} }, []string{"costs.sms", "allowed: 1..100"}},
		{"cost over 100", func(c *Config, _ *dir) { c.Costs = map[conversation.Channel]int{conversation.ChannelVoice: 150} }, []string{"costs.voice", "150 cost units", "allowed: 1..100"}},
		{"cost of an unknown channel", func(c *Config, _ *dir) { c.Costs = map[conversation.Channel]int{"fax": 10} }, []string{"costs", `unknown channel "fax"`}},
		{"offer timeout out of range", func(c *Config, _ *dir) { c.OfferTimeouts = map[string]time.Duration{"voice": time.Hour} }, []string{"offer_timeouts.voice", "allowed: 1s..10m"}},
		{"offer timeout unknown key", func(c *Config, _ *dir) { c.OfferTimeouts = map[string]time.Duration{"email": time.Second} }, []string{"offer_timeouts", `unknown key "email"`}},
		{"max missed offers out of range", func(c *Config, _ *dir) { c.MaxMissedOffers = 50 }, []string{"max_missed_offers", "allowed: 1..20"}},
		{"disposition malformed", func(c *Config, _ *dir) { c.WrapUp.Dispositions = []string{"resolved", "Lead Mortgage"} }, []string{"wrap_up.dispositions[1]", `"Lead Mortgage"`, "kind:detail"}},
		{"disposition twice", func(c *Config, _ *dir) { c.WrapUp.Dispositions = []string{"resolved", "resolved"} }, []string{"wrap_up.dispositions[1]", "listed twice"}},
		{"wrap-up timeout out of range", func(c *Config, _ *dir) { c.WrapUp.Timeout = 2 * time.Hour }, []string{"wrap_up.timeout", "allowed: 10s..1h0m0s"}},
		{"unknown segment", func(c *Config, _ *dir) { c.Segments = map[conversation.Segment]SegmentConfig{"vip": {}} }, []string{"segments", `unknown segment "vip"`}},
		{"wait budget percent zero", func(c *Config, _ *dir) {
			c.Segments = map[conversation.Segment]SegmentConfig{"mass": {Priority: 10, WaitBudget: WaitBudget{Within: time.Minute}}}
		}, []string{"segments.mass.wait_budget.percent", "allowed: 1..100"}},
		{"ageing cap below a segment priority", func(c *Config, _ *dir) { c.Ageing.Cap = 50 }, []string{"ageing.cap", "more than the highest segment priority, 60"}},
		{"ageing negative", func(c *Config, _ *dir) { c.Ageing.PerSecond = -1 }, []string{"ageing.per_second"}},
		{"min verification unknown", func(c *Config, _ *dir) { c.PrivateGate.MinVerification = "pin" }, []string{"private_gate.min_verification", `"pin"`}},
		{"intent licence unknown", func(c *Config, _ *dir) { c.IntentLicences = map[string][]string{"insure": {"insurance"}} }, []string{"intent_licences.insure", `unknown licence "insurance"`}},
		{"conflict with an unknown rm", func(c *Config, _ *dir) { c.Conflicts = []ConflictConfig{{RM: "rm-xx", Customer: "cus-1"}} }, []string{"conflicts[0]", `unknown rm "rm-xx"`}},
		{"selection unknown", func(c *Config, _ *dir) { c.Selection = "fastest" }, []string{"selection", `"fastest"`}},
		{"record unknown", func(c *Config, _ *dir) { c.Record = "verbose" }, []string{"record", `"verbose"`, "full, compact"}},
		{"deputy cycle", func(_ *Config, d *dir) { d.rms[1].Deputy = "rm-pb-01" }, []string{"rm rm-pb-01", "deputy cycle rm-pb-01 → rm-pb-02 → rm-pb-01"}},
		{"own deputy", func(_ *Config, d *dir) { d.rms[2].Deputy = "rm-pb-03" }, []string{"deputy cycle rm-pb-03 → rm-pb-03"}},
		{"skill level out of range", func(_ *Config, d *dir) { d.rms[0].Skills["fx"] = 7 }, []string{"rm rm-pb-01 skill fx", "proficiency 7 (allowed: 1..5)"}},
		{"team time zone unknown", func(_ *Config, d *dir) { d.teams[0].TimeZone = "Asia/Atlantis" }, []string{"team private_bank", `time zone "Asia/Atlantis"`}},
		{"team hours reversed", func(_ *Config, d *dir) {
			d.teams[1].Hours = []conversation.WorkingHours{{Days: []string{"mon-fri"}, Open: "18:00", Close: "09:00"}}
		}, []string{"team affluent", "hours[0]", "to a later HH:MM"}},
		{"team day unknown", func(_ *Config, d *dir) {
			d.teams[1].Hours = []conversation.WorkingHours{{Days: []string{"monday"}, Open: "09:00", Close: "18:00"}}
		}, []string{"team affluent", `day "monday"`}},
		{"team holiday malformed", func(_ *Config, d *dir) { d.teams[1].Holidays = []string{"25/12/2026"} }, []string{"team affluent", `holiday "25/12/2026"`, "YYYY-MM-DD"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			d := &dir{teams: testTeams(), rms: testRMs()}
			tt.mutate(&cfg, d)
			p, err := Compile(cfg, d.teams, d.rms)
			if err == nil {
				t.Fatalf("Compile succeeded (%d policies), want an error containing %q", len(p.All()), tt.want)
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Errorf("error does not wrap ErrInvalidConfig: %v", err)
			}
			if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 1 {
				t.Errorf("%d problems reported, want 1:\n%v", n, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestCompileReportsEveryProblem(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Costs = map[conversation.Channel]int{conversation.ChannelVideo: 101}
	cfg.Policies[0].Steps[2].Target = "team:nowhere"
	cfg.Policies[0].Steps[3].RM = "rm.skills.astrology >= 1"
	cfg.Policies[5].When = "segment =="
	cfg.WrapUp.Dispositions = []string{"Resolved!"}
	_, err := Compile(cfg, testTeams(), testRMs())
	if err == nil {
		t.Fatal("Compile succeeded")
	}
	want := []string{"costs.video", `step 3 target: unknown team "nowhere"`, `unknown skill "astrology"`, `policy "mass" when`, `"Resolved!"`}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not report %q:\n%v", w, err)
		}
	}
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != len(want) {
		t.Errorf("%d problems, want %d:\n%v", n, len(want), err)
	}
}
