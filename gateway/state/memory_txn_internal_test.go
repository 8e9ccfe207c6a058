package state

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// TestMemoryDecisionTTL moves the memory store's wall clock: records
// expire DecisionTTL after the last write, whatever Txn.Now says (a
// simulation's virtual clock), and a write after expiry starts afresh.
func TestMemoryDecisionTTL(t *testing.T) {
	t.Parallel()
	m := NewMemory()
	wall := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	m.wallNow = func() time.Time { return wall }
	ctx := t.Context()
	write := func(n int) {
		t.Helper()
		rec := &DecisionRecord{ConversationID: "conv-1", Record: json.RawMessage(`{"n":` + string(rune('0'+n)) + `}`)}
		// Txn.Now far in the past: the virtual clock does not expire records.
		if err := m.Commit(ctx, Txn{Now: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), Decision: rec}); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		t.Helper()
		recs, err := m.Decisions(ctx, "conv-1", 0)
		if err != nil {
			t.Fatal(err)
		}
		return len(recs)
	}
	write(1)
	wall = wall.Add(DecisionTTL / 2)
	write(2) // the TTL runs from the last write
	wall = wall.Add(DecisionTTL - time.Second)
	if n := count(); n != 2 {
		t.Fatalf("just before expiry: %d records, want 2", n)
	}
	wall = wall.Add(time.Second)
	if n := count(); n != 0 {
		t.Fatalf("at expiry: %d records, want 0", n)
	}
	write(3)
	if n := count(); n != 1 {
		t.Fatalf("after a write past expiry: %d records, want only the new one", n)
	}
}

// TestDeadlineHeapCompacts checks that moving one wake many times keeps
// the heap bounded and NextDeadline right.
func TestDeadlineHeapCompacts(t *testing.T) {
	t.Parallel()
	m := NewMemory()
	ctx := t.Context()
	base := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i := range 10_000 {
		w := []Wake{{ConversationID: "conv-1", At: base.Add(time.Duration(10_000-i) * time.Second)}}
		if err := m.Commit(ctx, Txn{Now: base, Wakes: w}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(m.route.wakeHeap.items); n > 2*1+64 {
		t.Fatalf("heap holds %d entries for one wake", n)
	}
	got, ok, err := m.NextDeadline(ctx)
	if err != nil || !ok || !got.Equal(base.Add(time.Second)) {
		t.Fatalf("NextDeadline %v %v %v, want %v", got, ok, err, base.Add(time.Second))
	}
	o := conversation.Offer{ID: "o-1", ConversationID: "conv-2", RMID: "rm-1", CreatedAt: base, ExpiresAt: base.Add(500 * time.Millisecond)}
	if err := m.Commit(ctx, Txn{Now: base, PutOffer: &o}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := m.NextDeadline(ctx); !got.Equal(o.ExpiresAt) {
		t.Fatalf("NextDeadline %v, want the offer's expiry %v", got, o.ExpiresAt)
	}
}
