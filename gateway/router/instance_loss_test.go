package router

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/state/statetest"
	"github.com/airbranch/airbranch/routing"
)

// TestOfferOfALostInstanceMovesOn: instance A offers a conversation and
// dies (its loop stops with no clean-up, as kill -9 would leave it); the
// offer is a lease in the shared Redis, and instance B's router, which was
// idle with its timer armed before A's offer existed, moves it on when it
// expires: the conversation is offered to the next RM within the offer
// timeout and a margin, not at B's next safety wake-up.
func TestOfferOfALostInstanceMovesOn(t *testing.T) {
	t.Parallel()
	stores := statetest.OpenRedisInstances(t, "abrt-loss", 2)
	cfg := routing.DefaultConfig()
	const timeout = 2 * time.Second
	cfg.OfferTimeouts = map[string]time.Duration{"webchat": timeout}
	dir := world(t)
	teams, _ := dir.Teams(context.Background())
	rms, _ := dir.RMs(context.Background())
	pol, err := routing.Compile(cfg, teams, rms)
	if err != nil {
		t.Fatal(err)
	}
	mk := func(s state.Store, id string) *Router {
		r, err := New(Options{Store: s, Directory: dir, Customers: dir, Policies: pol, Instance: id,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b := mk(stores[0], "a"), mk(stores[1], "b")
	ctx := t.Context()

	// B runs, idle: its timer is armed at its safety interval (30 s).
	bCtx, stopB := context.WithCancel(ctx)
	bDone := make(chan error, 1)
	go func() { bDone <- b.Run(bCtx) }()
	t.Cleanup(func() { stopB(); <-bDone })
	for _, rm := range []conversation.RMID{"rm-pb-01", "rm-pb-02"} {
		if _, err := a.SetPresence(ctx, rm, conversation.PresenceAvailable, "", time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond) // B has evaluated (nothing to do) and sleeps

	// A queues a conversation and offers it without anyone being told
	// (a store write, then A's own pass), then dies.
	cust, _ := dir.Customer(ctx, "cus-pb-0001")
	c := conversation.New(cust, conversation.ChannelWebChat, cust.Addresses[0], time.Now())
	if _, err := stores[0].CreateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	c, _ = stores[0].Conversation(ctx, c.ID)
	next := c
	now := time.Now()
	if err := next.Transition(conversation.StatusQueued, now); err != nil {
		t.Fatal(err)
	}
	if err := stores[0].Commit(ctx, state.Txn{Now: now, Conversation: &next,
		Enqueue: []state.QueueOp{{Queue: WaitingQueue, ConversationID: c.ID, Score: float64(next.QueuedAt.UnixMilli())}}}); err != nil {
		t.Fatal(err)
	}
	if err := a.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	first, err := stores[1].OfferFor(ctx, c.ID, time.Now())
	if err != nil || first.Instance != "a" {
		t.Fatalf("A's offer: %+v %v", first, err)
	}
	_ = stores[0].Close() // A is gone: nothing more of it reaches the store

	deadline := first.ExpiresAt.Add(1500 * time.Millisecond)
	for {
		o, err := stores[1].OfferFor(ctx, c.ID, time.Now())
		if err == nil && o.ID != first.ID {
			if o.Instance != "b" || o.RMID == first.RMID {
				t.Fatalf("re-offer %+v after %+v", o, first)
			}
			t.Logf("re-offered by B to %s %v after A's offer expired", o.RMID, time.Since(first.ExpiresAt).Round(time.Millisecond))
			break
		}
		if time.Now().After(deadline) {
			got, _ := stores[1].Conversation(ctx, c.ID)
			t.Fatalf("not re-offered within the offer timeout + 1.5 s: %s, offer %+v %v", got.Status, o, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if st, _ := stores[1].RMState(ctx, first.RMID); st.Load != 0 {
		t.Fatalf("%s still holds %d after the expiry", first.RMID, st.Load)
	}
}
