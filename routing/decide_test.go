package routing

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

func TestOverflowFallback(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	// Both mass RMs are full of chats; the last-RM step is skipped (no last
	// RM), so the mass team is step 2 from t0 to t0+90s.
	snap := snapWith(t, p, nil, func(st map[conversation.RMID]*RMState) { st["rm-ms-01"].Load, st["rm-ms-02"].Load = 100, 100 })
	before := Decide(p, snap, massConv("c1"), t0.Add(89999*time.Millisecond))
	if before.Outcome != OutcomeWait || before.Overflow || !before.NextChange.Equal(t0.Add(90*time.Second)) {
		t.Fatalf("before overflow: %s overflow=%v next=%v: %s", before.Outcome, before.Overflow, before.NextChange, before.Sentence)
	}
	if want := "waiting: no eligible RM among 2 candidates (2 at capacity) at step 2; overflow to team overflow in 1ms"; before.Sentence != want {
		t.Errorf("sentence\n got %q\nwant %q", before.Sentence, want)
	}
	at := Decide(p, snap, massConv("c1"), t0.Add(90*time.Second))
	if at.Outcome != OutcomeOffer || !at.Overflow || at.Choice.RMID != "rm-ov-01" || at.Choice.Step != 3 {
		t.Fatalf("at overflow: %s %+v: %s", at.Outcome, at.Choice, at.Sentence)
	}
	if want := "offered to rm-ov-01 of overflow team overflow"; at.Sentence != want {
		t.Errorf("sentence %q, want %q", at.Sentence, want)
	}
	// Once overflowing, a wait has no further step change.
	full := snapWith(t, p, nil, func(st map[conversation.RMID]*RMState) {
		st["rm-ms-01"].Load, st["rm-ms-02"].Load, st["rm-ov-01"].Load = 100, 100, 100
	})
	after := Decide(p, full, massConv("c1"), t0.Add(time.Hour))
	if after.Outcome != OutcomeWait || !after.NextChange.IsZero() || !after.Overflow {
		t.Errorf("after overflow: %s next=%v overflow=%v", after.Outcome, after.NextChange, after.Overflow)
	}
}

func TestAfterHours(t *testing.T) {
	t.Parallel()
	office := []conversation.WorkingHours{{Days: []string{"mon-fri"}, Open: "09:00", Close: "18:00"}}
	closedTeams := func(except ...conversation.TeamID) []conversation.Team {
		ts := testTeams()
		for i := range ts {
			ts[i].Hours = office
			for _, e := range except {
				if ts[i].ID == e {
					ts[i].Hours = nil
				}
			}
		}
		return ts
	}
	evening := t0.Add(10 * time.Hour) // 20:00 in Hong Kong
	noAfterHours := DefaultConfig()
	noAfterHours.Policies[0].AfterHours = ""
	tests := []struct {
		name     string
		cfg      Config
		teams    []conversation.Team
		at       time.Time
		outcome  Outcome
		sentence string
	}{
		{name: "every team closed", cfg: DefaultConfig(), teams: closedTeams(), at: evening, outcome: OutcomeFallback,
			sentence: "after hours (teams affluent, private_bank closed): callback"},
		{name: "open during the day", cfg: DefaultConfig(), teams: closedTeams(), at: t0, outcome: OutcomeOffer},
		{name: "one reachable team open", cfg: DefaultConfig(), teams: closedTeams("affluent"), at: evening, outcome: OutcomeWait},
		{name: "an unreachable open team does not count", cfg: DefaultConfig(), teams: closedTeams("mass"), at: evening, outcome: OutcomeFallback},
		{name: "no after-hours action waits", cfg: noAfterHours, teams: closedTeams(), at: evening, outcome: OutcomeWait},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustCompile(t, tt.cfg)
			conv := privateConv()
			conv.QueuedAt = tt.at
			d := Decide(p, snapWith(t, p, tt.teams, nil), conv, tt.at)
			if d.Outcome != tt.outcome {
				t.Fatalf("outcome %s, want %s: %s", d.Outcome, tt.outcome, d.Sentence)
			}
			if tt.outcome == OutcomeFallback && d.Action != ActionCallback {
				t.Errorf("action %q", d.Action)
			}
			if tt.sentence != "" && d.Sentence != tt.sentence {
				t.Errorf("sentence %q, want %q", d.Sentence, tt.sentence)
			}
		})
	}
}

