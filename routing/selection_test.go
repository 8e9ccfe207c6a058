package routing

import (
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

func TestSelectionStrategies(t *testing.T) {
	t.Parallel()
	type states = map[conversation.RMID]*RMState
	// The private_bank team (rm-pb-01..03) serves a chat with no named RM.
	chat := func(c *ConversationView) { c.OwnRM, c.Channel = "", conversation.ChannelWebChat }
	tests := []struct {
		name     string
		strategy Strategy
		conv     func(*ConversationView)
		state    func(states)
		cursor   conversation.RMID
		want     conversation.RMID
		score    int64
	}{
		{name: "longest idle by idle-since", strategy: SelectLongestIdle, state: func(st states) {
			st["rm-pb-01"].IdleSince = t0.Add(-time.Minute)
			st["rm-pb-02"].IdleSince = t0.Add(-10 * time.Minute)
			st["rm-pb-03"].IdleSince = t0.Add(-5 * time.Minute)
		}, want: "rm-pb-02", score: 600000},
		{name: "longest idle counts the last offer", strategy: SelectLongestIdle, state: func(st states) {
			st["rm-pb-02"].IdleSince = t0.Add(-10 * time.Minute)
			st["rm-pb-02"].LastOfferAt = t0.Add(-time.Second)
			st["rm-pb-03"].IdleSince = t0.Add(-5 * time.Minute)
			st["rm-pb-01"].IdleSince = t0.Add(-time.Minute)
		}, want: "rm-pb-03", score: 300000},
		{name: "longest idle tie goes to the smallest id", strategy: SelectLongestIdle, want: "rm-pb-01", score: 3600000},
		{name: "least occupied", strategy: SelectLeastOccupied, state: func(st states) {
			st["rm-pb-01"].Load, st["rm-pb-02"].Load, st["rm-pb-03"].Load = 50, 25, 75
		}, want: "rm-pb-02", score: -2500},
		{name: "least occupied by share of capacity", strategy: SelectLeastOccupied, state: func(st states) {
			st["rm-pb-01"].Load, st["rm-pb-02"].Load, st["rm-pb-03"].Load = 50, 50, 50
			st["rm-pb-03"].RM.Capacity = 200
		}, want: "rm-pb-03", score: -2500},
		{name: "least occupied tie goes to the smallest id", strategy: SelectLeastOccupied, state: func(st states) {
			st["rm-pb-01"].Load, st["rm-pb-02"].Load, st["rm-pb-03"].Load = 50, 25, 25
		}, want: "rm-pb-02", score: -2500},
		{name: "highest proficiency", strategy: SelectHighestProficiency, conv: func(c *ConversationView) {
			c.Skills = []conversation.SkillRequirement{{Skill: "wealth", MinLevel: 3}}
		}, want: "rm-pb-01", score: 5},
		{name: "highest proficiency sums the required skills", strategy: SelectHighestProficiency, conv: func(c *ConversationView) {
			c.Skills = []conversation.SkillRequirement{{Skill: "wealth", MinLevel: 1}, {Skill: "fx", MinLevel: 1}}
		}, state: func(st states) {
			st["rm-pb-02"].RM.Skills = map[string]int{"wealth": 4, "fx": 5}
			st["rm-pb-03"].RM.Skills = map[string]int{"wealth": 3, "fx": 1}
		}, want: "rm-pb-02", score: 9},
		{name: "highest proficiency tie goes to the smallest id", strategy: SelectHighestProficiency, conv: func(c *ConversationView) {
			c.Skills = []conversation.SkillRequirement{{Skill: "wealth", MinLevel: 1}}
		}, state: func(st states) { st["rm-pb-01"].Load = 100; st["rm-pb-03"].RM.Skills = map[string]int{"wealth": 4} }, want: "rm-pb-02", score: 4},
		{name: "round robin without a cursor starts at the smallest id", strategy: SelectRoundRobin, want: "rm-pb-01", score: 1},
		{name: "round robin moves past the cursor", strategy: SelectRoundRobin, cursor: "rm-pb-01", want: "rm-pb-02", score: 1},
		{name: "round robin skips the ineligible", strategy: SelectRoundRobin, cursor: "rm-pb-01", state: busy("rm-pb-02"), want: "rm-pb-03", score: 1},
		{name: "round robin wraps around", strategy: SelectRoundRobin, cursor: "rm-pb-03", want: "rm-pb-01", score: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			cfg.Policies[0].Selection = tt.strategy
			p := mustCompile(t, cfg)
			st := available(testRMs())
			if tt.state != nil {
				tt.state(st)
			}
			list := make([]RMState, 0, len(st))
			for _, s := range st {
				list = append(list, *s)
			}
			var cursors map[string]conversation.RMID
			if tt.cursor != "" {
				cursors = map[string]conversation.RMID{"private-bank": tt.cursor}
			}
			snap, err := NewSnapshot(p, testTeams(), list, cursors)
			if err != nil {
				t.Fatal(err)
			}
			conv := privateConv()
			chat(&conv)
			if tt.conv != nil {
				tt.conv(&conv)
			}
			d := Decide(p, snap, conv, t0)
			if d.Outcome != OutcomeOffer {
				t.Fatalf("outcome %s: %s", d.Outcome, d.Sentence)
			}
			if d.Choice.RMID != tt.want || d.Choice.Score != tt.score {
				t.Errorf("chose %s (score %d), want %s (score %d): %s", d.Choice.RMID, d.Choice.Score, tt.want, tt.score, d.Sentence)
			}
			if d.Choice.CursorKey != "private-bank" {
				t.Errorf("cursor key %q", d.Choice.CursorKey)
			}
		})
	}
}

func TestEarlierStepBeatsHigherScore(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	// At 45 s the team step is active; the own RM is the least idle of the
	// three but step 1 wins.
	snap := snapWith(t, p, nil, func(st map[conversation.RMID]*RMState) {
		st["rm-pb-01"].IdleSince = t0
		st["rm-pb-03"].IdleSince = t0.Add(-9 * time.Hour)
	})
	d := Decide(p, snap, privateConv(), t0.Add(45*time.Second))
	if d.Choice == nil || d.Choice.RMID != "rm-pb-01" || d.Choice.Step != 1 {
		t.Fatalf("decision %s: %s", d.Outcome, d.Sentence)
	}
}

func TestRoundRobinRotatesAcrossABatch(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Policies[5].Selection = SelectRoundRobin
	p := mustCompile(t, cfg)
	snap := snapWith(t, p, nil, nil)
	var waiting []ConversationView
	for _, id := range []conversation.ConversationID{"c1", "c2", "c3"} {
		c := massConv(id)
		c.Channel = conversation.ChannelVoice
		waiting = append(waiting, c)
	}
	got := Assign(p, snap, waiting, t0)
	want := []conversation.RMID{"rm-ms-01", "rm-ms-02", ""}
	for i, d := range got {
		var rm conversation.RMID
		if d.Choice != nil {
			rm = d.Choice.RMID
		}
		if rm != want[i] {
			t.Errorf("decision %d (%s) chose %q, want %q: %s", i, d.ConversationID, rm, want[i], d.Sentence)
		}
	}
}
