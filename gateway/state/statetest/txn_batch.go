package statetest

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// testCommitBatch checks that CommitBatch applies each Txn on its own, in
// order, as Commit would: a refused guard, an invalid Txn and a version
// conflict each get their own error and write nothing, and do not stop
// the Txns after them; the applied ones leave exactly what Commit leaves.
func testCommitBatch(t *testing.T, s state.Store) {
	f := newRouterFixture(t, s)
	ctx := t.Context()
	claim := f.claim(t, state.Guard{Kind: state.GuardRMAvailable, RMID: "rm-a"})
	refused := f.claim(t, state.Guard{Kind: state.GuardRMAvailable, RMID: "rm-b"})
	invalid := state.Txn{Decision: &state.DecisionRecord{ConversationID: f.stale.ID, Record: json.RawMessage(`{}`)}} // zero Now
	again := f.claim(t)                                                                                              // same version as claim: stale once claim is applied
	wait := state.Txn{Now: f.now, Decision: &state.DecisionRecord{ConversationID: f.stale.ID, At: f.now,
		Record: json.RawMessage(`{"outcome":"wait"}`)}}

	before := f.snapshot(t, s)
	errs, err := s.CommitBatch(ctx, []state.Txn{refused, invalid, claim, again, wait})
	must(t, "CommitBatch", err)
	if len(errs) != 5 {
		t.Fatalf("CommitBatch returned %d errors for 5 Txns", len(errs))
	}
	wantGuardError(t, "refused Txn", errs[0], state.GuardRMAvailable, "rm-b is away")
	if !errors.Is(errs[1], conversation.ErrInvalid) {
		t.Fatalf("invalid Txn: got %v, want ErrInvalid", errs[1])
	}
	must(t, "claim", errs[2])
	if !errors.Is(errs[3], state.ErrConflict) {
		t.Fatalf("second claim at the old version: got %v, want ErrConflict", errs[3])
	}
	must(t, "wait record", errs[4])

	// The claim's effects, as in testCommitEffects: the conversation moved
	// on by one version, the offer live, the RM holding it.
	got, err := s.Conversation(ctx, f.conv.ID)
	must(t, "Conversation", err)
	if got.Version != f.conv.Version+1 || got.Status != conversation.StatusOffered {
		t.Fatalf("claimed conversation at version %d status %s, want %d offered", got.Version, got.Status, f.conv.Version+1)
	}
	o, err := s.OfferFor(ctx, f.conv.ID, f.now)
	must(t, "OfferFor", err)
	if o.ID != claim.PutOffer.ID {
		t.Fatalf("live offer %s, want %s", o.ID, claim.PutOffer.ID)
	}
	rm, err := s.RMState(ctx, "rm-a")
	must(t, "RMState", err)
	if rm.Load != 25 {
		t.Fatalf("rm-a load %d after the claim, want 25", rm.Load)
	}
	dec, err := s.Decisions(ctx, f.stale.ID, 0)
	must(t, "Decisions", err)
	if len(dec) != 1 || string(dec[0]) != `{"outcome":"wait"}` {
		t.Fatalf("wait record after the batch: %s", dec)
	}
	if after := f.snapshot(t, s); after == before {
		t.Fatal("the batch changed nothing")
	}

	// An empty batch, or one of refused Txns only, writes nothing.
	mid := f.snapshot(t, s)
	errs, err = s.CommitBatch(ctx, nil)
	must(t, "empty CommitBatch", err)
	if len(errs) != 0 {
		t.Fatalf("empty batch: %d errors", len(errs))
	}
	errs, err = s.CommitBatch(ctx, []state.Txn{refused, invalid})
	must(t, "refused CommitBatch", err)
	if errs[0] == nil || errs[1] == nil {
		t.Fatalf("refused batch: errors %v", errs)
	}
	if after := f.snapshot(t, s); after != mid {
		t.Fatalf("a batch of refused Txns changed the store:\nbefore: %s\n after: %s", mid, after)
	}
}
