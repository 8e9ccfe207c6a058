package statetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// testEffects commits one Txn with every effect and reads each back
// through the Store methods that must see it.
func testEffects(t *testing.T, s state.Store) {
	f := newRouterFixture(t, s)
	ctx := t.Context()
	earlier := conversation.NewEvent(f.conv.ID, conversation.EventStatusChanged, "system", at(1))
	must(t, "AppendEvent", s.AppendEvent(ctx, earlier))
	txn := f.claim(t,
		state.Guard{Kind: state.GuardRMAvailable, RMID: "rm-a"},
		state.Guard{Kind: state.GuardCapacity, RMID: "rm-a", ConversationID: f.conv.ID, Cost: 25, Capacity: 100},
		state.Guard{Kind: state.GuardNoLiveOffer, ConversationID: f.conv.ID},
		state.Guard{Kind: state.GuardOfferLive, OfferID: f.live.ID, RMID: "rm-a"})
	must(t, "Commit", s.Commit(ctx, txn))

	t.Run("conversation_and_indexes", func(t *testing.T) {
		got, err := s.Conversation(ctx, f.conv.ID)
		must(t, "Conversation", err)
		want := *txn.Conversation
		want.Version = 2
		equal(t, "stored conversation", got, want)
		for _, tc := range []struct {
			status conversation.Status
			in     bool
		}{{conversation.StatusOffered, true}, {conversation.StatusQueued, false}} {
			page, err := s.ListConversations(ctx, state.ConversationFilter{Status: tc.status})
			must(t, "ListConversations", err)
			in := slices.ContainsFunc(page.Items, func(c conversation.Conversation) bool { return c.ID == f.conv.ID })
			if in != tc.in {
				t.Fatalf("listed as %s: %v, want %v", tc.status, in, tc.in)
			}
		}
	})
	t.Run("holdings_and_counters", func(t *testing.T) {
		a, err := s.RMState(ctx, "rm-a")
		must(t, "RMState", err)
		equal(t, "rm-a", a, state.RMState{RMID: "rm-a", Holds: []state.Hold{{RMID: "rm-a", ConversationID: f.conv.ID, Cost: 25}},
			Load: 25, LastOfferAt: f.now, MissedInRow: 1})
		full, err := s.RMState(ctx, "rm-full")
		must(t, "RMState", err)
		if full.Load != 75 || len(full.Holds) != 3 || !full.IdleSince.IsZero() {
			t.Fatalf("rm-full after one release: %+v, want load 75 in 3 holdings, not idle", full)
		}
		all, err := s.RMStates(ctx)
		must(t, "RMStates", err)
		var ids []conversation.RMID
		for _, st := range all {
			ids = append(ids, st.RMID)
		}
		equal(t, "RMStates ids", ids, []conversation.RMID{"rm-a", "rm-full"})
		never, err := s.RMState(ctx, "rm-never")
		must(t, "RMState of an RM without counters", err)
		equal(t, "rm-never", never, state.RMState{RMID: "rm-never"})
	})
	t.Run("offers", func(t *testing.T) {
		o := *txn.PutOffer
		got, err := s.Offer(ctx, o.ID)
		must(t, "Offer", err)
		equal(t, "Offer", got, o)
		got, err = s.OfferFor(ctx, f.conv.ID, f.now)
		must(t, "OfferFor", err)
		equal(t, "OfferFor", got, o)
		mine, err := s.OffersOf(ctx, "rm-a", f.now)
		must(t, "OffersOf", err)
		equal(t, "OffersOf rm-a (the live offer to it was deleted)", mine, []conversation.Offer{o})
		wantErr(t, "CreateOffer while the committed one is live",
			s.CreateOffer(ctx, offerOf(f.conv.ID, "rm-b", f.now.Add(time.Second), time.Minute)), state.ErrConflict)
		_, err = s.Offer(ctx, f.live.ID)
		wantErr(t, "deleted offer", err, state.ErrNotFound)
		_, err = s.OfferFor(ctx, f.other.ID, f.now)
		wantErr(t, "OfferFor after its offer was deleted", err, state.ErrNotFound)
		expired, err := s.ExpiredOffers(ctx, o.ExpiresAt, 0)
		must(t, "ExpiredOffers", err)
		equal(t, "ExpiredOffers at the committed offer's expiry", expired, []conversation.Offer{f.expired, o})
	})
	t.Run("queues_presence_events", func(t *testing.T) {
		wantIDs(t, "old queue", queueIDs(t, s, fixtureQueue, 0), []conversation.ConversationID{f.other.ID, f.stale.ID})
		wantIDs(t, "new queue", queueIDs(t, s, "team-private", 0), []conversation.ConversationID{f.conv.ID})
		p, err := s.Presence(ctx, "rm-b", f.now)
		must(t, "Presence", err)
		equal(t, "presence", p, txn.Presences[0])
		must(t, "rm-b is available to a later guard",
			s.Commit(ctx, state.Txn{Now: f.now, Guards: []state.Guard{{Kind: state.GuardRMAvailable, RMID: "rm-b"}}}))
		evs, err := s.Events(ctx, f.conv.ID)
		must(t, "Events", err)
		equal(t, "events", evs, []conversation.Event{earlier, txn.Events[0]})
	})
	t.Run("decision_wake_cursor", func(t *testing.T) {
		recs, err := s.Decisions(ctx, f.conv.ID, 0)
		must(t, "Decisions", err)
		equal(t, "decisions", recs, []json.RawMessage{txn.Decision.Record})
		due, err := s.DueWakes(ctx, f.now.Add(20*time.Second), 0)
		must(t, "DueWakes", err)
		wantIDs(t, "due", due, []conversation.ConversationID{f.conv.ID})
		cur, err := s.Cursors(ctx)
		must(t, "Cursors", err)
		equal(t, "cursors", cur, txn.Cursors)
	})
	t.Run("missed_offers", func(t *testing.T) {
		for i, op := range []state.MissedOp{state.MissedIncrement, state.MissedKeep, state.MissedIncrement, state.MissedReset} {
			must(t, "Commit", s.Commit(ctx, state.Txn{Now: f.now, RMs: []state.RMUpdate{{RMID: "rm-b", Missed: op}}}))
			st, err := s.RMState(ctx, "rm-b")
			must(t, "RMState", err)
			if want := []int{1, 1, 2, 0}[i]; st.MissedInRow != want || !st.LastOfferAt.IsZero() {
				t.Fatalf("after op %d: missed %d last offer %v, want %d and zero", op, st.MissedInRow, st.LastOfferAt, want)
			}
		}
		idle := f.now.Add(time.Minute)
		must(t, "Commit", s.Commit(ctx, state.Txn{Now: f.now, RMs: []state.RMUpdate{{RMID: "rm-b", IdleSince: idle}}}))
		st, err := s.RMState(ctx, "rm-b")
		must(t, "RMState", err)
		if !st.IdleSince.Equal(idle) {
			t.Fatalf("idle since %v, want %v", st.IdleSince, idle)
		}
	})
}

