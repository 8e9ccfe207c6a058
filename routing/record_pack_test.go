package routing

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// rosterOf returns a roster of the decision's candidate RMs (each once),
// shuffled among extra ids, so indexes are neither 0, 1, 2… nor sorted.
func rosterOf(t testing.TB, d Decision, r *rand.Rand) *Roster {
	t.Helper()
	ids := []conversation.RMID{"rm-extra-1", "rm-extra-2", "rm-extra-3"}
	for _, c := range d.Candidates {
		if !slices.Contains(ids, c.RMID) {
			ids = append(ids, c.RMID)
		}
	}
	r.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	ro, err := NewRoster(ids)
	if err != nil {
		t.Fatal(err)
	}
	return ro
}

// checkPacked fails unless d packs (with roster, nil for ids written out)
// and unpacks to a Decision whose AppendJSON is d's byte for byte, packing
// it again gives the same bytes, and packing after a prefix keeps it.
func checkPacked(t *testing.T, name string, d Decision, roster *Roster) {
	t.Helper()
	want := d.AppendJSON(nil)
	packed, err := d.AppendPacked(nil, roster)
	if err != nil {
		t.Fatalf("%s: AppendPacked: %v", name, err)
	}
	got, err := UnpackDecision(packed, roster)
	if err != nil {
		t.Fatalf("%s: UnpackDecision: %v", name, err)
	}
	if j := got.AppendJSON(nil); !bytes.Equal(j, want) {
		t.Fatalf("%s: unpacked JSON differs at byte %d\n got %s\nwant %s", name, firstDiff(j, want), j, want)
	}
	if again, _ := got.AppendPacked(nil, roster); !bytes.Equal(again, packed) {
		t.Errorf("%s: packing the unpacked decision gives other bytes", name)
	}
	prefix := []byte("prefix")
	if p, err := d.AppendPacked(prefix, roster); err != nil || !bytes.Equal(p, append(prefix, packed...)) {
		t.Errorf("%s: AppendPacked after a prefix = %q, %v", name, p, err)
	}
}

