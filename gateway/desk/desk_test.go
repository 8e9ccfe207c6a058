package desk_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/desk"
	"github.com/airbranch/airbranch/gateway/state"
)

func sms(sid, text string) conversation.Incoming {
	return conversation.Incoming{Kind: conversation.IncomingMessage, Channel: conversation.ChannelSMS, ChannelAccount: "+85230000000",
		From: conversation.Address{Kind: conversation.AddressPhone, Value: "+85255500001"}, ProviderID: sid, Text: text, ReceivedAt: time.Now()}
}

// arrive stores an inbound SMS of the demo private-bank client
// cus-pb-0001 at instance in and routes its new conversation there.
func (in *instance) arrive(t *testing.T, sid, text string) conversation.Receipt {
	t.Helper()
	ctx := context.Background()
	r, err := in.inbox.Receive(ctx, sms(sid, text))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := in.router.Route(ctx, r.ConversationID); err != nil {
		t.Fatal(err)
	}
	if err := in.router.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRefusedBeforeUpgrade(t *testing.T) {
	in := newInstance(t, state.NewMemory())
	cases := []struct {
		name   string
		token  string
		status int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"forged token", "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl", http.StatusUnauthorized},
		{"a supervisor", tokenFor(t, auth.Principal{Subject: "sup-pb", Role: auth.RoleSupervisor, Team: "private_bank"}), http.StatusForbidden},
		{"wrong team claim", tokenFor(t, auth.Principal{Subject: "rm-pb-01", Role: auth.RoleRM, Team: "mass"}), http.StatusForbidden},
		{"not in the directory", tokenFor(t, auth.Principal{Subject: "rm-nobody", Role: auth.RoleRM, Team: "mass"}), http.StatusForbidden},
	}
	for _, tc := range cases {
		h := http.Header{}
		if tc.token != "" {
			h.Set("Authorization", "Bearer "+tc.token)
		}
		_, res, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(in.srv.URL, "http")+desk.Path, h)
		if err == nil || res == nil || res.StatusCode != tc.status {
			t.Errorf("%s: %v, status %v; want %d before the upgrade", tc.name, err, res, tc.status)
		}
	}
}

// An RM goes available, is offered the client's conversation with the
// customer card, accepts, receives the client's next message, replies
// (the reply leaves on SMS), wraps up and closes.
func TestOfferAcceptReplyWrapUp(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() state.Store) {
		in := newInstance(t, newStore())
		c, w := in.dial(t, rmPB01, -1)
		if w.Resumed || w.Snapshot == nil || w.RMID != "rm-pb-01" || w.PingSeconds != 10 {
			t.Fatalf("welcome %+v", w)
		}
		if f := c.request("presence", map[string]string{"state": "available"}); f.Type != desk.TypeAck {
			t.Fatalf("presence: %s %s", f.Type, f.Data)
		}
		if p := decode[conversation.Presence](t, c.until(desk.EventPresence).Data); p.State != conversation.PresenceAvailable {
			t.Fatalf("presence event %+v", p)
		}

		r := in.arrive(t, "SM1", "I'd like to review my portfolio")
		offer := decode[desk.OfferData](t, c.until(desk.EventOffer).Data)
		if offer.Conversation.ID != r.ConversationID || offer.Offer.RMID != "rm-pb-01" || offer.ExpiresInMS <= 0 {
			t.Fatalf("offer %+v", offer)
		}
		if cc := offer.Customer; cc.DisplayName != "Chan Tai Man (demo)" || cc.Segment != conversation.SegmentPrivate || cc.OwnRM != "rm-pb-01" || cc.AUMBand == "" {
			t.Fatalf("customer card %+v", cc)
		}

		f := c.request("accept", map[string]string{"offer_id": string(offer.Offer.ID)})
		if f.Type != desk.TypeAck || decode[conversation.Conversation](t, f.Data).Status != conversation.StatusActive {
			t.Fatalf("accept: %s %s", f.Type, f.Data)
		}
		if f := c.request("accept", map[string]string{"offer_id": string(offer.Offer.ID)}); decode[desk.ErrorData](t, f.Data).Code != "offer_gone" {
			t.Fatalf("second accept: %s", f.Data)
		}

		if _, err := in.inbox.Receive(context.Background(), sms("SM2", "Are you there?")); err != nil {
			t.Fatal(err)
		}
		if m := decode[desk.MessageData](t, c.until(desk.EventMessage).Data).Message; m.Text != "Are you there?" || m.Direction != conversation.Inbound {
			t.Fatalf("message event %+v", m)
		}

		f = c.request("send", map[string]any{"conversation_id": r.ConversationID, "text": "Yes, good morning Mr Chan."})
		if f.Type != desk.TypeAck || decode[desk.MessageData](t, f.Data).Message.Status != conversation.DeliverySent {
			t.Fatalf("send: %s %s", f.Type, f.Data)
		}
		in.mu.Lock()
		got := len(in.sent) == 1 && in.sent[0].Text == "Yes, good morning Mr Chan." && in.sent[0].Channel == conversation.ChannelSMS
		in.mu.Unlock()
		if !got {
			t.Fatalf("the SMS provider got %+v", in.sent)
		}

		if f := c.request("wrap_up", map[string]any{"conversation_id": r.ConversationID}); f.Type != desk.TypeAck {
			t.Fatalf("wrap_up: %s", f.Data)
		}
		if f := c.request("close", map[string]any{"conversation_id": r.ConversationID, "disposition": "no_such_code"}); decode[desk.ErrorData](t, f.Data).Code != "bad_request" {
			t.Fatalf("close with an unknown disposition: %s", f.Data)
		}
		f = c.request("close", map[string]any{"conversation_id": r.ConversationID, "disposition": "resolved"})
		if f.Type != desk.TypeAck || decode[conversation.Conversation](t, f.Data).Status != conversation.StatusClosed {
			t.Fatalf("close: %s %s", f.Type, f.Data)
		}
	})
}