func testReleases(t *testing.T, s state.Store) {
	ctx := t.Context()
	hold := func(conv conversation.ConversationID, cost int) state.Hold {
		return state.Hold{RMID: "rm-a", ConversationID: conv, Cost: cost}
	}
	rmA := func() state.RMState {
		t.Helper()
		st, err := s.RMState(ctx, "rm-a")
		must(t, "RMState", err)
		return st
	}
	must(t, "hold", s.Commit(ctx, state.Txn{Now: at(0), Holds: []state.Hold{hold("c1", 25), hold("c2", 25)}}))
	must(t, "replace a holding", s.Commit(ctx, state.Txn{Now: at(1), Holds: []state.Hold{hold("c2", 100)}}))
	if st := rmA(); st.Load != 125 || len(st.Holds) != 2 {
		t.Fatalf("after replacing c2's holding: %+v, want load 125 in 2 holdings", st)
	}
	steps := []struct {
		name string
		at   int
		rel  []state.Hold
		load int
		idle time.Time
	}{
		{"release_one", 1000, []state.Hold{hold("c1", 0)}, 100, time.Time{}},
		{"release_it_again", 2000, []state.Hold{hold("c1", 0)}, 100, time.Time{}},
		{"release_the_last", 3000, []state.Hold{hold("c2", 0)}, 0, at(3000)},
		{"release_when_idle", 4000, []state.Hold{hold("c2", 0), hold("c9", 0)}, 0, at(3000)},
	}
	for _, st := range steps {
		must(t, st.name, s.Commit(ctx, state.Txn{Now: at(st.at), Releases: st.rel}))
		got := rmA()
		if got.Load != st.load || !got.IdleSince.Equal(st.idle) {
			t.Fatalf("%s: load %d idle since %v, want %d and %v", st.name, got.Load, got.IdleSince, st.load, st.idle)
		}
	}
	must(t, "release on an RM without counters", s.Commit(ctx, state.Txn{Now: at(5000), Releases: []state.Hold{{RMID: "rm-z", ConversationID: "c1"}}}))
	all, err := s.RMStates(ctx)
	must(t, "RMStates", err)
	if len(all) != 1 || all[0].RMID != "rm-a" {
		t.Fatalf("RMStates %+v, want rm-a only", all)
	}
}

