package statetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/routing"
)

// testDecisionForms commits decision records in both forms: a
// routing.Decision is kept as its AppendJSON bytes, and JSON given as
// Record is kept as a copy (the caller's buffer is its own again once
// Commit returns). Then full records (hundreds of candidates), alone and
// in batches mixed with JSON, read back as their AppendJSON bytes.
func testDecisionForms(t *testing.T, s state.Store) {
	t.Run("small", func(t *testing.T) { testDecisionSmall(t, s) })
	t.Run("full", func(t *testing.T) { testDecisionFull(t, s) })
	t.Run("full_batches", func(t *testing.T) { testDecisionFullBatches(t, s) })
	t.Run("full_retention", func(t *testing.T) { testDecisionFullRetention(t, s) })
}

func testDecisionSmall(t *testing.T, s state.Store) {
	ctx := t.Context()
	const conv = conversation.ConversationID("conv-forms")
	d := routing.Decision{
		ConversationID: conv, At: at(1), PolicyID: "private-bank", Outcome: routing.OutcomeWait, Steps: []int{1, 2},
		Reserved: &routing.Reservation{RMID: "rm-a", Step: 1, Load: 75, Capacity: 100, Cost: 100},
		Reason:   `waiting: "quoted" <b> & \ and a line separator` + "\u2028 中文 \x01", NextChange: at(1).Add(time.Minute),
		Record: routing.RecordFull, Considered: 2, Filtered: routing.FilterCounts{routing.FilterCapacity: 1, routing.FilterPresence: 1},
		Candidates: []routing.Candidate{
			{RMID: "rm-a", Step: 1, Role: routing.RoleOwnRM, Failed: 1 << routing.FilterCapacity, Presence: conversation.PresenceAvailable, Load: 75, Capacity: 100, Note: "at capacity (75/100)"},
			{RMID: "rm-b", Step: 2, Failed: 1 << routing.FilterPresence, Presence: conversation.PresenceAway, Capacity: 100},
		},
		Sentence: "own RM rm-a at capacity (75/100)",
	}
	want := d.AppendJSON(nil)
	must(t, "Commit a decision", s.Commit(ctx, state.Txn{Now: at(1), Decision: &state.DecisionRecord{ConversationID: conv, At: at(1), Decision: &d}}))
	buf := []byte(`{"n":1}`)
	must(t, "Commit a JSON record", s.Commit(ctx, state.Txn{Now: at(2), Decision: &state.DecisionRecord{ConversationID: conv, At: at(2), Record: buf}}))
	copy(buf, `{"n":2}`)
	recs, err := s.Decisions(ctx, conv, 0)
	must(t, "Decisions", err)
	if len(recs) != 2 {
		t.Fatalf("Decisions: %d records, want 2", len(recs))
	}
	if string(recs[0]) != `{"n":1}` {
		t.Errorf("JSON record kept as %s, want {\"n\":1} as committed", recs[0])
	}
	if !bytes.Equal(recs[1], want) || !json.Valid(recs[1]) {
		t.Errorf("decision kept as\n%s\nwant\n%s", recs[1], want)
	}
}

// FullDecision returns a decision of conversation conv as the router makes
// it in full record mode: n candidates in steps of up to 100, sorted by step
// then RM id, named "<rmPrefix>-<step>-<i>", with every presence, the own
// RM, deputy and last RM, notes, failed filters, loads and longest-idle
// scores drawn from seed. Stores keep it as its AppendJSON bytes.
func FullDecision(conv conversation.ConversationID, n int, rmPrefix string, seed uint64) routing.Decision {
	r := rand.New(rand.NewPCG(seed, 0xdec))
	presences := []conversation.PresenceState{conversation.PresenceAvailable, conversation.PresenceAvailable,
		conversation.PresenceAvailable, conversation.PresenceAway, conversation.PresenceOffline, conversation.PresenceWrapUp}
	at := time.Date(2026, 3, 2, 9, 0, 0, int(seed%1000)*int(time.Millisecond), time.UTC)
	d := routing.Decision{
		ConversationID: conv, At: at, PolicyID: "private-bank", PolicyVersion: "9f2c1e", Outcome: routing.OutcomeWait,
		Record: routing.RecordFull, Considered: n, NextChange: at.Add(20 * time.Second),
		Sentence: fmt.Sprintf("own RM %s-1-0 at capacity (100/100); waiting for %d candidates", rmPrefix, n),
		Reason:   "no eligible RM",
	}
	for i := range n {
		step := 1 + i/100
		c := routing.Candidate{
			RMID: conversation.RMID(fmt.Sprintf("%s-%d-%03d", rmPrefix, step, i%100)), Step: step,
			Presence: presences[r.IntN(len(presences))], Load: 25 * r.IntN(5), Capacity: 100,
		}
		switch {
		case i == 0:
			c.Role, c.Failed, c.Load, c.Note = routing.RoleOwnRM, 1<<routing.FilterCapacity, 100, "at capacity (100/100)"
		case i == 1:
			c.Role = routing.RoleDeputy
		case i == 2:
			c.Role = routing.RoleLastRM
		}
		if c.Presence != conversation.PresenceAvailable {
			c.Failed |= 1 << routing.FilterPresence
		}
		if r.IntN(7) == 0 {
			c.Failed |= 1 << routing.FilterLanguage
		}
		if c.Failed == 0 {
			c.Score = 1000 * int64(r.IntN(3600))
		} else {
			d.Filtered[firstFilter(c.Failed)]++
		}
		if r.IntN(50) == 0 {
			c.Note = "reserved for c0 (waiting voice)"
		}
		d.Steps = append(d.Steps[:min(len(d.Steps), step-1)], step)
		d.Candidates = append(d.Candidates, c)
	}
	return d
}

