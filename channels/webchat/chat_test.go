package webchat

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
)

// TestMessageAckAndDuplicate: a client message is stored through the Sink
// before its ack, which carries the stored message and conversation; the
// same id again gets the same ack (duplicate) and nothing more is stored;
// another client using the same id gets its own message.
func TestMessageAckAndDuplicate(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c, w := h.connect(h.token("app-user-1", nil), -1)
	if w.Resumed || w.State == nil || w.State.Conversation != nil || len(w.State.Messages) != 0 || w.AppUser != "app-user-1" ||
		w.Verification != conversation.VerificationStrong {
		t.Fatalf("first welcome: %+v", w)
	}
	first := c.say("m-1", "  I would like to talk about my mortgage  ")
	if first.MessageID == "" || first.ConversationID == "" || first.Duplicate {
		t.Fatalf("ack: %+v", first)
	}
	stored := h.bank.message(t, first.MessageID)
	if stored.Text != "I would like to talk about my mortgage" || stored.ProviderID != "app-user-1/m-1" || stored.Sender != "cus-1" {
		t.Fatalf("stored: %+v", stored)
	}
	in := h.bank.incoming(t, 0)
	if in.Channel != conversation.ChannelWebChat || in.ChannelAccount != DefaultAccount || in.From != (conversation.Address{Kind: conversation.AddressApp, Value: "app-user-1"}) ||
		in.Verification != conversation.VerificationStrong {
		t.Fatalf("incoming: %+v", in)
	}
	// The stream echoes the message and tells the conversation waits.
	var echo MessageData
	c.decode(c.until(EventMessage), &echo)
	if echo.ID != first.MessageID || echo.ClientID != "m-1" || echo.From != "client" {
		t.Fatalf("echo: %+v", echo)
	}
	var st ConversationState
	c.decode(c.until(EventConversation), &st)
	if st.ConversationID != first.ConversationID || st.State != StateWaiting {
		t.Fatalf("state: %+v", st)
	}

	again := c.say("m-1", "I would like to talk about my mortgage")
	if again.MessageID != first.MessageID || again.ConversationID != first.ConversationID || !again.Duplicate {
		t.Fatalf("retry ack %+v, want the first (%+v) as a duplicate", again, first)
	}
	if n := h.bank.storedCount(); n != 1 {
		t.Fatalf("%d messages stored, want 1", n)
	}

	other, _ := h.connect(h.token("app-user-2", nil), -1)
	theirs := other.say("m-1", "hello")
	if theirs.Duplicate || theirs.MessageID == first.MessageID || theirs.ConversationID == first.ConversationID {
		t.Fatalf("another client's m-1: %+v", theirs)
	}
}

// TestMessageRefusals: frames the server refuses are answered with an
// error frame and store nothing; the connection stays open.
func TestMessageRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config, _ *Deps) { c.MessagesPerSecond = 20 })
	c, _ := h.connect(h.token("app-user-1", nil), -1)
	tests := []struct {
		name, typ, id string
		data          any
		code          string
	}{
		{"no id", TypeMessage, "", MessageRequest{Text: "hi"}, "bad_request"},
		{"bad id", TypeMessage, "has space", MessageRequest{Text: "hi"}, "bad_request"},
		{"empty", TypeMessage, "e-1", MessageRequest{Text: "   "}, "bad_request"},
		{"too long", TypeMessage, "e-2", MessageRequest{Text: strings.Repeat("x", DefaultMaxTextBytes+1)}, "bad_request"},
		{"unknown attachment", TypeMessage, "e-3", map[string]any{"text": "see", "attachments": []map[string]string{{"id": "nope"}}}, "attachment_not_found"},
		{"unknown type", "shout", "e-4", nil, "unknown_type"},
		{"empty receipt", TypeRead, "e-5", ReceiptRequest{}, "bad_request"},
	}
	for _, tt := range tests {
		c.send(tt.typ, tt.id, tt.data)
		f := c.until(TypeError)
		var e ErrorData
		c.decode(f, &e)
		if e.Code != tt.code || f.ID != tt.id {
			t.Errorf("%s: error %+v for %q, want %s", tt.name, e, f.ID, tt.code)
		}
	}
	if err := c.conn.WriteMessage(websocket.BinaryMessage, []byte{1, 2}); err != nil {
		t.Fatal(err)
	}
	var e ErrorData
	c.decode(c.until(TypeError), &e)
	if e.Code != "bad_frame" {
		t.Errorf("binary frame: %+v", e)
	}
	if n := h.bank.storedCount(); n != 0 {
		t.Fatalf("%d messages stored, want 0", n)
	}
	c.say("ok-1", "still here")
}

