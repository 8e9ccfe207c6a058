package sim

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/routing"
)

// shippedDay is the example arrivals file, SyntheticDay(1) as JSON lines.
var shippedDay = filepath.Join("..", "..", "configs", "demo", "arrivals-bank-day.jsonl")

// TestShippedDayIsSyntheticDay keeps the shipped file reproducible: it must
// equal SyntheticDay(1) written with WriteArrivals. Regenerate it with
// AIRBRANCH_WRITE_ARRIVALS=1 go test -run TestShippedDayIsSyntheticDay ./routing/sim
func TestShippedDayIsSyntheticDay(t *testing.T) {
	t.Parallel()
	var want bytes.Buffer
	if err := WriteArrivals(&want, SyntheticDay(1)); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("AIRBRANCH_WRITE_ARRIVALS") == "1" {
		if err := os.WriteFile(shippedDay, want.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(shippedDay)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("%s is not SyntheticDay(1) (%d bytes, want %d); regenerate it (see the test's comment)", shippedDay, len(got), want.Len())
	}
	parsed, err := ReadArrivals(bytes.NewReader(got), shippedDay)
	if err != nil {
		t.Fatal(err)
	}
	if len(parsed) != len(SyntheticDay(1)) {
		t.Errorf("read %d arrivals back, want %d", len(parsed), len(SyntheticDay(1)))
	}
}

func TestSyntheticDayShape(t *testing.T) {
	t.Parallel()
	d := SyntheticDay(1)
	if !reflect.DeepEqual(d, SyntheticDay(1)) {
		t.Fatal("SyntheticDay(1) differs between calls")
	}
	if reflect.DeepEqual(d, SyntheticDay(2)) {
		t.Error("SyntheticDay(2) equals SyntheticDay(1): the seed is not used")
	}
	if len(d) < 2000 {
		t.Errorf("%d arrivals, want a few thousand", len(d))
	}
	segs := map[conversation.Segment]int{}
	chans := map[conversation.Channel]int{}
	perHour := make([]int, 24)
	privateWithRM := 0
	for i, a := range d {
		if err := a.Validate(); err != nil {
			t.Fatalf("arrival %d: %v", i, err)
		}
		if i > 0 && a.At < d[i-1].At {
			t.Fatalf("arrival %d at %v before arrival %d at %v", i, a.At, i-1, d[i-1].At)
		}
		segs[a.Segment]++
		chans[a.Channel]++
		perHour[a.At/time.Hour]++
		if a.Segment == conversation.SegmentPrivate && a.Customer != "" {
			privateWithRM++
		}
	}
	for _, s := range conversation.Segments {
		if segs[s] == 0 {
			t.Errorf("no arrival in segment %s", s)
		}
	}
	for _, c := range conversation.Channels {
		if chans[c] == 0 {
			t.Errorf("no arrival on channel %s", c)
		}
	}
	if privateWithRM < segs[conversation.SegmentPrivate]*3/4 {
		t.Errorf("%d of %d private arrivals name a customer with an own RM", privateWithRM, segs[conversation.SegmentPrivate])
	}
	// The curve: mid-morning and after-lunch peaks over the early morning,
	// the lunch dip and the evening; a few contacts outside opening hours.
	peak := func(h int) int { return perHour[h] }
	for _, c := range []struct{ high, low int }{{10, 8}, {10, 12}, {14, 12}, {15, 19}, {14, 20}} {
		if peak(c.high) <= peak(c.low) {
			t.Errorf("hour %d has %d arrivals, not more than hour %d (%d): %v", c.high, peak(c.high), c.low, peak(c.low), perHour)
		}
	}
	if night := perHour[0] + perHour[1] + perHour[2] + perHour[3] + perHour[4] + perHour[5] + perHour[6] + perHour[22] + perHour[23]; night == 0 || night > len(d)/50 {
		t.Errorf("%d arrivals at night, want a few", night)
	}
}

// TestSameSeedSameReport: with missed offers drawn at random, the same
// seed gives the same report and another seed another one.
func TestSameSeedSameReport(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(42, 42))
	teams, rms, customers := randomWorld(rng)
	cfg := routing.DefaultConfig()
	cfg.IntentLicences = map[string][]string{}
	p, err := routing.Compile(cfg, teams, rms)
	if err != nil {
		t.Fatal(err)
	}
	arrivals := randomArrivals(rng, 400, customers)
	run := func(seed uint64) Report {
		r, err := Run(p, teams, rms, customers, arrivals, Options{MissRate: 0.3, Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, c := run(7), run(7), run(8)
	if !reflect.DeepEqual(a, b) {
		t.Error("seed 7 twice: reports differ")
	}
	var ta, tc bytes.Buffer
	if err := a.WriteTable(&ta); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteTable(&tc); err != nil {
		t.Fatal(err)
	}
	if a.MissedOffers == 0 || bytes.Equal(ta.Bytes(), tc.Bytes()) {
		t.Errorf("seeds 7 and 8 give the same table (missed %d, %d): the seed is not used", a.MissedOffers, c.MissedOffers)
	}
	t.Log(fmt.Sprintf("missed offers: seed 7 %d, seed 8 %d", a.MissedOffers, c.MissedOffers))
}
