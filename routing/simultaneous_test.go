package routing

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

func TestSimultaneousOffersConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		set   map[string]int
		where string // "" when it compiles
	}{
		{"chat key", map[string]int{"chat": 3}, ""},
		{"one channel", map[string]int{"webchat": 2, "sms": 1}, ""},
		{"voice rings one RM", map[string]int{"voice": 2}, "simultaneous_offers.voice"},
		{"video rings one RM", map[string]int{"video": 3}, "simultaneous_offers.video"},
		{"voice 1 is fine", map[string]int{"voice": 1}, ""},
		{"too many", map[string]int{"chat": MaxSimultaneousOffers + 1}, "simultaneous_offers.chat"},
		{"zero", map[string]int{"wechat": 0}, "simultaneous_offers.wechat"},
		{"unknown key", map[string]int{"fax": 2}, "simultaneous_offers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := DefaultConfig()
			cfg.SimultaneousOffers = tt.set
			_, err := Compile(cfg, testTeams(), testRMs())
			switch {
			case tt.where == "" && err != nil:
				t.Fatalf("Compile: %v", err)
			case tt.where != "" && (err == nil || !strings.Contains(err.Error(), tt.where)):
				t.Fatalf("Compile: %v, want an error at %s", err, tt.where)
			}
		})
	}
	p := mustCompile(t, Config{SimultaneousOffers: map[string]int{"chat": 3, "sms": 2}})
	for ch, want := range map[conversation.Channel]int{
		conversation.ChannelWebChat: 3, conversation.ChannelWeChat: 3, conversation.ChannelSMS: 2,
		conversation.ChannelVoice: 1, conversation.ChannelVideo: 1,
	} {
		if got := p.SimultaneousOffers(ch); got != want {
			t.Errorf("SimultaneousOffers(%s) = %d, want %d", ch, got, want)
		}
	}
}

// TestSimultaneousOfferDecide: a web chat with no named RM reaches the
// private-bank team (rm-pb-01..03); with chat: 2 it is offered to the two
// longest idle at once, a call to one only, and with one eligible RM to
// that one alone.
func TestSimultaneousOfferDecide(t *testing.T) {
	t.Parallel()
	cfg := DefaultConfig()
	cfg.SimultaneousOffers = map[string]int{"chat": 2}
	idle := func(st map[conversation.RMID]*RMState) {
		st["rm-pb-01"].IdleSince = t0.Add(-time.Minute)
		st["rm-pb-02"].IdleSince = t0.Add(-10 * time.Minute)
		st["rm-pb-03"].IdleSince = t0.Add(-5 * time.Minute)
	}
	chat := privateConv()
	chat.OwnRM, chat.Channel = "", conversation.ChannelWebChat
	for _, mode := range []RecordMode{RecordFull, RecordCompact} {
		cfg.Record = mode
		p := mustCompile(t, cfg)
		d := Decide(p, snapWith(t, p, nil, idle), chat, t0)
		if d.Outcome != OutcomeOffer || d.Choice.RMID != "rm-pb-02" || len(d.Also) != 1 || d.Also[0].RMID != "rm-pb-03" {
			t.Fatalf("%s: %s %+v also %+v: %s", mode, d.Outcome, d.Choice, d.Also, d.Sentence)
		}
		if a := d.Also[0]; a.Cost != 25 || a.Capacity != 100 || a.ExpiresAt != d.Choice.ExpiresAt || a.Step != d.Choice.Step {
			t.Errorf("%s: also %+v beside choice %+v", mode, a, *d.Choice)
		}
		if want := "offered to rm-pb-02 (team private_bank) at step 3, and at once to rm-pb-03"; !strings.Contains(d.Sentence, "and at once to rm-pb-03") {
			t.Errorf("%s: sentence %q, want like %q", mode, d.Sentence, want)
		}
		for _, id := range []conversation.RMID{"rm-pb-02", "rm-pb-03"} {
			if _, ok := d.Candidate(id); !ok {
				t.Errorf("%s: %s offered but not recorded", mode, id)
			}
		}
		call := chat
		call.Channel = conversation.ChannelVoice
		if d := Decide(p, snapWith(t, p, nil, idle), call, t0); d.Choice == nil || len(d.Also) != 0 {
			t.Errorf("%s: a call offered to %+v and %+v", mode, d.Choice, d.Also)
		}
		one := func(st map[conversation.RMID]*RMState) { idle(st); busy("rm-pb-02")(st); busy("rm-pb-03")(st) }
		if d := Decide(p, snapWith(t, p, nil, one), chat, t0); d.Choice == nil || d.Choice.RMID != "rm-pb-01" || len(d.Also) != 0 {
			t.Errorf("%s: one eligible RM: %+v also %+v", mode, d.Choice, d.Also)
		}
	}
}

