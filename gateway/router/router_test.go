package router

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/routing"
)

// TestOwnRMAcceptWrapUpClose: a private-bank client goes to their own RM;
// accepting makes the conversation active and assigned; wrap-up keeps the
// capacity held; close with a disposition frees it.
func TestOwnRMAcceptWrapUpClose(t *testing.T) {
	t.Parallel()
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, mk(t))
			f.available(t, "rm-pb-01", "rm-pb-02")
			c := f.open(t, "cus-pb-0001", conversation.ChannelWebChat)
			f.evaluate(t)
			o, ok := f.offerOf(t, c.ID)
			if !ok || o.RMID != "rm-pb-01" || o.Cost != 25 {
				t.Fatalf("offer %+v ok=%v, want own RM rm-pb-01 at cost 25", o, ok)
			}
			if f.status(t, c.ID) != conversation.StatusOffered || f.load(t, "rm-pb-01") != 25 {
				t.Fatalf("status %s load %d", f.status(t, c.ID), f.load(t, "rm-pb-01"))
			}
			got, err := f.r.Accept(f.ctx, o.ID, "rm-pb-01")
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != conversation.StatusActive || got.AssigneeID != "rm-pb-01" || got.TeamID != "private_bank" || !got.HasParticipant("rm-pb-01") {
				t.Fatalf("after accept: %+v", got)
			}
			if _, err := f.r.WrapUp(f.ctx, c.ID, "rm-pb-02"); !errors.Is(err, ErrNotAssignee) {
				t.Fatalf("wrap-up by another RM: %v", err)
			}
			if _, err := f.r.WrapUp(f.ctx, c.ID, "rm-pb-01"); err != nil {
				t.Fatal(err)
			}
			if f.load(t, "rm-pb-01") != 25 {
				t.Fatal("capacity released during wrap-up")
			}
			if _, err := f.r.Close(f.ctx, c.ID, "rm-pb-01", "no-such-code"); !errors.Is(err, routing.ErrUnknownDisposition) {
				t.Fatalf("unknown disposition: %v", err)
			}
			closed, err := f.r.Close(f.ctx, c.ID, "rm-pb-01", "lead:wealth")
			if err != nil {
				t.Fatal(err)
			}
			if closed.Status != conversation.StatusClosed || closed.Disposition != "lead:wealth" || f.load(t, "rm-pb-01") != 0 {
				t.Fatalf("after close: %s %q load %d", closed.Status, closed.Disposition, f.load(t, "rm-pb-01"))
			}
			recs, err := f.store.Decisions(f.ctx, c.ID, 0)
			if err != nil || len(recs) == 0 {
				t.Fatalf("decision records: %v %d", err, len(recs))
			}
		})
	}
}

// TestDeputyWhenOwnRMAtCapacity: the own RM is on a call (100/100); for the
// first 20 s the client waits for them, then the deputy is offered, and the
// decision record says why in a plain sentence.
func TestDeputyWhenOwnRMAtCapacity(t *testing.T) {
	t.Parallel()
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, mk(t))
			f.available(t, "rm-pb-01", "rm-pb-02")
			call := f.open(t, "cus-pb-0001", conversation.ChannelVoice)
			f.evaluate(t)
			o, ok := f.offerOf(t, call.ID)
			if !ok {
				t.Fatal("call not offered")
			}
			if _, err := f.r.Accept(f.ctx, o.ID, "rm-pb-01"); err != nil {
				t.Fatal(err)
			}
			chat := f.open(t, "cus-pb-0001", conversation.ChannelWebChat)
			f.clk.Advance(19*time.Second + 999*time.Millisecond)
			f.evaluate(t)
			if _, ok := f.offerOf(t, chat.ID); ok {
				t.Fatal("offered before the own-RM step expired")
			}
			f.clk.Advance(time.Millisecond)
			f.evaluate(t)
			o, ok = f.offerOf(t, chat.ID)
			if !ok || o.RMID != "rm-pb-02" {
				t.Fatalf("at 20 s: offer %+v ok=%v, want deputy rm-pb-02", o, ok)
			}
			recs, _ := f.store.Decisions(f.ctx, chat.ID, 1)
			var d struct {
				Sentence string `json:"sentence"`
			}
			if len(recs) != 1 || json.Unmarshal(recs[0], &d) != nil {
				t.Fatalf("records: %s", recs)
			}
			want := "own RM rm-pb-01 at capacity (100/100); offered to deputy rm-pb-02 at step 2"
			if d.Sentence != want {
				t.Fatalf("sentence %q, want %q", d.Sentence, want)
			}
		})
	}
}

