package router

import (
	"errors"
	"slices"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/routing"
)

// groupFixture routes every conversation to the private-bank team
// (rm-pb-01..03, all available), offering chats to three RMs at once.
func groupFixture(t *testing.T, store state.Store) *fixture {
	t.Helper()
	cfg := routing.DefaultConfig()
	cfg.SimultaneousOffers = map[string]int{routing.TimeoutChat: 3}
	cfg.Policies = []routing.PolicyConfig{{ID: "team", When: "true", Steps: []routing.StepConfig{{Target: "team:private_bank"}}}}
	f := newFixtureWith(t, store, cfg)
	f.available(t, "rm-pb-01", "rm-pb-02", "rm-pb-03")
	return f
}

var groupRMs = []conversation.RMID{"rm-pb-01", "rm-pb-02", "rm-pb-03"}

// groupOffers returns the live offers of conversation id, per RM.
func (f *fixture) groupOffers(t *testing.T, id conversation.ConversationID) map[conversation.RMID]conversation.Offer {
	t.Helper()
	out := map[conversation.RMID]conversation.Offer{}
	for _, rm := range groupRMs {
		offers, err := f.store.OffersOf(f.ctx, rm, f.clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range offers {
			if o.ConversationID == id {
				out[rm] = o
			}
		}
	}
	return out
}

func (f *fixture) conv(t *testing.T, id conversation.ConversationID) conversation.Conversation {
	t.Helper()
	c, err := f.store.Conversation(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestSimultaneousOfferAccept: a chat is offered to the three RMs at once,
// each holding its cost; the first to accept takes it, the others' offers
// are withdrawn (with an offer_withdrawn event each) and their capacity
// freed, and their accept is refused as gone.
func TestSimultaneousOfferAccept(t *testing.T) {
	t.Parallel()
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := groupFixture(t, mk(t))
			c := f.open(t, "cus-ms-0001", conversation.ChannelWebChat)
			f.evaluate(t)
			offers := f.groupOffers(t, c.ID)
			if len(offers) != 3 {
				t.Fatalf("offered to %d RMs, want 3: %v", len(offers), offers)
			}
			got := f.conv(t, c.ID)
			if got.Status != conversation.StatusOffered || len(got.OfferGroup) != 3 {
				t.Fatalf("conversation %s, group %v", got.Status, got.OfferGroup)
			}
			for _, rm := range groupRMs {
				if l := f.load(t, rm); l != 25 {
					t.Fatalf("%s holds %d while offered, want 25", rm, l)
				}
			}
			if _, err := f.r.Accept(f.ctx, offers["rm-pb-02"].ID, "rm-pb-02"); err != nil {
				t.Fatal(err)
			}
			got = f.conv(t, c.ID)
			if got.Status != conversation.StatusActive || got.AssigneeID != "rm-pb-02" || len(got.OfferGroup) != 0 {
				t.Fatalf("after accept: %s by %s, group %v", got.Status, got.AssigneeID, got.OfferGroup)
			}
			for rm, want := range map[conversation.RMID]int{"rm-pb-01": 0, "rm-pb-02": 25, "rm-pb-03": 0} {
				if l := f.load(t, rm); l != want {
					t.Errorf("%s holds %d after the accept, want %d", rm, l, want)
				}
			}
			if left := f.groupOffers(t, c.ID); len(left) != 0 {
				t.Fatalf("offers left after the accept: %v", left)
			}
			for _, rm := range []conversation.RMID{"rm-pb-01", "rm-pb-03"} {
				if _, err := f.r.Accept(f.ctx, offers[rm].ID, rm); !errors.Is(err, ErrOfferGone) {
					t.Fatalf("late accept by %s: %v", rm, err)
				}
			}
			evs, err := f.store.Events(f.ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			var withdrawn []conversation.RMID
			for _, e := range evs {
				if e.Type == conversation.EventOfferWithdrawn {
					withdrawn = append(withdrawn, e.RMID)
				}
			}
			slices.Sort(withdrawn)
			if !slices.Equal(withdrawn, []conversation.RMID{"rm-pb-01", "rm-pb-03"}) {
				t.Fatalf("offer_withdrawn events for %v", withdrawn)
			}
		})
	}
}

// TestSimultaneousOfferDeclines: a decline ends only that RM's offer (the
// conversation stays offered to the others); when the last one declines it
// returns to the queue, and is not offered to any of them again.
func TestSimultaneousOfferDeclines(t *testing.T) {
	t.Parallel()
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := groupFixture(t, mk(t))
			c := f.open(t, "cus-ms-0001", conversation.ChannelSMS)
			f.evaluate(t)
			offers := f.groupOffers(t, c.ID)
			for i, rm := range groupRMs {
				if err := f.r.Decline(f.ctx, offers[rm].ID, rm, "busy"); err != nil {
					t.Fatal(err)
				}
				got := f.conv(t, c.ID)
				if f.load(t, rm) != 0 {
					t.Fatalf("%s still holds %d after declining", rm, f.load(t, rm))
				}
				if i < 2 {
					if got.Status != conversation.StatusOffered || len(got.OfferGroup) != 2-i || len(f.groupOffers(t, c.ID)) != 2-i {
						t.Fatalf("after %d declines: %s, group %v", i+1, got.Status, got.OfferGroup)
					}
					continue
				}
				if got.Status != conversation.StatusQueued || len(got.Declined) != 3 || len(got.OfferGroup) != 0 {
					t.Fatalf("after the last decline: %s, declined %v, group %v", got.Status, got.Declined, got.OfferGroup)
				}
			}
			f.evaluate(t)
			if offers := f.groupOffers(t, c.ID); len(offers) != 0 {
				t.Fatalf("offered again to RMs who declined: %v", offers)
			}
		})
	}
}

// TestSimultaneousOfferExpiry: unanswered, the whole group expires
// together; each RM's missed count rises and the conversation is queued
// again. A client who leaves while offered withdraws every offer.
func TestSimultaneousOfferExpiry(t *testing.T) {
	t.Parallel()
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := groupFixture(t, mk(t))
			c := f.open(t, "cus-ms-0001", conversation.ChannelWeChat)
			f.evaluate(t)
			f.clk.Advance(f.r.Policies().OfferTimeout(conversation.ChannelWeChat))
			f.evaluate(t)
			got := f.conv(t, c.ID)
			if got.Status != conversation.StatusQueued || len(got.Declined) != 3 || len(got.OfferGroup) != 0 {
				t.Fatalf("after expiry: %s, declined %v, group %v", got.Status, got.Declined, got.OfferGroup)
			}
			for _, rm := range groupRMs {
				st, err := f.store.RMState(f.ctx, rm)
				if err != nil || st.MissedInRow != 1 || st.Load != 0 {
					t.Fatalf("%s after expiry: %+v %v", rm, st, err)
				}
			}

			c2 := f.open(t, "cus-pb-0001", conversation.ChannelWebChat)
			f.evaluate(t)
			if n := len(f.groupOffers(t, c2.ID)); n != 3 {
				t.Fatalf("second chat offered to %d RMs", n)
			}
			if _, err := f.r.Abandon(f.ctx, c2.ID); err != nil {
				t.Fatal(err)
			}
			if left := f.groupOffers(t, c2.ID); len(left) != 0 {
				t.Fatalf("offers left after abandonment: %v", left)
			}
			for _, rm := range groupRMs {
				if l := f.load(t, rm); l != 0 {
					t.Fatalf("%s holds %d after abandonment", rm, l)
				}
			}
		})
	}
}