func TestDecisionPackTable(t *testing.T) {
	t.Parallel()
	hk := time.FixedZone("HKT", 8*3600)
	nasty := "quote \" backslash \\ nul \x00 <b>&amp;</b> \u2028\u2029 é 中文 😀 bad \xff \xed\xa0\x80 end"
	named := Decision{
		ConversationID: "conv-1", At: t0, PolicyID: "private-bank", PolicyVersion: "v1", Outcome: OutcomeOffer,
		Steps: []int{1, 2}, Overflow: true,
		Choice: &Choice{RMID: "rm-pb-02", Step: 2, Role: RoleDeputy, Cost: 100, Capacity: 100, Timeout: 15 * time.Second,
			ExpiresAt: t0.Add(15 * time.Second), Score: -3, CursorKey: "private-bank"},
		Reserved: &Reservation{RMID: "rm-ms-03", Step: 1, Load: 75, Capacity: 100, Cost: 100},
		Transfer: &TransferRecord{Team: "affluent", By: "rm-pb-01", At: t0, Until: t0.Add(time.Minute), State: TransferActive},
		Action:   ActionCallback, Reason: "every step expired", NextChange: t0.Add(time.Minute), Record: RecordFull,
		Considered: 7, Filtered: FilterCounts{FilterPresence: 1, FilterCapacity: 2, FilterLicence: 4},
		Candidates: []Candidate{
			{RMID: "rm-pb-01", Step: 1, Role: RoleOwnRM, Failed: bit(FilterCapacity), Presence: conversation.PresenceAvailable, Load: 100, Capacity: 100, Note: "at capacity (100/100)"},
			{RMID: "rm-pb-02", Step: 2, Role: RoleDeputy, Presence: conversation.PresenceAvailable, Capacity: 100, Score: 7},
			{RMID: "rm-pb-03", Step: 3, Role: RoleLastRM, Presence: conversation.PresenceWrapUp, Capacity: 100, Score: 7},
			{RMID: "rm-pb-04", Step: 3, Failed: bit(FilterPresence), Presence: conversation.PresenceOffline, Capacity: 100},
			{RMID: "rm-pb-05", Step: 3, Failed: bit(FilterPresence), Presence: conversation.PresenceAway, Capacity: 100},
			{RMID: "rm-pb-06", Step: 3, Presence: "", Capacity: 50, Load: 25, Score: math.MaxInt64},
			{RMID: "rm-pb-07", Step: 3, Role: "mentor", Presence: "on_call", Score: math.MinInt64},
		},
		Sentence: "own RM rm-pb-01 at capacity (100/100); offered to deputy rm-pb-02 at step 2",
	}
	tests := []struct {
		name string
		d    Decision
	}{
		{"zero", Decision{}},
		{"named and every code", named},
		{"empty slices", Decision{ConversationID: "c", Steps: []int{}, Candidates: []Candidate{}}},
		{"zero choice", Decision{Choice: &Choice{}, Reserved: &Reservation{}, Transfer: &TransferRecord{}}},
		{"empty candidate", Decision{Candidates: []Candidate{{}}}},
		{"same RM twice", Decision{Candidates: []Candidate{{RMID: "rm-a", Step: 1}, {RMID: "rm-a", Step: 2}}}},
		{"zero instant in a zone", Decision{At: time.Time{}.In(hk), NextChange: time.Time{}.In(hk)}},
		{"zone and nanoseconds", Decision{At: time.Date(2026, 3, 2, 10, 0, 0, 123456789, hk), NextChange: time.Date(2026, 3, 2, 10, 0, 0, 120000000, hk)}},
		{"local time", Decision{At: time.Date(2026, 3, 2, 10, 0, 0, 5, time.Local)}},
		{"year 10000", Decision{At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"negative year", Decision{NextChange: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"offset of 24 h", Decision{At: t0.In(time.FixedZone("", 24*3600))}},
		{"offset with seconds", Decision{At: t0.In(time.FixedZone("LMT", 7*3600+36*60+42))}},
		{"extreme instants", Decision{At: time.Unix(math.MaxInt64, 999999999), NextChange: time.Unix(math.MinInt64, 0),
			Choice: &Choice{ExpiresAt: time.Unix(-1, 1).In(time.FixedZone("", -86399))}}},
		{"strings to escape", Decision{
			ConversationID: conversation.ConversationID(nasty), PolicyID: nasty, PolicyVersion: "<v>", Outcome: Outcome(nasty),
			Action: Action("a&b"), Reason: nasty, Record: RecordMode("\u2028"), Sentence: nasty,
			Choice:     &Choice{RMID: conversation.RMID(nasty), Role: Role(nasty), CursorKey: nasty},
			Reserved:   &Reservation{RMID: "<rm>", Role: "\x00"},
			Candidates: []Candidate{{RMID: conversation.RMID(nasty), Role: Role(nasty), Presence: conversation.PresenceState(nasty), Note: nasty}},
		}},
		{"every filter and unknown bits", Decision{Candidates: []Candidate{{RMID: "a", Failed: math.MaxUint16}, {RMID: "b", Failed: knownFilters}, {RMID: "c", Failed: 1 << NumFilters}, {RMID: "d"}}}},
		{"extreme numbers", Decision{
			Steps: []int{math.MinInt, -1, 0, math.MaxInt}, Considered: math.MinInt,
			Filtered:   FilterCounts{FilterPresence: math.MaxInt, FilterCapacity: -5, FilterSkill: 0, FilterHours: 1},
			Choice:     &Choice{Step: -1, Cost: math.MaxInt, LoadBefore: math.MinInt, Capacity: -100, Timeout: math.MinInt64, Score: math.MaxInt64},
			Reserved:   &Reservation{Step: math.MaxInt, Load: -1, Capacity: math.MinInt, Cost: 1},
			Candidates: []Candidate{{RMID: "x", Step: math.MinInt, Load: math.MaxInt, Capacity: -1, Score: math.MinInt64}, {RMID: "y", Score: math.MaxInt64}, {RMID: "z", Score: math.MinInt64}},
		}},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkPacked(t, tt.name+" (ids)", tt.d, nil)
			checkPacked(t, tt.name+" (roster)", tt.d, rosterOf(t, tt.d, r))
		})
	}
}

// TestDecisionPackRandom round-trips decisions filled at random (every
// field set, and about one in four left zero), with and without a roster.
func TestDecisionPackRandom(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	for seed := range uint64(50) {
		d := newFiller(t, seed, 0).decision()
		checkAllSet(t, reflect.ValueOf(d), "Decision")
		checkPacked(t, "every field set", d, rosterOf(t, d, r))
	}
	f := newFiller(t, 2026, 4)
	for range 2000 {
		d := f.decision()
		checkPacked(t, "random (ids)", d, nil)
		checkPacked(t, "random (roster)", d, rosterOf(t, d, r))
	}
}

