package router

import (
	"errors"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
)

// TestAssignTo: a new conversation is assigned straight to the RM who
// started it (active, assignee, participant, the channel's cost held),
// again is a no-op, another RM is refused, an RM without the capacity is
// refused with nothing changed, and a queued conversation cannot be taken
// this way; the assignee wraps up and closes it as usual.
func TestAssignTo(t *testing.T) {
	t.Parallel()
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, mk(t))
			cust, err := f.dir.Customer(f.ctx, "cus-pb-0001")
			if err != nil {
				t.Fatal(err)
			}
			newConv := func() conversation.Conversation {
				c := conversation.New(cust, conversation.ChannelVideo, cust.Addresses[0], f.clk.Now())
				if _, err := f.store.CreateConversation(f.ctx, c); err != nil {
					t.Fatal(err)
				}
				return c
			}
			c := newConv()
			got, err := f.r.AssignTo(f.ctx, c.ID, "rm-pb-01")
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != conversation.StatusActive || got.AssigneeID != "rm-pb-01" || got.TeamID != "private_bank" || !got.HasParticipant("rm-pb-01") {
				t.Fatalf("after AssignTo: %+v", got)
			}
			if l := f.load(t, "rm-pb-01"); l != 100 {
				t.Fatalf("rm-pb-01 holds %d, want the video cost 100", l)
			}
			again, err := f.r.AssignTo(f.ctx, c.ID, "rm-pb-01")
			if err != nil || again.Version != got.Version {
				t.Fatalf("again: %v, version %d → %d", err, got.Version, again.Version)
			}
			if _, err := f.r.AssignTo(f.ctx, c.ID, "rm-pb-02"); !errors.Is(err, ErrNotAssignee) {
				t.Fatalf("another RM: %v", err)
			}
			full := newConv()
			if _, err := f.r.AssignTo(f.ctx, full.ID, "rm-pb-01"); !errors.Is(err, ErrNoCapacity) {
				t.Fatalf("RM at capacity: %v", err)
			}
			if f.status(t, full.ID) != conversation.StatusNew {
				t.Fatal("a refused AssignTo changed the conversation")
			}
			q := f.open(t, "cus-ms-0001", conversation.ChannelWebChat)
			if _, err := f.r.AssignTo(f.ctx, q.ID, "rm-ms-01"); !errors.Is(err, conversation.ErrIllegalTransition) {
				t.Fatalf("a queued conversation: %v", err)
			}
			if _, err := f.r.WrapUp(f.ctx, c.ID, "rm-pb-01"); err != nil {
				t.Fatal(err)
			}
			if _, err := f.r.Close(f.ctx, c.ID, "rm-pb-01", "resolved"); err != nil {
				t.Fatal(err)
			}
			if l := f.load(t, "rm-pb-01"); l != 0 {
				t.Fatalf("rm-pb-01 holds %d after closing", l)
			}
		})
	}
}
