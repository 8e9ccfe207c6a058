package routing

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// plainDecision is Decision without its MarshalJSON: encoding/json encodes
// it field by field by reflection, the reference AppendJSON must match.
type plainDecision Decision

// checkDecisionJSON fails unless AppendJSON, MarshalJSON and json.Marshal
// of d agree byte for byte with encoding/json's reflection encoding, or all
// refuse the value (a time RFC 3339 cannot write) while AppendJSON still
// writes valid JSON.
func checkDecisionJSON(t *testing.T, name string, d Decision) {
	t.Helper()
	want, wantErr := json.Marshal(plainDecision(d))
	got := d.AppendJSON(nil)
	marshalled, err := d.MarshalJSON()
	viaJSON, viaErr := json.Marshal(d)
	if wantErr != nil {
		if err == nil || viaErr == nil {
			t.Errorf("%s: encoding/json refuses the value (%v) but MarshalJSON gives %v, json.Marshal %v", name, wantErr, err, viaErr)
		}
		if !json.Valid(got) {
			t.Errorf("%s: AppendJSON wrote invalid JSON for a value encoding/json refuses:\n%s", name, got)
		}
		return
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: AppendJSON differs from encoding/json at byte %d\n got %s\nwant %s", name, firstDiff(got, want), got, want)
		return
	}
	if err != nil || !bytes.Equal(marshalled, want) {
		t.Errorf("%s: MarshalJSON = %s, %v; want the same bytes as encoding/json", name, marshalled, err)
	}
	if viaErr != nil || !bytes.Equal(viaJSON, want) {
		t.Errorf("%s: json.Marshal(Decision) = %s, %v; want the same bytes as encoding/json", name, viaJSON, viaErr)
	}
	prefix := []byte(`[1,`)
	if appended := d.AppendJSON(prefix); !bytes.Equal(appended, append(prefix, want...)) {
		t.Errorf("%s: AppendJSON after a prefix = %s", name, appended)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestDecisionJSONEdgeCases(t *testing.T) {
	t.Parallel()
	hk := time.FixedZone("HKT", 8*3600)
	nasty := "quote \" backslash \\ nul \x00 bell \x07 bs \b ff \f nl \n cr \r tab \t us \x1f del \x7f <b>&amp;</b> \u2028\u2029 é 中文 😀 bad \xff \xed\xa0\x80 end"
	full := Decision{
		ConversationID: "conv-1", At: t0, PolicyID: "private-bank", PolicyVersion: "v1", Outcome: OutcomeOffer,
		Steps: []int{1, 2}, Overflow: true,
		Choice: &Choice{RMID: "rm-pb-02", Step: 2, Role: RoleDeputy, Cost: 100, Capacity: 100, Timeout: 15 * time.Second,
			ExpiresAt: t0.Add(15 * time.Second), Score: -3, CursorKey: "private-bank"},
		Reserved: &Reservation{RMID: "rm-ms-03", Step: 1, Load: 75, Capacity: 100, Cost: 100},
		Action:   ActionCallback, Reason: "every step expired", NextChange: t0.Add(time.Minute), Record: RecordFull,
		Considered: 3, Filtered: FilterCounts{FilterPresence: 1, FilterCapacity: 2, FilterLicence: 4},
		Candidates: []Candidate{
			{RMID: "rm-pb-01", Step: 1, Role: RoleOwnRM, Failed: bit(FilterCapacity), Presence: conversation.PresenceAvailable, Load: 100, Capacity: 100, Note: "at capacity (100/100)"},
			{RMID: "rm-pb-02", Step: 2, Role: RoleDeputy, Presence: conversation.PresenceAvailable, Capacity: 100, Score: 7},
		},
		Sentence: "own RM rm-pb-01 at capacity (100/100); offered to deputy rm-pb-02 at step 2",
	}
	tests := []struct {
		name string
		d    Decision
	}{
		{"zero", Decision{}},
		{"every field", full},
		{"empty slices", Decision{ConversationID: "c", Steps: []int{}, Candidates: []Candidate{}}},
		{"nil slices", Decision{ConversationID: "c", Steps: nil, Candidates: nil}},
		{"zero choice", Decision{Choice: &Choice{}, Reserved: &Reservation{}}},
		{"empty candidate", Decision{Candidates: []Candidate{{}}}},
		{"zero instant in a zone", Decision{At: time.Time{}.In(hk), NextChange: time.Time{}.In(hk)}},
		{"zone and nanoseconds", Decision{At: time.Date(2026, 3, 2, 10, 0, 0, 123456789, hk), NextChange: time.Date(2026, 3, 2, 10, 0, 0, 120000000, hk)}},
		{"whole microseconds", Decision{At: time.Date(2026, 3, 2, 2, 0, 0, 1000, time.UTC), Choice: &Choice{ExpiresAt: time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)}}},
		{"year 9999", Decision{At: time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)}},
		{"year 10000", Decision{At: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"negative year", Decision{NextChange: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{"offset of 24 h", Decision{At: t0.In(time.FixedZone("", 24*3600))}},
		{"choice expiry out of range", Decision{Choice: &Choice{ExpiresAt: time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)}}},
		{"offset with seconds", Decision{At: t0.In(time.FixedZone("LMT", 7*3600+36*60+42))}},
		{"strings to escape", Decision{
			ConversationID: conversation.ConversationID(nasty), PolicyID: nasty, PolicyVersion: "<v>", Outcome: Outcome(nasty),
			Action: Action("a&b"), Reason: nasty, Record: RecordMode("\u2028"), Sentence: nasty,
			Choice:     &Choice{RMID: conversation.RMID(nasty), Role: Role(nasty), CursorKey: nasty},
			Reserved:   &Reservation{RMID: "<rm>", Role: "\x00"},
			Candidates: []Candidate{{RMID: conversation.RMID(nasty), Role: Role(nasty), Presence: conversation.PresenceState(nasty), Note: nasty}},
		}},
		{"every filter and unknown bits", Decision{Candidates: []Candidate{{Failed: math.MaxUint16}, {Failed: knownFilters}, {Failed: 1 << NumFilters}}}},
		{"extreme numbers", Decision{
			Steps: []int{math.MinInt, -1, 0, math.MaxInt}, Considered: math.MinInt,
			Filtered:   FilterCounts{FilterPresence: math.MaxInt, FilterCapacity: -5, FilterSkill: 0, FilterHours: 1},
			Choice:     &Choice{Step: -1, Cost: math.MaxInt, LoadBefore: math.MinInt, Capacity: -100, Timeout: math.MinInt64, Score: math.MaxInt64},
			Reserved:   &Reservation{Step: math.MaxInt, Load: -1, Capacity: math.MinInt, Cost: 1},
			Candidates: []Candidate{{Step: math.MinInt, Load: math.MaxInt, Capacity: -1, Score: math.MinInt64}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			checkDecisionJSON(t, tt.name, tt.d)
		})
	}
}

// TestDecisionJSONEveryField fills every exported field of Decision and of
// every type inside it (by reflection, so a field added later is filled
// too) and compares with encoding/json: a field AppendJSON does not write
// fails here.
func TestDecisionJSONEveryField(t *testing.T) {
	t.Parallel()
	for seed := range uint64(50) {
		f := newFiller(t, seed, 0)
		d := f.decision()
		checkAllSet(t, reflect.ValueOf(d), "Decision")
		if _, err := json.Marshal(plainDecision(d)); err != nil {
			t.Fatalf("encoding/json refuses a value with every field set: %v", err)
		}
		checkDecisionJSON(t, "every field set", d)
		if t.Failed() {
			return
		}
	}
}

// TestDecisionJSONRandom compares with encoding/json on decisions with
// random fields, about one in four left zero, nil or empty.
func TestDecisionJSONRandom(t *testing.T) {
	t.Parallel()
	f := newFiller(t, 2026, 4)
	for range 3000 {
		checkDecisionJSON(t, "random", f.decision())
		if t.Failed() {
			return
		}
	}
}

// TestDecisionJSONOfDecisions compares with encoding/json on what Decide
// and Assign produce, in both record modes.
func TestDecisionJSONOfDecisions(t *testing.T) {
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
		views := []ConversationView{privateConv(), massCall("call", 10*time.Second), chatAt("ch1", 0), massConv("m1"), massConv("m2"), massConv("m3")}
		ds := Assign(p, snap, views, t0.Add(20*time.Second))
		ds = append(ds, Decide(p, snap, privateConv(), t0.Add(90*time.Minute)))
		for _, d := range ds {
			checkDecisionJSON(t, string(mode)+" "+string(d.ConversationID), d)
			if n, est := len(d.AppendJSON(nil)), d.jsonSize(); n > est || est > n+n/8+400 {
				t.Errorf("%s %s: size estimate %d for %d bytes, want at least it and within 1/8 + 400 bytes", mode, d.ConversationID, est, n)
			}
		}
	}
}

// TestFilterSetJSONTable checks the table against FilterSet.MarshalJSON for
// every set, unknown bits included.
func TestFilterSetJSONTable(t *testing.T) {
	t.Parallel()
	for s := range math.MaxUint16 + 1 {
		want, err := FilterSet(s).MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if got := FilterSet(s).appendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("set %#x: got %s, want %s", s, got, want)
		}
	}
}

// TestFilterCountsJSON checks FilterCounts.MarshalJSON against
// encoding/json's map[string]int of the positive counts.
func TestFilterCountsJSON(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 11))
	cases := []FilterCounts{{}, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, {-1, 0, math.MaxInt}}
	for range 2000 {
		var fc FilterCounts
		for i := range fc {
			if r.IntN(3) == 0 {
				fc[i] = r.IntN(2000) - 100
			}
		}
		cases = append(cases, fc)
	}
	for _, fc := range cases {
		m := map[string]int{}
		for f, c := range fc {
			if c > 0 {
				m[Filter(f).String()] = c
			}
		}
		want, _ := json.Marshal(m)
		got, err := fc.MarshalJSON()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%v: got %s, %v; want %s", fc, got, err, want)
		}
	}
}