// TestOfferExpiryAndNotResponding: an offer nobody answers expires; the
// conversation goes back to the queue and to the next RM; after the
// configured number of misses in a row the RM is set away.
func TestOfferExpiryAndNotResponding(t *testing.T) {
	t.Parallel()
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, mk(t))
			f.available(t, "rm-ms-01")
			max := f.r.Policies().MaxMissedOffers()
			for i := 0; i < max; i++ {
				c := f.open(t, "cus-ms-0001", conversation.ChannelSMS)
				f.evaluate(t)
				o, ok := f.offerOf(t, c.ID)
				if !ok || o.RMID != "rm-ms-01" {
					t.Fatalf("miss %d: offer %+v ok=%v", i, o, ok)
				}
				f.clk.Advance(f.r.Policies().OfferTimeout(conversation.ChannelSMS))
				f.evaluate(t)
				if _, err := f.r.Accept(f.ctx, o.ID, "rm-ms-01"); !errors.Is(err, ErrOfferGone) {
					t.Fatalf("accept after expiry: %v", err)
				}
				got, _ := f.store.Conversation(f.ctx, c.ID)
				if got.Status != conversation.StatusQueued || len(got.Declined) != 1 || f.load(t, "rm-ms-01") != 0 {
					t.Fatalf("after expiry: %s declined %v load %d", got.Status, got.Declined, f.load(t, "rm-ms-01"))
				}
				if _, err := f.r.Abandon(f.ctx, c.ID); err != nil {
					t.Fatal(err)
				}
			}
			p, err := f.store.Presence(f.ctx, "rm-ms-01", f.clk.Now())
			if err != nil || p.State != conversation.PresenceAway || p.Reason != "not_responding" {
				t.Fatalf("after %d misses: %+v %v", max, p, err)
			}
		})
	}
}

// TestAcceptRefusals: another RM's offer, and a declined offer, are
// refused with clear errors and change nothing.
func TestAcceptRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t, state.NewMemory())
	f.available(t, "rm-pb-01", "rm-pb-02")
	c := f.open(t, "cus-pb-0001", conversation.ChannelWeChat)
	f.evaluate(t)
	o, _ := f.offerOf(t, c.ID)
	before, _ := f.store.Conversation(f.ctx, c.ID)
	if _, err := f.r.Accept(f.ctx, o.ID, "rm-pb-02"); !errors.Is(err, ErrNotYourOffer) {
		t.Fatalf("accept by another RM: %v", err)
	}
	if err := f.r.Decline(f.ctx, o.ID, "rm-pb-02", "not mine"); !errors.Is(err, ErrNotYourOffer) {
		t.Fatalf("decline by another RM: %v", err)
	}
	if after, _ := f.store.Conversation(f.ctx, c.ID); after.Version != before.Version {
		t.Fatal("a refused accept changed the conversation")
	}
	if err := f.r.Decline(f.ctx, o.ID, "rm-pb-01", "in a meeting"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Accept(f.ctx, o.ID, "rm-pb-01"); !errors.Is(err, ErrOfferGone) {
		t.Fatalf("accept of a declined offer: %v", err)
	}
	// The own RM declined, so the deputy step is next (and the own RM is
	// never offered it again).
	f.evaluate(t)
	if o2, ok := f.offerOf(t, c.ID); !ok || o2.RMID != "rm-pb-02" {
		t.Fatalf("after decline: %+v %v", o2, ok)
	}
}

// TestAbandonWithdrawsOffer: a client who leaves while offered ends the
// conversation as abandoned and frees the RM.
func TestAbandonWithdrawsOffer(t *testing.T) {
	t.Parallel()
	f := newFixture(t, state.NewMemory())
	f.available(t, "rm-pb-01")
	c := f.open(t, "cus-pb-0001", conversation.ChannelVoice)
	f.evaluate(t)
	if _, ok := f.offerOf(t, c.ID); !ok {
		t.Fatal("not offered")
	}
	got, err := f.r.Abandon(f.ctx, c.ID)
	if err != nil || got.Status != conversation.StatusAbandoned {
		t.Fatalf("abandon: %v %s", err, got.Status)
	}
	if _, ok := f.offerOf(t, c.ID); ok || f.load(t, "rm-pb-01") != 0 {
		t.Fatal("offer or hold left behind")
	}
}

