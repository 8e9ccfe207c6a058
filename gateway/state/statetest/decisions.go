package statetest

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/routing"
)

// testDecisionForms commits decision records in both forms: a
// routing.Decision is kept as its AppendJSON bytes, and JSON given as
// Record is kept as a copy (the caller's buffer is its own again once
// Commit returns).
func testDecisionForms(t *testing.T, s state.Store) {
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
