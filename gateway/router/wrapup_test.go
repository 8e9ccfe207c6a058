package router

import (
	"errors"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// A wrap_up presence lasts the configured wrap-up timeout; then routing
// sets the RM available again and offers them work. An RM who changed
// their presence meanwhile keeps what they chose.
func TestWrapUpPresenceEnds(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, open(t))
			timeout := f.r.policies.WrapUpTimeout()
			p, err := f.r.SetPresence(f.ctx, "rm-pb-01", conversation.PresenceWrapUp, "notes", 8*time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if !p.Until.Equal(f.clk.Now().Add(timeout)) {
				t.Fatalf("wrap_up until %v, want now + %v", p.Until, timeout)
			}
			if _, err := f.r.SetPresence(f.ctx, "rm-pb-02", conversation.PresenceWrapUp, "", 8*time.Hour); err != nil {
				t.Fatal(err)
			}
			c := f.open(t, "cus-pb-0001", conversation.ChannelWebChat)
			f.evaluate(t)
			if _, ok := f.offerOf(t, c.ID); ok {
				t.Fatal("an RM in wrap-up was offered work")
			}
			// rm-pb-02 goes away before the end: that stays.
			if _, err := f.r.SetPresence(f.ctx, "rm-pb-02", conversation.PresenceAway, "lunch", time.Hour); err != nil {
				t.Fatal(err)
			}
			f.clk.Advance(timeout - time.Second)
			f.evaluate(t)
			if got, _ := f.store.Presence(f.ctx, "rm-pb-01", f.clk.Now()); got.State != conversation.PresenceWrapUp {
				t.Fatalf("before the end: %s", got.State)
			}
			f.clk.Advance(time.Second)
			f.evaluate(t)
			got, _ := f.store.Presence(f.ctx, "rm-pb-01", f.clk.Now())
			if got.State != conversation.PresenceAvailable || got.Reason != "wrap_up_ended" {
				t.Fatalf("after the wrap-up timeout: %+v, want available (wrap_up_ended)", got)
			}
			if away, _ := f.store.Presence(f.ctx, "rm-pb-02", f.clk.Now()); away.State != conversation.PresenceAway {
				t.Fatalf("the RM who went away meanwhile is now %s", away.State)
			}
			f.evaluate(t)
			if o, ok := f.offerOf(t, c.ID); !ok || o.RMID != "rm-pb-01" {
				t.Fatalf("after wrap-up the waiting client was not offered to their own RM: %+v", o)
			}
		})
	}
}

func TestUntilIsForWrapUpOnly(t *testing.T) {
	p := conversation.Presence{RMID: "rm-1", State: conversation.PresenceAway, Until: time.Now()}
	if err := p.Validate(); err == nil {
		t.Fatal("until on an away presence validated")
	}
}

// A caller who asks for a callback while their call is offered leaves the
// queue; the offer is withdrawn and the RM's capacity freed.
func TestCallbackWhileOffered(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, open(t))
			f.available(t, "rm-pb-01")
			c := f.open(t, "cus-pb-0001", conversation.ChannelVoice)
			f.evaluate(t)
			if _, ok := f.offerOf(t, c.ID); !ok {
				t.Fatal("no offer")
			}
			got, err := f.r.Callback(f.ctx, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != conversation.StatusClosed || got.Disposition != CallbackRequested {
				t.Fatalf("after callback: %s %q", got.Status, got.Disposition)
			}
			if _, ok := f.offerOf(t, c.ID); ok || f.load(t, "rm-pb-01") != 0 {
				t.Fatalf("offer left live or capacity held (load %d)", f.load(t, "rm-pb-01"))
			}
			if _, err := f.r.Callback(f.ctx, c.ID); err == nil {
				t.Fatal("a second callback of a closed conversation was taken")
			}
		})
	}
}

// Routing a conversation that is not new (offered, active) refuses and
// changes nothing: it does not pull a live conversation back from its RM.
func TestRouteOnlyNewConversations(t *testing.T) {
	f := newFixture(t, state.NewMemory())
	f.available(t, "rm-pb-01")
	c := f.open(t, "cus-pb-0001", conversation.ChannelWebChat)
	f.evaluate(t)
	if _, err := f.r.Route(f.ctx, c.ID); !errors.Is(err, conversation.ErrIllegalTransition) {
		t.Fatalf("route while offered: %v, want ErrIllegalTransition", err)
	}
	o, _ := f.offerOf(t, c.ID)
	if _, err := f.r.Accept(f.ctx, o.ID, "rm-pb-01"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.r.Route(f.ctx, c.ID); !errors.Is(err, conversation.ErrIllegalTransition) {
		t.Fatalf("route while active: %v, want ErrIllegalTransition", err)
	}
	if got := f.status(t, c.ID); got != conversation.StatusActive {
		t.Fatalf("status after a refused route: %s", got)
	}
}