// TestStoreUnavailable: when the Sink cannot store, the client is told
// unavailable with a retry time, and its re-send of the same id is stored
// once the store is back.
func TestStoreUnavailable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	var down atomic.Bool
	down.Store(true)
	h.bank.onReceive(func(conversation.Incoming) error {
		if down.Load() {
			return fmt.Errorf("store: %w", conversation.ErrUnavailable)
		}
		return nil
	})
	c, _ := h.connect(h.token("app-user-1", nil), -1)
	c.send(TypeMessage, "u-1", MessageRequest{Text: "hello"})
	var e ErrorData
	c.decode(c.until(TypeError), &e)
	if e.Code != "unavailable" || e.RetryAfterMS <= 0 {
		t.Fatalf("error %+v", e)
	}
	down.Store(false)
	if a := c.say("u-1", "hello"); a.Duplicate || a.MessageID == "" {
		t.Fatalf("re-send: %+v", a)
	}
}

// TestReplyAndReceipts: the RM's reply reaches the client on its stream
// (sent), and the client's delivered and read receipts move it forward
// through Sink.Status, also when a receipt arrives before the outbox has
// indexed the message; the conversation's assignment shows the RM's name.
func TestReplyAndReceipts(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	c, _ := h.connect(h.token("app-user-1", nil), -1)
	ack := c.say("m-1", "hello")
	conv := h.bank.update(t, ack.ConversationID, func(c *conversation.Conversation) {
		c.Status, c.AssigneeID = conversation.StatusActive, "rm-1"
	})
	h.a.ConversationChanged(context.Background(), conv)
	var st ConversationState
	for st.State != StateAssigned {
		c.decode(c.until(EventConversation), &st)
	}
	if st.RM == nil || st.RM.Name != "Ada Lee" || st.RM.ID != "rm-1" {
		t.Fatalf("assigned: %+v", st)
	}

	reply := h.bank.rmSend(t, h.a, ack.ConversationID, "rm-1", "Good morning, how can I help?", nil)
	if reply.Status != conversation.DeliverySent {
		t.Fatalf("after send: %s", reply.Status)
	}
	var m MessageData
	c.decode(c.until(EventMessage), &m)
	if m.ID != reply.ID || m.From != "rm" || m.Text != reply.Text || m.RM == nil || m.RM.Name != "Ada Lee" {
		t.Fatalf("reply on the stream: %+v", m)
	}
	for _, tt := range []struct {
		typ  string
		want conversation.DeliveryStatus
	}{{TypeDelivered, conversation.DeliveryDelivered}, {TypeRead, conversation.DeliveryRead}} {
		c.send(tt.typ, "r-"+tt.typ, ReceiptRequest{MessageIDs: []conversation.MessageID{reply.ID, "not-a-message"}})
		f := c.until(TypeAck)
		var a Ack
		c.decode(f, &a)
		if f.ID != "r-"+tt.typ || len(a.Unknown) != 1 || a.Unknown[0] != "not-a-message" {
			t.Fatalf("%s ack %s %+v", tt.typ, f.ID, a)
		}
		if got := h.bank.message(t, reply.ID).Status; got != tt.want {
			t.Fatalf("after %s: %s, want %s", tt.typ, got, tt.want)
		}
	}

	// A receipt that overtakes the outbox's indexing waits for it.
	indexed := make(chan struct{})
	late := h.bank.rmSend(t, h.a, ack.ConversationID, "rm-1", "One moment", func() {
		c.decode(c.until(EventMessage), &m)
		c.send(TypeDelivered, "r-late", ReceiptRequest{MessageIDs: []conversation.MessageID{m.ID}})
		go func() { time.Sleep(50 * time.Millisecond); close(indexed) }()
		<-indexed
	})
	var a Ack
	c.decode(c.until(TypeAck), &a)
	if len(a.Unknown) != 0 || h.bank.message(t, late.ID).Status != conversation.DeliveryDelivered {
		t.Fatalf("late receipt: %+v, status %s", a, h.bank.message(t, late.ID).Status)
	}

	// Another client cannot mark this client's message.
	other, _ := h.connect(h.token("app-user-2", nil), -1)
	other.send(TypeRead, "r-x", ReceiptRequest{MessageIDs: []conversation.MessageID{late.ID}})
	other.decode(other.until(TypeAck), &a)
	if len(a.Unknown) != 1 || h.bank.message(t, late.ID).Status != conversation.DeliveryDelivered {
		t.Fatalf("another client's receipt: %+v, status %s", a, h.bank.message(t, late.ID).Status)
	}
}

