package sim

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/routing"
)

// day is the simulated day of the hand-made scenarios: a Tuesday, UTC.
var day = time.Date(2026, time.June, 2, 0, 0, 0, 0, time.UTC)

// desk is a team open around the clock.
func desk(id conversation.TeamID, seg conversation.Segment) conversation.Team {
	return conversation.Team{ID: id, Name: string(id), Kind: conversation.TeamSegment, Segment: seg, TimeZone: "UTC"}
}

func rm(id conversation.RMID, team conversation.TeamID, deputy conversation.RMID) conversation.RM {
	return conversation.RM{ID: id, Name: string(id), TeamID: team, Languages: []string{"en"}, Deputy: deputy, Capacity: 100}
}

// compile compiles policies over DefaultConfig's settings (no intent
// licences) against teams and rms.
func compile(t *testing.T, policies []routing.PolicyConfig, teams []conversation.Team, rms []conversation.RM) *routing.Policies {
	t.Helper()
	cfg := routing.DefaultConfig()
	cfg.IntentLicences = map[string][]string{}
	cfg.Policies = policies
	p, err := routing.Compile(cfg, teams, rms)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// anyone routes every conversation to one team, without expiry.
func anyone(team string) []routing.PolicyConfig {
	return []routing.PolicyConfig{{ID: "all", When: "true", Steps: []routing.StepConfig{{Target: "team:" + team}}}}
}

func call(id string, at, handle, patience time.Duration) Arrival {
	return Arrival{ID: id, At: at, Segment: conversation.SegmentPrivate, Channel: conversation.ChannelVoice, HandleTime: handle, Patience: patience}
}

func chat(id string, at, handle, patience time.Duration) Arrival {
	a := call(id, at, handle, patience)
	a.Channel = conversation.ChannelWebChat
	return a
}

const s = time.Second

// want is what a scenario checks of one conversation.
type want struct {
	result Result
	wait   time.Duration
	rm     conversation.RMID
	role   routing.Role
	step   int
	action routing.Action
}

func TestScenarios(t *testing.T) {
	t.Parallel()
	teamDesk := []conversation.Team{desk("desk", conversation.SegmentMass)}
	oneRM := []conversation.RM{rm("rm-a", "desk", "")}
	twoRMs := []conversation.RM{rm("rm-a", "desk", ""), rm("rm-b", "desk", "")}
	tests := []struct {
		name      string
		teams     []conversation.Team
		rms       []conversation.RM
		customers []conversation.Customer
		policies  []routing.PolicyConfig
		arrivals  []Arrival
		opts      Options
		want      map[string]want
		check     func(t *testing.T, r Report)
	}{
		{
			name: "one RM, two calls 10 s apart, no wrap-up: the second waits 56 s", teams: teamDesk, rms: oneRM, policies: anyone("desk"),
			arrivals: []Arrival{call("c1", 0, 60*s, 0), call("c2", 10*s, 60*s, 0)},
			opts:     Options{ACW: -1},
			// c1: offered 0, accepted 3, done 63. c2: offered 63, accepted 66.
			want: map[string]want{"c1": {result: ResultAnswered, wait: 3 * s, rm: "rm-a", step: 1}, "c2": {result: ResultAnswered, wait: 56 * s, rm: "rm-a", step: 1}},
			check: func(t *testing.T, r Report) {
				tot := r.Total
				// Private wait budget: 20 s. c1 in target, c2 not.
				expect(t, "SLA", tot.SLA, 50)
				expect(t, "ASA", tot.ASA.Seconds(), 29.5)
				expect(t, "AHT", tot.AHT.Seconds(), 60)
				// Busy 120 s of 126 s open (the run ends at 126 s).
				expect(t, "occupancy", r.Teams[0].Occupancy, 100*120.0/126)
				expect(t, "end", r.End.Sub(day).Seconds(), 126)
			},
		},
		{
			name: "policy wrap-up of 60 s holds the RM: the second waits 116 s", teams: teamDesk, rms: oneRM, policies: anyone("desk"),
			arrivals: []Arrival{call("c1", 0, 60*s, 0), call("c2", 10*s, 60*s, 0)},
			want:     map[string]want{"c2": {result: ResultAnswered, wait: 116 * s, rm: "rm-a", step: 1}},
			check: func(t *testing.T, r Report) {
				expect(t, "AHT (handle + wrap-up)", r.Total.AHT.Seconds(), 120)
			},
		},
		{
			name:  "own RM busy: the deputy is offered after 20 s",
			teams: []conversation.Team{desk("pb", conversation.SegmentPrivate)},
			rms:   []conversation.RM{rm("rm-a", "pb", "rm-b"), rm("rm-b", "pb", "")},
			customers: []conversation.Customer{
				{ID: "cus-1", Segment: conversation.SegmentPrivate, OwnRM: "rm-a", Verification: conversation.VerificationBasic},
				{ID: "cus-2", Segment: conversation.SegmentPrivate, OwnRM: "rm-a", Verification: conversation.VerificationBasic},
			},
			policies: []routing.PolicyConfig{{ID: "pb", When: "true", Steps: []routing.StepConfig{
				{Target: routing.TargetOwnRM, Expiry: 20 * s}, {Target: routing.TargetDeputy, Expiry: 20 * s}, {Target: "team:pb"},
			}}},
			arrivals: []Arrival{
				{ID: "first", At: 0, Customer: "cus-1", Channel: conversation.ChannelVoice, HandleTime: 300 * s},
				// Queued at 10 s; own RM only until 30 s; deputy offered at
				// 30 s, accepts at 33 s.
				{ID: "second", At: 10 * s, Customer: "cus-2", Channel: conversation.ChannelVoice, HandleTime: 60 * s},
			},
			want: map[string]want{
				"first":  {result: ResultAnswered, wait: 3 * s, rm: "rm-a", role: routing.RoleOwnRM, step: 1},
				"second": {result: ResultAnswered, wait: 23 * s, rm: "rm-b", role: routing.RoleDeputy, step: 2},
			},
		},
		{
			name: "patience 5 s and no RM: abandoned at 5 s", teams: teamDesk, policies: anyone("desk"),
			arrivals: []Arrival{call("c1", 0, 60*s, 5*s)},
			want:     map[string]want{"c1": {result: ResultAbandoned, wait: 5 * s}},
			check: func(t *testing.T, r Report) {
				expect(t, "abandonment", r.Total.AbandonRate, 100)
				expect(t, "SLA", r.Total.SLA, 0)
			},
		},
		{
			name: "last step expires: callback at 30 s", teams: teamDesk, rms: oneRM,
			policies: []routing.PolicyConfig{{ID: "all", When: "true", Steps: []routing.StepConfig{{Target: "team:desk", Expiry: 30 * s}}, Fallback: "callback"}},
			arrivals: []Arrival{call("c1", 0, 600*s, 0), call("c2", 0, 60*s, 0)},
			want: map[string]want{
				"c1": {result: ResultAnswered, wait: 3 * s, rm: "rm-a", step: 1},
				"c2": {result: ResultFallback, wait: 30 * s, action: routing.ActionCallback},
			},
		},
		{
			name: "team closed: after-hours callback at once; open: answered",
			teams: []conversation.Team{{ID: "desk", Name: "desk", Kind: conversation.TeamSegment, Segment: conversation.SegmentMass, TimeZone: "UTC",
				Hours: []conversation.WorkingHours{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: "09:00", Close: "18:00"}}}},
			rms:      oneRM,
			policies: []routing.PolicyConfig{{ID: "all", When: "true", Steps: []routing.StepConfig{{Target: "team:desk"}}, AfterHours: "callback"}},
			arrivals: []Arrival{call("early", 8*time.Hour, 60*s, 0), call("open", 9*time.Hour+30*time.Minute, 60*s, 0)},
			opts:     Options{ACW: -1},
			want: map[string]want{
				"early": {result: ResultFallback, wait: 0, action: routing.ActionCallback},
				"open":  {result: ResultAnswered, wait: 3 * s, rm: "rm-a", step: 1},
			},
			check: func(t *testing.T, r Report) {
				// Open from 09:00 to the end at 09:31:03: 1863 s, busy 60 s.
				expect(t, "available", r.Teams[0].Available.Seconds(), 1863)
				expect(t, "occupancy", r.Teams[0].Occupancy, 100*60.0/1863)
			},
		},
		{
			name: "every offer missed: declined, RM set away after three, clients abandon", teams: teamDesk, rms: oneRM, policies: anyone("desk"),
			arrivals: []Arrival{chat("m1", 0, 60*s, 100*s), chat("m2", 1*s, 60*s, 100*s), chat("m3", 2*s, 60*s, 100*s)},
			opts:     Options{MissRate: 1, Seed: 1},
			want: map[string]want{
				"m1": {result: ResultAbandoned, wait: 100 * s}, "m2": {result: ResultAbandoned, wait: 100 * s}, "m3": {result: ResultAbandoned, wait: 100 * s},
			},
			check: func(t *testing.T, r Report) {
				if r.Offers != 3 || r.MissedOffers != 3 || r.NotResponding != 1 {
					t.Errorf("offers %d, missed %d, set away %d; want 3, 3, 1", r.Offers, r.MissedOffers, r.NotResponding)
				}
			},
		},
		{
			name: "four chats at once at 25 each, the fifth waits for one to end", teams: teamDesk, rms: oneRM, policies: anyone("desk"),
			arrivals: []Arrival{chat("w1", 0, 120*s, 0), chat("w2", 0, 120*s, 0), chat("w3", 0, 120*s, 0), chat("w4", 0, 120*s, 0), chat("w5", 0, 120*s, 0)},
			opts:     Options{ACW: -1},
			// w1..w4 accepted at 3 s, done at 123 s; w5 offered at 123 s.
			want: map[string]want{"w4": {result: ResultAnswered, wait: 3 * s, rm: "rm-a", step: 1}, "w5": {result: ResultAnswered, wait: 126 * s, rm: "rm-a", step: 1}},
			check: func(t *testing.T, r Report) {
				// 5 chats × 120 s × 25/100 = 150 s busy over 246 s.
				expect(t, "occupancy", r.Teams[0].Occupancy, 100*150.0/246)
			},
		},
		{
			name: "returning client goes to their last RM, not the longest idle", teams: teamDesk, rms: twoRMs,
			customers: []conversation.Customer{{ID: "cus-1", Segment: conversation.SegmentMass, Verification: conversation.VerificationBasic}},
			policies: []routing.PolicyConfig{{ID: "all", When: "true", Steps: []routing.StepConfig{
				{Target: routing.TargetLastRM, Expiry: 15 * s}, {Target: "team:desk"},
			}}},
			arrivals: []Arrival{
				{ID: "v1", Customer: "cus-1", Channel: conversation.ChannelVoice, HandleTime: 60 * s},
				{ID: "v2", At: 100 * s, Customer: "cus-1", Channel: conversation.ChannelVoice, HandleTime: 60 * s},
			},
			opts: Options{ACW: -1},
			want: map[string]want{
				"v1": {result: ResultAnswered, wait: 3 * s, rm: "rm-a", step: 2},
				"v2": {result: ResultAnswered, wait: 3 * s, rm: "rm-a", role: routing.RoleLastRM, step: 1},
			},
		},
		{
			name: "client hangs up while the offer rings: offer withdrawn, next client served", teams: teamDesk, rms: oneRM, policies: anyone("desk"),
			arrivals: []Arrival{call("gone", 0, 60*s, 5*s), call("next", 6*s, 60*s, 0)},
			opts:     Options{AnswerDelay: 12 * s, ACW: -1},
			want: map[string]want{
				"gone": {result: ResultAbandoned, wait: 5 * s},
				"next": {result: ResultAnswered, wait: 12 * s, rm: "rm-a", step: 1},
			},
			check: func(t *testing.T, r Report) {
				if r.MissedOffers != 0 {
					t.Errorf("missed %d: a withdrawn offer is not the RM's miss", r.MissedOffers)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := compile(t, tt.policies, tt.teams, tt.rms)
			opts := tt.opts
			opts.Day = day
			r, err := Run(p, tt.teams, tt.rms, tt.customers, tt.arrivals, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkConservation(t, r)
			for _, o := range r.Conversations {
				w, ok := tt.want[string(o.ID)]
				if !ok {
					continue
				}
				got := want{result: o.Result, wait: o.Wait, rm: o.RM, role: o.Role, step: o.Step, action: o.Action}
				if got != w {
					t.Errorf("%s = %+v, want %+v", o.ID, got, w)
				}
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

// expect compares a float to its hand-computed value.
func expect(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-6 {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// checkConservation: every conversation that entered the queue ended in
// exactly one way, per segment and in total.
func checkConservation(t *testing.T, r Report) {
	t.Helper()
	sum := SegmentStats{}
	for _, s := range append(r.Segments, r.Total) {
		if n := s.Answered + s.Abandoned + s.Fallback + s.Unrouted + s.Waiting; n != s.Offered {
			t.Errorf("segment %q: offered %d, but %d ended", s.Segment, s.Offered, n)
		}
	}
	for _, s := range r.Segments {
		sum.Offered += s.Offered
	}
	if sum.Offered != r.Total.Offered || r.Total.Offered != len(r.Conversations) {
		t.Errorf("total offered %d, segments %d, conversations %d", r.Total.Offered, sum.Offered, len(r.Conversations))
	}
}

func TestRunRefusesBadInput(t *testing.T) {
	t.Parallel()
	teams := []conversation.Team{desk("desk", conversation.SegmentMass)}
	rms := []conversation.RM{rm("rm-a", "desk", "")}
	p := compile(t, anyone("desk"), teams, rms)
	tests := []struct {
		name     string
		arrivals []Arrival
		opts     Options
		sentinel error
		msg      string
	}{
		{name: "unknown customer", arrivals: []Arrival{{Line: 7, Customer: "cus-x", Channel: conversation.ChannelVoice, HandleTime: s}}, sentinel: ErrInvalidArrival, msg: `line 7: customer: "cus-x" is not in the directory`},
		{name: "duplicate id", arrivals: []Arrival{call("a", 0, s, 0), call("a", s, s, 0)}, sentinel: ErrInvalidArrival, msg: `arrival 2: id: "a" already used by arrival 1`},
		{name: "no handle time", arrivals: []Arrival{call("a", 0, 0, 0)}, sentinel: ErrInvalidArrival, msg: "handle_time"},
		{name: "miss rate above 1", arrivals: []Arrival{call("a", 0, s, 0)}, opts: Options{MissRate: 1.5}, sentinel: ErrInvalidOptions, msg: "miss rate 1.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Run(p, teams, rms, nil, tt.arrivals, tt.opts)
			if !errors.Is(err, tt.sentinel) || err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %v containing %q", err, tt.sentinel, tt.msg)
			}
		})
	}
}