// TestDecisionPackOfDecisions round-trips what Decide and Assign produce
// in both record modes, with the snapshot's RMs as the roster, and checks
// that a full record packs to under a fifth of its JSON.
func TestDecisionPackOfDecisions(t *testing.T) {
	t.Parallel()
	for _, mode := range []RecordMode{RecordFull, RecordCompact} {
		cfg := DefaultConfig()
		cfg.Record = mode
		p := mustCompile(t, cfg)
		snap := snapWith(t, p, nil, func(st map[conversation.RMID]*RMState) {
			st["rm-pb-01"].Load = 100
			st["rm-ms-01"].Load = 75
			st["rm-ms-02"].Presence.State = conversation.PresenceAway
		})
		ids := make([]conversation.RMID, len(snap.rms))
		for i := range snap.rms {
			ids[i] = snap.rms[i].rm.ID
		}
		roster, err := NewRoster(ids)
		if err != nil {
			t.Fatal(err)
		}
		views := []ConversationView{privateConv(), massCall("call", 10*time.Second), chatAt("ch1", 0), massConv("m1"), massConv("m2"), massConv("m3")}
		ds := Assign(p, snap, views, t0.Add(20*time.Second))
		ds = append(ds, Decide(p, snap, privateConv(), t0.Add(90*time.Minute)))
		for _, d := range ds {
			checkPacked(t, string(mode)+" "+string(d.ConversationID), d, roster)
			checkPacked(t, string(mode)+" "+string(d.ConversationID)+" (ids)", d, nil)
			packed, _ := d.AppendPacked(nil, roster)
			if j := d.AppendJSON(nil); mode == RecordFull && len(d.Candidates) > 5 && len(packed)*5 > len(j) {
				t.Errorf("%s: %d candidates pack to %d bytes, JSON %d: want under a fifth", d.ConversationID, len(d.Candidates), len(packed), len(j))
			}
			if est := d.packedSize(true); len(packed) > est {
				t.Errorf("%s: size estimate %d for %d bytes", d.ConversationID, est, len(packed))
			}
		}
	}
}

// TestDecisionPackNotInRoster checks that a candidate missing from the
// roster is ErrNotInRoster and leaves the buffer as it was.
func TestDecisionPackNotInRoster(t *testing.T) {
	t.Parallel()
	roster, err := NewRoster([]conversation.RMID{"rm-a", "rm-b"})
	if err != nil {
		t.Fatal(err)
	}
	d := Decision{Candidates: []Candidate{{RMID: "rm-a"}, {RMID: "rm-b"}, {RMID: "rm-c"}}}
	dst := []byte("kept")
	got, err := d.AppendPacked(dst, roster)
	if !errors.Is(err, ErrNotInRoster) || string(got) != "kept" {
		t.Fatalf("AppendPacked = %q, %v; want %q and ErrNotInRoster", got, err, "kept")
	}
}

