package inbox

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/identity"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/state/statetest"
)

// routeLog is a Router fake that records what it was asked to route and
// queues the conversation in the store, as the real router does first.
type routeLog struct {
	store state.Store
	mu    sync.Mutex
	ids   []conversation.ConversationID
	fail  error
}

func (r *routeLog) Route(ctx context.Context, id conversation.ConversationID) (conversation.Conversation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return conversation.Conversation{}, r.fail
	}
	r.ids = append(r.ids, id)
	return r.store.UpdateConversation(ctx, id, func(c *conversation.Conversation) error {
		return c.Transition(conversation.StatusQueued, time.Now())
	})
}

func (r *routeLog) routed() []conversation.ConversationID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]conversation.ConversationID(nil), r.ids...)
}

type fixture struct {
	store  state.Store
	inbox  *Inbox
	router *routeLog
	now    time.Time
}

// stores runs fn on the memory store and on Redis (real when
// AIRBRANCH_TEST_REDIS_URL is set, else miniredis).
func stores(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, name := range []string{"memory", "redis"} {
		t.Run(name, func(t *testing.T) {
			var s state.Store = state.NewMemory()
			if name == "redis" {
				s = statetest.OpenRedis(t, "abin")
			}
			fn(t, newFixture(t, s))
		})
	}
}

