package router

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// accepted opens a conversation and has it offered to and accepted by
// whoever routing picks.
func (f *fixture) accepted(t *testing.T, customer conversation.CustomerID, ch conversation.Channel) conversation.Conversation {
	t.Helper()
	c := f.open(t, customer, ch)
	f.evaluate(t)
	o, ok := f.offerOf(t, c.ID)
	if !ok {
		t.Fatalf("%s not offered", c.ID)
	}
	c, err := f.r.Accept(f.ctx, o.ID, o.RMID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTransferAndConsult: transfer to the queue frees the RM and routes
// the conversation to someone else; transfer to an RM offers it to them;
// an invited specialist holds capacity until they leave or it closes.
func TestTransferAndConsult(t *testing.T) {
	t.Parallel()
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, mk(t))
			f.available(t, "rm-pb-01", "rm-pb-02", "rm-af-01")
			c := f.accepted(t, "cus-pb-0001", conversation.ChannelWebChat)
			if c.AssigneeID != "rm-pb-01" {
				t.Fatalf("assignee %s", c.AssigneeID)
			}
			// Consult: a specialist joins and holds capacity.
			if _, err := f.r.Invite(f.ctx, c.ID, "rm-pb-02", "rm-af-01"); !errors.Is(err, ErrNotAssignee) {
				t.Fatalf("invite by a non-assignee: %v", err)
			}
			got, err := f.r.Invite(f.ctx, c.ID, "rm-pb-01", "rm-af-01")
			if err != nil || !got.HasParticipant("rm-af-01") || got.AssigneeID != "rm-pb-01" || f.load(t, "rm-af-01") != 25 {
				t.Fatalf("invite: %v %+v load %d", err, got.Participants, f.load(t, "rm-af-01"))
			}
			if _, err := f.r.LeaveConversation(f.ctx, c.ID, "rm-af-01"); err != nil || f.load(t, "rm-af-01") != 0 {
				t.Fatalf("leave: %v load %d", err, f.load(t, "rm-af-01"))
			}
			// Transfer straight to an RM: an offer for them.
			got, err = f.r.TransferToRM(f.ctx, c.ID, "rm-pb-01", "rm-pb-02", "client asks for Mandarin")
			if err != nil || got.Status != conversation.StatusOffered || f.load(t, "rm-pb-01") != 0 || f.load(t, "rm-pb-02") != 25 {
				t.Fatalf("transfer to RM: %v %s loads %d/%d", err, got.Status, f.load(t, "rm-pb-01"), f.load(t, "rm-pb-02"))
			}
			o, ok := f.offerOf(t, c.ID)
			if !ok || o.RMID != "rm-pb-02" {
				t.Fatalf("transfer offer: %+v", o)
			}
			got, err = f.r.Accept(f.ctx, o.ID, "rm-pb-02")
			if err != nil || got.AssigneeID != "rm-pb-02" {
				t.Fatalf("accept transfer: %v %s", err, got.AssigneeID)
			}
			// Transfer back to the queue: routing offers it to someone else.
			got, err = f.r.TransferToQueue(f.ctx, c.ID, "rm-pb-02", "needs the own RM")
			if err != nil || got.Status != conversation.StatusQueued || f.load(t, "rm-pb-02") != 0 {
				t.Fatalf("transfer to queue: %v %s load %d", err, got.Status, f.load(t, "rm-pb-02"))
			}
			f.evaluate(t)
			if o, ok := f.offerOf(t, c.ID); !ok || o.RMID == "rm-pb-02" {
				t.Fatalf("after transfer to queue: %+v %v (must not go back to rm-pb-02)", o, ok)
			}
		})
	}
}

// lastSentence returns the sentence of the conversation's newest decision
// record.
func (f *fixture) lastSentence(t *testing.T, id conversation.ConversationID) string {
	t.Helper()
	recs, err := f.store.Decisions(f.ctx, id, 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("decision records: %v, %d", err, len(recs))
	}
	var d struct {
		Sentence string `json:"sentence"`
	}
	if err := json.Unmarshal(recs[0], &d); err != nil {
		t.Fatal(err)
	}
	return d.Sentence
}