// TestDecisionJSONAllocations checks that AppendJSON into a buffer large
// enough allocates nothing, and into nil allocates once (its size estimate
// covers records of plain strings, as the router's are).
func TestDecisionJSONAllocations(t *testing.T) {
	p := mustCompile(t, DefaultConfig())
	d := Decide(p, snapWith(t, p, nil, busy("rm-pb-01")), privateConv(), t0.Add(20*time.Second))
	d.Reserved = &Reservation{RMID: "rm-pb-03", Step: 3, Load: 75, Capacity: 100, Cost: 100}
	d.Transfer = &TransferRecord{Team: "affluent", By: "rm-pb-01", At: t0, Until: t0.Add(2 * time.Minute), State: TransferActive}
	d.Reason, d.Action, d.NextChange = "waiting for a deputy", ActionCallback, t0.Add(time.Minute)
	for i := range 200 {
		d.Candidates = append(d.Candidates, Candidate{RMID: conversation.RMID("rm-mass-" + string(rune('a'+i%26))), Step: 1, Failed: FilterSet(i), Presence: conversation.PresenceAvailable, Capacity: 100})
	}
	buf := make([]byte, 0, 2*len(d.AppendJSON(nil)))
	if n := testing.AllocsPerRun(20, func() { buf = d.AppendJSON(buf[:0]) }); n != 0 {
		t.Errorf("AppendJSON into a large enough buffer: %v allocations, want 0", n)
	}
	if n := testing.AllocsPerRun(20, func() { _ = d.AppendJSON(nil) }); n != 1 {
		t.Errorf("AppendJSON(nil): %v allocations, want 1", n)
	}
}

