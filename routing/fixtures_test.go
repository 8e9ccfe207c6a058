package routing

import (
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// t0 is a Monday, 10:00 in Hong Kong (02:00 UTC).
var t0 = time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)

// testTeams is a directory with every team the default policies name; all
// are open around the clock unless a test gives them hours.
func testTeams() []conversation.Team {
	team := func(id conversation.TeamID, seg conversation.Segment) conversation.Team {
		return conversation.Team{ID: id, Name: string(id), Kind: conversation.TeamSegment, Segment: seg, TimeZone: "Asia/Hong_Kong"}
	}
	return []conversation.Team{
		team("private_bank", conversation.SegmentPrivate),
		team("affluent", conversation.SegmentAffluent),
		team("mass_affluent", conversation.SegmentMassAffluent),
		team("mass", conversation.SegmentMass),
		team("small_business", conversation.SegmentSmallBusiness),
		team("retail_lending", conversation.SegmentRetailLending),
		{ID: "overflow", Name: "overflow", Kind: conversation.TeamSpecialist, TimeZone: "Asia/Hong_Kong"},
	}
}

// testRMs is the RMs of testTeams.
func testRMs() []conversation.RM {
	inv := []conversation.Licence{{Name: "investment_advice", Expires: t0.Add(365 * 24 * time.Hour)}}
	return []conversation.RM{
		{ID: "rm-pb-01", TeamID: "private_bank", Skills: map[string]int{"wealth": 5, "fx": 3}, Languages: []string{"en", "yue"}, Licences: inv, Deputy: "rm-pb-02", Capacity: 100},
		{ID: "rm-pb-02", TeamID: "private_bank", Skills: map[string]int{"wealth": 4}, Languages: []string{"en", "zh"}, Licences: inv, Capacity: 100},
		{ID: "rm-pb-03", TeamID: "private_bank", Skills: map[string]int{"wealth": 3}, Languages: []string{"en", "yue"}, Capacity: 100},
		{ID: "rm-af-01", TeamID: "affluent", Skills: map[string]int{"wealth": 4, "mortgage": 3}, Languages: []string{"en", "yue"}, Licences: inv, Capacity: 100},
		{ID: "rm-af-02", TeamID: "affluent", Skills: map[string]int{"wealth": 2, "mortgage": 4}, Languages: []string{"en"}, Capacity: 100},
		{ID: "rm-ma-01", TeamID: "mass_affluent", Skills: map[string]int{"cards": 3}, Languages: []string{"en"}, Capacity: 100},
		{ID: "rm-ms-01", TeamID: "mass", Skills: map[string]int{"cards": 2}, Languages: []string{"en", "yue"}, Capacity: 100},
		{ID: "rm-ms-02", TeamID: "mass", Skills: map[string]int{"cards": 4}, Languages: []string{"en", "zh"}, Capacity: 100},
		{ID: "rm-sb-01", TeamID: "small_business", Skills: map[string]int{"sme_lending": 4}, Languages: []string{"en"}, Capacity: 100},
		{ID: "rm-rl-01", TeamID: "retail_lending", Skills: map[string]int{"mortgage": 5}, Languages: []string{"en"}, Capacity: 100},
		{ID: "rm-ov-01", TeamID: "overflow", Skills: map[string]int{"cards": 1}, Languages: []string{"en", "yue", "zh"}, Capacity: 100},
	}
}

// mustCompile compiles cfg against the test directory.
func mustCompile(t testing.TB, cfg Config) *Policies {
	t.Helper()
	p, err := Compile(cfg, testTeams(), testRMs())
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

// available returns every test RM available, idle since an hour before t0
// (in RM id order, so rm-pb-01 is not the longest idle by accident).
func available(rms []conversation.RM) map[conversation.RMID]*RMState {
	out := make(map[conversation.RMID]*RMState, len(rms))
	for _, r := range rms {
		out[r.ID] = &RMState{
			RM:        r,
			Presence:  conversation.Presence{RMID: r.ID, State: conversation.PresenceAvailable, Since: t0.Add(-time.Hour)},
			IdleSince: t0.Add(-time.Hour),
		}
	}
	return out
}

// snapWith builds a snapshot of the test directory, every RM available,
// after mod has changed the states (nil for none).
func snapWith(t testing.TB, p *Policies, teams []conversation.Team, mod func(map[conversation.RMID]*RMState)) *Snapshot {
	t.Helper()
	st := available(testRMs())
	if mod != nil {
		mod(st)
	}
	list := make([]RMState, 0, len(st))
	for _, s := range st {
		list = append(list, *s)
	}
	if teams == nil {
		teams = testTeams()
	}
	s, err := NewSnapshot(p, teams, list, nil)
	if err != nil {
		t.Fatalf("NewSnapshot: %v", err)
	}
	return s
}

// privateConv is a strongly verified private-bank client of rm-pb-01,
// calling, queued at t0.
func privateConv() ConversationView {
	return ConversationView{
		ID: "conv-pb", CustomerID: "cus-pb", Segment: conversation.SegmentPrivate,
		Channel: conversation.ChannelVoice, Verification: conversation.VerificationStrong,
		OwnRM: "rm-pb-01", QueuedAt: t0,
	}
}

// massConv is a basic-verified mass client on web chat, queued at t0.
func massConv(id conversation.ConversationID) ConversationView {
	return ConversationView{
		ID: id, CustomerID: conversation.CustomerID("cus-" + id), Segment: conversation.SegmentMass,
		Channel: conversation.ChannelWebChat, Verification: conversation.VerificationBasic, QueuedAt: t0,
	}
}

// busy sets RM id's load to its full capacity.
func busy(id conversation.RMID) func(map[conversation.RMID]*RMState) {
	return func(st map[conversation.RMID]*RMState) { st[id].Load = 100 }
}

// onePolicy is DefaultConfig with a single policy taking every
// conversation with the given steps and fallback.
func onePolicy(fallback string, steps ...StepConfig) Config {
	cfg := DefaultConfig()
	cfg.Policies = []PolicyConfig{{ID: "test", When: "true", Steps: steps, Fallback: fallback}}
	return cfg
}
