package routing

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// FuzzDecisionPack round-trips random decisions whose strings, times,
// numbers and filter sets the fuzzer chooses.
func FuzzDecisionPack(f *testing.F) {
	f.Add(uint64(1), "conv-1", "at capacity (100/100)", "available", int64(1772416800), int64(0), 0, uint16(2), int64(7))
	f.Add(uint64(2), "", "", "", int64(0), int64(0), 0, uint16(0), int64(0))
	f.Add(uint64(3), "\x00\"\\<>&\u2028\u2029", "\xff\xfe中文😀", "own_rm", int64(-62135596800), int64(1), 3600+30, uint16(0xffff), int64(math.MinInt64))
	f.Add(uint64(4), "\xed\xa0\x80", "\t\n\r\b\f\x1f\x7f", "wrap_up", int64(253402300799), int64(999999999), -86399, uint16(1<<NumFilters), int64(math.MaxInt64))
	f.Add(uint64(5), "rm", "year 10000", "deputy", int64(253402300800), int64(5), 86400, uint16(5), int64(-1))
	f.Fuzz(func(t *testing.T, seed uint64, id, text, code string, sec, nsec int64, offset int, failed uint16, n int64) {
		d := newFiller(t, seed, 3).decision()
		at := time.Unix(sec, nsec).In(time.FixedZone("", offset%(48*3600)))
		d.ConversationID, d.Sentence, d.At, d.Reason = conversation.ConversationID(id), text, at, id+text
		d.Candidates = append(slices.Clone(d.Candidates),
			Candidate{RMID: conversation.RMID(id), Failed: FilterSet(failed), Note: text, Role: Role(code), Presence: conversation.PresenceState(code), Score: n, Load: int(n)},
			Candidate{RMID: conversation.RMID(text), Step: int(n), Role: Role(code), Presence: conversation.PresenceState(code), Score: -n})
		if d.Choice != nil {
			d.Choice.ExpiresAt, d.Choice.CursorKey, d.Choice.Timeout = at.Add(time.Duration(nsec)), text, time.Duration(n)
		}
		checkPacked(t, "fuzz (ids)", d, nil)
		checkPacked(t, "fuzz (roster)", d, rosterOf(t, d, rand.New(rand.NewPCG(seed, 1))))
	})
}

// FuzzUnpackDecision feeds arbitrary bytes to UnpackDecision: it must
// refuse them or return a decision that packs back to the same bytes.
func FuzzUnpackDecision(f *testing.F) {
	roster, err := NewRoster([]conversation.RMID{"rm-a", "rm-b", "rm-c"})
	if err != nil {
		f.Fatal(err)
	}
	seeds := []Decision{{}, {ConversationID: "c", Candidates: []Candidate{{RMID: "rm-b", Step: 1, Note: "n"}, {RMID: "rm-c", Role: RoleDeputy}}}}
	for _, d := range seeds {
		p, _ := d.AppendPacked(nil, roster)
		f.Add(p, true)
		p, _ = d.AppendPacked(nil, nil)
		f.Add(p, false)
	}
	f.Fuzz(func(t *testing.T, data []byte, withRoster bool) {
		ro := roster
		if !withRoster {
			ro = nil
		}
		d, err := UnpackDecision(data, ro)
		if err != nil {
			if !errors.Is(err, ErrPackedRecord) {
				t.Fatalf("error %v does not wrap ErrPackedRecord", err)
			}
			return
		}
		if !json.Valid(d.AppendJSON(nil)) {
			t.Fatalf("unpacked decision writes invalid JSON")
		}
		again, err := d.AppendPacked(nil, ro)
		if err != nil {
			t.Fatal(err)
		}
		back, err := UnpackDecision(again, ro)
		if err != nil || !bytes.Equal(back.AppendJSON(nil), d.AppendJSON(nil)) {
			t.Fatalf("repacked decision does not read back the same: %v", err)
		}
	})
}

// BenchmarkDecisionPack packs the largest full decision of 200 of the
// bank-sized world's conversations into a reused buffer with the
// snapshot's roster, and unpacks it; it reports the packed and JSON sizes.
func BenchmarkDecisionPack(b *testing.B) {
	w := newBenchWorld(b, RecordFull)
	var d Decision
	for _, v := range w.waiting[:200] {
		if c := Decide(w.p, w.snap, v, t0); len(c.Candidates) > len(d.Candidates) {
			d = c
		}
	}
	roster := snapshotRoster(b, w.snap)
	packed, err := d.AppendPacked(nil, roster)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d candidates: %d bytes packed, %d bytes of JSON", len(d.Candidates), len(packed), len(d.AppendJSON(nil)))
	b.Run("pack", func(b *testing.B) {
		b.ReportAllocs()
		b.ReportMetric(float64(len(packed)), "bytes/record")
		buf := make([]byte, 0, 2*len(packed))
		for b.Loop() {
			buf, _ = d.AppendPacked(buf[:0], roster)
		}
	})
	b.Run("unpack-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			u, _ := UnpackDecision(packed, roster)
			_ = u.AppendJSON(nil)
		}
	})
}
