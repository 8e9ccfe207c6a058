package routing

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// arrival is one conversation entering the queue in a simulation.
type arrival struct {
	conv     ConversationView
	handle   time.Duration // how long the RM keeps it once offered
	patience time.Duration // the client abandons after this wait; 0 never
}

// simResult is how each conversation ended.
type simResult struct {
	offeredAt map[conversation.ConversationID]time.Time
	fellBack  map[conversation.ConversationID]Action
	abandoned map[conversation.ConversationID]bool
	waiting   []ConversationView
}

// simulate runs arrivals through Assign on a virtual clock ticking every
// tick from start to end: offers are accepted at once and held for the
// arrival's handle time; presence changes (if flip is set) are applied
// each tick. It fails the test at once if an RM goes over capacity, a
// conversation is offered twice or a batch breaks a reservation (see
// checkReservations).
func simulate(t *testing.T, p *Policies, teams []conversation.Team, rms []conversation.RM, arrivals []arrival, start, end time.Time, tick time.Duration, flip func(now time.Time, st []RMState)) simResult {
	t.Helper()
	res := simResult{offeredAt: map[conversation.ConversationID]time.Time{}, fellBack: map[conversation.ConversationID]Action{}, abandoned: map[conversation.ConversationID]bool{}}
	states := make([]RMState, len(rms))
	index := map[conversation.RMID]int{}
	for i, r := range rms {
		states[i] = RMState{RM: r, Presence: conversation.Presence{RMID: r.ID, State: conversation.PresenceAvailable}, IdleSince: start}
		index[r.ID] = i
	}
	type active struct {
		rm   int
		cost int
		end  time.Time
	}
	var busy []active
	byID := map[conversation.ConversationID]arrival{}
	next := 0
	var waiting []ConversationView
	for now := start; now.Before(end); now = now.Add(tick) {
		busy = slices.DeleteFunc(busy, func(a active) bool {
			if a.end.After(now) {
				return false
			}
			states[a.rm].Load -= a.cost
			states[a.rm].IdleSince = a.end
			return true
		})
		for next < len(arrivals) && !arrivals[next].conv.QueuedAt.After(now) {
			a := arrivals[next]
			byID[a.conv.ID] = a
			waiting = append(waiting, a.conv)
			next++
		}
		waiting = slices.DeleteFunc(waiting, func(c ConversationView) bool {
			a := byID[c.ID]
			if a.patience > 0 && now.Sub(c.QueuedAt) >= a.patience {
				res.abandoned[c.ID] = true
				return true
			}
			return false
		})
		if flip != nil {
			flip(now, states)
		}
		snap, err := NewSnapshot(p, teams, states, nil)
		if err != nil {
			t.Fatal(err)
		}
		done := map[conversation.ConversationID]bool{}
		views := make(map[conversation.ConversationID]ConversationView, len(waiting))
		for _, c := range waiting {
			views[c.ID] = c
		}
		batch := Assign(p, snap, waiting, now)
		checkReservations(t, p, snap, views, batch, now)
		for _, d := range batch {
			switch d.Outcome {
			case OutcomeOffer:
				if _, twice := res.offeredAt[d.ConversationID]; twice {
					t.Fatalf("%v: conversation %s offered twice", now, d.ConversationID)
				}
				i := index[d.Choice.RMID]
				states[i].Load += d.Choice.Cost
				states[i].LastOfferAt = now
				if states[i].Load > cmpOr(states[i].RM.Capacity, DefaultCapacity) {
					t.Fatalf("%v: rm %s over capacity: %d", now, d.Choice.RMID, states[i].Load)
				}
				busy = append(busy, active{rm: i, cost: d.Choice.Cost, end: now.Add(byID[d.ConversationID].handle)})
				res.offeredAt[d.ConversationID] = now
				done[d.ConversationID] = true
			case OutcomeFallback:
				res.fellBack[d.ConversationID] = d.Action
				done[d.ConversationID] = true
			}
		}
		waiting = slices.DeleteFunc(waiting, func(c ConversationView) bool { return done[c.ID] })
	}
	res.waiting = waiting
	return res
}

// starvationSetup is one pool of two RMs serving both private-bank and
// mass calls, a steady stream of private-bank calls that alone exceeds the
// pool (one every 4 s, 9 s each, two RMs) and a mass call every 30 s.
func starvationSetup(ageing AgeingConfig) (Config, []conversation.Team, []conversation.RM, []arrival) {
	teams := []conversation.Team{{ID: "pool", Kind: conversation.TeamSpecialist, TimeZone: "UTC"}}
	rms := []conversation.RM{
		{ID: "rm-1", TeamID: "pool", Skills: map[string]int{"wealth": 3}, Languages: []string{"en"}},
		{ID: "rm-2", TeamID: "pool", Skills: map[string]int{"wealth": 3}, Languages: []string{"en"}},
	}
	cfg := DefaultConfig()
	cfg.IntentLicences = map[string][]string{}
	cfg.Ageing = ageing
	cfg.Policies = []PolicyConfig{
		{ID: "private", When: `segment == "private"`, Steps: []StepConfig{{Target: "team:pool"}}},
		{ID: "mass", When: `segment == "mass"`, Steps: []StepConfig{{Target: "team:pool"}}},
	}
	var arrivals []arrival
	for s := 0; s < 3600; s++ {
		add := func(seg conversation.Segment) {
			arrivals = append(arrivals, arrival{
				conv: ConversationView{
					ID: conversation.ConversationID(fmt.Sprintf("%s-%04d", seg, s)), CustomerID: "cus",
					Segment: seg, Channel: conversation.ChannelVoice, Verification: conversation.VerificationStrong,
					QueuedAt: t0.Add(time.Duration(s) * time.Second),
				},
				handle: 9 * time.Second,
			})
		}
		if s%4 == 0 {
			add(conversation.SegmentPrivate)
		}
		if s%30 == 0 {
			add(conversation.SegmentMass)
		}
	}
	return cfg, teams, rms, arrivals
}

