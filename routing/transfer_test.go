package routing

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// transferred is privateConv (queued at t0, served by the own RM
// rm-pb-01) transferred by rm-pb-01 at t0+5m to team, wanting a mortgage
// adviser: rm-pb-01 is on its declined list, as the gateway records it.
func transferred(team conversation.TeamID) ConversationView {
	c := privateConv()
	c.Skills = []conversation.SkillRequirement{{Skill: "mortgage", MinLevel: 4}}
	c.Declined = []conversation.RMID{"rm-pb-01"}
	c.TransferTeam, c.TransferredBy, c.TransferredAt = team, "rm-pb-01", t0.Add(5*time.Minute)
	return c
}

func TestTransferToTeam(t *testing.T) {
	t.Parallel()
	at := t0.Add(5 * time.Minute) // the transfer
	office := []conversation.WorkingHours{{Days: []string{"mon-fri"}, Open: "09:00", Close: "18:00"}}
	// withHours gives office hours to the teams named, or to every team
	// but those named when except is set.
	withHours := func(except bool, ids ...conversation.TeamID) []conversation.Team {
		ts := testTeams()
		for i := range ts {
			named := false
			for _, id := range ids {
				named = named || ts[i].ID == id
			}
			if named != except {
				ts[i].Hours = office
			}
		}
		return ts
	}
	evening := t0.Add(10 * time.Hour) // 20:00 in Hong Kong
	short := DefaultConfig()
	short.TransferTimeout = 30 * time.Second
	tests := []struct {
		name  string
		cfg   *Config // nil: DefaultConfig
		teams []conversation.Team
		mod   func(map[conversation.RMID]*RMState)
		conv  func() ConversationView
		now   time.Time
		// want: outcome, chosen RM and step, transfer state ("" for no
		// record), candidates' teams, sentence.
		outcome  Outcome
		rm       conversation.RMID
		step     int
		state    TransferState
		teamOnly conversation.TeamID
		sentence string
	}{
		{
			name: "offered only to the team, with the usual filters", conv: func() ConversationView { return transferred("affluent") },
			now: at.Add(time.Second), outcome: OutcomeOffer, rm: "rm-af-02", step: 0, state: TransferActive, teamOnly: "affluent",
			sentence: "transferred to team affluent by rm-pb-01; offered to rm-af-02",
		},
		{
			name: "every filter applies: nobody speaks the language and has the skill",
			conv: func() ConversationView { c := transferred("affluent"); c.Language = "yue"; return c },
			now:  at.Add(time.Second), outcome: OutcomeWait, state: TransferActive, teamOnly: "affluent",
			sentence: "transferred to team affluent by rm-pb-01; waiting: no eligible RM among 2 candidates (1 without the language, 1 without the skills); policy private-bank takes over in 1m59s",
		},
		{
			name: "the team is busy just before the timeout", mod: func(st map[conversation.RMID]*RMState) { st["rm-af-02"].Load = 100 },
			conv: func() ConversationView { return transferred("affluent") }, now: at.Add(2*time.Minute - time.Millisecond),
			outcome: OutcomeWait, state: TransferActive, teamOnly: "affluent",
			sentence: "transferred to team affluent by rm-pb-01; waiting: no eligible RM among 2 candidates (1 at capacity, 1 without the skills); policy private-bank takes over in 1ms",
		},
		{
			name: "after the timeout the policy applies from its first step", mod: func(st map[conversation.RMID]*RMState) { st["rm-af-02"].Load = 100 },
			conv: func() ConversationView { c := transferred("affluent"); c.Skills = nil; c.Declined = nil; return c },
			now:  at.Add(2 * time.Minute), outcome: OutcomeOffer, rm: "rm-pb-01", step: 1, state: TransferLapsed,
			sentence: "transfer to team affluent by rm-pb-01 lapsed after 2m0s; offered to own RM rm-pb-01 at step 1",
		},
		{
			name: "after the timeout a declined own RM is skipped", conv: func() ConversationView { c := transferred("affluent"); c.Skills = nil; return c },
			mod: func(st map[conversation.RMID]*RMState) { st["rm-af-01"].Load, st["rm-af-02"].Load = 100, 100 },
			now: at.Add(2 * time.Minute), outcome: OutcomeOffer, rm: "rm-pb-02", step: 2, state: TransferLapsed,
			sentence: "transfer to team affluent by rm-pb-01 lapsed after 2m0s; own RM rm-pb-01 declined or missed this conversation; offered to deputy rm-pb-02 at step 2",
		},
		{
			name: "a configured timeout", cfg: &short, conv: func() ConversationView { c := transferred("affluent"); c.Skills = nil; return c },
			mod: func(st map[conversation.RMID]*RMState) { st["rm-af-01"].Load, st["rm-af-02"].Load = 100, 100 },
			now: at.Add(30 * time.Second), outcome: OutcomeOffer, rm: "rm-pb-02", step: 2, state: TransferLapsed,
			sentence: "transfer to team affluent by rm-pb-01 lapsed after 30s; own RM rm-pb-01 declined or missed this conversation; offered to deputy rm-pb-02 at step 2",
		},
		{
			name: "the policy's fallback counts from the lapse", conv: func() ConversationView { c := transferred("affluent"); c.Skills = nil; return c },
			mod: func(st map[conversation.RMID]*RMState) {
				for _, id := range []conversation.RMID{"rm-af-01", "rm-af-02", "rm-pb-02", "rm-pb-03"} {
					st[id].Load = 100
				}
			},
			now: at.Add(2*time.Minute + 200*time.Second), outcome: OutcomeFallback, state: TransferLapsed,
			sentence: "transfer to team affluent by rm-pb-01 lapsed after 2m0s; all 4 steps expired after 3m20s: callback",
		},
		{
			name: "unknown team: ignored, the policy starts at the transfer", conv: func() ConversationView { c := transferred("no_such_team"); c.Skills = nil; return c },
			now: at.Add(time.Second), outcome: OutcomeOffer, rm: "rm-pb-02", step: 2, state: TransferUnknownTeam,
			sentence: "transfer to unknown team no_such_team by rm-pb-01 ignored; own RM rm-pb-01 declined or missed this conversation; offered to deputy rm-pb-02 at step 2",
		},
		{
			name: "closed team: skipped, the policy starts at the transfer", teams: withHours(false, "affluent"),
			conv: func() ConversationView {
				c := transferred("affluent")
				c.Skills, c.QueuedAt, c.TransferredAt = nil, evening.Add(-10*time.Minute), evening
				return c
			},
			now: evening.Add(time.Second), outcome: OutcomeOffer, rm: "rm-pb-02", step: 2, state: TransferTeamClosed,
			sentence: "transfer to team affluent by rm-pb-01 skipped: team closed; own RM rm-pb-01 declined or missed this conversation; offered to deputy rm-pb-02 at step 2",
		},
		{
			name: "an open target team holds off the after-hours action", teams: withHours(true, "overflow"),
			conv: func() ConversationView {
				c := transferred("overflow")
				c.Skills, c.QueuedAt, c.TransferredAt = nil, evening.Add(-10*time.Minute), evening
				return c
			},
			now: evening.Add(time.Second), outcome: OutcomeOffer, rm: "rm-ov-01", step: 0, state: TransferActive, teamOnly: "overflow",
			sentence: "transferred to team overflow by rm-pb-01; offered to rm-ov-01",
		},
		{
			name: "no team: a transfer back to the queue restarts the policy",
			conv: func() ConversationView { c := transferred(""); c.Skills = nil; return c },
			now:  at.Add(time.Second), outcome: OutcomeOffer, rm: "rm-pb-02", step: 2,
			sentence: "own RM rm-pb-01 declined or missed this conversation; offered to deputy rm-pb-02 at step 2",
		},
		{
			name: "without the transfer time the policy counts from the first queueing",
			conv: func() ConversationView {
				c := transferred("")
				c.Skills, c.TransferredBy, c.TransferredAt = nil, "", time.Time{}
				return c
			},
			now: at.Add(time.Second), outcome: OutcomeFallback,
			sentence: "all 4 steps expired after 5m1s: callback",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			if tt.cfg != nil {
				cfg = *tt.cfg
			}
			p := mustCompile(t, cfg)
			snap := snapWith(t, p, tt.teams, tt.mod)
			d := Decide(p, snap, tt.conv(), tt.now)
			if d.Outcome != tt.outcome {
				t.Fatalf("outcome %s, want %s: %s", d.Outcome, tt.outcome, d.Sentence)
			}
			if tt.outcome == OutcomeOffer && (d.Choice.RMID != tt.rm || d.Choice.Step != tt.step) {
				t.Errorf("offered to %s at step %d, want %s at step %d", d.Choice.RMID, d.Choice.Step, tt.rm, tt.step)
			}
			switch {
			case tt.state == "" && d.Transfer != nil:
				t.Errorf("transfer record %+v, want none", d.Transfer)
			case tt.state != "" && (d.Transfer == nil || d.Transfer.State != tt.state || d.Transfer.By != "rm-pb-01"):
				t.Errorf("transfer record %+v, want state %s by rm-pb-01", d.Transfer, tt.state)
			}
			if tt.teamOnly != "" {
				if len(d.Steps) != 0 || d.Overflow {
					t.Errorf("policy steps %v (overflow %v) active during the transfer", d.Steps, d.Overflow)
				}
				if len(d.Candidates) == 0 {
					t.Error("no candidates recorded")
				}
				for _, c := range d.Candidates {
					if st, _ := snap.RM(c.RMID); st.RM.TeamID != tt.teamOnly || c.Step != 0 {
						t.Errorf("candidate %s of team %s at step %d, want only team %s at step 0", c.RMID, st.RM.TeamID, c.Step, tt.teamOnly)
					}
				}
			}
			if d.Sentence != tt.sentence {
				t.Errorf("sentence\n got %q\nwant %q", d.Sentence, tt.sentence)
			}
		})
	}
}

