package routing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// benchWorld is a bank-sized routing state: 1,000 RMs across the seven
// teams and 10,000 waiting conversations queued over the last 5 minutes.
type benchWorld struct {
	p       *Policies
	snap    *Snapshot
	waiting []ConversationView
}

func newBenchWorld(b *testing.B, record RecordMode) benchWorld {
	b.Helper()
	rng := rand.New(rand.NewPCG(2026, 3))
	sizes := []struct {
		team conversation.TeamID
		n    int
	}{{"private_bank", 100}, {"affluent", 200}, {"mass_affluent", 150}, {"mass", 300}, {"small_business", 100}, {"retail_lending", 100}, {"overflow", 50}}
	skills := []string{"wealth", "mortgage", "fx", "cards", "sme_lending"}
	var rms []conversation.RM
	var privateRMs []conversation.RMID
	for _, sz := range sizes {
		for i := range sz.n {
			r := conversation.RM{
				ID:        conversation.RMID(fmt.Sprintf("rm-%s-%03d", sz.team, i)),
				TeamID:    sz.team,
				Skills:    map[string]int{},
				Languages: []string{"en"},
				Capacity:  100,
			}
			for _, s := range skills {
				r.Skills[s] = 1 + rng.IntN(5)
			}
			if rng.IntN(2) == 0 {
				r.Languages = append(r.Languages, "yue")
			}
			if rng.IntN(3) == 0 {
				r.Languages = append(r.Languages, "zh")
			}
			if rng.IntN(2) == 0 {
				r.Licences = []conversation.Licence{{Name: "investment_advice", Expires: t0.Add(time.Duration(rng.IntN(1000)-100) * 24 * time.Hour)}}
			}
			rms = append(rms, r)
			if sz.team == "private_bank" {
				privateRMs = append(privateRMs, r.ID)
			}
		}
	}
	for i := range privateRMs {
		rms[i].Deputy = privateRMs[(i+1)%len(privateRMs)]
	}
	rms[len(privateRMs)-1].Deputy = "" // no deputy cycle
	cfg := DefaultConfig()
	cfg.Record = record
	p, err := Compile(cfg, testTeams(), rms)
	if err != nil {
		b.Fatal(err)
	}
	now := t0
	states := make([]RMState, len(rms))
	for i, r := range rms {
		st := conversation.PresenceAvailable
		switch x := rng.IntN(20); {
		case x < 2:
			st = conversation.PresenceAway
		case x < 4:
			st = conversation.PresenceOffline
		case x < 5:
			st = conversation.PresenceWrapUp
		}
		states[i] = RMState{
			RM: r, Presence: conversation.Presence{RMID: r.ID, State: st},
			Load:      25 * rng.IntN(5),
			IdleSince: now.Add(-time.Duration(rng.IntN(3600)) * time.Second),
		}
	}
	snap, err := NewSnapshot(p, testTeams(), states, nil)
	if err != nil {
		b.Fatal(err)
	}
	segs := []conversation.Segment{"mass", "mass", "mass", "mass", "mass_affluent", "mass_affluent", "affluent", "affluent", "private", "small_business", "retail_lending"}
	chans := []conversation.Channel{"voice", "voice", "voice", "video", "webchat", "webchat", "wechat", "wechat", "sms", "webchat"}
	waiting := make([]ConversationView, 10000)
	for i := range waiting {
		c := ConversationView{
			ID:           conversation.ConversationID(fmt.Sprintf("conv-%05d", i)),
			CustomerID:   conversation.CustomerID(fmt.Sprintf("cus-%05d", i)),
			Segment:      segs[rng.IntN(len(segs))],
			Channel:      chans[rng.IntN(len(chans))],
			Verification: conversation.Verifications[1+rng.IntN(2)],
			QueuedAt:     now.Add(-time.Duration(rng.IntN(300000)) * time.Millisecond),
		}
		if c.Segment == conversation.SegmentPrivate {
			c.OwnRM = privateRMs[rng.IntN(len(privateRMs))]
		}
		if rng.IntN(3) == 0 {
			c.Language = []string{"en", "yue", "zh"}[rng.IntN(3)]
		}
		if rng.IntN(4) == 0 {
			c.Skills = []conversation.SkillRequirement{{Skill: skills[rng.IntN(len(skills))], MinLevel: 1 + rng.IntN(4)}}
		}
		if rng.IntN(10) == 0 {
			c.Intent = "investment"
		}
		waiting[i] = c
	}
	return benchWorld{p: p, snap: snap, waiting: waiting}
}

// reportLatency adds decisions/s and the p50/p99 latency per decision.
func reportLatency(b *testing.B, lat []time.Duration, decisions int) {
	b.Helper()
	slices.Sort(lat)
	b.ReportMetric(float64(decisions)/b.Elapsed().Seconds(), "decisions/s")
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds())/1e3, "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds())/1e3, "p99-µs")
}

// BenchmarkDecide decides the 10,000 waiting conversations one after
// another against 1,000 RMs, in both record modes.
func BenchmarkDecide(b *testing.B) {
	for _, mode := range []RecordMode{RecordFull, RecordCompact} {
		b.Run(string(mode), func(b *testing.B) {
			w := newBenchWorld(b, mode)
			lat := make([]time.Duration, 0, 1<<16)
			offers := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				c := w.waiting[i%len(w.waiting)]
				start := time.Now()
				d := Decide(w.p, w.snap, c, t0)
				lat = append(lat, time.Since(start))
				if d.Outcome == OutcomeOffer {
					offers++
				}
			}
			b.StopTimer()
			reportLatency(b, lat, b.N)
			b.ReportMetric(float64(offers)/float64(b.N), "offer-share")
		})
	}
}

// BenchmarkAssign orders and decides the whole queue of 10,000
// conversations as one batch against 1,000 RMs.
func BenchmarkAssign(b *testing.B) {
	for _, mode := range []RecordMode{RecordFull, RecordCompact} {
		b.Run(string(mode), func(b *testing.B) {
			w := newBenchWorld(b, mode)
			offers := 0
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, d := range Assign(w.p, w.snap, w.waiting, t0) {
					if d.Outcome == OutcomeOffer {
						offers++
					}
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*len(w.waiting))/b.Elapsed().Seconds(), "decisions/s")
			b.ReportMetric(float64(offers)/float64(b.N*len(w.waiting)), "offer-share")
		})
	}
}

// BenchmarkNewSnapshot indexes 1,000 RMs and evaluates the default
// policies' RM expressions for them.
func BenchmarkNewSnapshot(b *testing.B) {
	w := newBenchWorld(b, RecordFull)
	states := make([]RMState, 0, w.snap.Len())
	for _, r := range w.snap.rms {
		st, _ := w.snap.RM(r.rm.ID)
		states = append(states, st)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := NewSnapshot(w.p, testTeams(), states, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOrder sorts 10,000 waiting conversations.
func BenchmarkOrder(b *testing.B) {
	w := newBenchWorld(b, RecordFull)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		Order(w.p, w.waiting, t0)
	}
}