func newFixture(t *testing.T, s state.Store) *fixture {
	t.Helper()
	dir, err := configs.ParseDirectory("demo/directory.yaml", configs.DemoDirectoryYAML())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{store: s, router: &routeLog{store: s}, now: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	f.inbox, err = New(Options{Store: s, Resolver: identity.NewResolver(dir, s, "HK"), Router: f.router,
		Now: func() time.Time { return f.now }, SweepAfter: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func sms(from, sid, text string, at time.Time) conversation.Incoming {
	return conversation.Incoming{Kind: conversation.IncomingMessage, Channel: conversation.ChannelSMS, ChannelAccount: "+85230000000",
		From: conversation.Address{Kind: conversation.AddressPhone, Value: from}, ProviderID: sid, Text: text, ReceivedAt: at}
}

// drain routes what Receive queued, as Run would.
func (f *fixture) drain(ctx context.Context) {
	for {
		select {
		case id := <-f.inbox.work:
			f.inbox.route(ctx, id)
		default:
			return
		}
	}
}

func TestMessagesJoinOneConversation(t *testing.T) {
	stores(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		first, err := f.inbox.Receive(ctx, sms("+85255500001", "SM1", "Hello, I'd like to talk about my portfolio", f.now))
		if err != nil {
			t.Fatal(err)
		}
		if first.Duplicate || first.CustomerID != "cus-pb-0001" || first.ConversationID == "" {
			t.Fatalf("first receipt %+v: want a new message of cus-pb-0001 (the demo directory's +85255500001)", first)
		}
		f.now = f.now.Add(time.Minute)
		second, err := f.inbox.Receive(ctx, sms("+85255500001", "SM2", "Are you there?", f.now))
		if err != nil {
			t.Fatal(err)
		}
		if second.ConversationID != first.ConversationID || second.MessageID == first.MessageID {
			t.Fatalf("second message: %+v, want the same conversation %s and a new message", second, first.ConversationID)
		}
		f.drain(ctx)
		if got := f.router.routed(); len(got) != 1 || got[0] != first.ConversationID {
			t.Fatalf("routed %v, want the one new conversation", got)
		}
		c, err := f.store.Conversation(ctx, first.ConversationID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Channel != conversation.ChannelSMS || c.ChannelAccount != "+85230000000" || c.Segment != conversation.SegmentPrivate || c.Status != conversation.StatusQueued {
			t.Fatalf("conversation %+v", c)
		}
		msgs, err := f.store.Messages(ctx, c.ID, 0)
		if err != nil || len(msgs) != 2 || msgs[0].Text != "Hello, I'd like to talk about my portfolio" || msgs[1].ProviderID != "SM2" ||
			msgs[0].Direction != conversation.Inbound || msgs[0].Status != conversation.DeliveryDelivered {
			t.Fatalf("messages %+v, %v", msgs, err)
		}
		evs, _ := f.store.Events(ctx, c.ID)
		var msgEvents int
		for _, e := range evs {
			if e.Type == conversation.EventMessage {
				msgEvents++
			}
		}
		if msgEvents != 2 {
			t.Fatalf("%d message events on the timeline, want 2", msgEvents)
		}
	})
}

func TestProviderRetryIsDuplicate(t *testing.T) {
	stores(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		in := sms("+85255500001", "SMretry", "Please call me", f.now)
		first, err := f.inbox.Receive(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ { // Twilio and WeChat retry up to three times
			again, err := f.inbox.Receive(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			if !again.Duplicate || again.MessageID != first.MessageID || again.ConversationID != first.ConversationID {
				t.Fatalf("retry %d: %+v, want a duplicate of %+v", i, again, first)
			}
		}
		msgs, _ := f.store.Messages(ctx, first.ConversationID, 0)
		if len(msgs) != 1 {
			t.Fatalf("%d messages stored after retries, want 1", len(msgs))
		}
	})
}

// Concurrent first messages of a new client (and concurrent retries of one
// message) make one conversation and store each message once.
func TestConcurrentFirstMessages(t *testing.T) {
	stores(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		var wg sync.WaitGroup
		receipts := make([]conversation.Receipt, 8)
		for i := range receipts {
			wg.Go(func() {
				sid := fmt.Sprintf("SMc%d", i%4) // each message sent twice
				r, err := f.inbox.Receive(ctx, sms("+85291234567", sid, "hi", f.now))
				if err != nil {
					t.Errorf("receive %d: %v", i, err)
				}
				receipts[i] = r
			})
		}
		wg.Wait()
		for _, r := range receipts {
			if r.ConversationID != receipts[0].ConversationID {
				t.Fatalf("a new client's concurrent messages opened several conversations: %+v", receipts)
			}
		}
		msgs, _ := f.store.Messages(ctx, receipts[0].ConversationID, 0)
		if len(msgs) != 4 {
			t.Fatalf("%d messages stored, want 4 (each of 4 sent twice)", len(msgs))
		}
		c, _ := f.store.Conversation(ctx, receipts[0].ConversationID)
		if c.Segment != conversation.SegmentMass {
			t.Fatalf("unknown number's conversation in segment %s, want mass (a prospect)", c.Segment)
		}
	})
}

// After the RM closes a conversation, the client's next message opens a
// new one.
func TestEndedConversationIsNotJoined(t *testing.T) {
	stores(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		first, err := f.inbox.Receive(ctx, sms("+85255500001", "SMa", "hello", f.now))
		if err != nil {
			t.Fatal(err)
		}
		f.drain(ctx)
		if _, err := f.store.UpdateConversation(ctx, first.ConversationID, func(c *conversation.Conversation) error {
			return c.Transition(conversation.StatusClosed, f.now)
		}); err != nil {
			t.Fatal(err)
		}
		f.now = f.now.Add(time.Hour)
		next, err := f.inbox.Receive(ctx, sms("+85255500001", "SMb", "me again", f.now))
		if err != nil {
			t.Fatal(err)
		}
		if next.ConversationID == first.ConversationID || next.Duplicate {
			t.Fatalf("message after close joined the closed conversation: %+v", next)
		}
	})
}

func TestEventsOnceAndStartConversation(t *testing.T) {
	stores(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		openid := conversation.Address{Kind: conversation.AddressWeChat, Value: "o-demo-openid-pb-0001"}
		sub := conversation.Incoming{Kind: conversation.IncomingEvent, Channel: conversation.ChannelWeChat, ChannelAccount: "gh_demo",
			From: openid, Event: "subscribe", ProviderID: "o-demo-openid-pb-0001|1700000000|subscribe", ReceivedAt: f.now}
		r, err := f.inbox.Receive(ctx, sub)
		if err != nil || r.Duplicate || r.ConversationID != "" || r.CustomerID != "cus-pb-0001" {
			t.Fatalf("subscribe: %+v, %v; want stored with no conversation", r, err)
		}
		if r, err = f.inbox.Receive(ctx, sub); err != nil || !r.Duplicate {
			t.Fatalf("subscribe retried: %+v, %v; want a duplicate", r, err)
		}
		click := sub
		click.Event, click.ProviderID, click.StartConversation, click.Intent = "menu_click", "o-demo-openid-pb-0001|1700000100|CLICK", true, "wealth"
		r, err = f.inbox.Receive(ctx, click)
		if err != nil || r.ConversationID == "" {
			t.Fatalf("menu click: %+v, %v; want a conversation opened", r, err)
		}
		f.drain(ctx)
		c, _ := f.store.Conversation(ctx, r.ConversationID)
		if c.Intent != "wealth" || c.Status != conversation.StatusQueued {
			t.Fatalf("menu-click conversation %+v: want intent wealth, queued", c)
		}
		evs, _ := f.store.Events(ctx, c.ID)
		if len(evs) == 0 || evs[len(evs)-1].Type != conversation.EventChannel && evs[len(evs)-2].Type != conversation.EventChannel {
			t.Fatalf("no channel event on the timeline: %+v", evs)
		}
	})
}

func TestSessionsAreOnePerProviderID(t *testing.T) {
	stores(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		call := conversation.Incoming{Kind: conversation.IncomingMessage, Channel: conversation.ChannelVoice, ChannelAccount: "trunk-1",
			From: conversation.Address{Kind: conversation.AddressPhone, Value: "+85255500001"}, ProviderID: "call-1@198.51.100.7", ReceivedAt: f.now}
		a, err := f.inbox.Receive(ctx, call)
		if err != nil || a.Duplicate {
			t.Fatalf("call: %+v, %v", a, err)
		}
		b, err := f.inbox.Receive(ctx, call)
		if err != nil || !b.Duplicate || b.ConversationID != a.ConversationID {
			t.Fatalf("same Call-ID again: %+v, %v; want the first conversation", b, err)
		}
		call.ProviderID = "call-2@198.51.100.7"
		c, err := f.inbox.Receive(ctx, call)
		if err != nil || c.ConversationID == a.ConversationID {
			t.Fatalf("second call: %+v, %v; want its own conversation", c, err)
		}
		call.ProviderID = ""
		if _, err := f.inbox.Receive(ctx, call); !errors.Is(err, conversation.ErrInvalid) {
			t.Fatalf("call without Call-ID: %v, want ErrInvalid", err)
		}
	})
}

func TestBadInputIsInvalid(t *testing.T) {
	stores(t, func(t *testing.T, f *fixture) {
		for name, in := range map[string]conversation.Incoming{
			"not a phone number": sms("call me maybe", "SMx", "hi", f.now),
			"no time":            sms("+85255500001", "SMy", "hi", time.Time{}),
		} {
			if _, err := f.inbox.Receive(t.Context(), in); !errors.Is(err, conversation.ErrInvalid) {
				t.Errorf("%s: got %v, want ErrInvalid", name, err)
			}
		}
	})
}

// A conversation left new (its instance died before routing it) is routed
// by the sweep once it is older than SweepAfter.
func TestSweepRoutesConversationsLeftNew(t *testing.T) {
	stores(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		r, err := f.inbox.Receive(ctx, sms("+85255500001", "SMs", "hello", f.now))
		if err != nil {
			t.Fatal(err)
		}
		<-f.inbox.work // the instance "dies" before routing it
		f.inbox.Sweep(ctx)
		if len(f.router.routed()) != 0 {
			t.Fatal("the sweep routed a conversation younger than SweepAfter")
		}
		f.now = f.now.Add(2 * time.Second)
		f.inbox.Sweep(ctx)
		if got := f.router.routed(); len(got) != 1 || got[0] != r.ConversationID {
			t.Fatalf("sweep routed %v, want %s", got, r.ConversationID)
		}
	})
}

