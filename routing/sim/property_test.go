package sim

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/routing"
)

// randomWorld builds a directory with the teams DefaultConfig's policies
// expect (some with working hours), RMs with random languages, skills,
// capacities and acyclic deputies, and customers with own RMs.
func randomWorld(rng *rand.Rand) ([]conversation.Team, []conversation.RM, []conversation.Customer) {
	ids := []conversation.TeamID{"affluent", "mass", "mass_affluent", "overflow", "private_bank", "retail_lending", "small_business"}
	segs := []conversation.Segment{"affluent", "mass", "mass_affluent", "mass", "private", "retail_lending", "small_business"}
	var teams []conversation.Team
	for i, id := range ids {
		t := conversation.Team{ID: id, Name: string(id), Kind: conversation.TeamSegment, Segment: segs[i], TimeZone: "Asia/Hong_Kong"}
		if rng.IntN(3) == 0 {
			open := fmt.Sprintf("%02d:00", 7+rng.IntN(3))
			closing := fmt.Sprintf("%02d:30", 16+rng.IntN(6))
			t.Hours = []conversation.WorkingHours{{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Open: open, Close: closing}}
		}
		teams = append(teams, t)
	}
	langs := []string{"en", "zh", "yue"}
	skills := []string{"wealth", "fx", "cards", "mortgage"}
	var rms []conversation.RM
	n := 7 + rng.IntN(14)
	for i := range n {
		r := conversation.RM{
			ID: conversation.RMID(fmt.Sprintf("rm-%02d", i)), TeamID: ids[i%len(ids)],
			Languages: []string{langs[rng.IntN(3)]}, Skills: map[string]int{},
			Capacity: []int{50, 75, 100, 100}[rng.IntN(4)],
		}
		if rng.IntN(2) == 0 {
			r.Languages = append(r.Languages, "en")
			r.Languages = slices.Compact(slices.Sorted(slices.Values(r.Languages)))
		}
		for _, s := range skills {
			r.Skills[s] = 1 + rng.IntN(5)
		}
		if i > 0 && rng.IntN(2) == 0 {
			r.Deputy = rms[rng.IntN(i)].ID // only earlier RMs: no cycle
		}
		rms = append(rms, r)
	}
	var customers []conversation.Customer
	for i := range 12 {
		c := conversation.Customer{
			ID: conversation.CustomerID(fmt.Sprintf("cus-%02d", i)), Segment: conversation.Segments[rng.IntN(len(conversation.Segments))],
			Verification: conversation.Verifications[rng.IntN(3)], PreferredLanguage: langs[rng.IntN(3)],
		}
		if rng.IntN(2) == 0 {
			c.OwnRM = rms[rng.IntN(n)].ID
		}
		customers = append(customers, c)
	}
	return teams, rms, customers
}

// randomArrivals draws n arrivals over the first 14 hours of the day.
func randomArrivals(rng *rand.Rand, n int, customers []conversation.Customer) []Arrival {
	out := make([]Arrival, n)
	for i := range out {
		a := Arrival{
			At:         time.Duration(6*3600+rng.IntN(14*3600)) * time.Second,
			Segment:    conversation.Segments[rng.IntN(len(conversation.Segments))],
			Channel:    conversation.Channels[rng.IntN(len(conversation.Channels))],
			Language:   []string{"", "en", "zh", "yue"}[rng.IntN(4)],
			HandleTime: time.Duration(20+rng.IntN(900)) * time.Second,
			Priority:   rng.IntN(3) * 10,
		}
		if rng.IntN(4) > 0 {
			a.Patience = time.Duration(5+rng.IntN(600)) * time.Second
		}
		if rng.IntN(3) == 0 {
			a.Skills = map[string]int{[]string{"wealth", "fx", "cards", "mortgage"}[rng.IntN(4)]: 1 + rng.IntN(4)}
		}
		if rng.IntN(4) == 0 {
			a.Customer = customers[rng.IntN(len(customers))].ID
		}
		out[i] = a
	}
	return out
}