// TestTransferToTeam: a private-bank RM hands a conversation to the
// wealth_advisers pool: it goes back to the queue with the team as its
// routing target and the RM's capacity freed; routing offers it to an
// available adviser, not to the deputy the policy would pick, and says so;
// accepting clears the target. An unknown team changes nothing.
func TestTransferToTeam(t *testing.T) {
	t.Parallel()
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, mk(t))
			f.available(t, "rm-pb-01", "rm-pb-02", "rm-wa-02")
			c := f.accepted(t, "cus-pb-0001", conversation.ChannelWebChat)
			if c.AssigneeID != "rm-pb-01" {
				t.Fatalf("assignee %s", c.AssigneeID)
			}
			f.clk.Advance(5 * time.Minute)
			before, _ := f.store.Conversation(f.ctx, c.ID)
			if _, err := f.r.TransferToTeam(f.ctx, c.ID, "rm-pb-01", "no_such_team", "x"); !errors.Is(err, conversation.ErrNotFound) || !strings.Contains(err.Error(), "no_such_team") {
				t.Fatalf("transfer to an unknown team: %v", err)
			}
			if _, err := f.r.TransferToTeam(f.ctx, c.ID, "rm-pb-02", "wealth_advisers", "x"); !errors.Is(err, ErrNotAssignee) {
				t.Fatalf("transfer by a non-assignee: %v", err)
			}
			if after, _ := f.store.Conversation(f.ctx, c.ID); after.Version != before.Version || f.load(t, "rm-pb-01") != 25 {
				t.Fatalf("a refused transfer changed state: version %d → %d, load %d", before.Version, after.Version, f.load(t, "rm-pb-01"))
			}
			got, err := f.r.TransferToTeam(f.ctx, c.ID, "rm-pb-01", "wealth_advisers", "portfolio review")
			if err != nil {
				t.Fatal(err)
			}
			stored, _ := f.store.Conversation(f.ctx, c.ID)
			for _, cv := range []conversation.Conversation{got, stored} {
				if cv.Status != conversation.StatusQueued || cv.AssigneeID != "" || cv.TeamID != "wealth_advisers" ||
					cv.TransferTeam != "wealth_advisers" || cv.TransferredBy != "rm-pb-01" || !cv.TransferredAt.Equal(f.clk.Now()) ||
					cv.HasParticipant("rm-pb-01") {
					t.Fatalf("after transfer: %+v", cv)
				}
			}
			if f.load(t, "rm-pb-01") != 0 {
				t.Fatalf("transferring RM still holds %d", f.load(t, "rm-pb-01"))
			}
			events, err := f.store.Events(f.ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			var transfer *conversation.Event
			for i := range events {
				if events[i].Type == conversation.EventTransfer {
					transfer = &events[i]
				}
			}
			if transfer == nil || transfer.Reason != "to team wealth_advisers: portfolio review" || transfer.TeamID != "wealth_advisers" || transfer.RMID != "rm-pb-01" {
				t.Fatalf("transfer event %+v", transfer)
			}
			f.evaluate(t)
			o, ok := f.offerOf(t, c.ID)
			if !ok || o.RMID != "rm-wa-02" {
				t.Fatalf("offer %+v ok=%v, want the adviser rm-wa-02 (not the deputy rm-pb-02)", o, ok)
			}
			if s, want := f.lastSentence(t, c.ID), "transferred to team wealth_advisers by rm-pb-01; offered to rm-wa-02"; s != want {
				t.Fatalf("sentence %q, want %q", s, want)
			}
			got, err = f.r.Accept(f.ctx, o.ID, "rm-wa-02")
			if err != nil {
				t.Fatal(err)
			}
			stored, _ = f.store.Conversation(f.ctx, c.ID)
			for _, cv := range []conversation.Conversation{got, stored} {
				if cv.AssigneeID != "rm-wa-02" || cv.TransferTeam != "" || cv.TransferredBy != "" || !cv.TransferredAt.IsZero() {
					t.Fatalf("accept did not clear the target: %+v", cv)
				}
			}
		})
	}
}