func TestStatusMovesOutboundForward(t *testing.T) {
	stores(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		out := conversation.Message{ID: conversation.NewMessageID(f.now), ConversationID: "conv-x", Channel: conversation.ChannelSMS,
			ChannelAccount: "+85230000000", Direction: conversation.Outbound, Sender: "rm-pb-01", Text: "Your appointment is at 3pm",
			Status: conversation.DeliveryQueued, CreatedAt: f.now, UpdatedAt: f.now}
		if _, _, err := f.store.AppendMessage(ctx, out); err != nil {
			t.Fatal(err)
		}
		if err := f.store.BindProviderIDs(ctx, out.ID, []string{"SMout"}); err != nil {
			t.Fatal(err)
		}
		upd := func(s conversation.DeliveryStatus) conversation.StatusUpdate {
			return conversation.StatusUpdate{Channel: conversation.ChannelSMS, ChannelAccount: "+85230000000", ProviderID: "SMout", Status: s, At: f.now}
		}
		for _, s := range []conversation.DeliveryStatus{conversation.DeliveryDelivered, conversation.DeliverySent} { // out of order
			if err := f.inbox.Status(ctx, upd(s)); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := f.store.Message(ctx, out.ID)
		if got.Status != conversation.DeliveryDelivered {
			t.Fatalf("status %s after delivered then a late sent, want delivered", got.Status)
		}
		unknown := upd(conversation.DeliveryDelivered)
		unknown.ProviderID = "SMnobody"
		if err := f.inbox.Status(ctx, unknown); !errors.Is(err, state.ErrNotFound) {
			t.Fatalf("status for an unknown message: %v, want ErrNotFound", err)
		}
	})
}