// firstFilter returns the first filter of a non-empty set.
func firstFilter(s routing.FilterSet) routing.Filter {
	for f := range routing.Filter(routing.NumFilters) {
		if s.Has(f) {
			return f
		}
	}
	return 0
}

// wantDecisions fails unless the conversation's records are want's
// AppendJSON bytes (newest first) or, for a nil decision, the JSON given.
func wantDecisions(t *testing.T, s state.Store, conv conversation.ConversationID, limit int, want []json.RawMessage) {
	t.Helper()
	got, err := s.Decisions(t.Context(), conv, limit)
	must(t, "Decisions", err)
	if len(got) != len(want) {
		t.Fatalf("%s: %d records, want %d", conv, len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%s: record %d (newest first) is\n%.300s…\nwant\n%.300s…", conv, i, got[i], want[i])
		}
	}
}

// testDecisionFull commits one full record of 300 candidates.
func testDecisionFull(t *testing.T, s state.Store) {
	const conv = conversation.ConversationID("conv-full")
	d := FullDecision(conv, 300, "rm-full", 1)
	must(t, "Commit", s.Commit(t.Context(), state.Txn{Now: at(1), Decision: &state.DecisionRecord{ConversationID: conv, At: at(1), Decision: &d}}))
	wantDecisions(t, s, conv, 0, []json.RawMessage{d.AppendJSON(nil)})
}

// testDecisionFullBatches commits batches of full records of several
// conversations, with RMs never recorded before halfway through a batch
// (on Redis: a roster grows inside one EVALSHA), a JSON record and a small
// record among them.
func testDecisionFullBatches(t *testing.T, s state.Store) {
	ctx := t.Context()
	convs := []conversation.ConversationID{"conv-b0", "conv-b1", "conv-b2"}
	want := map[conversation.ConversationID][]json.RawMessage{}
	n := 0
	for batch := range 3 {
		var txns []state.Txn
		for i := range 12 {
			conv := convs[i%len(convs)]
			var rec *state.DecisionRecord
			switch {
			case i == 5:
				rec = &state.DecisionRecord{ConversationID: conv, At: at(n), Record: json.RawMessage(fmt.Sprintf(`{"n":%d}`, n))}
			case i == 7:
				d := FullDecision(conv, 3, "rm-small", uint64(n))
				rec = &state.DecisionRecord{ConversationID: conv, At: at(n), Decision: &d}
			default:
				prefix := "rm-batch"
				if i >= 6 {
					prefix = fmt.Sprintf("rm-new%d", batch) // RMs no record named before
				}
				d := FullDecision(conv, 20+(n*37)%280, prefix, uint64(n))
				rec = &state.DecisionRecord{ConversationID: conv, At: at(n), Decision: &d}
			}
			j := rec.Record
			if rec.Decision != nil {
				j = rec.Decision.AppendJSON(nil)
			}
			want[conv] = append([]json.RawMessage{j}, want[conv]...)
			txns = append(txns, state.Txn{Now: at(n), Decision: rec})
			n++
		}
		errs, err := s.CommitBatch(ctx, txns)
		must(t, "CommitBatch", err)
		for i, err := range errs {
			must(t, fmt.Sprintf("batch %d Txn %d", batch, i), err)
		}
	}
	for _, conv := range convs {
		wantDecisions(t, s, conv, 0, want[conv])
		wantDecisions(t, s, conv, 2, want[conv][:2])
	}
}

// testDecisionFullRetention commits more full records than are kept.
func testDecisionFullRetention(t *testing.T, s state.Store) {
	const conv = conversation.ConversationID("conv-full-kept")
	var want []json.RawMessage
	for i := range state.MaxDecisionsKept + 3 {
		d := FullDecision(conv, 16+i%5, "rm-kept", uint64(i))
		must(t, "Commit", s.Commit(t.Context(), state.Txn{Now: at(i), Decision: &state.DecisionRecord{ConversationID: conv, At: at(i), Decision: &d}}))
		want = append([]json.RawMessage{d.AppendJSON(nil)}, want...)
	}
	wantDecisions(t, s, conv, 0, want[:state.MaxDecisionsKept])
}