// TestTransferTiming: the target's record says when the policy starts;
// a waiting decision is woken then.
func TestTransferTiming(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	if p.TransferTimeout() != DefaultTransferTimeout {
		t.Fatalf("TransferTimeout() = %v, want %v", p.TransferTimeout(), DefaultTransferTimeout)
	}
	snap := snapWith(t, p, nil, func(st map[conversation.RMID]*RMState) { st["rm-af-02"].Load = 100 })
	conv := transferred("affluent")
	d := Decide(p, snap, conv, conv.TransferredAt.Add(time.Minute))
	until := conv.TransferredAt.Add(2 * time.Minute)
	want := TransferRecord{Team: "affluent", By: "rm-pb-01", At: conv.TransferredAt, Until: until, State: TransferActive}
	if d.Transfer == nil || *d.Transfer != want {
		t.Fatalf("transfer record %+v, want %+v", d.Transfer, want)
	}
	if !d.NextChange.Equal(until) {
		t.Errorf("next change %v, want the lapse %v", d.NextChange, until)
	}
	// A target without a transfer time counts from QueuedAt.
	conv.TransferredAt = time.Time{}
	if d := Decide(p, snap, conv, t0.Add(time.Minute)); d.Transfer == nil || !d.Transfer.At.Equal(t0) || d.Transfer.State != TransferActive {
		t.Errorf("without TransferredAt: %+v", d.Transfer)
	}
}

