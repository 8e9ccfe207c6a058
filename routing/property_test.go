package routing

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// randomRMs returns n RMs spread over the test teams with random skills,
// languages, licences and capacities.
func randomRMs(rng *rand.Rand, n int) []conversation.RM {
	teams := testTeams()
	langs := []string{"en", "yue", "zh"}
	skills := []string{"wealth", "mortgage", "fx", "cards", "sme_lending"}
	rms := make([]conversation.RM, n)
	for i := range rms {
		r := conversation.RM{
			ID:       conversation.RMID(fmt.Sprintf("rm-%04d", i)),
			TeamID:   teams[rng.IntN(len(teams))].ID,
			Skills:   map[string]int{},
			Capacity: []int{0, 100, 100, 50}[rng.IntN(4)],
		}
		for _, s := range skills {
			if rng.IntN(2) == 0 {
				r.Skills[s] = 1 + rng.IntN(5)
			}
		}
		r.Skills["cards"] = max(r.Skills["cards"], 1) // every skill named by a test exists
		r.Skills["wealth"] = max(r.Skills["wealth"], 1)
		for _, l := range langs {
			if rng.IntN(3) > 0 {
				r.Languages = append(r.Languages, l)
			}
		}
		if rng.IntN(2) == 0 {
			r.Licences = []conversation.Licence{{Name: "investment_advice", Expires: t0.Add(time.Duration(rng.IntN(7200)-3600) * time.Second)}}
		}
		rms[i] = r
	}
	rms[0].Licences = []conversation.Licence{{Name: "investment_advice"}} // the licence is known
	return rms
}

// randomStates gives each RM a random presence and a load that fits.
func randomStates(rng *rand.Rand, rms []conversation.RM, now time.Time) []RMState {
	presences := []conversation.PresenceState{conversation.PresenceAvailable, conversation.PresenceAvailable, conversation.PresenceAvailable, conversation.PresenceAway, conversation.PresenceOffline, conversation.PresenceWrapUp}
	out := make([]RMState, len(rms))
	for i, r := range rms {
		capacity := cmpOr(r.Capacity, DefaultCapacity)
		out[i] = RMState{
			RM:          r,
			Presence:    conversation.Presence{RMID: r.ID, State: presences[rng.IntN(len(presences))]},
			Load:        25 * rng.IntN(capacity/25+1),
			IdleSince:   now.Add(-time.Duration(rng.IntN(3600)) * time.Second),
			MissedInRow: rng.IntN(4),
		}
	}
	return out
}

// randomConv returns a waiting conversation queued up to 5 minutes ago.
func randomConv(rng *rand.Rand, i int, rms []conversation.RM, now time.Time) ConversationView {
	segs := conversation.Segments
	c := ConversationView{
		ID:           conversation.ConversationID(fmt.Sprintf("conv-%05d", i)),
		CustomerID:   conversation.CustomerID(fmt.Sprintf("cus-%05d", rng.IntN(1000))),
		Segment:      segs[rng.IntN(len(segs))],
		Channel:      conversation.Channels[rng.IntN(len(conversation.Channels))],
		Verification: conversation.Verifications[rng.IntN(3)],
		Prospect:     rng.IntN(10) == 0,
		QueuedAt:     now.Add(-time.Duration(rng.IntN(300000)) * time.Millisecond),
		Priority:     rng.IntN(3),
	}
	if rng.IntN(3) == 0 {
		c.Language = []string{"en", "yue", "zh"}[rng.IntN(3)]
	}
	if rng.IntN(4) == 0 {
		c.Skills = []conversation.SkillRequirement{{Skill: "wealth", MinLevel: 1 + rng.IntN(5)}}
	}
	if rng.IntN(5) == 0 {
		c.Intent = "investment"
	}
	if len(rms) > 0 && rng.IntN(2) == 0 {
		c.OwnRM = rms[rng.IntN(len(rms))].ID
	}
	if len(rms) > 0 && rng.IntN(4) == 0 {
		c.LastRM, c.LastRMAt = rms[rng.IntN(len(rms))].ID, now.Add(-time.Hour)
	}
	if len(rms) > 0 && rng.IntN(4) == 0 {
		c.Declined = []conversation.RMID{rms[rng.IntN(len(rms))].ID}
	}
	return c
}

func cmpOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// randomReservation returns one of the reservation settings the property
// tests try: the default, off, chats too, or after a minimum wait.
func randomReservation(rng *rand.Rand) ReservationConfig {
	return []ReservationConfig{
		{},
		{ReserveFor: []conversation.Channel{}},
		{ReserveFor: []conversation.Channel{conversation.ChannelVoice, conversation.ChannelWebChat, conversation.ChannelSMS}},
		{ReserveFor: []conversation.Channel{conversation.ChannelVideo, conversation.ChannelVoice}, MinWait: 45 * time.Second},
	}[rng.IntN(4)]
}

// TestAssignProperties checks, over random RMs, presences, loads and
// waiting conversations (a third of the seeds with simultaneous offers of
// chats): no RM over capacity after a batch, no conversation offered twice
// (a simultaneous offer names each RM once, at most the configured number), every offer to an RM who passes every filter, no offer to
// an RM reserved earlier in the batch, every reservation sound (see
// checkReservations), and the same decisions for the same input in any
// order.
func TestAssignProperties(t *testing.T) {
	t.Parallel()
	for seed := range uint64(150) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 0x5eed))
			rms := randomRMs(rng, 1+rng.IntN(40))
			cfg := DefaultConfig()
			cfg.Record = []RecordMode{RecordFull, RecordCompact}[seed%2]
			cfg.Policies[0].Selection = strategies[rng.IntN(len(strategies))]
			cfg.Conflicts = []ConflictConfig{{RM: rms[0].ID, Customer: "cus-00001"}}
			cfg.Reservation = randomReservation(rng)
			if seed%3 == 0 {
				cfg.SimultaneousOffers = map[string]int{TimeoutChat: 1 + rng.IntN(MaxSimultaneousOffers)}
			}
			p, err := Compile(cfg, testTeams(), rms)
			if err != nil {
				t.Fatal(err)
			}
			now := t0.Add(time.Duration(rng.IntN(86400)) * time.Second)
			states := randomStates(rng, rms, now)
			snap, err := NewSnapshot(p, testTeams(), states, nil)
			if err != nil {
				t.Fatal(err)
			}
			waiting := make([]ConversationView, rng.IntN(80))
			for i := range waiting {
				waiting[i] = randomConv(rng, i, rms, now)
			}
			got := Assign(p, snap, waiting, now)
			if len(got) != len(waiting) {
				t.Fatalf("%d decisions for %d conversations", len(got), len(waiting))
			}
			load := map[conversation.RMID]int{}
			offered := map[conversation.ConversationID]conversation.RMID{}
			byID := map[conversation.ConversationID]ConversationView{}
			for _, c := range waiting {
				byID[c.ID] = c
			}
			for _, d := range got {
				if d.Outcome != OutcomeOffer {
					continue
				}
				if prev, dup := offered[d.ConversationID]; dup {
					t.Fatalf("conversation %s offered to %s and %s", d.ConversationID, prev, d.Choice.RMID)
				}
				offered[d.ConversationID] = d.Choice.RMID
				if n := p.SimultaneousOffers(byID[d.ConversationID].Channel); len(d.Also) > n-1 {
					t.Fatalf("conversation %s offered to %d RMs at once, allowed %d", d.ConversationID, 1+len(d.Also), n)
				}
				group := map[conversation.RMID]bool{}
				for _, ch := range append([]Choice{*d.Choice}, d.Also...) {
					if group[ch.RMID] {
						t.Fatalf("conversation %s offered to %s twice in one simultaneous offer", d.ConversationID, ch.RMID)
					}
					group[ch.RMID] = true
					st, _ := snap.RM(ch.RMID)
					if c, _ := Check(p, snap, byID[d.ConversationID], ch.RMID, now); c.Failed&^bit(FilterCapacity) != 0 {
						t.Errorf("offer of %s to %s fails %v", d.ConversationID, ch.RMID, c.Failed)
					}
					if ch.LoadBefore != st.Load+load[ch.RMID] {
						t.Errorf("offer to %s assumes load %d, batch says %d", ch.RMID, ch.LoadBefore, st.Load+load[ch.RMID])
					}
					load[ch.RMID] += ch.Cost
					if total := st.Load + load[ch.RMID]; total > cmpOr(st.RM.Capacity, DefaultCapacity) {
						t.Fatalf("rm %s over capacity: %d", ch.RMID, total)
					}
				}
			}
			checkReservations(t, p, snap, byID, got, now)
			again := Assign(p, snap, waiting, now)
			shuffled := append([]ConversationView(nil), waiting...)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			reordered := Assign(p, snap, shuffled, now)
			if !reflect.DeepEqual(got, again) || !reflect.DeepEqual(got, reordered) {
				t.Fatal("same input, different decisions")
			}
		})
	}
}