func TestNoPolicy(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Policies = cfg.Policies[:1]
	p := mustCompile(t, cfg)
	d := Decide(p, snapWith(t, p, nil, nil), massConv("c1"), t0)
	if d.Outcome != OutcomeNoPolicy || d.PolicyID != "" || d.Choice != nil {
		t.Fatalf("decision %+v", d)
	}
	if want := `no policy matches this conversation (segment "mass", channel "webchat")`; d.Sentence != want {
		t.Errorf("sentence %q, want %q", d.Sentence, want)
	}
}

func TestWhenSeesConversationAttributes(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.Policies = append([]PolicyConfig{{
		ID:    "yue-wealth-video",
		When:  `channel == "video" && language == "yue" && intent == "investment" && verification == "strong" && aum_band == "8m+" && !prospect && skills.wealth >= 3`,
		Steps: []StepConfig{{Target: "team:affluent"}},
	}}, cfg.Policies...)
	p := mustCompile(t, cfg)
	snap := snapWith(t, p, nil, nil)
	conv := privateConv()
	conv.Channel, conv.Language, conv.Intent, conv.AUMBand = conversation.ChannelVideo, "yue", "investment", "8m+"
	conv.Skills = []conversation.SkillRequirement{{Skill: "wealth", MinLevel: 3}}
	if d := Decide(p, snap, conv, t0); d.PolicyID != "yue-wealth-video" {
		t.Errorf("policy %q, want yue-wealth-video", d.PolicyID)
	}
	conv.Skills[0].MinLevel = 2
	if d := Decide(p, snap, conv, t0); d.PolicyID != "private-bank" {
		t.Errorf("policy %q, want private-bank", d.PolicyID)
	}
}

func TestRecordModes(t *testing.T) {
	t.Parallel()
	full := mustCompile(t, DefaultConfig())
	compact := full.WithRecordMode(RecordCompact)
	// The whole private-bank team but rm-pb-03 is busy; at 45 s the own RM,
	// deputy and team are candidates.
	snap := snapWith(t, full, nil, func(st map[conversation.RMID]*RMState) {
		st["rm-pb-01"].Load = 100
		st["rm-pb-02"].Presence.State = conversation.PresenceAway
	})
	at := t0.Add(45 * time.Second)
	df := Decide(full, snap, privateConv(), at)
	dc := Decide(compact, snap, privateConv(), at)
	if df.Record != RecordFull || dc.Record != RecordCompact {
		t.Fatalf("record modes %s, %s", df.Record, dc.Record)
	}
	if !reflect.DeepEqual(df.Choice, dc.Choice) || df.Considered != dc.Considered || df.Filtered != dc.Filtered || df.Sentence != dc.Sentence {
		t.Errorf("modes disagree:\nfull    %+v %d %v %q\ncompact %+v %d %v %q", df.Choice, df.Considered, df.Filtered, df.Sentence, dc.Choice, dc.Considered, dc.Filtered, dc.Sentence)
	}
	if len(df.Candidates) != 3 || len(dc.Candidates) != 3 {
		t.Errorf("candidates: full %d, compact %d, want 3 each (own RM, deputy, chosen)", len(df.Candidates), len(dc.Candidates))
	}
	own, ok := dc.Candidate("rm-pb-01")
	if !ok || own.Failed != set(FilterCapacity) || own.Note != "at capacity (100/100)" || own.Role != RoleOwnRM {
		t.Errorf("compact record does not explain the own RM: %+v", own)
	}
	// With a bigger pool, compact keeps only named and chosen RMs.
	mass := Decide(full.WithRecordMode(RecordCompact), snap, massConv("c1"), t0.Add(2*time.Minute))
	fullMass := Decide(full, snap, massConv("c1"), t0.Add(2*time.Minute))
	if len(mass.Candidates) != 1 || len(fullMass.Candidates) != 3 || mass.Considered != 3 {
		t.Errorf("mass at overflow: compact %d candidates, full %d, considered %d", len(mass.Candidates), len(fullMass.Candidates), mass.Considered)
	}
	if want := "own RM rm-pb-01 at capacity (100/100); deputy rm-pb-02 away; offered to rm-pb-03 (team private_bank) at step 3"; df.Sentence != want {
		t.Errorf("sentence\n got %q\nwant %q", df.Sentence, want)
	}
}