// TestTransferInAssign: Assign honours the target like Decide, moves the
// load of an offer to the next conversation, and a waiting call reserves
// an RM of the team at step 0.
func TestTransferInAssign(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	snap := snapWith(t, p, nil, func(st map[conversation.RMID]*RMState) { st["rm-af-01"].Load, st["rm-af-02"].Load = 50, 25 })
	chat := transferred("affluent")
	chat.ID, chat.Channel, chat.Skills = "chat", conversation.ChannelWebChat, nil
	call := transferred("affluent")
	call.ID, call.Skills, call.QueuedAt = "call", nil, t0.Add(time.Second)
	now := chat.TransferredAt.Add(time.Second)
	ds := Assign(p, snap, []ConversationView{call, chat}, now)
	if len(ds) != 2 {
		t.Fatalf("%d decisions", len(ds))
	}
	byID := map[conversation.ConversationID]Decision{ds[0].ConversationID: ds[0], ds[1].ConversationID: ds[1]}
	c, w := byID["chat"], byID["call"]
	if c.Outcome != OutcomeOffer || c.Choice.RMID != "rm-af-01" || c.Choice.Step != 0 {
		t.Fatalf("chat: %s %+v: %s", c.Outcome, c.Choice, c.Sentence)
	}
	if w.Outcome != OutcomeWait || w.Reserved == nil || w.Reserved.RMID != "rm-af-02" || w.Reserved.Step != 0 {
		t.Fatalf("call: %s reserved %+v: %s", w.Outcome, w.Reserved, w.Sentence)
	}
	want := "transferred to team affluent by rm-pb-01; waiting: no eligible RM among 2 candidates (2 at capacity); rm-af-02 reserved (25/100 → draining); policy private-bank takes over in 1m59s"
	if w.Sentence != want {
		t.Errorf("call sentence\n got %q\nwant %q", w.Sentence, want)
	}
}