// TestSimultaneousOfferAssign: each RM of a simultaneous offer holds the
// chat's cost for the rest of the batch, so two RMs of capacity 100 take
// four chats offered to both (25 each), and the fifth waits.
func TestSimultaneousOfferAssign(t *testing.T) {
	t.Parallel()
	cfg := onePolicy("", StepConfig{Target: "team:mass"})
	cfg.SimultaneousOffers = map[string]int{"webchat": 3}
	p := mustCompile(t, cfg)
	snap := snapWith(t, p, nil, nil)
	mass := []conversation.RMID{"rm-ms-01", "rm-ms-02"} // the whole mass team
	perRM := 100 / 25
	var waiting []ConversationView
	for i := range perRM + 1 {
		c := massConv(conversation.ConversationID("c" + string(rune('1'+i))))
		c.QueuedAt = t0.Add(time.Duration(i) * time.Second)
		waiting = append(waiting, c)
	}
	got := Assign(p, snap, waiting, t0.Add(time.Minute))
	load := map[conversation.RMID]int{}
	for i, d := range got {
		if i == perRM {
			if d.Outcome != OutcomeWait {
				t.Fatalf("chat %d: %s, want wait: %s", i, d.Outcome, d.Sentence)
			}
			continue
		}
		if d.Outcome != OutcomeOffer || 1+len(d.Also) != min(3, len(mass)) {
			t.Fatalf("chat %d: %s to %+v also %+v: %s", i, d.Outcome, d.Choice, d.Also, d.Sentence)
		}
		for _, ch := range append([]Choice{*d.Choice}, d.Also...) {
			if ch.LoadBefore != load[ch.RMID] {
				t.Errorf("chat %d to %s assumes load %d, batch holds %d", i, ch.RMID, ch.LoadBefore, load[ch.RMID])
			}
			load[ch.RMID] += ch.Cost
		}
	}
	for rm, l := range load {
		if l != 100 {
			t.Errorf("%s holds %d after the batch, want 100", rm, l)
		}
	}
}

// TestAssignedWithReusedBuffers: full records whose candidate slices come
// from a buffer that hands the same slices out again, once each decision
// has been read, are the decisions Assign makes.
func TestAssignedWithReusedBuffers(t *testing.T) {
	t.Parallel()
	for seed := range uint64(20) {
		rng := rand.New(rand.NewPCG(seed, 0xb0f))
		rms := randomRMs(rng, 1+rng.IntN(40))
		cfg := DefaultConfig()
		p, err := Compile(cfg, testTeams(), rms)
		if err != nil {
			t.Fatal(err)
		}
		now := t0.Add(time.Duration(rng.IntN(86400)) * time.Second)
		snap, err := NewSnapshot(p, testTeams(), randomStates(rng, rms, now), nil)
		if err != nil {
			t.Fatal(err)
		}
		waiting := make([]ConversationView, rng.IntN(80))
		for i := range waiting {
			waiting[i] = randomConv(rng, i, rms, now)
		}
		want := Assign(p, snap, waiting, now)
		var free [][]Candidate
		given := 0
		buf := func(n int) []Candidate {
			given++
			if k := len(free); k > 0 && cap(free[k-1]) >= n {
				s := free[k-1]
				free = free[:k-1]
				return s[:cap(s)] // dirty on purpose: the length must not matter
			}
			return make([]Candidate, n)
		}
		i := 0
		for d := range AssignedWith(p, snap, waiting, now, buf) {
			if !reflect.DeepEqual(d, want[i]) {
				t.Fatalf("seed %d: decision %d differs with reused buffers", seed, i)
			}
			if d.Candidates != nil {
				free = append(free, d.Candidates)
			}
			i++
		}
		if i != len(want) || (len(want) > 0 && given == 0) {
			t.Fatalf("seed %d: %d decisions (want %d), %d buffers asked for", seed, i, len(want), given)
		}
	}
}