// TestNoStarvation: under a steady stream of private-bank calls that by
// itself overloads a shared pool, mass calls are still served, because the
// capped effective priority brings every call to the cap and calls at the
// cap are served in arrival order. The control run, with an effectively
// uncapped priority, shows the same stream starving mass calls.
func TestNoStarvation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ageing    AgeingConfig
		starveOK  bool
		maxMassWT time.Duration
	}{
		{name: "capped ageing serves every mass call", ageing: AgeingConfig{PerSecond: 1, BudgetBoost: 40, Cap: 200}, maxMassWT: 15 * time.Minute},
		{name: "control: no cap in reach starves mass calls", ageing: AgeingConfig{PerSecond: 0.0001, BudgetBoost: 0.0001, Cap: 1e9}, starveOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, teams, rms, arrivals := starvationSetup(tt.ageing)
			p, err := Compile(cfg, teams, rms)
			if err != nil {
				t.Fatal(err)
			}
			// The stream never stops within the run: judge the mass calls
			// that arrived once the pool was saturated (after the first
			// minute) and early enough to be served within the run (before
			// minute 30 of 45).
			res := simulate(t, p, teams, rms, arrivals, t0, t0.Add(45*time.Minute), time.Second, nil)
			massTotal, massServed, privateServed := 0, 0, 0
			var worst time.Duration
			for _, a := range arrivals {
				at, ok := res.offeredAt[a.conv.ID]
				if in := a.conv.QueuedAt.Sub(t0); in < time.Minute || in >= 30*time.Minute {
					continue
				}
				switch {
				case a.conv.Segment == conversation.SegmentPrivate && ok:
					privateServed++
				case a.conv.Segment == conversation.SegmentMass:
					massTotal++
					if ok {
						massServed++
						worst = max(worst, at.Sub(a.conv.QueuedAt))
					}
				}
			}
			if privateServed < 350 {
				t.Fatalf("only %d private calls served: the pool is not saturated", privateServed)
			}
			if tt.starveOK {
				if massServed > 0 {
					t.Fatalf("control run served %d mass calls: the scenario does not starve without the cap", massServed)
				}
				return
			}
			if massServed != massTotal {
				t.Errorf("%d of %d mass calls served", massServed, massTotal)
			}
			if worst > tt.maxMassWT {
				t.Errorf("a mass call waited %v (bound %v)", worst, tt.maxMassWT)
			}
			t.Logf("served %d private, %d/%d mass; longest mass wait %v", privateServed, massServed, massTotal, worst)
		})
	}
}

// TestSimulationProperties runs random arrivals and presence changes
// through Assign, under random reservation settings, on a virtual clock:
// no RM ever goes over capacity, no conversation is offered twice, no batch
// offers a reserved RM (all checked every tick by simulate), and every
// conversation ends offered, fallen back or abandoned.
func TestSimulationProperties(t *testing.T) {
	t.Parallel()
	for seed := range uint64(8) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 0xd1ce))
			rms := randomRMs(rng, 10+rng.IntN(20))
			cfg := DefaultConfig()
			cfg.Reservation = randomReservation(rand.New(rand.NewPCG(seed, 0x4e5e)))
			p, err := Compile(cfg, testTeams(), rms)
			if err != nil {
				t.Fatal(err)
			}
			var arrivals []arrival
			for i := range 300 {
				c := randomConv(rng, i, rms, t0)
				c.QueuedAt = t0.Add(time.Duration(i*6+rng.IntN(6)) * time.Second)
				arrivals = append(arrivals, arrival{conv: c, handle: time.Duration(30+rng.IntN(600)) * time.Second, patience: time.Duration(30+rng.IntN(900)) * time.Second})
			}
			flipRNG := rand.New(rand.NewPCG(seed, 0xf11b))
			flip := func(now time.Time, st []RMState) {
				for i := range st {
					if flipRNG.IntN(120) == 0 {
						st[i].Presence.State = []conversation.PresenceState{conversation.PresenceAvailable, conversation.PresenceAway, conversation.PresenceOffline}[flipRNG.IntN(3)]
					}
				}
			}
			res := simulate(t, p, testTeams(), rms, arrivals, t0, t0.Add(90*time.Minute), time.Second, flip)
			if len(res.waiting) != 0 {
				t.Errorf("%d conversations still waiting at the end", len(res.waiting))
			}
			for _, a := range arrivals {
				_, offered := res.offeredAt[a.conv.ID]
				_, fell := res.fellBack[a.conv.ID]
				ended := 0
				for _, b := range []bool{offered, fell, res.abandoned[a.conv.ID]} {
					if b {
						ended++
					}
				}
				if ended != 1 {
					t.Errorf("conversation %s ended %d ways (offered %v, fallback %v, abandoned %v)", a.conv.ID, ended, offered, fell, res.abandoned[a.conv.ID])
				}
			}
			if len(res.offeredAt) == 0 {
				t.Error("nothing was ever offered")
			}
		})
	}
}