// FuzzDecisionJSON compares with encoding/json on random decisions whose
// strings, times and filter sets the fuzzer chooses.
func FuzzDecisionJSON(f *testing.F) {
	f.Add(uint64(1), "conv-1", "at capacity (100/100)", int64(1772416800), int64(0), 0, uint16(2))
	f.Add(uint64(2), "", "", int64(0), int64(0), 0, uint16(0))
	f.Add(uint64(3), "\x00\"\\<>&\u2028\u2029", "\xff\xfe中文😀", int64(-62135596800), int64(1), 3600+30, uint16(0xffff))
	f.Add(uint64(4), "\xed\xa0\x80", "\t\n\r\b\f\x1f\x7f", int64(253402300799), int64(999999999), -86399, uint16(1<<NumFilters))
	f.Add(uint64(5), "rm", "year 10000", int64(253402300800), int64(5), 86400, uint16(5))
	f.Fuzz(func(t *testing.T, seed uint64, id, text string, sec, nsec int64, offset int, failed uint16) {
		d := newFiller(t, seed, 3).decision()
		at := time.Unix(sec, nsec).In(time.FixedZone("", offset%(48*3600)))
		d.ConversationID, d.Sentence, d.At, d.Reason = conversation.ConversationID(id), text, at, id+text
		d.Candidates = append(slices.Clone(d.Candidates), Candidate{RMID: conversation.RMID(id), Failed: FilterSet(failed), Note: text})
		if d.Choice != nil {
			d.Choice.ExpiresAt, d.Choice.CursorKey = at.Add(time.Duration(nsec)), text
		}
		checkDecisionJSON(t, "fuzz", d)
	})
}