// TestProperties runs random worlds and arrivals (random answer delays,
// miss rates, wrap-up) and checks: the run never breaks routing's
// promises (Run fails with ErrInvariant on an RM over capacity or a
// conversation offered twice); every arrival is counted once (offered =
// answered + abandoned + fallback + unrouted + waiting); rebuilt from the
// outcomes, no RM ever serves more than their capacity; waits agree with
// answer delay and patience; nobody with patience is left waiting; and the
// same input gives the same report.
func TestProperties(t *testing.T) {
	t.Parallel()
	for seed := range uint64(16) {
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) {
			t.Parallel()
			rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
			teams, rms, customers := randomWorld(rng)
			cfg := routing.DefaultConfig()
			cfg.IntentLicences = map[string][]string{}
			p, err := routing.Compile(cfg, teams, rms)
			if err != nil {
				t.Fatal(err)
			}
			arrivals := randomArrivals(rng, 150+rng.IntN(250), customers)
			opts := Options{
				AnswerDelay: time.Duration(rng.IntN(20)+1) * time.Second,
				MissRate:    []float64{0, 0.1, 0.3}[rng.IntN(3)],
				Seed:        seed,
				ACW:         []time.Duration{-1, 0, 20 * time.Second}[rng.IntN(3)],
			}
			r, err := Run(p, teams, rms, customers, arrivals, opts)
			if err != nil {
				t.Fatal(err)
			}
			checkConservation(t, r)
			checkOutcomes(t, r, rms, arrivals, opts)
			again, err := Run(p, teams, rms, customers, arrivals, opts)
			if err != nil || !reflect.DeepEqual(r, again) {
				t.Fatalf("second run differs (err %v)", err)
			}
			if r.Total.Answered == 0 {
				t.Error("nothing answered: the scenario does not exercise routing")
			}
		})
	}
}

// checkOutcomes checks each outcome against its arrival and sweeps every
// RM's served conversations to check capacity.
func checkOutcomes(t *testing.T, r Report, rms []conversation.RM, arrivals []Arrival, opts Options) {
	t.Helper()
	type change struct {
		at    time.Time
		delta int
	}
	byRM := map[conversation.RMID][]change{}
	for i, o := range r.Conversations {
		a := arrivals[i]
		switch o.Result {
		case ResultAnswered:
			if o.Wait < opts.AnswerDelay || (a.Patience > 0 && o.Wait > a.Patience) {
				t.Errorf("%s answered after %v (answer delay %v, patience %v)", o.ID, o.Wait, opts.AnswerDelay, a.Patience)
			}
			if o.LeftAt.Sub(o.AnsweredAt) < a.HandleTime {
				t.Errorf("%s served %v, shorter than its handle time %v", o.ID, o.LeftAt.Sub(o.AnsweredAt), a.HandleTime)
			}
			byRM[o.RM] = append(byRM[o.RM], change{o.AnsweredAt, o.Cost}, change{o.LeftAt, -o.Cost})
		case ResultAbandoned:
			if o.Wait != a.Patience {
				t.Errorf("%s abandoned after %v, patience %v", o.ID, o.Wait, a.Patience)
			}
		case ResultWaiting:
			if a.Patience > 0 {
				t.Errorf("%s still waiting with patience %v", o.ID, a.Patience)
			}
		}
	}
	for _, rm := range rms {
		ch := byRM[rm.ID]
		slices.SortFunc(ch, func(x, y change) int { return cmp.Or(x.at.Compare(y.at), cmp.Compare(x.delta, y.delta)) })
		load := 0
		for _, c := range ch {
			if load += c.delta; load > rm.Capacity {
				t.Fatalf("rm %s serves %d cost units at %v, capacity %d", rm.ID, load, c.at, rm.Capacity)
			}
		}
	}
}