func TestStoreDownIsNotAcknowledged(t *testing.T) {
	s := statetest.OpenRedis(t, "abin")
	f := newFixture(t, s)
	_ = s.Close()
	_, err := f.inbox.Receive(t.Context(), sms("+85255500001", "SMdown", "hello", f.now))
	if !errors.Is(err, conversation.ErrUnavailable) {
		t.Fatalf("store closed: got %v, want an error matching conversation.ErrUnavailable", err)
	}
}

// TestConversationKeepsTheChannelsVerification: a conversation opened by
// a call whose caller id no trunk vouched for keeps "none" (routing then
// treats the private-bank client as unverified); one whose channel says
// nothing keeps it empty.
func TestConversationKeepsTheChannelsVerification(t *testing.T) {
	stores(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		call := conversation.Incoming{Kind: conversation.IncomingEvent, Channel: conversation.ChannelVoice, ChannelAccount: "+85221234567",
			From: conversation.Address{Kind: conversation.AddressPhone, Value: "+85255500001"}, ProviderID: "call-1", Event: "incoming_call",
			StartConversation: true, Verification: conversation.VerificationNone, ReceivedAt: f.now}
		r, err := f.inbox.Receive(ctx, call)
		if err != nil {
			t.Fatal(err)
		}
		c, err := f.store.Conversation(ctx, r.ConversationID)
		if err != nil || c.Verification != conversation.VerificationNone || c.CustomerID != "cus-pb-0001" {
			t.Fatalf("call's conversation: verification %q, customer %s, %v", c.Verification, c.CustomerID, err)
		}
		r, err = f.inbox.Receive(ctx, sms("+85255500003", "SM9", "Hello", f.now))
		if err != nil {
			t.Fatal(err)
		}
		if c, err = f.store.Conversation(ctx, r.ConversationID); err != nil || c.Verification != "" {
			t.Fatalf("sms conversation: verification %q, %v", c.Verification, err)
		}
	})
}