// BenchmarkDecisionJSON encodes the largest full decision of 200 of the
// bank-sized world's conversations with AppendJSON into a
// reused buffer, with AppendJSON(nil), and with encoding/json.
func BenchmarkDecisionJSON(b *testing.B) {
	w := newBenchWorld(b, RecordFull)
	var d Decision
	for _, v := range w.waiting[:200] {
		if c := Decide(w.p, w.snap, v, t0); len(c.Candidates) > len(d.Candidates) {
			d = c
		}
	}
	size := len(d.AppendJSON(nil))
	b.Logf("%d candidates, %d bytes", len(d.Candidates), size)
	b.Run("append-reused", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		buf := make([]byte, 0, size)
		for b.Loop() {
			buf = d.AppendJSON(buf[:0])
		}
	})
	b.Run("append-nil", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			_ = d.AppendJSON(nil)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.SetBytes(int64(size))
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(plainDecision(d))
		}
	})
}

// TestPlainPrefix checks the eight-bytes-at-a-time scan against a byte
// loop: a prefix too long would leave bytes unescaped, one too short
// would only be slower, so both are failures here.
func TestPlainPrefix(t *testing.T) {
	t.Parallel()
	plain := func(b byte) bool {
		return b >= 0x20 && b < 0x80 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	r := rand.New(rand.NewPCG(5, 8))
	special := []byte("\"\\<>&\x00\x1f\x20\x7f\x80\xff!=?;%'")
	for range 20000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = 'a' + byte(r.IntN(26))
		}
		for range r.IntN(3) {
			if len(b) > 0 {
				b[r.IntN(len(b))] = special[r.IntN(len(special))]
			}
		}
		want := 0
		for want < len(b) && plain(b[want]) {
			want++
		}
		if got := plainPrefix(string(b)); got != want {
			t.Fatalf("plainPrefix(%q) = %d, want %d", b, got, want)
		}
	}
	for c := range 256 {
		s := "abcdefghijk" + string([]byte{byte(c)}) + "xyz"
		want := 11
		if plain(byte(c)) {
			want = len(s)
		}
		if got := plainPrefix(s); got != want {
			t.Errorf("plainPrefix(%q) = %d, want %d", s, got, want)
		}
	}
}
