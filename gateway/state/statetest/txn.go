package statetest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/routing"
)

// routerFixture is a small routing state: conversation conv queued on
// queue "team-affluent"; other with a live offer to rm-a; stale with an
// expired one; rm-a available, rm-b away, rm-c with an expired lease,
// rm-full available and at capacity (four holdings of 25).
type routerFixture struct {
	now                time.Time
	conv, other, stale conversation.Conversation
	live, expired      conversation.Offer
	full               []conversation.ConversationID
}

const fixtureQueue = "team-affluent"

// queuedConversation stores a new conversation created at at(n), already
// queued (version 1), and puts it on q.
func queuedConversation(t *testing.T, s state.Store, n int, q string) conversation.Conversation {
	t.Helper()
	c := newConversation(n)
	must(t, "Transition", c.Transition(conversation.StatusQueued, at(n)))
	c.TeamID = "team-affluent"
	stored, err := s.CreateConversation(t.Context(), c)
	must(t, "CreateConversation", err)
	must(t, "Enqueue", s.Enqueue(t.Context(), q, c.ID, float64(at(n).UnixMilli())))
	return stored
}

func newRouterFixture(t *testing.T, s state.Store) *routerFixture {
	t.Helper()
	ctx := t.Context()
	f := &routerFixture{now: at(60_000)}
	f.conv = queuedConversation(t, s, 1, fixtureQueue)
	f.other = queuedConversation(t, s, 2, fixtureQueue)
	f.stale = queuedConversation(t, s, 3, fixtureQueue)
	hour := f.now.Add(time.Hour)
	for _, p := range []conversation.Presence{
		{RMID: "rm-a", State: conversation.PresenceAvailable, Since: at(0), ExpiresAt: hour},
		{RMID: "rm-b", State: conversation.PresenceAway, Reason: "lunch", Since: at(0), ExpiresAt: hour},
		{RMID: "rm-c", State: conversation.PresenceAvailable, Since: at(0), ExpiresAt: f.now.Add(-time.Second)},
		{RMID: "rm-full", State: conversation.PresenceAvailable, Since: at(0), ExpiresAt: hour},
	} {
		must(t, "SetPresence", s.SetPresence(ctx, p))
	}
	holds := state.Txn{Now: at(10_000)}
	for i := range 4 {
		id := conversation.ConversationID("held-" + string(rune('a'+i)))
		f.full = append(f.full, id)
		holds.Holds = append(holds.Holds, state.Hold{RMID: "rm-full", ConversationID: id, Cost: 25})
	}
	must(t, "Commit holds", s.Commit(ctx, holds))
	f.live = offerOf(f.other.ID, "rm-a", f.now.Add(-5*time.Second), 15*time.Second)
	must(t, "Commit live offer", s.Commit(ctx, state.Txn{Now: f.live.CreatedAt, PutOffer: &f.live}))
	f.expired = offerOf(f.stale.ID, "rm-a", f.now.Add(-20*time.Second), 19*time.Second)
	must(t, "CreateOffer expired", s.CreateOffer(ctx, f.expired))
	return f
}

// offerOf returns an offer of conv to rm made at created for lease.
func offerOf(conv conversation.ConversationID, rm conversation.RMID, created time.Time, lease time.Duration) conversation.Offer {
	return conversation.Offer{ID: conversation.NewOfferID(created), ConversationID: conv, RMID: rm, Cost: 25, Attempt: 1,
		CreatedAt: created, ExpiresAt: created.Add(lease), Instance: "gw-1"}
}

// claim returns a Txn that offers f.conv to rm-a with every kind of
// effect, guarded by guards.
func (f *routerFixture) claim(t *testing.T, guards ...state.Guard) state.Txn {
	t.Helper()
	next := f.conv
	must(t, "Transition", next.Transition(conversation.StatusOffered, f.now))
	offer := offerOf(f.conv.ID, "rm-a", f.now, 15*time.Second)
	ev := conversation.NewEvent(f.conv.ID, conversation.EventOffer, "routing", f.now)
	ev.RMID, ev.OfferID = "rm-a", offer.ID
	return state.Txn{
		Now:          f.now,
		Conversation: &next,
		Guards:       guards,
		Holds:        []state.Hold{{RMID: "rm-a", ConversationID: f.conv.ID, Cost: 25}},
		Releases:     []state.Hold{{RMID: "rm-full", ConversationID: f.full[0]}},
		PutOffer:     &offer,
		DeleteOffers: []conversation.OfferID{f.live.ID},
		Enqueue:      []state.QueueOp{{Queue: "team-private", ConversationID: f.conv.ID, Score: 5}},
		Dequeue:      []state.QueueOp{{Queue: fixtureQueue, ConversationID: f.conv.ID}},
		RMs:          []state.RMUpdate{{RMID: "rm-a", LastOfferAt: f.now, Missed: state.MissedIncrement}},
		Presences:    []conversation.Presence{{RMID: "rm-b", State: conversation.PresenceAvailable, Since: f.now, ExpiresAt: f.now.Add(time.Hour)}},
		Events:       []conversation.Event{ev},
		Decision:     &state.DecisionRecord{ConversationID: f.conv.ID, At: f.now, Record: json.RawMessage(`{"step":1,"choice":"rm-a"}`)},
		Wakes:        []state.Wake{{ConversationID: f.conv.ID, At: f.now.Add(20 * time.Second)}},
		Cursors:      map[string]conversation.RMID{"team-affluent": "rm-a"},
	}
}

