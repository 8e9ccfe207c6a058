package state

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/routing"
)

// candidates returns candidates of the given RM ids.
func candidates(ids ...conversation.RMID) []routing.Candidate {
	out := make([]routing.Candidate, len(ids))
	for i, id := range ids {
		out[i] = routing.Candidate{RMID: id, Step: 1, Presence: conversation.PresenceAvailable, Capacity: 100}
	}
	return out
}

// TestRosterBookGrow checks the roster packing uses: the sorted union of
// what it held and the new RMs, itself while it holds them all, and the
// record's RMs alone once the union would pass the book's limit.
func TestRosterBookGrow(t *testing.T) {
	t.Parallel()
	b := newRosterBook(5)
	tests := []struct {
		name string
		ids  []conversation.RMID
		want []conversation.RMID
	}{
		{"first", []conversation.RMID{"rm-c", "rm-a"}, []conversation.RMID{"rm-a", "rm-c"}},
		{"union", []conversation.RMID{"rm-b", "rm-a", "rm-b"}, []conversation.RMID{"rm-a", "rm-b", "rm-c"}},
		{"held", []conversation.RMID{"rm-c"}, []conversation.RMID{"rm-a", "rm-b", "rm-c"}},
		{"past the limit", []conversation.RMID{"rm-x", "rm-d", "rm-e", "rm-a"}, []conversation.RMID{"rm-a", "rm-d", "rm-e", "rm-x"}},
	}
	var prev *rosterEntry
	for _, tc := range tests {
		e, err := b.grow(candidates(tc.ids...))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := e.roster.IDs(); !slices.Equal(got, tc.want) {
			t.Fatalf("%s: roster %v, want %v", tc.name, got, tc.want)
		}
		if b.current.Load() != e || b.lookup(e.hash) != e.roster {
			t.Fatalf("%s: the grown roster is not current and remembered", tc.name)
		}
		if tc.name == "held" && e != prev {
			t.Fatalf("held: a new roster for RMs the current one holds")
		}
		if e.hash != rosterHash(e.data) || len(e.hash) != rosterHashLen {
			t.Fatalf("%s: hash %q", tc.name, e.hash)
		}
		prev = e
	}
	same, err := newRosterBook(5).grow(candidates("rm-d", "rm-a", "rm-x", "rm-e"))
	if err != nil || same.hash != prev.hash {
		t.Fatalf("another book's roster of the same RMs is %v, %v; want the same hash", same, err)
	}
}

// TestRosterBookBounds checks that the book's maps start afresh at
// maxBookEntries.
func TestRosterBookBounds(t *testing.T) {
	t.Parallel()
	b := newRosterBook(maxRosterIDs)
	for i := range maxBookEntries + 10 {
		b.markStored([]string{fmt.Sprint("k", i)})
		b.remember(fmt.Sprint("h", i), nil)
	}
	if len(b.stored) > maxBookEntries || len(b.parsed) > maxBookEntries || !b.isStored(fmt.Sprint("k", maxBookEntries+9)) {
		t.Fatalf("book holds %d stored and %d parsed, the last stored: %v", len(b.stored), len(b.parsed), b.isStored(fmt.Sprint("k", maxBookEntries+9)))
	}
	b.forget([]string{fmt.Sprint("k", maxBookEntries+9)})
	if b.isStored(fmt.Sprint("k", maxBookEntries+9)) {
		t.Fatal("a forgotten key is still stored")
	}
}

// TestRedisDecisionsUnreadable checks Decisions on list elements this
// process did not write: a record whose roster is gone (evicted) is left
// out, the rest served; a roster whose bytes do not match its name, an
// element of an unknown kind and a cut record are errors wrapping
// routing.ErrPackedRecord.
func TestRedisDecisionsUnreadable(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	s := NewRedis(redis.NewClient(&redis.Options{Addr: mr.Addr()}), "{abtest-"+rand.Text()[:8]+"}")
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var cands []routing.Candidate
	for i := range 40 {
		cands = append(cands, candidates(conversation.RMID(fmt.Sprintf("rm-unread-%s-%02d", rand.Text()[:4], i)))...)
	}
	d := routing.Decision{ConversationID: "conv-u", At: at, Outcome: routing.OutcomeWait, Record: routing.RecordFull, Candidates: cands, Sentence: "waiting"}
	book := newRosterBook(maxRosterIDs)
	rec, e, err := book.pack(nil, &d)
	if err != nil || e == nil {
		t.Fatalf("pack: %v, roster %v", err, e)
	}
	small, e2, err := book.pack(nil, &routing.Decision{ConversationID: "conv-u", Candidates: cands[:2]})
	if err != nil || e2 != nil {
		t.Fatalf("pack of 2 candidates: %v, roster %v; want none", err, e2)
	}
	key := s.decisionsKey("conv-u")
	push := func(elems ...any) {
		t.Helper()
		mr.Del(key)
		if err := s.client.RPush(ctx, key, elems...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// The process-wide book has not seen this roster: the key decides.
	push(rec, `{"n":1}`, small)
	got, err := s.Decisions(ctx, "conv-u", 0)
	if err != nil || len(got) != 2 || string(got[0]) != `{"n":1}` {
		t.Fatalf("roster gone: %d records %v; want the JSON and the small record", len(got), err)
	}
	if err := s.client.Set(ctx, s.rosterKey(e.hash), e.data, 0).Err(); err != nil {
		t.Fatal(err)
	}
	got, err = s.Decisions(ctx, "conv-u", 1)
	if err != nil || len(got) != 1 || string(got[0]) != string(d.AppendJSON(nil)) {
		t.Fatalf("roster stored: %d records, %v; want the decision's JSON", len(got), err)
	}

	wrong := append([]byte{packedMark, packedRostered}, "0123456789abcdef0123456789abcdef"...)
	wrong = append(wrong, rec[2+rosterHashLen:]...)
	if err := s.client.Set(ctx, s.rosterKey("0123456789abcdef0123456789abcdef"), e.data, 0).Err(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		elem []byte
	}{
		{"roster under another name", wrong},
		{"unknown kind", []byte("\x00z")},
		{"mark alone", []byte("\x00")},
		{"cut record", rec[:len(rec)-3]},
		{"cut small record", small[:len(small)-1]},
	}
	for _, tc := range tests {
		push(tc.elem)
		if _, err := s.Decisions(ctx, "conv-u", 0); !errors.Is(err, routing.ErrPackedRecord) {
			t.Errorf("%s: %v, want ErrPackedRecord", tc.name, err)
		}
	}
}