// TestEscalateKeepsRM: escalating an active chat to video keeps the RM
// when they have the capacity, and is refused when they do not.
func TestEscalateKeepsRM(t *testing.T) {
	t.Parallel()
	f := newFixture(t, state.NewMemory())
	f.available(t, "rm-pb-01")
	accept := func(ch conversation.Channel) conversation.Conversation {
		c := f.open(t, "cus-pb-0001", ch)
		f.evaluate(t)
		o, ok := f.offerOf(t, c.ID)
		if !ok {
			t.Fatalf("%s not offered", ch)
		}
		c, err := f.r.Accept(f.ctx, o.ID, o.RMID)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	chat := accept(conversation.ChannelWebChat)
	app := conversation.Address{Kind: conversation.AddressApp, Value: "app-demo-pb-0001"}
	got, err := f.r.Escalate(f.ctx, chat.ID, "rm-pb-01", conversation.ChannelVideo, app)
	if err != nil || got.Channel != conversation.ChannelVideo || got.AssigneeID != "rm-pb-01" || f.load(t, "rm-pb-01") != 100 {
		t.Fatalf("escalate: %v %s load %d", err, got.Channel, f.load(t, "rm-pb-01"))
	}
	if _, err := f.r.Close(f.ctx, chat.ID, "rm-pb-01", "resolved"); err != nil {
		t.Fatal(err)
	}
	chat1 := accept(conversation.ChannelWebChat)
	chat2 := accept(conversation.ChannelWebChat)
	_ = chat2
	if _, err := f.r.Escalate(f.ctx, chat1.ID, "rm-pb-01", conversation.ChannelVideo, app); !errors.Is(err, ErrNoCapacity) {
		t.Fatalf("escalate beyond capacity: %v", err)
	}
	if c, _ := f.store.Conversation(f.ctx, chat1.ID); c.Channel != conversation.ChannelWebChat || f.load(t, "rm-pb-01") != 50 {
		t.Fatalf("refused escalation changed state: %s load %d", c.Channel, f.load(t, "rm-pb-01"))
	}
}

// TestReturningClientGoesToLastRM: a client who comes back soon is offered
// to the RM who served them last.
func TestReturningClientGoesToLastRM(t *testing.T) {
	t.Parallel()
	f := newFixture(t, state.NewMemory())
	f.available(t, "rm-ms-01", "rm-ov-01")
	first := f.open(t, "cus-ms-0001", conversation.ChannelSMS)
	f.evaluate(t)
	o, _ := f.offerOf(t, first.ID)
	served := o.RMID
	if _, err := f.r.Accept(f.ctx, o.ID, served); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Close(f.ctx, first.ID, served, "resolved"); err != nil {
		t.Fatal(err)
	}
	f.clk.Advance(10 * time.Minute)
	again := f.open(t, "cus-ms-0001", conversation.ChannelWebChat)
	if again.PreviousRM != served {
		t.Fatalf("previous RM %q, want %q", again.PreviousRM, served)
	}
	f.evaluate(t)
	if o2, ok := f.offerOf(t, again.ID); !ok || o2.RMID != served {
		t.Fatalf("returning client offered to %+v, want %s", o2, served)
	}
}

// TestRoutersRaceNoDoubleOffer: several routers evaluating at once on one
// store never offer a conversation twice nor put an RM over capacity.
func TestRoutersRaceNoDoubleOffer(t *testing.T) {
	t.Parallel()
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			store := mk(t)
			base := newFixture(t, store)
			var routers []*Router
			for i := 0; i < 4; i++ {
				f := newFixture(t, store)
				f.r.now = base.clk.Now
				routers = append(routers, f.r)
			}
			base.available(t, "rm-ms-01", "rm-ov-01", "rm-pb-01", "rm-pb-02", "rm-pb-03", "rm-af-01")
			var ids []conversation.ConversationID
			for i := 0; i < 40; i++ {
				cust := conversation.CustomerID("cus-ms-0001")
				if i%3 == 0 {
					cust = "cus-pb-0001"
				}
				ids = append(ids, base.open(t, cust, conversation.ChannelWebChat).ID)
			}
			for round := 0; round < 3; round++ {
				var wg sync.WaitGroup
				for _, r := range routers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if err := r.Evaluate(context.Background()); err != nil {
							t.Error(err)
						}
					}()
				}
				wg.Wait()
				base.clk.Advance(25 * time.Second)
			}
			states, _ := store.RMStates(context.Background())
			held := map[conversation.ConversationID]int{}
			for _, st := range states {
				if st.Load > 100 {
					t.Errorf("%s over capacity: %d", st.RMID, st.Load)
				}
				for _, h := range st.Holds {
					held[h.ConversationID]++
				}
			}
			offered := 0
			for _, id := range ids {
				if held[id] > 1 {
					t.Errorf("conversation %s held by %d RMs", id, held[id])
				}
				if base.status(t, id) == conversation.StatusOffered {
					offered++
				}
			}
			if offered == 0 {
				t.Fatal("nothing was offered")
			}
		})
	}
}

func TestRunReactsToKick(t *testing.T) {
	t.Parallel()
	f := newFixture(t, state.NewMemory())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.r.Run(ctx) }()
	f.available(t, "rm-pb-01")
	c := f.open(t, "cus-pb-0001", conversation.ChannelWebChat) // Route kicks
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := f.offerOf(t, c.ID); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run did not offer after a kick")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestNewRequiresDependencies(t *testing.T) {
	t.Parallel()
	if _, err := New(Options{}); err == nil || !strings.Contains(err.Error(), "required") {
		t.Fatalf("New with nothing: %v", err)
	}
}
