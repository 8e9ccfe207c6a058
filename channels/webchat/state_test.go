package webchat

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// TestTypingAndHours: the RM's typing reaches the client; the client's
// typing reaches the OnTyping hook; a client of a segment not served now
// is told so in the welcome and after a message.
func TestTypingAndHours(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(_ *Config, d *Deps) {
		d.BusinessHours = func(_ context.Context, s conversation.Segment, _ time.Time) (bool, string) {
			return s != conversation.SegmentAffluent, "We answer from 09:00"
		}
	})
	c, w := h.connect(h.token("app-user-1", nil), -1)
	if w.Hours == nil || w.Hours.Open || w.Hours.Notice != "We answer from 09:00" {
		t.Fatalf("welcome hours %+v", w.Hours)
	}
	ack := c.say("m-1", "hello")
	var hrs Hours
	c.decode(c.until(TypeHours), &hrs)
	if hrs.Open {
		t.Fatalf("hours after a message: %+v", hrs)
	}
	if err := h.a.Typing(context.Background(), "cus-1", ack.ConversationID); err != nil {
		t.Fatal(err)
	}
	var ty TypingData
	c.decode(c.until(TypeTyping), &ty)
	if ty.ConversationID != ack.ConversationID || ty.TTLMS <= 0 {
		t.Fatalf("typing %+v", ty)
	}
	c.send(TypeClientTyping, "", nil)
	select {
	case got := <-h.typed:
		if got != ack.ConversationID {
			t.Fatalf("client typing in %s", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("client typing not passed on")
	}
}

// TestQueuePosition: a waiting client learns its place among the
// conversations of its segment waiting, and an estimated wait: per
// position until answered waits are seen, then by Little's law.
func TestQueuePosition(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// Two mass clients wait already, an affluent one between them; the
	// client's own conversation is queued behind them.
	h.bank.mu.Lock()
	var queue []conversation.ConversationID
	for _, app := range []string{"p-1", "p-2", "p-3", "app-user-2"} {
		c, ok := h.bank.customers["app_user:"+app]
		if !ok {
			c = conversation.NewProspect(conversation.Address{Kind: conversation.AddressApp, Value: app}, h.clock.Now())
			h.bank.addCustomer(c)
		}
		cv := conversation.New(c, conversation.ChannelWebChat, c.Addresses[0], h.clock.Now())
		cv.Status = conversation.StatusQueued
		if app == "p-2" {
			cv.Segment = conversation.SegmentAffluent
		}
		h.bank.convs[cv.ID] = cv
		h.bank.open[c.ID] = cv.ID
		queue = append(queue, cv.ID)
	}
	h.bank.waitingQ = queue
	h.bank.mu.Unlock()
	c, _ := h.connect(h.token("app-user-2", nil), -1) // segment mass
	ack := c.say("m-1", "hello")
	if ack.ConversationID != queue[3] {
		t.Fatalf("joined %s, want the queued %s", ack.ConversationID, queue[3])
	}
	var q QueueData
	c.decode(c.until(TypeQueue), &q)
	if q.ConversationID != queue[3] || q.Position != 3 || q.Waiting != 3 || q.EstimatedWaitSeconds != 3*int64(DefaultWaitPerPosition/time.Second) {
		t.Fatalf("queue %+v", q)
	}

	tests := []struct {
		name              string
		waits             []time.Duration
		position, waiting int
		want              time.Duration
	}{
		{"no answers seen", nil, 2, 4, 2 * time.Minute},
		{"mean 4 min, 4 waiting, 2nd", []time.Duration{3 * time.Minute, 5 * time.Minute}, 2, 4, 2 * time.Minute},
		{"mean 4 min, last of 4", []time.Duration{3 * time.Minute, 5 * time.Minute}, 4, 4, 4 * time.Minute},
	}
	for _, tt := range tests {
		w := newWaitStats()
		now := h.clock.Now()
		for i, d := range tt.waits {
			w.observe(conversation.Conversation{ID: conversation.ConversationID(fmt.Sprint(i)), Segment: conversation.SegmentMass,
				Status: conversation.StatusActive, QueuedAt: now.Add(-d), AnsweredAt: now}, now)
		}
		if got := w.estimate(conversation.SegmentMass, tt.position, tt.waiting, time.Minute, now); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestTwoInstances: a client on one instance receives an RM's message sent
// through another instance sharing the store (woken by its Run), and the
// other instance's typing.
func TestTwoInstances(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	b, err := New(Config{Token: TokenConfig{Secret: testSecret}}, Deps{Sink: h.bank, Streams: h.streams, Conversations: h.bank,
		Customers: h.bank, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	h.serve(b)
	c, _ := h.connect(h.token("app-user-1", nil), -1)
	ack := c.say("m-1", "hello")
	reply := h.bank.rmSend(t, b, ack.ConversationID, "rm-1", "from the other instance", nil)
	var m MessageData
	for m.ID != reply.ID {
		c.decode(c.until(EventMessage), &m)
	}
	if m.RM == nil || m.RM.Name != "rm-1" {
		t.Fatalf("message via the other instance: %+v", m)
	}
	if err := b.Typing(context.Background(), "cus-1", ack.ConversationID); err != nil {
		t.Fatal(err)
	}
	c.until(TypeTyping)
}