// TestTransferToTeamTimesOut: when no RM of the team takes the
// conversation within transfer_timeout, its policy takes over from its
// first step; a decline on the way keeps the target.
func TestTransferToTeamTimesOut(t *testing.T) {
	t.Parallel()
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, mk(t))
			f.available(t, "rm-pb-01", "rm-pb-02", "rm-wa-01")
			c := f.accepted(t, "cus-pb-0001", conversation.ChannelWebChat)
			f.clk.Advance(10 * time.Minute)
			if _, err := f.r.TransferToTeam(f.ctx, c.ID, "rm-pb-01", "wealth_advisers", "portfolio review"); err != nil {
				t.Fatal(err)
			}
			f.evaluate(t)
			o, ok := f.offerOf(t, c.ID)
			if !ok || o.RMID != "rm-wa-01" {
				t.Fatalf("offer %+v ok=%v, want rm-wa-01", o, ok)
			}
			if err := f.r.Decline(f.ctx, o.ID, "rm-wa-01", "fully booked"); err != nil {
				t.Fatal(err)
			}
			if got, _ := f.store.Conversation(f.ctx, c.ID); got.Status != conversation.StatusQueued || got.TransferTeam != "wealth_advisers" {
				t.Fatalf("after decline: %s target %q", got.Status, got.TransferTeam)
			}
			f.clk.Advance(time.Second)
			f.evaluate(t)
			if o, ok := f.offerOf(t, c.ID); ok {
				t.Fatalf("offered to %s while only the team may take it", o.RMID)
			}
			want := "transferred to team wealth_advisers by rm-pb-01; waiting: no eligible RM among 2 candidates (1 not available, 1 already declined); policy private-bank takes over in 1m59s"
			if s := f.lastSentence(t, c.ID); s != want {
				t.Fatalf("wait sentence\n got %q\nwant %q", s, want)
			}
			f.clk.Advance(f.r.Policies().TransferTimeout() - time.Second)
			f.evaluate(t)
			o, ok = f.offerOf(t, c.ID)
			if !ok || o.RMID != "rm-pb-02" {
				t.Fatalf("after the timeout: offer %+v ok=%v, want the deputy rm-pb-02", o, ok)
			}
			want = "transfer to team wealth_advisers by rm-pb-01 lapsed after 2m0s; own RM rm-pb-01 declined or missed this conversation; offered to deputy rm-pb-02 at step 2"
			if s := f.lastSentence(t, c.ID); s != want {
				t.Fatalf("sentence\n got %q\nwant %q", s, want)
			}
		})
	}
}

// TestTransferToQueueRestartsPolicy: a conversation handed back to the
// queue long after it was first queued is routed again from the policy's
// first step, not ended by the policy's expired steps.
func TestTransferToQueueRestartsPolicy(t *testing.T) {
	t.Parallel()
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, mk(t))
			f.available(t, "rm-pb-01", "rm-pb-02")
			c := f.accepted(t, "cus-pb-0001", conversation.ChannelVoice)
			f.clk.Advance(10 * time.Minute)
			got, err := f.r.TransferToQueue(f.ctx, c.ID, "rm-pb-01", "needs a specialist")
			if err != nil || got.TransferTeam != "" || got.TransferredBy != "rm-pb-01" || !got.TransferredAt.Equal(f.clk.Now()) {
				t.Fatalf("transfer to queue: %v %+v", err, got)
			}
			f.evaluate(t)
			if o, ok := f.offerOf(t, c.ID); !ok || o.RMID != "rm-pb-02" {
				t.Fatalf("offer %+v ok=%v, status %s; want the deputy rm-pb-02", o, ok, f.status(t, c.ID))
			}
		})
	}
}

// TestInviteRefusedWithoutCapacity: a specialist who is offline cannot be
// invited, and nothing changes.
func TestInviteRefusedWithoutCapacity(t *testing.T) {
	t.Parallel()
	f := newFixture(t, state.NewMemory())
	f.available(t, "rm-pb-01")
	c := f.accepted(t, "cus-pb-0001", conversation.ChannelVoice)
	before, _ := f.store.Conversation(f.ctx, c.ID)
	if _, err := f.r.Invite(f.ctx, c.ID, "rm-pb-01", "rm-af-01"); !errors.Is(err, ErrNoCapacity) {
		t.Fatalf("invite offline specialist: %v", err)
	}
	if after, _ := f.store.Conversation(f.ctx, c.ID); after.Version != before.Version || f.load(t, "rm-af-01") != 0 {
		t.Fatal("a refused invite changed state")
	}
	if _, err := f.r.TransferToRM(f.ctx, c.ID, "rm-pb-01", "rm-af-01", ""); !errors.Is(err, ErrNoCapacity) {
		t.Fatalf("transfer to offline RM: %v", err)
	}
}
