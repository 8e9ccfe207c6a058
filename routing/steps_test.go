package routing

import (
	"reflect"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

func TestStepTargets(t *testing.T) {
	t.Parallel()
	team := func(id string) StepConfig { return StepConfig{Target: "team:" + id} }
	tests := []struct {
		name     string
		steps    []StepConfig
		conv     func(*ConversationView)
		wantRM   conversation.RMID
		wantRole Role
		wantStep int
	}{
		{name: "own_rm", steps: []StepConfig{{Target: TargetOwnRM}}, wantRM: "rm-pb-01", wantRole: RoleOwnRM, wantStep: 1},
		{name: "deputy of the client", steps: []StepConfig{{Target: TargetDeputy}}, conv: func(c *ConversationView) { c.Deputy = "rm-pb-03" }, wantRM: "rm-pb-03", wantRole: RoleDeputy, wantStep: 1},
		{name: "deputy of the own RM in the directory", steps: []StepConfig{{Target: TargetDeputy}}, wantRM: "rm-pb-02", wantRole: RoleDeputy, wantStep: 1},
		{name: "last_rm within the return window", steps: []StepConfig{{Target: TargetLastRM, Expiry: 15 * time.Second}, team("mass")},
			conv: func(c *ConversationView) { c.LastRM, c.LastRMAt = "rm-ms-02", t0.Add(-time.Hour) }, wantRM: "rm-ms-02", wantRole: RoleLastRM, wantStep: 1},
		{name: "last_rm outside the return window is skipped", steps: []StepConfig{{Target: TargetLastRM, Expiry: 15 * time.Second}, team("mass")},
			conv: func(c *ConversationView) { c.LastRM, c.LastRMAt = "rm-ms-02", t0.Add(-3*time.Hour) }, wantRM: "rm-ms-01", wantStep: 2},
		{name: "team", steps: []StepConfig{team("affluent")}, wantRM: "rm-af-01", wantStep: 1},
		{name: "rm expression alone", steps: []StepConfig{{RM: `"zh" in rm.languages && rm.skills.cards >= 4`}}, wantRM: "rm-ms-02", wantStep: 1},
		{name: "team narrowed by an rm expression", steps: []StepConfig{{Target: "team:affluent", RM: "rm.skills.mortgage >= 4"}}, wantRM: "rm-af-02", wantStep: 1},
		{name: "rm expression over segment and group", steps: []StepConfig{{RM: `rm.segment == "retail_lending" && rm.group == ""`}}, wantRM: "rm-rl-01", wantStep: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustCompile(t, onePolicy("", tt.steps...))
			conv := privateConv()
			if tt.conv != nil {
				tt.conv(&conv)
			}
			for _, cached := range []bool{true, false} {
				pp := p
				if !cached {
					pp = nil // snapshot without the expression cache
				}
				snap := snapWith(t, pp, nil, nil)
				d := Decide(p, snap, conv, t0)
				if d.Outcome != OutcomeOffer {
					t.Fatalf("cached=%v: outcome %s: %s", cached, d.Outcome, d.Sentence)
				}
				if c := d.Choice; c.RMID != tt.wantRM || c.Role != tt.wantRole || c.Step != tt.wantStep {
					t.Errorf("cached=%v: chose %s role %q step %d, want %s role %q step %d (%s)", cached, c.RMID, c.Role, c.Step, tt.wantRM, tt.wantRole, tt.wantStep, d.Sentence)
				}
			}
		})
	}
}

func TestRMExpressionWithNoMatchWaits(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, onePolicy("", StepConfig{RM: `"fr" in rm.languages`}))
	d := Decide(p, snapWith(t, p, nil, nil), privateConv(), t0)
	if d.Outcome != OutcomeWait || d.Considered != 0 || !d.NextChange.IsZero() {
		t.Fatalf("decision %+v", d)
	}
	if want := "waiting: no candidates at step 1"; d.Sentence != want {
		t.Errorf("sentence %q, want %q", d.Sentence, want)
	}
}