// blendSetup is a team of two RMs blending chats and calls: a web chat
// every 10 s held for 60 s (six chats at once, so each RM always holds
// some) and, from minute 5, a call every 5 minutes held for 2 minutes.
// Nobody abandons.
func blendSetup(reserve []conversation.Channel) (Config, []conversation.Team, []conversation.RM, []arrival) {
	teams := []conversation.Team{{ID: "pool", Kind: conversation.TeamSpecialist, TimeZone: "UTC"}}
	rms := []conversation.RM{
		{ID: "rm-1", TeamID: "pool", Languages: []string{"en"}},
		{ID: "rm-2", TeamID: "pool", Languages: []string{"en"}},
	}
	cfg := DefaultConfig()
	cfg.IntentLicences = map[string][]string{}
	cfg.Reservation.ReserveFor = reserve
	cfg.Policies = []PolicyConfig{{ID: "pool", When: "true", Steps: []StepConfig{{Target: "team:pool"}}}}
	var arrivals []arrival
	add := func(id string, ch conversation.Channel, s int, handle time.Duration) {
		arrivals = append(arrivals, arrival{
			conv: ConversationView{
				ID: conversation.ConversationID(id), CustomerID: conversation.CustomerID("cus-" + id),
				Segment: conversation.SegmentMass, Channel: ch, Verification: conversation.VerificationBasic,
				QueuedAt: t0.Add(time.Duration(s) * time.Second),
			},
			handle: handle,
		})
	}
	for s := 0; s < 7200; s++ {
		if s%10 == 0 {
			add(fmt.Sprintf("chat-%04d", s), conversation.ChannelWebChat, s, time.Minute)
		}
		if s >= 300 && s%300 == 0 {
			add(fmt.Sprintf("call-%04d", s), conversation.ChannelVoice, s, 2*time.Minute)
		}
	}
	return cfg, teams, rms, arrivals
}

// TestCallsNotStarvedByChats: under a steady stream of chats that keeps
// every RM's load above 0, reservation drains an RM for each waiting call,
// so every call is offered, within a bounded wait, and chats are still
// served. The control run, with reservation off, shows the same stream
// starving every call.
func TestCallsNotStarvedByChats(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		reserve []conversation.Channel
		control bool
	}{
		{name: "reservation for voice offers every call", reserve: []conversation.Channel{conversation.ChannelVoice}},
		{name: "control: reservation off starves calls", reserve: []conversation.Channel{}, control: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, teams, rms, arrivals := blendSetup(tt.reserve)
			p, err := Compile(cfg, teams, rms)
			if err != nil {
				t.Fatal(err)
			}
			// The streams run until minute 120; the run goes on to minute
			// 130 so the last call can be served. The control judges the
			// calls served while chats kept arriving: once they stop, the
			// RMs drain by themselves.
			streamEnd := t0.Add(120 * time.Minute)
			res := simulate(t, p, teams, rms, arrivals, t0, streamEnd.Add(10*time.Minute), time.Second, nil)
			calls, callsServed, duringStream, chats, chatsServed := 0, 0, 0, 0, 0
			var worst time.Duration
			for _, a := range arrivals {
				at, ok := res.offeredAt[a.conv.ID]
				switch a.conv.Channel {
				case conversation.ChannelVoice:
					calls++
					if ok {
						callsServed++
						worst = max(worst, at.Sub(a.conv.QueuedAt))
						if at.Before(streamEnd) {
							duringStream++
						}
					}
				default:
					chats++
					if ok {
						chatsServed++
					}
				}
			}
			t.Logf("calls %d/%d served, %d while chats kept arriving (longest wait %v); chats %d/%d served", callsServed, calls, duringStream, worst, chatsServed, chats)
			if tt.control {
				if duringStream > 0 {
					t.Fatalf("control run served %d calls while chats kept arriving: the stream does not starve calls without reservation", duringStream)
				}
				return
			}
			if callsServed != calls {
				t.Errorf("%d of %d calls offered", callsServed, calls)
			}
			if worst > 2*time.Minute {
				t.Errorf("a call waited %v (bound 2m: the longest chat, 1m, drains an RM)", worst)
			}
			if chatsServed < chats*9/10 {
				t.Errorf("only %d of %d chats served", chatsServed, chats)
			}
		})
	}
}