func testDecisions(t *testing.T, s state.Store) {
	ctx := t.Context()
	const conv = conversation.ConversationID("conv-decided")
	total := state.MaxDecisionsKept + 5
	for i := range total {
		rec := json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))
		must(t, "Commit", s.Commit(ctx, state.Txn{Now: at(i), Decision: &state.DecisionRecord{ConversationID: conv, At: at(i), Record: rec}}))
	}
	numbers := func(limit int) []int {
		t.Helper()
		recs, err := s.Decisions(ctx, conv, limit)
		must(t, "Decisions", err)
		out := []int{}
		for _, r := range recs {
			var v struct{ N int }
			must(t, "decode record", json.Unmarshal(r, &v))
			out = append(out, v.N)
		}
		return out
	}
	all := numbers(0)
	if len(all) != state.MaxDecisionsKept || all[0] != total-1 || all[len(all)-1] != total-state.MaxDecisionsKept {
		t.Fatalf("kept %d records from %v to %v, want %d from %d down to %d", len(all), all[0], all[len(all)-1],
			state.MaxDecisionsKept, total-1, total-state.MaxDecisionsKept)
	}
	for i := 1; i < len(all); i++ {
		if all[i] != all[i-1]-1 {
			t.Fatalf("records not newest first at %d: %v", i, all[i-1:i+1])
		}
	}
	equal(t, "limit 3", numbers(3), []int{total - 1, total - 2, total - 3})
	equal(t, "limit above what is kept", len(numbers(1000)), state.MaxDecisionsKept)
	none, err := s.Decisions(ctx, "conv-undecided", 0)
	must(t, "Decisions of a conversation without records", err)
	if none == nil || len(none) != 0 {
		t.Fatalf("Decisions without records: %#v, want an empty slice", none)
	}
}

func testWakesAndDeadline(t *testing.T, s state.Store) {
	ctx := t.Context()
	next := func(what string, want time.Time) {
		t.Helper()
		got, ok, err := s.NextDeadline(ctx)
		must(t, "NextDeadline", err)
		if ok != !want.IsZero() || !got.Equal(want) {
			t.Fatalf("%s: NextDeadline %v %v, want %v", what, got, ok, want)
		}
	}
	wake := func(id conversation.ConversationID, ms int) state.Wake {
		w := state.Wake{ConversationID: id}
		if ms >= 0 {
			w.At = at(ms)
		}
		return w
	}
	commit := func(txn state.Txn) {
		t.Helper()
		txn.Now = at(0)
		must(t, "Commit", s.Commit(ctx, txn))
	}
	next("empty store", time.Time{})
	commit(state.Txn{Wakes: []state.Wake{wake("c1", 10_000), wake("c3", 5_000), wake("c2", 5_000)}})
	next("three wakes", at(5_000))
	due := func(ms, limit int) []conversation.ConversationID {
		t.Helper()
		ids, err := s.DueWakes(ctx, at(ms), limit)
		must(t, "DueWakes", err)
		return ids
	}
	wantIDs(t, "none due yet", due(4_999, 0), nil)
	wantIDs(t, "due at 5 s, ties by id", due(5_000, 0), []conversation.ConversationID{"c2", "c3"})
	wantIDs(t, "limit", due(60_000, 2), []conversation.ConversationID{"c2", "c3"})
	wantIDs(t, "all", due(60_000, 0), []conversation.ConversationID{"c2", "c3", "c1"})
	wantIDs(t, "DueWakes removes nothing", due(60_000, 0), []conversation.ConversationID{"c2", "c3", "c1"})

	o := offerOf("c9", "rm-a", at(0), 3*time.Second)
	commit(state.Txn{PutOffer: &o})
	next("an offer expires first", at(3_000))
	commit(state.Txn{Wakes: []state.Wake{wake("c2", -1), wake("c3", -1)}})
	wantIDs(t, "cleared wakes", due(60_000, 0), []conversation.ConversationID{"c1"})
	next("cleared wakes, offer still pending", at(3_000))
	commit(state.Txn{DeleteOffers: []conversation.OfferID{o.ID}})
	next("offer deleted", at(10_000))
	commit(state.Txn{Wakes: []state.Wake{wake("c1", 1_000)}})
	next("wake moved earlier", at(1_000))
	must(t, "CreateOffer", s.CreateOffer(ctx, offerOf("c8", "rm-a", at(0), 500*time.Millisecond)))
	next("an offer made by CreateOffer", at(500))
	_, err := s.DeleteOffer(ctx, offerOfID(t, s, "c8"))
	must(t, "DeleteOffer", err)
	commit(state.Txn{Wakes: []state.Wake{wake("c1", -1), wake("c-never", -1)}})
	next("nothing pending", time.Time{})
}