func TestDecisionJSON(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	d := Decide(p, snapWith(t, p, nil, busy("rm-pb-01")), privateConv(), t0.Add(20*time.Second))
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"policy_id":"private-bank"`, `"outcome":"offer"`, `"steps":[1,2]`, `"failed":["capacity"]`,
		`"filtered":{"capacity":1}`, `"rm_id":"rm-pb-02"`, `"timeout":15000000000`, `"cursor_key":"private-bank"`,
		`"sentence":"own RM rm-pb-01 at capacity (100/100); offered to deputy rm-pb-02 at step 2"`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
	if !d.Choice.ExpiresAt.Equal(t0.Add(35*time.Second)) || d.Choice.Cost != 100 || d.Choice.LoadBefore != 0 || d.Choice.Capacity != 100 {
		t.Errorf("choice %+v", d.Choice)
	}
}

func TestDecideIsDeterministic(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	snap := snapWith(t, p, nil, busy("rm-pb-01"))
	for _, at := range []time.Duration{0, 20 * time.Second, 45 * time.Second, 4 * time.Minute} {
		a := Decide(p, snap, privateConv(), t0.Add(at))
		b := Decide(p, snap, privateConv(), t0.Add(at))
		if !reflect.DeepEqual(a, b) {
			t.Errorf("at %v: two decisions differ:\n%+v\n%+v", at, a, b)
		}
	}
}

func TestNewSnapshotErrors(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	rms := []RMState{
		{RM: conversation.RM{ID: "rm-a", TeamID: "mass"}},
		{RM: conversation.RM{ID: "rm-a", TeamID: "mass"}},
		{RM: conversation.RM{ID: "rm-b", TeamID: "nowhere"}},
		{RM: conversation.RM{ID: "rm-c", TeamID: "mass"}, Load: -5},
	}
	teams := append(testTeams(), conversation.Team{ID: "bad", TimeZone: "Mars/Olympus"}, testTeams()[0])
	_, err := NewSnapshot(p, teams, rms, nil)
	if err == nil {
		t.Fatal("NewSnapshot accepted a broken snapshot")
	}
	for _, want := range []string{"rm rm-a defined twice", `rm rm-b: unknown team "nowhere"`, "rm rm-c: load -5", "team bad: time zone", "team private_bank defined twice", "invalid routing snapshot"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestSnapshotAccessors(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	snap := snapWith(t, p, nil, busy("rm-pb-01"))
	st, ok := snap.RM("rm-pb-01")
	if !ok || st.Load != 100 || st.RM.Deputy != "rm-pb-02" || snap.Len() != len(testRMs()) || snap.Cursor("x") != "" {
		t.Errorf("RM = %+v, %v; Len %d", st, ok, snap.Len())
	}
	if _, ok := snap.RM("rm-none"); ok {
		t.Error("RM found a stranger")
	}
}

func TestDecideConcurrently(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	snap := snapWith(t, p, nil, busy("rm-pb-01"))
	var waiting []ConversationView
	for i := range 40 {
		c := massConv(conversation.ConversationID(fmt.Sprintf("c%02d", i)))
		if i%3 == 0 {
			c = privateConv()
			c.ID = conversation.ConversationID(fmt.Sprintf("p%02d", i))
		}
		c.QueuedAt = t0.Add(-time.Duration(i) * 5 * time.Second)
		waiting = append(waiting, c)
	}
	want := Assign(p, snap, waiting, t0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if got := Assign(p, snap, waiting, t0); !reflect.DeepEqual(got, want) {
				t.Error("concurrent Assign differs")
			}
			for _, c := range waiting {
				Decide(p, snap, c, t0)
			}
		})
	}
	wg.Wait()
}