// TestTransferRecordJSON: the decision record carries the target.
func TestTransferRecordJSON(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, DefaultConfig())
	conv := transferred("affluent")
	d := Decide(p, snapWith(t, p, nil, nil), conv, conv.TransferredAt.Add(time.Second))
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Transfer map[string]any `json:"transfer"`
		Choice   struct {
			Step int `json:"step"`
		} `json:"choice"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"team": "affluent", "by": "rm-pb-01", "at": "2026-03-02T02:05:00Z", "until": "2026-03-02T02:07:00Z", "state": "active",
	}
	for k, v := range want {
		if got.Transfer[k] != v {
			t.Errorf("transfer.%s = %v, want %v (record %s)", k, got.Transfer[k], v, b)
		}
	}
	if len(got.Transfer) != len(want) || got.Choice.Step != 0 {
		t.Errorf("record %s", b)
	}
	if plain := Decide(p, snapWith(t, p, nil, nil), privateConv(), t0); plain.Transfer != nil {
		t.Errorf("a conversation without a target has a transfer record %+v", plain.Transfer)
	} else if b, _ := json.Marshal(plain); strings.Contains(string(b), `"transfer"`) {
		t.Errorf("a record without a target writes transfer: %s", b)
	}
}

func TestTransferTimeoutConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		timeout time.Duration
		ok      bool
	}{
		{"default when zero", 0, true}, {"one second", time.Second, true}, {"one hour", time.Hour, true},
		{"below a second", 500 * time.Millisecond, false}, {"over an hour", 61 * time.Minute, false}, {"negative", -time.Second, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			cfg.TransferTimeout = tt.timeout
			p, err := Compile(cfg, testTeams(), testRMs())
			if tt.ok {
				if err != nil {
					t.Fatalf("Compile: %v", err)
				}
				if want := max(tt.timeout, 0); want != 0 && p.TransferTimeout() != want {
					t.Errorf("TransferTimeout() = %v, want %v", p.TransferTimeout(), want)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "transfer_timeout: ") || !strings.Contains(err.Error(), "allowed: 1s..1h0m0s") {
				t.Fatalf("Compile error = %v, want a transfer_timeout problem naming the range", err)
			}
		})
	}
}