// TestResumeNothingLost: a client that loses its connection misses
// nothing either way. Server → client: the RM's messages sent while it
// was away are replayed after its last seq, in order. Client → server: a
// message stored but whose ack was lost is re-sent with the same id and
// acknowledged as the first copy, stored once.
func TestResumeNothingLost(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.token("app-user-1", nil)
	c, _ := h.connect(tok, -1)
	ack := c.say("m-1", "hello")
	c.until(EventConversation)
	last := c.lastSq

	// The link drops while m-2 is being stored: its ack is lost.
	storing, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	h.bank.onReceive(func(in conversation.Incoming) error {
		if strings.HasSuffix(in.ProviderID, "/m-2") {
			once.Do(func() { close(storing); <-release })
		}
		return nil
	})
	c.send(TypeMessage, "m-2", MessageRequest{Text: "are you there?"})
	<-storing
	_ = c.conn.Close()
	close(release)
	waitFor(t, "the session to end", func() bool { return h.a.Sessions() == 0 })
	// The RM writes while the client is away.
	var sent []conversation.MessageID
	for i := range 3 {
		sent = append(sent, h.bank.rmSend(t, h.a, ack.ConversationID, "rm-1", fmt.Sprintf("reply %d", i), nil).ID)
	}

	c2, w := h.connect(tok, last)
	if !w.Resumed || w.State != nil {
		t.Fatalf("welcome on resume: %+v", w)
	}
	c2.lastSq = last
	// Replayed in order: m-2's echo (stored after all), then the replies.
	var got []conversation.MessageID
	var m2 conversation.MessageID
	for len(got) < 3 {
		var m MessageData
		c2.decode(c2.next(EventMessage), &m)
		if m.ClientID == "m-2" {
			m2 = m.ID
			continue
		}
		got = append(got, m.ID)
	}
	for i := range sent {
		if got[i] != sent[i] {
			t.Fatalf("replayed %v, want %v", got, sent)
		}
	}
	re := c2.say("m-2", "are you there?")
	if !re.Duplicate || re.MessageID != m2 || m2 == "" {
		t.Fatalf("re-sent m-2: %+v (stored as %s)", re, m2)
	}
	if n := h.bank.storedCount(); n != 5 {
		t.Fatalf("%d messages stored, want 5 (2 client, 3 RM)", n)
	}
}

// TestFreshStateAfterGap: a client whose last seq is no longer kept (or
// who starts without one) gets a fresh state: its conversation and its
// history, both directions, without the RM's failed messages.
func TestFreshStateAfterGap(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(_ *Config, d *Deps) { d.Streams = newMemStreams(3) })
	tok := h.token("app-user-1", nil)
	c, _ := h.connect(tok, -1)
	ack := c.say("m-1", "hello")
	_ = c.conn.Close()
	for i := range 4 {
		h.bank.rmSend(t, h.a, ack.ConversationID, "rm-1", fmt.Sprintf("reply %d", i), nil)
	}
	for _, after := range []int64{1, 99, -1} {
		c, w := h.connect(tok, after)
		if w.Resumed || w.State == nil || w.State.Conversation == nil || w.State.Conversation.ConversationID != ack.ConversationID {
			t.Fatalf("after=%d: welcome %+v", after, w)
		}
		if len(w.State.Messages) != 5 || w.State.Messages[0].ClientID != "m-1" || w.State.Messages[4].Text != "reply 3" || w.State.Messages[4].Status != "sent" {
			t.Fatalf("after=%d: history %+v", after, w.State.Messages)
		}
		_ = c.conn.Close()
	}
}