// snapshot returns everything a Txn on the fixture can change, as JSON,
// so two snapshots compare whole.
func (f *routerFixture) snapshot(t *testing.T, s state.Store) string {
	t.Helper()
	ctx := t.Context()
	snap := map[string]any{}
	put := func(name string, v any, err error) {
		t.Helper()
		if err != nil && !errors.Is(err, state.ErrNotFound) {
			t.Fatalf("snapshot %s: %v", name, err)
		}
		snap[name] = v
	}
	for _, c := range []conversation.Conversation{f.conv, f.other, f.stale} {
		got, err := s.Conversation(ctx, c.ID)
		put("conversation "+string(c.ID), got, err)
		ev, err := s.Events(ctx, c.ID)
		put("events "+string(c.ID), ev, err)
		dec, err := s.Decisions(ctx, c.ID, 0)
		put("decisions "+string(c.ID), dec, err)
		o, err := s.OfferFor(ctx, c.ID, f.now)
		put("offer for "+string(c.ID), o, err)
	}
	rms, err := s.RMStates(ctx)
	put("rm states", rms, err)
	for _, rm := range []conversation.RMID{"rm-a", "rm-b", "rm-full"} {
		o, err := s.OffersOf(ctx, rm, f.now)
		put("offers of "+string(rm), o, err)
	}
	for _, id := range []conversation.OfferID{f.live.ID, f.expired.ID} {
		o, err := s.Offer(ctx, id)
		put("offer "+string(id), o, err)
	}
	exp, err := s.ExpiredOffers(ctx, f.now.Add(24*time.Hour), 0)
	put("expired offers", exp, err)
	for _, q := range []string{fixtureQueue, "team-private"} {
		entries, err := s.Queue(ctx, q, 0)
		put("queue "+q, entries, err)
	}
	pres, err := s.Presences(ctx, f.now)
	put("presences", pres, err)
	wakes, err := s.DueWakes(ctx, f.now.Add(24*time.Hour), 0)
	put("wakes", wakes, err)
	next, ok, err := s.NextDeadline(ctx)
	put("next deadline", map[string]any{"at": next, "ok": ok}, err)
	cur, err := s.Cursors(ctx)
	put("cursors", cur, err)
	page, err := s.ListConversations(ctx, state.ConversationFilter{Status: conversation.StatusOffered})
	put("offered", page, err)
	data, err := json.Marshal(snap)
	must(t, "snapshot", err)
	return string(data)
}

// wantGuardError fails unless err is a *GuardError of kind with reason,
// matching ErrConflict.
func wantGuardError(t *testing.T, what string, err error, kind state.GuardKind, reason string) {
	t.Helper()
	var ge *state.GuardError
	if !errors.As(err, &ge) {
		t.Fatalf("%s: got %v, want a *GuardError", what, err)
	}
	if !errors.Is(err, state.ErrConflict) {
		t.Fatalf("%s: %v does not match ErrConflict", what, err)
	}
	if ge.Guard.Kind != kind || ge.Reason != reason {
		t.Fatalf("%s: guard %s reason %q, want %s %q", what, ge.Guard.Kind, ge.Reason, kind, reason)
	}
}