// TestStepExpiryTiming walks the default private-bank policy through its
// clock: own RM for exactly 20 s, then the deputy, the team, the affluent
// wealth specialists and the callback.
func TestStepExpiryTiming(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	allBusy := func(ids ...conversation.RMID) func(map[conversation.RMID]*RMState) {
		return func(st map[conversation.RMID]*RMState) {
			for _, id := range ids {
				st[id].Load = 100
			}
		}
	}
	tests := []struct {
		name      string
		at        time.Duration
		busy      []conversation.RMID
		outcome   Outcome
		rm        conversation.RMID
		steps     []int
		next      time.Duration // from t0; -1 for none
		sentence  string
		candsWant int
	}{
		{name: "19.999s only the own RM", at: 19999 * time.Millisecond, busy: []conversation.RMID{"rm-pb-01"}, outcome: OutcomeWait, steps: []int{1}, next: 20 * time.Second, candsWant: 1,
			sentence: "own RM rm-pb-01 at capacity (100/100); waiting: no eligible RM among 1 candidate (1 at capacity) at step 1; step 2 (deputy) joins in 1ms"},
		{name: "20s the deputy joins", at: 20 * time.Second, busy: []conversation.RMID{"rm-pb-01"}, outcome: OutcomeOffer, rm: "rm-pb-02", steps: []int{1, 2}, next: -1, candsWant: 2,
			sentence: "own RM rm-pb-01 at capacity (100/100); offered to deputy rm-pb-02 at step 2"},
		{name: "40s the private-bank team joins", at: 40 * time.Second, busy: []conversation.RMID{"rm-pb-01", "rm-pb-02"}, outcome: OutcomeOffer, rm: "rm-pb-03", steps: []int{1, 2, 3}, candsWant: 3,
			sentence: "own RM rm-pb-01 at capacity (100/100); deputy rm-pb-02 at capacity (100/100); offered to rm-pb-03 (team private_bank) at step 3"},
		{name: "99.999s still the private-bank team", at: 99999 * time.Millisecond, busy: []conversation.RMID{"rm-pb-01", "rm-pb-02", "rm-pb-03"}, outcome: OutcomeWait, steps: []int{1, 2, 3}, next: 100 * time.Second, candsWant: 3,
			sentence: "own RM rm-pb-01 at capacity (100/100); deputy rm-pb-02 at capacity (100/100); waiting: no eligible RM among 3 candidates (3 at capacity) at step 1-3; step 4 (team affluent where rm.skills.wealth >= 4) joins in 1ms"},
		{name: "100s affluent wealth specialists join", at: 100 * time.Second, busy: []conversation.RMID{"rm-pb-01", "rm-pb-02", "rm-pb-03"}, outcome: OutcomeOffer, rm: "rm-af-01", steps: []int{1, 2, 3, 4}, candsWant: 4,
			sentence: "own RM rm-pb-01 at capacity (100/100); deputy rm-pb-02 at capacity (100/100); offered to rm-af-01 (team affluent where rm.skills.wealth >= 4) at step 4"},
		{name: "219.999s still step 4", at: 219999 * time.Millisecond, busy: []conversation.RMID{"rm-pb-01", "rm-pb-02", "rm-pb-03", "rm-af-01"}, outcome: OutcomeWait, steps: []int{1, 2, 3, 4}, next: 220 * time.Second, candsWant: 4,
			sentence: "own RM rm-pb-01 at capacity (100/100); deputy rm-pb-02 at capacity (100/100); waiting: no eligible RM among 4 candidates (4 at capacity) at step 1-4; fallback callback in 1ms"},
		{name: "220s every step expired", at: 220 * time.Second, busy: []conversation.RMID{"rm-pb-01"}, outcome: OutcomeFallback, next: -1,
			sentence: "all 4 steps expired after 3m40s: callback"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := Decide(p, snapWith(t, p, nil, allBusy(tt.busy...)), privateConv(), t0.Add(tt.at))
			if d.Outcome != tt.outcome {
				t.Fatalf("outcome %s, want %s: %s", d.Outcome, tt.outcome, d.Sentence)
			}
			if tt.rm != "" && d.Choice.RMID != tt.rm {
				t.Errorf("chose %s, want %s", d.Choice.RMID, tt.rm)
			}
			if !reflect.DeepEqual(d.Steps, tt.steps) {
				t.Errorf("steps %v, want %v", d.Steps, tt.steps)
			}
			if tt.next > 0 && !d.NextChange.Equal(t0.Add(tt.next)) {
				t.Errorf("next change %v, want t0+%v", d.NextChange, tt.next)
			}
			if tt.next < 0 && d.Outcome != OutcomeOffer && !d.NextChange.IsZero() {
				t.Errorf("next change %v, want none", d.NextChange)
			}
			if d.Sentence != tt.sentence {
				t.Errorf("sentence\n got %q\nwant %q", d.Sentence, tt.sentence)
			}
			if tt.outcome != OutcomeFallback && d.Considered != tt.candsWant {
				t.Errorf("considered %d, want %d", d.Considered, tt.candsWant)
			}
			if d.PolicyID != "private-bank" || len(d.PolicyVersion) != 64 {
				t.Errorf("policy %q version %q", d.PolicyID, d.PolicyVersion)
			}
		})
	}
}

