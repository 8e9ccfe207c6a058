package desk_test

import (
	"context"
	"testing"

	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/desk"
	"github.com/airbranch/airbranch/gateway/state"
)

// A call event is a stream event of the RM's: it has a seq, reaches every
// desk of the RM on every instance, and a desk that reconnects with an
// earlier seq gets it again; another RM's desk does not.
func TestCallEventsInTheStream(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() state.Store) {
		a, b := newInstance(t, newStore()), newInstance(t, newStore())
		rm := auth.Principal{Subject: "rm-pb-01", Role: auth.RoleRM, Team: "private_bank"}
		other := auth.Principal{Subject: "rm-pb-02", Role: auth.RoleRM, Team: "private_bank"}
		onA, w := a.dial(t, rm, -1)
		onB, _ := b.dial(t, rm, -1)
		stranger, _ := b.dial(t, other, -1)

		a.hub.Call(context.Background(), "rm-pb-01", desk.CallData{ConversationID: "conv-1", State: desk.CallEnded, Device: desk.DevicePhone, EndedBy: "client", Reason: "completed"})
		for _, c := range []*client{onA, onB} {
			f := c.until(desk.EventCall)
			got := decode[desk.CallData](t, f.Data)
			if f.Seq != w.LastSeq+1 || got.ConversationID != "conv-1" || got.State != desk.CallEnded || got.EndedBy != "client" || got.Reason != "completed" || got.At.IsZero() {
				t.Errorf("call event seq %d %+v", f.Seq, got)
			}
		}
		again, rw := b.dial(t, rm, w.LastSeq)
		if !rw.Resumed {
			t.Fatal("not resumed")
		}
		again.last = w.LastSeq // what follows the welcome is the replay after it
		if f := again.until(desk.EventCall); f.Seq != w.LastSeq+1 {
			t.Errorf("resumed call event seq %d", f.Seq)
		}
		if f := stranger.request("presence", map[string]string{"state": "offline"}); f.Type != desk.TypeAck {
			t.Fatalf("presence: %s", f.Data)
		}
		for _, f := range stranger.pending {
			if f.Type == desk.EventCall {
				t.Errorf("another RM got the call event: %s", f.Data)
			}
		}
	})
}

// Without a softphone handler (voice off) phone requests are refused as
// unavailable and the session goes on.
func TestPhoneFramesWithoutVoice(t *testing.T) {
	in := newInstance(t, state.NewMemory())
	c, _ := in.dial(t, auth.Principal{Subject: "rm-pb-01", Role: auth.RoleRM, Team: "private_bank"}, -1)
	f := c.request(desk.TypePhoneRegister, map[string]bool{"enabled": true})
	if e := decode[desk.ErrorData](t, f.Data); f.Type != desk.TypeError || e.Code != "unavailable" || e.Status != 503 {
		t.Errorf("phone.register without voice: %s %s", f.Type, f.Data)
	}
	if f := c.request("presence", map[string]string{"state": "available"}); f.Type != desk.TypeAck {
		t.Errorf("the session did not go on: %s", f.Data)
	}
}
