package state_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/state/statetest"
)

// queuedTestConversation stores a queued conversation on team-1 (version 1).
func queuedTestConversation(t *testing.T, s state.Store, now time.Time) conversation.Conversation {
	t.Helper()
	c := testConversation(now)
	c.Status, c.TeamID, c.QueuedAt = conversation.StatusQueued, "team-1", conversation.Millis(now)
	stored, err := s.CreateConversation(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetPresence(t.Context(), conversation.Presence{RMID: "rm-1", State: conversation.PresenceAvailable, Since: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return stored
}

// TestRedisCommitOneRoundTrip checks that a Commit is one command
// (EVALSHA) whatever the Txn holds, once the script is loaded.
func TestRedisCommitOneRoundTrip(t *testing.T) {
	t.Parallel()
	s, client := newTestRedis(t)
	ctx := t.Context()
	now := time.Now()
	warm := queuedTestConversation(t, s, now)
	txn, err := statetest.ClaimTxn(warm, "rm-1", "team-1", 25, 100, time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, txn); err != nil { // loads the script
		t.Fatal(err)
	}
	counter := &commandCounter{}
	client.AddHook(counter)

	c := queuedTestConversation(t, s, now.Add(time.Millisecond))
	claim, err := statetest.ClaimTxn(c, "rm-1", "team-1", 25, 100, time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	everything := claim
	everything.Releases = []state.Hold{{RMID: "rm-1", ConversationID: warm.ID}}
	everything.DeleteOffers = []conversation.OfferID{txn.PutOffer.ID}
	everything.Enqueue = []state.QueueOp{{Queue: "team-2", ConversationID: c.ID, Score: 1}}
	everything.Presences = []conversation.Presence{{RMID: "rm-2", State: conversation.PresenceAway, Since: now}}
	everything.Wakes = []state.Wake{{ConversationID: c.ID, At: now.Add(time.Minute)}}
	everything.Cursors = map[string]conversation.RMID{"team-1": "rm-1"}
	fixed := func(txn state.Txn) func() state.Txn { return func() state.Txn { return txn } }
	tests := []struct {
		name string
		txn  func() state.Txn
		want error
	}{
		{"claim", fixed(claim), nil},
		{"conflict", fixed(claim), state.ErrConflict},
		{"guards_only", fixed(state.Txn{Now: now, Guards: claim.Guards[:1]}), nil},
		{"every_effect", func() state.Txn {
			cur, err := s.Conversation(ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			everything.Conversation = &cur
			everything.Guards, everything.PutOffer = nil, nil
			return everything
		}, nil},
	}
	for _, tc := range tests {
		txn := tc.txn()
		counter.n, counter.cmds = 0, nil
		if err := s.Commit(ctx, txn); !errors.Is(err, tc.want) {
			t.Fatalf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if counter.n != 1 || counter.cmds[0] != "evalsha" {
			t.Errorf("%s took %d round trips %v, want one evalsha", tc.name, counter.n, counter.cmds)
		}
	}
}

// TestRedisCommitMovesIndexes checks the index sets after a Commit that
// changes indexed fields: the script learns the sets to leave from the
// record's index field, not from the caller.
func TestRedisCommitMovesIndexes(t *testing.T) {
	t.Parallel()
	s, client := newTestRedis(t)
	ctx := t.Context()
	now := time.Now()
	c := queuedTestConversation(t, s, now)
	next := c
	if err := next.Transition(conversation.StatusOffered, now); err != nil {
		t.Fatal(err)
	}
	next.TeamID, next.AssigneeID = "team-2", "rm-9"
	if err := s.Commit(ctx, state.Txn{Now: now, Conversation: &next}); err != nil {
		t.Fatal(err)
	}
	// A second step through UpdateConversation must see the sets the Commit wrote.
	if _, err := s.UpdateConversation(ctx, c.ID, func(c *conversation.Conversation) error {
		c.AssigneeID = "rm-8"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	p := s.KeyPrefix()
	for _, tc := range []struct {
		set  string
		want bool
	}{
		{"cidx:all", true},
		{"cidx:status:queued", false},
		{"cidx:status:offered", true},
		{"cidx:team:team-1", false},
		{"cidx:team:team-2", true},
		{"cidx:assignee:rm-9", false},
		{"cidx:assignee:rm-8", true},
		{"cidx:channel:wechat", true},
		{"cidx:customer:cust-1", true},
	} {
		_, err := client.ZScore(ctx, p+tc.set, string(c.ID)).Result()
		if in := err == nil; in != tc.want {
			t.Errorf("%s: member %v (%v), want %v", tc.set, in, err, tc.want)
		}
	}
}

// TestRedisCommitReplayed re-sends every script command, as a client
// does after a lost reply: the second run finds its own write token and
// reports success, and nothing is applied twice.
func TestRedisCommitReplayed(t *testing.T) {
	t.Parallel()
	s, client := newTestRedis(t)
	ctx := t.Context()
	now := time.Now()
	c := queuedTestConversation(t, s, now)
	client.AddHook(replayScripts{})
	txn, err := statetest.ClaimTxn(c, "rm-1", "team-1", 25, 100, time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, txn); err != nil {
		t.Fatalf("replayed Commit: %v, want the success it was", err)
	}
	events, err := s.Events(ctx, c.ID)
	if err != nil || len(events) != 1 {
		t.Fatalf("events %d, %v; want 1", len(events), err)
	}
	st, err := s.RMState(ctx, "rm-1")
	if err != nil || st.Load != 25 {
		t.Fatalf("rm-1 load %d, %v; want 25", st.Load, err)
	}
	if err := s.Commit(ctx, txn); !errors.Is(err, state.ErrConflict) {
		t.Fatalf("a second Commit of the same Txn: %v, want ErrConflict", err)
	}
}

// TestRedisDecisionTTL checks that decision records expire DecisionTTL
// after the last write (on miniredis, by moving its clock).
func TestRedisDecisionTTL(t *testing.T) {
	t.Parallel()
	mr, opts := miniredisOptions(t)
	s, client := redisOn(t, opts)
	ctx := t.Context()
	rec := &state.DecisionRecord{ConversationID: "conv-1", At: time.Now(), Record: json.RawMessage(`{"step":1}`)}
	if err := s.Commit(ctx, state.Txn{Now: time.Now(), Decision: rec}); err != nil {
		t.Fatal(err)
	}
	ttl, err := client.PTTL(ctx, s.KeyPrefix()+"decisions:conv-1").Result()
	if err != nil || ttl != state.DecisionTTL {
		t.Fatalf("PTTL %v, %v; want %v", ttl, err, state.DecisionTTL)
	}
	mr.FastForward(state.DecisionTTL - time.Second)
	if got, err := s.Decisions(ctx, "conv-1", 0); err != nil || len(got) != 1 {
		t.Fatalf("before expiry: %d records, %v", len(got), err)
	}
	mr.FastForward(time.Second)
	if got, err := s.Decisions(ctx, "conv-1", 0); err != nil || len(got) != 0 {
		t.Fatalf("after expiry: %d records, %v; want none", len(got), err)
	}
}

// TestRedisNotifyAcrossInstances checks that a Notify on one store
// reaches a subscriber on another store with the same prefix (another
// gateway instance), and not one with another prefix.
func TestRedisNotifyAcrossInstances(t *testing.T) {
	t.Parallel()
	opts := realRedisOptions(t)
	if opts == nil {
		_, opts = miniredisOptions(t)
	}
	a, _ := redisOn(t, opts)
	b := state.NewRedis(redis.NewClient(opts), a.KeyPrefix())
	other, _ := redisOn(t, opts)
	t.Cleanup(func() { _ = b.Close() })
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	onB, err := b.Subscribe(ctx, "rm:rm-1")
	if err != nil {
		t.Fatal(err)
	}
	onOther, err := other.Subscribe(ctx, "rm:rm-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Notify(ctx, "rm:rm-1"); err != nil {
		t.Fatal(err)
	}
	statetest.WaitNotified(t, "subscriber on the other instance", onB)
	if err := other.Notify(ctx, "rm:rm-0"); err != nil { // a later message on other's connection
		t.Fatal(err)
	}
	select {
	case <-onOther:
		t.Fatal("a store with another prefix was notified")
	case <-time.After(50 * time.Millisecond):
	}
}