func TestStepModes(t *testing.T) {
	t.Parallel()
	// At 25 s both the own RM and the deputy are free; the deputy has been
	// idle longer.
	deputyIdler := func(st map[conversation.RMID]*RMState) { st["rm-pb-02"].IdleSince = t0.Add(-5 * time.Hour) }
	tests := []struct {
		name string
		mode StepMode
		want conversation.RMID
	}{
		{"cumulative prefers the earlier step", ModeCumulative, "rm-pb-01"},
		{"replace offers only the newest step", ModeReplace, "rm-pb-02"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			cfg.Policies[0].Mode = tt.mode
			p := mustCompile(t, cfg)
			d := Decide(p, snapWith(t, p, nil, deputyIdler), privateConv(), t0.Add(25*time.Second))
			if d.Outcome != OutcomeOffer || d.Choice.RMID != tt.want {
				t.Fatalf("got %s %v, want offer to %s: %s", d.Outcome, d.Choice, tt.want, d.Sentence)
			}
		})
	}
}

func TestPersonalStepSkipping(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	type states = map[conversation.RMID]*RMState
	tests := []struct {
		name     string
		conv     func(*ConversationView)
		state    func(states)
		at       time.Duration
		outcome  Outcome
		rm       conversation.RMID
		step     int
		sentence string
	}{
		{name: "own RM offline", state: func(st states) { st["rm-pb-01"].Presence.State = conversation.PresenceOffline }, outcome: OutcomeOffer, rm: "rm-pb-02", step: 2,
			sentence: "own RM rm-pb-01 offline; offered to deputy rm-pb-02 at step 2"},
		{name: "own RM declined", conv: func(c *ConversationView) { c.Declined = []conversation.RMID{"rm-pb-01"} }, outcome: OutcomeOffer, rm: "rm-pb-02", step: 2,
			sentence: "own RM rm-pb-01 declined or missed this conversation; offered to deputy rm-pb-02 at step 2"},
		{name: "own RM lacks the language", conv: func(c *ConversationView) { c.Language = "zh" }, outcome: OutcomeOffer, rm: "rm-pb-02", step: 2},
		{name: "no own RM and no deputy", conv: func(c *ConversationView) { c.OwnRM = "" }, outcome: OutcomeOffer, rm: "rm-pb-01", step: 3,
			sentence: "offered to rm-pb-01 (team private_bank) at step 3"},
		{name: "own RM not in the directory", conv: func(c *ConversationView) { c.OwnRM, c.Deputy = "rm-gone", "rm-pb-03" }, outcome: OutcomeOffer, rm: "rm-pb-03", step: 2},
		{name: "own RM away is waited for", state: func(st states) { st["rm-pb-01"].Presence.State = conversation.PresenceAway }, outcome: OutcomeWait},
		{name: "deputy repeating the own RM is skipped", conv: func(c *ConversationView) { c.Deputy = "rm-pb-01" }, state: busy("rm-pb-01"), at: 20 * time.Second, outcome: OutcomeOffer, rm: "rm-pb-02", step: 3},
		{name: "both named RMs offline", state: func(st states) {
			st["rm-pb-01"].Presence.State = conversation.PresenceOffline
			st["rm-pb-02"].Presence.State, st["rm-pb-02"].Presence.Reason = conversation.PresenceOffline, "holiday"
		}, outcome: OutcomeOffer, rm: "rm-pb-03", step: 3,
			sentence: "own RM rm-pb-01 offline; deputy rm-pb-02 offline; offered to rm-pb-03 (team private_bank) at step 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			conv := privateConv()
			if tt.conv != nil {
				tt.conv(&conv)
			}
			d := Decide(p, snapWith(t, p, nil, tt.state), conv, t0.Add(tt.at))
			if d.Outcome != tt.outcome {
				t.Fatalf("outcome %s, want %s: %s", d.Outcome, tt.outcome, d.Sentence)
			}
			if tt.rm != "" && (d.Choice.RMID != tt.rm || d.Choice.Step != tt.step) {
				t.Errorf("chose %s at step %d, want %s at step %d: %s", d.Choice.RMID, d.Choice.Step, tt.rm, tt.step, d.Sentence)
			}
			if tt.sentence != "" && d.Sentence != tt.sentence {
				t.Errorf("sentence\n got %q\nwant %q", d.Sentence, tt.sentence)
			}
		})
	}
}