func testGuards(t *testing.T, s state.Store) {
	f := newRouterFixture(t, s)
	ctx := t.Context()
	avail := func(rm conversation.RMID) state.Guard { return state.Guard{Kind: state.GuardRMAvailable, RMID: rm} }
	capacity := func(rm conversation.RMID, conv conversation.ConversationID) state.Guard {
		return state.Guard{Kind: state.GuardCapacity, RMID: rm, ConversationID: conv, Cost: 25, Capacity: 100}
	}
	offerLive := func(id conversation.OfferID, rm conversation.RMID) state.Guard {
		return state.Guard{Kind: state.GuardOfferLive, OfferID: id, RMID: rm}
	}
	noLive := func(c conversation.ConversationID) state.Guard {
		return state.Guard{Kind: state.GuardNoLiveOffer, ConversationID: c}
	}
	tests := []struct {
		name   string
		guards []state.Guard
		kind   state.GuardKind // of the failing guard; "" when all hold
		reason string
	}{
		{"available/holds", []state.Guard{avail("rm-a")}, "", ""},
		{"available/no_presence", []state.Guard{avail("rm-x")}, state.GuardRMAvailable, "rm-x has no presence (offline)"},
		{"available/away", []state.Guard{avail("rm-b")}, state.GuardRMAvailable, "rm-b is away"},
		{"available/lease_expired", []state.Guard{avail("rm-c")}, state.GuardRMAvailable,
			"rm-c presence lease expired at 2026-03-02T09:00:59Z"},
		{"capacity/holds", []state.Guard{capacity("rm-a", f.conv.ID)}, "", ""},
		{"capacity/no_state_yet", []state.Guard{capacity("rm-new", "")}, "", ""},
		{"capacity/full", []state.Guard{capacity("rm-full", f.conv.ID)}, state.GuardCapacity, "rm-full load 100 + 25 > 100"},
		{"capacity/full_counting_all", []state.Guard{capacity("rm-full", "")}, state.GuardCapacity, "rm-full load 100 + 25 > 100"},
		{"capacity/own_holding_left_out", []state.Guard{capacity("rm-full", f.full[1])}, "", ""},
		{"offer_live/holds", []state.Guard{offerLive(f.live.ID, "rm-a")}, "", ""},
		{"offer_live/any_rm", []state.Guard{offerLive(f.live.ID, "")}, "", ""},
		{"offer_live/missing", []state.Guard{offerLive("no-such-offer", "rm-a")}, state.GuardOfferLive, "offer no-such-offer does not exist"},
		{"offer_live/other_rm", []state.Guard{offerLive(f.live.ID, "rm-b")}, state.GuardOfferLive,
			"offer " + string(f.live.ID) + " belongs to rm-a, not rm-b"},
		{"offer_live/expired", []state.Guard{offerLive(f.expired.ID, "rm-a")}, state.GuardOfferLive,
			"offer " + string(f.expired.ID) + " expired at 2026-03-02T09:00:59Z"},
		{"no_live_offer/holds", []state.Guard{noLive(f.conv.ID)}, "", ""},
		{"no_live_offer/only_expired", []state.Guard{noLive(f.stale.ID)}, "", ""},
		{"no_live_offer/live", []state.Guard{noLive(f.other.ID)}, state.GuardNoLiveOffer,
			"conversation " + string(f.other.ID) + " has offer " + string(f.live.ID) + " to rm-a live until 2026-03-02T09:01:10Z"},
		{"first_failure_wins", []state.Guard{avail("rm-a"), capacity("rm-full", ""), avail("rm-b")}, state.GuardCapacity,
			"rm-full load 100 + 25 > 100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.kind == "" {
				// A Txn with only guards checks without writing.
				must(t, "check-only Txn", s.Commit(ctx, state.Txn{Now: f.now, Guards: tc.guards}))
				return
			}
			before := f.snapshot(t, s)
			err := s.Commit(ctx, f.claim(t, tc.guards...))
			wantGuardError(t, "Commit", err, tc.kind, tc.reason)
			if after := f.snapshot(t, s); after != before {
				t.Fatalf("a refused Txn changed the store:\nbefore: %s\n after: %s", before, after)
			}
		})
	}
}