// offerOfID returns the id of conv's live offer at at(0).
func offerOfID(t *testing.T, s state.Store, conv conversation.ConversationID) conversation.OfferID {
	t.Helper()
	o, err := s.OfferFor(t.Context(), conv, at(0))
	must(t, "OfferFor", err)
	return o.ID
}

func testCursors(t *testing.T, s state.Store) {
	ctx := t.Context()
	cur, err := s.Cursors(ctx)
	must(t, "Cursors", err)
	if cur == nil || len(cur) != 0 {
		t.Fatalf("Cursors of an empty store: %#v, want an empty map", cur)
	}
	must(t, "set", s.Commit(ctx, state.Txn{Now: at(0), Cursors: map[string]conversation.RMID{"team-a": "rm-1", "team-b": "rm-2"}}))
	must(t, "move and remove", s.Commit(ctx, state.Txn{Now: at(1), Cursors: map[string]conversation.RMID{"team-a": "rm-3", "team-b": ""}}))
	cur, err = s.Cursors(ctx)
	must(t, "Cursors", err)
	equal(t, "cursors", cur, map[string]conversation.RMID{"team-a": "rm-3"})
}

func testOffersLive(t *testing.T, s state.Store) {
	ctx := t.Context()
	put := func(o conversation.Offer) {
		t.Helper()
		must(t, "Commit", s.Commit(ctx, state.Txn{Now: o.CreatedAt, PutOffer: &o}))
	}
	o1 := offerOf("conv-x", "rm-a", at(0), 15*time.Second)
	put(o1)
	o2 := offerOf("conv-y", "rm-a", at(1000), 30*time.Second)
	must(t, "CreateOffer", s.CreateOffer(ctx, o2))
	of := func(rm conversation.RMID, ms int) []conversation.Offer {
		t.Helper()
		got, err := s.OffersOf(ctx, rm, at(ms))
		must(t, "OffersOf", err)
		return got
	}
	equal(t, "both live, oldest first", of("rm-a", 2000), []conversation.Offer{o1, o2})
	equal(t, "o1 ended at its expiry", of("rm-a", 15_000), []conversation.Offer{o2})
	equal(t, "nothing live for rm-b", of("rm-b", 0), []conversation.Offer{})
	got, err := s.OfferFor(ctx, "conv-x", at(14_999))
	must(t, "OfferFor", err)
	equal(t, "OfferFor just before expiry", got, o1)
	_, err = s.OfferFor(ctx, "conv-x", at(15_000))
	wantErr(t, "OfferFor at expiry", err, state.ErrNotFound, conversation.ErrNotFound)

	// Two live offers of one conversation (a chat offered to two RMs).
	o3 := offerOf("conv-x", "rm-b", at(2000), 20*time.Second)
	put(o3)
	got, err = s.OfferFor(ctx, "conv-x", at(5000))
	must(t, "OfferFor", err)
	equal(t, "the latest created of two live offers", got, o3)
	err = s.Commit(ctx, state.Txn{Now: at(5000), Guards: []state.Guard{{Kind: state.GuardNoLiveOffer, ConversationID: "conv-x"}}})
	wantGuardError(t, "no_live_offer with two live", err, state.GuardNoLiveOffer,
		"conversation conv-x has offer "+string(o1.ID)+" to rm-a live until 2026-03-02T09:00:15Z")

	// Replacing an offer by id moves it to its new RM.
	moved := o3
	moved.RMID, moved.ExpiresAt = "rm-c", at(40_000)
	put(moved)
	equal(t, "rm-b after the move", of("rm-b", 5000), []conversation.Offer{})
	equal(t, "rm-c after the move", of("rm-c", 5000), []conversation.Offer{moved})
	expired, err := s.ExpiredOffers(ctx, at(39_999), 0)
	must(t, "ExpiredOffers", err)
	equal(t, "the replaced offer keeps one expiry", expired, []conversation.Offer{o1, o2})

	must(t, "delete by Txn", s.Commit(ctx, state.Txn{Now: at(6000), DeleteOffers: []conversation.OfferID{o1.ID, moved.ID, "never-made"}}))
	equal(t, "rm-a after delete", of("rm-a", 2000), []conversation.Offer{o2})
	equal(t, "rm-c after delete", of("rm-c", 2000), []conversation.Offer{})
	_, err = s.OfferFor(ctx, "conv-x", at(6000))
	wantErr(t, "OfferFor after delete", err, state.ErrNotFound)
	was, err := s.DeleteOffer(ctx, o2.ID)
	must(t, "DeleteOffer", err)
	if !was {
		t.Fatal("DeleteOffer of an offer made by CreateOffer reported false")
	}
	equal(t, "rm-a after DeleteOffer", of("rm-a", 2000), []conversation.Offer{})
	if _, err := s.Offer(ctx, o2.ID); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Offer after DeleteOffer: %v", err)
	}
}