// checkReservations checks the reservations of one batch, in serving
// order: only a waiting conversation on a reserving channel that has waited
// MinWait reserves; it reserves an RM not reserved yet who fails, for it,
// nothing but capacity; no later conversation is offered that RM; every
// candidate failing FilterReserved is an RM reserved earlier for another
// conversation, named in its note.
func checkReservations(t *testing.T, p *Policies, snap *Snapshot, byID map[conversation.ConversationID]ConversationView, batch []Decision, now time.Time) {
	t.Helper()
	rc := p.Reservation()
	heldFor := map[conversation.RMID]conversation.ConversationID{}
	for _, d := range batch {
		c := byID[d.ConversationID]
		for _, cand := range d.Candidates {
			if !cand.Failed.Has(FilterReserved) {
				continue
			}
			owner, held := heldFor[cand.RMID]
			if !held || owner == d.ConversationID {
				t.Fatalf("%s: candidate %s fails reserved, but is reserved for %q", d.ConversationID, cand.RMID, owner)
			}
			if !strings.Contains(cand.Note, "reserved for "+string(owner)+" (waiting ") {
				t.Errorf("%s: candidate %s note %q does not name %s", d.ConversationID, cand.RMID, cand.Note, owner)
			}
		}
		if d.Outcome == OutcomeOffer {
			if owner, held := heldFor[d.Choice.RMID]; held {
				t.Fatalf("%s offered to %s, reserved earlier in the batch for %s", d.ConversationID, d.Choice.RMID, owner)
			}
		}
		r := d.Reserved
		if r == nil {
			continue
		}
		if d.Outcome != OutcomeWait {
			t.Fatalf("%s: reservation with outcome %s", d.ConversationID, d.Outcome)
		}
		if !slices.Contains(rc.ReserveFor, c.Channel) || now.Sub(c.QueuedAt) < rc.MinWait {
			t.Fatalf("%s on %s, waited %v, reserved %s (reserve for %v after %v)", d.ConversationID, c.Channel, now.Sub(c.QueuedAt), r.RMID, rc.ReserveFor, rc.MinWait)
		}
		if owner, held := heldFor[r.RMID]; held {
			t.Fatalf("%s reserved %s, already reserved for %s", d.ConversationID, r.RMID, owner)
		}
		heldFor[r.RMID] = d.ConversationID
		if r.Load+r.Cost <= r.Capacity {
			t.Errorf("%s reserved %s with room: %d+%d of %d", d.ConversationID, r.RMID, r.Load, r.Cost, r.Capacity)
		}
		if chk, _ := Check(p, snap, c, r.RMID, now); chk.Failed&^bit(FilterCapacity) != 0 {
			t.Errorf("%s reserved %s, who fails %v", d.ConversationID, r.RMID, chk.Failed)
		}
		if !strings.Contains(d.Sentence, string(r.RMID)+" reserved (") {
			t.Errorf("%s: sentence does not name the reserved RM: %s", d.ConversationID, d.Sentence)
		}
	}
}