func testVersionConflict(t *testing.T, s state.Store) {
	f := newRouterFixture(t, s)
	ctx := t.Context()
	stale := f.claim(t, state.Guard{Kind: state.GuardRMAvailable, RMID: "rm-a"})
	_, err := s.UpdateConversation(ctx, f.conv.ID, func(c *conversation.Conversation) error {
		c.Tags = append(c.Tags, "vip")
		return nil
	})
	must(t, "UpdateConversation", err)
	before := f.snapshot(t, s)
	err = s.Commit(ctx, stale)
	wantErr(t, "Commit on version 1 after an update", err, state.ErrConflict)
	var ge *state.GuardError
	if errors.As(err, &ge) {
		t.Fatalf("version conflict reported as a guard error: %v", err)
	}
	// A failing guard does not hide the version conflict: the version is checked first.
	stale.Guards = []state.Guard{{Kind: state.GuardRMAvailable, RMID: "rm-b"}}
	err = s.Commit(ctx, stale)
	if errors.As(err, &ge) || !errors.Is(err, state.ErrConflict) {
		t.Fatalf("stale version and failing guard: %v, want the version conflict", err)
	}
	if after := f.snapshot(t, s); after != before {
		t.Fatalf("a conflicting Txn changed the store:\nbefore: %s\n after: %s", before, after)
	}

	missing := newConversation(99)
	err = s.Commit(ctx, state.Txn{Now: f.now, Conversation: &missing, Holds: []state.Hold{{RMID: "rm-a", ConversationID: missing.ID, Cost: 25}}})
	wantErr(t, "Commit of a conversation never stored", err, state.ErrNotFound)
	st, err := s.RMState(ctx, "rm-a")
	must(t, "RMState", err)
	if len(st.Holds) != 0 {
		t.Fatalf("refused Txn left holdings %+v", st.Holds)
	}

	// The current version commits, and the caller's copy is not changed.
	cur, err := s.Conversation(ctx, f.conv.ID)
	must(t, "Conversation", err)
	fresh := f.claim(t)
	next := cur
	must(t, "Transition", next.Transition(conversation.StatusOffered, f.now))
	fresh.Conversation = &next
	must(t, "Commit on the current version", s.Commit(ctx, fresh))
	if next.Version != 2 {
		t.Fatalf("Commit changed the caller's conversation version to %d", next.Version)
	}
	got, err := s.Conversation(ctx, f.conv.ID)
	must(t, "Conversation", err)
	if got.Version != 3 || got.Status != conversation.StatusOffered || len(got.Tags) != 1 {
		t.Fatalf("stored version %d status %s tags %v, want 3 offered [vip]", got.Version, got.Status, got.Tags)
	}
	wantErr(t, "replaying the same Txn", s.Commit(ctx, fresh), state.ErrConflict)
}

func testInvalidTxn(t *testing.T, s state.Store) {
	f := newRouterFixture(t, s)
	ctx := t.Context()
	tests := []struct {
		name   string
		change func(*state.Txn)
	}{
		{"zero_now", func(x *state.Txn) { x.Now = time.Time{} }},
		{"invalid_conversation", func(x *state.Txn) { x.Conversation.CustomerID = "" }},
		{"unknown_guard", func(x *state.Txn) { x.Guards = []state.Guard{{Kind: "sunny"}} }},
		{"guard_without_rm", func(x *state.Txn) { x.Guards = []state.Guard{{Kind: state.GuardCapacity, Capacity: 100}} }},
		{"guard_without_offer", func(x *state.Txn) { x.Guards = []state.Guard{{Kind: state.GuardOfferLive}} }},
		{"guard_without_conversation", func(x *state.Txn) { x.Guards = []state.Guard{{Kind: state.GuardNoLiveOffer}} }},
		{"negative_cost", func(x *state.Txn) { x.Holds[0].Cost = -25 }},
		{"release_without_rm", func(x *state.Txn) { x.Releases[0].RMID = "" }},
		{"offer_without_expiry", func(x *state.Txn) { x.PutOffer.ExpiresAt = time.Time{} }},
		{"empty_offer_to_delete", func(x *state.Txn) { x.DeleteOffers = []conversation.OfferID{""} }},
		{"queue_without_name", func(x *state.Txn) { x.Dequeue[0].Queue = "" }},
		{"unknown_missed_op", func(x *state.Txn) { x.RMs[0].Missed = 7 }},
		{"invalid_presence", func(x *state.Txn) { x.Presences[0].State = "busy" }},
		{"event_without_type", func(x *state.Txn) { x.Events[0].Type = "" }},
		{"decision_not_json", func(x *state.Txn) { x.Decision.Record = json.RawMessage("{not json") }},
		{"decision_empty", func(x *state.Txn) { x.Decision.Record = nil }},
		{"decision_in_both_forms", func(x *state.Txn) { x.Decision.Decision = &routing.Decision{ConversationID: x.Decision.ConversationID} }},
		{"decision_of_another_conversation", func(x *state.Txn) {
			x.Decision.Record, x.Decision.Decision = nil, &routing.Decision{ConversationID: "conv-elsewhere"}
		}},
		{"wake_without_conversation", func(x *state.Txn) { x.Wakes[0].ConversationID = "" }},
		{"cursor_without_key", func(x *state.Txn) { x.Cursors = map[string]conversation.RMID{"": "rm-a"} }},
	}
	before := f.snapshot(t, s)
	for _, tc := range tests {
		txn := f.claim(t)
		tc.change(&txn)
		wantErr(t, tc.name, s.Commit(ctx, txn), conversation.ErrInvalid)
	}
	if after := f.snapshot(t, s); after != before {
		t.Fatalf("an invalid Txn changed the store:\nbefore: %s\n after: %s", before, after)
	}
}
