package statetest

import (
	"math"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

func testPresence(t *testing.T, s state.Store) {
	ctx := t.Context()
	now := at(0)
	never, err := s.Presence(ctx, "rm-never", now)
	must(t, "Presence of an RM never seen", err)
	if never.State != conversation.PresenceOffline || never.RMID != "rm-never" {
		t.Fatalf("never seen: %+v, want offline", never)
	}

	lease := 30 * time.Second
	for _, p := range []conversation.Presence{
		{RMID: "rm-b", State: conversation.PresenceAvailable, Since: now, ExpiresAt: now.Add(lease), Instance: "gw-1"},
		{RMID: "rm-a", State: conversation.PresenceAway, Reason: "lunch", Since: now, ExpiresAt: now.Add(2 * lease)},
		{RMID: "rm-c", State: conversation.PresenceAvailable, Since: now, ExpiresAt: now.Add(lease / 2)},
	} {
		must(t, "SetPresence", s.SetPresence(ctx, p))
	}
	got, err := s.Presence(ctx, "rm-b", now.Add(lease-time.Millisecond))
	must(t, "Presence", err)
	equal(t, "live lease", got, conversation.Presence{RMID: "rm-b", State: conversation.PresenceAvailable, Since: now, ExpiresAt: now.Add(lease), Instance: "gw-1"})
	got, err = s.Presence(ctx, "rm-b", now.Add(lease))
	must(t, "Presence", err)
	equal(t, "expired lease", got, conversation.Presence{RMID: "rm-b", State: conversation.PresenceOffline, Reason: "lease_expired", Since: now.Add(lease)})

	all, err := s.Presences(ctx, now.Add(lease/2))
	must(t, "Presences", err)
	var ids []conversation.RMID
	var states []conversation.PresenceState
	for _, p := range all {
		ids = append(ids, p.RMID)
		states = append(states, p.State)
	}
	equal(t, "Presences ids", ids, []conversation.RMID{"rm-a", "rm-b", "rm-c"})
	equal(t, "Presences states", states, []conversation.PresenceState{conversation.PresenceAway, conversation.PresenceAvailable, conversation.PresenceOffline})

	// A heartbeat replaces the lease.
	must(t, "SetPresence", s.SetPresence(ctx, conversation.Presence{RMID: "rm-c", State: conversation.PresenceWrapUp, Since: now, ExpiresAt: now.Add(2 * lease)}))
	got, err = s.Presence(ctx, "rm-c", now.Add(lease))
	must(t, "Presence", err)
	if got.State != conversation.PresenceWrapUp {
		t.Fatalf("after heartbeat: %s, want wrap_up", got.State)
	}

	wantErr(t, "empty rm id", s.SetPresence(ctx, conversation.Presence{State: conversation.PresenceAvailable}), conversation.ErrInvalid)
	wantErr(t, "unknown state", s.SetPresence(ctx, conversation.Presence{RMID: "rm-a", State: "busy"}), conversation.ErrInvalid)
}

func queueIDs(t *testing.T, s state.Store, q string, limit int) []conversation.ConversationID {
	t.Helper()
	entries, err := s.Queue(t.Context(), q, limit)
	must(t, "Queue", err)
	var ids []conversation.ConversationID
	for _, e := range entries {
		ids = append(ids, e.ConversationID)
	}
	return ids
}

func testQueue(t *testing.T, s state.Store) {
	ctx := t.Context()
	q := "team-affluent"
	must(t, "Enqueue c1", s.Enqueue(ctx, q, "c1", 1700000000300))
	must(t, "Enqueue c2", s.Enqueue(ctx, q, "c2", 1700000000100))
	must(t, "Enqueue c3", s.Enqueue(ctx, q, "c3", 1700000000200))
	must(t, "Enqueue elsewhere", s.Enqueue(ctx, "team-private", "c9", 1))
	wantIDs(t, "score order", queueIDs(t, s, q, 0), []conversation.ConversationID{"c2", "c3", "c1"})

	must(t, "rescore c1", s.Enqueue(ctx, q, "c1", 1700000000050)) // e.g. a private-bank client jumps ahead
	entries, err := s.Queue(ctx, q, 0)
	must(t, "Queue", err)
	equal(t, "after rescore", entries, []state.QueueEntry{
		{ConversationID: "c1", Score: 1700000000050},
		{ConversationID: "c2", Score: 1700000000100},
		{ConversationID: "c3", Score: 1700000000200},
	})
	wantIDs(t, "limit 2", queueIDs(t, s, q, 2), []conversation.ConversationID{"c1", "c2"})

	was, err := s.Dequeue(ctx, q, "c2")
	must(t, "Dequeue", err)
	if !was {
		t.Fatal("Dequeue of a queued conversation reported false")
	}
	was, err = s.Dequeue(ctx, q, "c2")
	must(t, "Dequeue again", err)
	if was {
		t.Fatal("second Dequeue reported true")
	}
	wantIDs(t, "after dequeue", queueIDs(t, s, q, 0), []conversation.ConversationID{"c1", "c3"})
	wantIDs(t, "other queue untouched", queueIDs(t, s, "team-private", 0), []conversation.ConversationID{"c9"})
	wantIDs(t, "unknown queue", queueIDs(t, s, "team-nobody", 0), nil)

	wantErr(t, "empty queue name", s.Enqueue(ctx, "", "c1", 1), conversation.ErrInvalid)
	wantErr(t, "empty id", s.Enqueue(ctx, q, "", 1), conversation.ErrInvalid)
	wantErr(t, "NaN score", s.Enqueue(ctx, q, "c1", math.NaN()), conversation.ErrInvalid)
	_, err = s.Queue(ctx, "", 0)
	wantErr(t, "Queue without name", err, conversation.ErrInvalid)
}

// newOffer returns an offer of conversation conv to rm-1 made at at(ms)
// for lease.
func newOffer(conv conversation.ConversationID, ms int, lease time.Duration) conversation.Offer {
	return conversation.Offer{
		ID:             conversation.NewOfferID(at(ms)),
		ConversationID: conv,
		RMID:           "rm-1",
		Cost:           100,
		Attempt:        1,
		CreatedAt:      at(ms),
		ExpiresAt:      at(ms).Add(lease),
		Instance:       "gw-1",
	}
}

func testOfferLease(t *testing.T, s state.Store) {
	ctx := t.Context()
	const lease = 15 * time.Second
	a, b := conversation.ConversationID("conv-a"), conversation.ConversationID("conv-b")
	o1 := newOffer(a, 0, lease)
	must(t, "CreateOffer", s.CreateOffer(ctx, o1))
	got, err := s.Offer(ctx, o1.ID)
	must(t, "Offer", err)
	equal(t, "Offer", got, o1)

	tests := []struct {
		name   string
		offer  conversation.Offer
		target error
	}{
		{"second_offer_while_live", newOffer(a, 5000, lease), state.ErrConflict},
		{"just_before_expiry", newOffer(a, 14999, lease), state.ErrConflict},
		{"other_conversation", newOffer(b, 5000, lease), nil},
		{"at_expiry", newOffer(a, 15000, lease), nil}, // the lease has ended at ExpiresAt
		{"while_the_new_one_is_live", newOffer(a, 20000, lease), state.ErrConflict},
		{"same_offer_id", o1, state.ErrExists},
	}
	for _, tc := range tests {
		err := s.CreateOffer(ctx, tc.offer)
		if tc.target == nil {
			must(t, tc.name, err)
			continue
		}
		wantErr(t, tc.name, err, tc.target)
	}
}

func testOfferExpiredAndDelete(t *testing.T, s state.Store) {
	ctx := t.Context()
	a, b := conversation.ConversationID("conv-a"), conversation.ConversationID("conv-b")
	o1 := newOffer(a, 0, 15*time.Second)     // expires at 15 s
	o2 := newOffer(b, 1000, 10*time.Second)  // expires at 11 s
	o3 := newOffer(a, 15000, 15*time.Second) // expires at 30 s, after o1 ended
	for _, o := range []conversation.Offer{o1, o2, o3} {
		must(t, "CreateOffer", s.CreateOffer(ctx, o))
	}
	expired := func(ms, limit int) []conversation.OfferID {
		t.Helper()
		offers, err := s.ExpiredOffers(ctx, at(ms), limit)
		must(t, "ExpiredOffers", err)
		var ids []conversation.OfferID
		for _, o := range offers {
			ids = append(ids, o.ID)
		}
		return ids
	}
	equal(t, "none expired yet", expired(10999, 0), []conversation.OfferID(nil))
	equal(t, "at o2's expiry", expired(11000, 0), []conversation.OfferID{o2.ID})
	equal(t, "earliest first", expired(15000, 0), []conversation.OfferID{o2.ID, o1.ID})
	equal(t, "limit", expired(60000, 1), []conversation.OfferID{o2.ID})
	offers, err := s.ExpiredOffers(ctx, at(60000), 0)
	must(t, "ExpiredOffers", err)
	equal(t, "expired records", offers, []conversation.Offer{o2, o1, o3})

	was, err := s.DeleteOffer(ctx, o1.ID)
	must(t, "DeleteOffer", err)
	if !was {
		t.Fatal("DeleteOffer of a stored offer reported false")
	}
	was, err = s.DeleteOffer(ctx, o1.ID)
	must(t, "DeleteOffer again", err)
	if was {
		t.Fatal("second DeleteOffer reported true")
	}
	_, err = s.Offer(ctx, o1.ID)
	wantErr(t, "Offer after delete", err, state.ErrNotFound, conversation.ErrNotFound)
	equal(t, "after delete", expired(60000, 0), []conversation.OfferID{o2.ID, o3.ID})

	// Deleting the old, expired offer leaves the live one in force ...
	wantErr(t, "offer while o3 is live", s.CreateOffer(ctx, newOffer(a, 20000, time.Second)), state.ErrConflict)
	// ... and deleting the live one (accepted, declined) frees the conversation at once.
	was, err = s.DeleteOffer(ctx, o3.ID)
	must(t, "DeleteOffer o3", err)
	if !was {
		t.Fatal("DeleteOffer o3 reported false")
	}
	must(t, "offer after the live one was deleted", s.CreateOffer(ctx, newOffer(a, 20000, time.Second)))
}

func testOfferInvalid(t *testing.T, s state.Store) {
	ctx := t.Context()
	tests := []struct {
		name   string
		change func(*conversation.Offer)
	}{
		{"no_id", func(o *conversation.Offer) { o.ID = "" }},
		{"no_conversation", func(o *conversation.Offer) { o.ConversationID = "" }},
		{"no_rm", func(o *conversation.Offer) { o.RMID = "" }},
		{"expires_before_created", func(o *conversation.Offer) { o.ExpiresAt = o.CreatedAt.Add(-time.Second) }},
		{"no_created_time", func(o *conversation.Offer) { o.CreatedAt = time.Time{} }},
		{"negative_cost", func(o *conversation.Offer) { o.Cost = -1 }},
	}
	for i, tc := range tests {
		o := newOffer("conv-a", i, time.Minute)
		tc.change(&o)
		wantErr(t, tc.name, s.CreateOffer(ctx, o), conversation.ErrInvalid)
	}
	_, err := s.Offer(ctx, "no-such-offer")
	wantErr(t, "unknown offer", err, state.ErrNotFound)
	// Nothing invalid was stored: a valid offer for the conversation goes through.
	must(t, "valid offer", s.CreateOffer(ctx, newOffer("conv-a", 100, time.Minute)))
}