// A desk that reconnects with its last seq gets what it missed, in order;
// one that reconnects without gets a snapshot of the state now.
func TestResumeAfterDisconnect(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() state.Store) {
		in := newInstance(t, newStore())
		ctx := context.Background()
		c, _ := in.dial(t, rmPB01, -1)
		c.request("presence", map[string]string{"state": "available"})
		c.until(desk.EventPresence)
		last := c.last
		_ = c.conn.Close()

		// While the desk is away: presence changes and an offer arrives.
		if _, err := in.router.SetPresence(ctx, "rm-pb-01", conversation.PresenceAway, "coffee", time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := in.router.SetPresence(ctx, "rm-pb-01", conversation.PresenceAvailable, "", time.Hour); err != nil {
			t.Fatal(err)
		}
		in.arrive(t, "SM1", "hello")

		c2, w := in.dial(t, rmPB01, last)
		if !w.Resumed || w.Snapshot != nil || w.LastSeq != last+3 {
			t.Fatalf("resume welcome %+v, want resumed with last seq %d", w, last+3)
		}
		c2.last = last
		if p := decode[conversation.Presence](t, c2.next().Data); p.State != conversation.PresenceAway || p.Reason != "coffee" {
			t.Fatalf("first missed event %+v", p)
		}
		if p := decode[conversation.Presence](t, c2.next().Data); p.State != conversation.PresenceAvailable {
			t.Fatalf("second missed event %+v", p)
		}
		if f := c2.next(); f.Type != desk.EventOffer || f.Seq != last+3 {
			t.Fatalf("third missed event %s seq %d", f.Type, f.Seq)
		}

		_, w = in.dial(t, rmPB01, -1)
		if w.Resumed || w.Snapshot == nil || len(w.Snapshot.Offers) != 1 || w.Snapshot.Presence.State != conversation.PresenceAvailable {
			t.Fatalf("fresh welcome %+v, want a snapshot with the live offer", w)
		}
		if w.Queue == nil || w.Queue.TeamID != "private_bank" {
			t.Fatalf("welcome queue %+v, want the private_bank team's", w.Queue)
		}
		if _, w = in.dial(t, rmPB01, last+100); w.Resumed {
			t.Fatal("a resume from a seq the stream never reached was taken")
		}
	})
}

// Two tabs of one RM both receive; a conversation arriving at one
// instance reaches the RM connected to another (through the store).
func TestTwoTabsAndTwoInstances(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() state.Store) {
		a, b := newInstance(t, newStore()), newInstance(t, newStore())
		tab1, _ := b.dial(t, rmPB01, -1)
		tab2, _ := b.dial(t, rmPB01, -1)
		tab1.request("presence", map[string]string{"state": "available"})
		a.arrive(t, "SM1", "hello from instance A")
		for _, tab := range []*client{tab1, tab2} {
			if o := decode[desk.OfferData](t, tab.until(desk.EventOffer).Data); o.Offer.RMID != "rm-pb-01" {
				t.Fatalf("offer %+v", o)
			}
		}
	})
}

func TestBadFramesKeepTheConnection(t *testing.T) {
	in := newInstance(t, state.NewMemory())
	c, _ := in.dial(t, rmPB01, -1)
	if err := c.conn.WriteMessage(websocket.TextMessage, []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	if e := decode[desk.ErrorData](t, c.until(desk.TypeError).Data); e.Code != "bad_frame" {
		t.Fatalf("malformed frame: %+v", e)
	}
	if e := decode[desk.ErrorData](t, c.request("teleport", nil).Data); e.Code != "unknown_type" || e.Status != 400 {
		t.Fatalf("unknown type: %+v", e)
	}
	if e := decode[desk.ErrorData](t, c.request("presence", map[string]string{"state": "asleep"}).Data); e.Code != "bad_request" {
		t.Fatalf("bad presence: %+v", e)
	}

	// Another RM's conversation: 403, and nothing changes.
	other := in.arrive(t, "SM9", "hello") // offered to nobody (rm-pb-01 is offline)
	if e := decode[desk.ErrorData](t, c.request("close", map[string]any{"conversation_id": other.ConversationID, "disposition": "resolved"}).Data); e.Code != "forbidden" || e.Status != 403 {
		t.Fatalf("close of another's conversation: %+v", e)
	}
	if e := decode[desk.ErrorData](t, c.request("send", map[string]any{"conversation_id": other.ConversationID, "text": "hi"}).Data); e.Code != "forbidden" {
		t.Fatalf("send on another's conversation: %+v", e)
	}
	if conv, _ := in.store.Conversation(context.Background(), other.ConversationID); conv.Status.Terminal() {
		t.Fatal("a refused close changed the conversation")
	}
	if f := c.request("presence", map[string]string{"state": "available"}); f.Type != desk.TypeAck {
		t.Fatalf("the connection did not stay usable: %s", f.Data)
	}

	// An oversized frame closes with 1009.
	big := `{"type":"typing","data":{"text":"` + strings.Repeat("x", desk.MaxFrameBytes) + `"}}`
	_ = c.conn.WriteMessage(websocket.TextMessage, []byte(big))
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		if _, _, err := c.conn.ReadMessage(); err != nil {
			if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
				t.Fatalf("after an oversized frame: %v, want close 1009", err)
			}
			break
		}
	}
}