// TestUnpackDecisionRefuses checks malformed input: every cut of a valid
// record, a byte left over, a flipped version, an unknown flag, a roster
// given for a record packed without one (and the reverse), a roster too
// short for an index.
func TestUnpackDecisionRefuses(t *testing.T) {
	t.Parallel()
	d := newFiller(t, 9, 0).decision()
	roster := rosterOf(t, d, rand.New(rand.NewPCG(5, 6)))
	packed, err := d.AppendPacked(nil, roster)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := d.AppendPacked(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	short, err := NewRoster([]conversation.RMID{"rm-only"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		data   []byte
		roster *Roster
	}{
		{"empty", nil, nil},
		{"byte left over", append(slices.Clone(packed), 0), roster},
		{"version 2", append([]byte{2}, packed[1:]...), roster},
		{"unknown flag", append([]byte{packVersion, 0x80, 0x01}, packed[2:]...), roster},
		{"roster given, none used", plain, roster},
		{"roster used, none given", packed, nil},
		{"index outside the roster", packed, short},
	}
	for n := range len(packed) {
		tests = append(tests, struct {
			name   string
			data   []byte
			roster *Roster
		}{"cut", packed[:n], roster})
	}
	for _, tt := range tests {
		if _, err := UnpackDecision(tt.data, tt.roster); !errors.Is(err, ErrPackedRecord) {
			t.Fatalf("%s (%d bytes): %v, want ErrPackedRecord", tt.name, len(tt.data), err)
		}
	}
}

func TestRosterRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ids  []conversation.RMID
	}{
		{"empty", nil},
		{"one", []conversation.RMID{"rm-a"}},
		{"order kept", []conversation.RMID{"rm-c", "rm-a", "", "中文", "\x00\xff", "rm-b"}},
	}
	for _, tt := range tests {
		ro, err := NewRoster(tt.ids)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		data, _ := ro.AppendBinary(nil)
		back, err := ParseRoster(data)
		if err != nil {
			t.Fatalf("%s: ParseRoster: %v", tt.name, err)
		}
		if !slices.Equal(back.IDs(), ro.IDs()) || back.Len() != len(tt.ids) {
			t.Fatalf("%s: %q back as %q", tt.name, ro.IDs(), back.IDs())
		}
		for i, id := range tt.ids {
			if j, ok := back.Index(id); !ok || j != i {
				t.Errorf("%s: Index(%q) = %d, %v; want %d", tt.name, id, j, ok, i)
			}
		}
		if _, ok := back.Index("rm-missing"); ok {
			t.Errorf("%s: Index of a missing id found it", tt.name)
		}
		for n := range len(data) {
			if _, err := ParseRoster(data[:n]); !errors.Is(err, ErrPackedRecord) {
				t.Errorf("%s: %d of %d bytes: %v, want ErrPackedRecord", tt.name, n, len(data), err)
			}
		}
		if _, err := ParseRoster(append(data, 'x')); !errors.Is(err, ErrPackedRecord) {
			t.Errorf("%s: a byte left over: %v, want ErrPackedRecord", tt.name, err)
		}
	}
	if _, err := NewRoster([]conversation.RMID{"rm-a", "rm-b", "rm-a"}); !errors.Is(err, ErrPackedRecord) {
		t.Errorf("NewRoster with an id twice: %v, want ErrPackedRecord", err)
	}
	dup := []byte{packVersion, 2, 1, 'a', 1, 'a'}
	if _, err := ParseRoster(dup); !errors.Is(err, ErrPackedRecord) {
		t.Errorf("ParseRoster with an id twice: %v, want ErrPackedRecord", err)
	}
}

// TestDecisionPackAllocations checks that AppendPacked into a buffer large
// enough allocates nothing.
func TestDecisionPackAllocations(t *testing.T) {
	p := mustCompile(t, DefaultConfig())
	snap := snapWith(t, p, nil, busy("rm-pb-01"))
	d := Decide(p, snap, privateConv(), t0.Add(20*time.Second))
	d.Reserved = &Reservation{RMID: "rm-pb-03", Step: 3, Load: 75, Capacity: 100, Cost: 100}
	d.Transfer = &TransferRecord{Team: "affluent", By: "rm-pb-01", At: t0, Until: t0.Add(2 * time.Minute), State: TransferActive}
	d.Reason, d.Action, d.NextChange = "waiting for a deputy", ActionCallback, t0.Add(time.Minute)
	roster := snapshotRoster(t, snap)
	for i := range 200 {
		d.Candidates = append(d.Candidates, Candidate{RMID: roster.ids[i%roster.Len()], Step: 1 + i/50, Failed: FilterSet(i % 7),
			Presence: conversation.PresenceAvailable, Capacity: 100, Load: 25 * (i % 4), Score: int64(i * 1000)})
	}
	packed, err := d.AppendPacked(nil, roster)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 0, 2*len(packed))
	if n := testing.AllocsPerRun(20, func() { buf, _ = d.AppendPacked(buf[:0], roster) }); n != 0 {
		t.Errorf("AppendPacked into a large enough buffer: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(20, func() { _, _ = d.AppendPacked(nil, roster) }); n != 1 {
		t.Errorf("AppendPacked(nil): %v allocations, want 1", n)
	}
}

// snapshotRoster is the roster of a snapshot's RMs, in snapshot order.
func snapshotRoster(t testing.TB, s *Snapshot) *Roster {
	t.Helper()
	ids := make([]conversation.RMID, len(s.rms))
	for i := range s.rms {
		ids[i] = s.rms[i].rm.ID
	}
	ro, err := NewRoster(ids)
	if err != nil {
		t.Fatal(err)
	}
	return ro
}
