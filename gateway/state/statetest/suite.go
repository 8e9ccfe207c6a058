// Package statetest is the one contract suite that every state.Store
// implementation passes: the in-memory store, Redis on miniredis, and a
// real Redis when one is configured.
package statetest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// Run runs the contract suite. newStore must return a fresh, empty store
// for each subtest and arrange its own cleanup with t.Cleanup (closing the
// store, removing its keys); Run never closes it. Subtests run in
// parallel, each on its own store.
func Run(t *testing.T, newStore func(t *testing.T) state.Store) {
	t.Helper()
	tests := []struct {
		name string
		run  func(t *testing.T, s state.Store)
	}{
		{"ping", testPing},
		{"conversation/create_and_get", testCreateAndGet},
		{"conversation/duplicate_id", testCreateDuplicate},
		{"conversation/not_found", testConversationNotFound},
		{"conversation/invalid", testCreateInvalid},
		{"conversation/update", testUpdate},
		{"conversation/update_aborts", testUpdateAborts},
		{"conversation/update_concurrent", testUpdateConcurrent},
		{"conversation/list_filters", testListFilters},
		{"conversation/list_pagination", testListPagination},
		{"conversation/list_follows_changes", testListFollowsChanges},
		{"conversation/list_limits", testListLimits},
		{"conversation/batch_read", testConversationsBatch},
		{"message/append_and_read", testAppendAndRead},
		{"message/idempotency", testAppendIdempotency},
		{"message/concurrent_duplicates", testAppendConcurrentDuplicates},
		{"message/order_and_limit", testMessagesOrderAndLimit},
		{"message/invalid_and_missing", testMessageInvalidAndMissing},
		{"message/advance", testAdvanceMessage},
		{"message/bind_provider_ids", testBindProviderIDs},
		{"thread/claim", testThreads},
		{"thread/claim_once", testClaimOnce},
		{"event/append_and_order", testEvents},
		{"presence", testPresence},
		{"queue", testQueue},
		{"offer/lease", testOfferLease},
		{"offer/expired_and_delete", testOfferExpiredAndDelete},
		{"offer/invalid", testOfferInvalid},
		{"prospect/concurrent_first_contact", testProspectConcurrent},
		{"prospect/lookups", testProspectLookups},
		{"router/guards", testGuards},
		{"router/version_conflict", testVersionConflict},
		{"router/commit_batch", testCommitBatch},
		{"router/invalid_txn", testInvalidTxn},
		{"router/effects", testEffects},
		{"router/releases", testReleases},
		{"router/decisions", testDecisions},
		{"router/decision_forms", testDecisionForms},
		{"router/wakes_and_deadline", testWakesAndDeadline},
		{"router/cursors", testCursors},
		{"router/offers_live", testOffersLive},
		{"router/offers_group", testOffersGroup},
		{"router/presence_guard", testPresenceGuard},
		{"router/concurrent_claims", testConcurrentClaims},
		{"notify/subscribe", testNotify},
		{"desk/events", testStreamEvents},
		{"desk/broadcast", testBroadcast},
		{"instances/leases_and_holdings", testInstanceLeases},
		{"instances/forget_race", testForgetInstanceRace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, newStore(t))
		})
	}
}

func testPing(t *testing.T, s state.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// at returns a fixed instant plus n milliseconds, in UTC to the
// millisecond as the domain package makes times.
func at(n int) time.Time {
	return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(n) * time.Millisecond)
}

// newConversation returns a valid new conversation created at at(n), so
// conversations made with growing n have growing (UUIDv7) ids.
func newConversation(n int) conversation.Conversation {
	cust := conversation.Customer{ID: "cust-1", Segment: conversation.SegmentAffluent, PreferredLanguage: "zh"}
	return conversation.New(cust, conversation.ChannelSMS, conversation.Address{Kind: conversation.AddressPhone, Value: "+8613800138000"}, at(n))
}

// newMessage returns a valid inbound SMS message on conversation id.
func newMessage(id conversation.ConversationID, n int, providerID string) conversation.Message {
	return conversation.Message{
		ID:             conversation.NewMessageID(at(n)),
		ConversationID: id,
		Channel:        conversation.ChannelSMS,
		ChannelAccount: "+8695588",
		Direction:      conversation.Outbound,
		Sender:         "rm-1",
		Text:           "Your appointment is confirmed.",
		ProviderID:     providerID,
		Status:         conversation.DeliveryQueued,
		CreatedAt:      at(n),
		UpdatedAt:      at(n),
	}
}

// equal fails the test unless got and want have the same JSON form, which
// is how the stores keep records (nil and empty slices are the same).
func equal(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatalf("%s: marshal got: %v", what, err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatalf("%s: marshal want: %v", what, err)
	}
	if string(g) != string(w) {
		t.Fatalf("%s:\n got: %s\nwant: %s", what, g, w)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wantErr fails the test unless err matches every target with errors.Is.
func wantErr(t *testing.T, what string, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: got no error, want %v", what, targets)
	}
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Fatalf("%s: got %v, want an error matching %v", what, err, target)
		}
	}
}
