package outbox

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// TestRecoverSendsWhatADeadInstanceLeftInFlight: a message stored and put
// in flight by an instance that died before sending it is sent once by
// whichever of several instances recovers it after its lease, settled and
// reported; before the lease nothing happens; a settled message whose
// entry was left behind only leaves the queue; and Send leaves no entry.
func TestRecoverSendsWhatADeadInstanceLeftInFlight(t *testing.T) {
	stores(t, func(t *testing.T, s state.Store) {
		ctx := t.Context()
		c := openConversation(t, s, conversation.ChannelSMS, conversation.StatusActive)
		var sends atomic.Int32
		sms := senderFunc(func(ctx context.Context, m conversation.Message, to conversation.Address) (conversation.Sent, error) {
			sends.Add(1)
			return conversation.Sent{ProviderIDs: []string{"SM-" + string(m.ID)}}, nil
		})
		senders := map[conversation.Channel]Sender{conversation.ChannelSMS: sms}

		// The dead instance's part: in flight, stored, never sent.
		lost := conversation.Message{ID: conversation.NewMessageID(t0), ConversationID: c.ID, Channel: c.Channel, ChannelAccount: c.ChannelAccount,
			Direction: conversation.Outbound, Sender: "rm-pb-01", Text: "See you at 3pm.", Status: conversation.DeliveryQueued,
			CreatedAt: conversation.Millis(t0), UpdatedAt: conversation.Millis(t0)}
		if err := s.Enqueue(ctx, SendingQueue, conversation.ConversationID(lost.ID), float64(t0.Add(SendLease).UnixMilli())); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AppendMessage(ctx, lost); err != nil {
			t.Fatal(err)
		}
		// A message settled, its entry left behind.
		settled := lost
		settled.ID, settled.Text = conversation.NewMessageID(t0), "Already sent."
		if _, _, err := s.AppendMessage(ctx, settled); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.AdvanceMessage(ctx, settled.ID, conversation.DeliverySent, "", t0); err != nil {
			t.Fatal(err)
		}
		if err := s.Enqueue(ctx, SendingQueue, conversation.ConversationID(settled.ID), float64(t0.UnixMilli())); err != nil {
			t.Fatal(err)
		}

		o := New(s, senders, nil, func() time.Time { return t0 })
		if n, err := o.Recover(ctx, t0.Add(SendLease/2), nil); err != nil || n != 0 || sends.Load() != 0 {
			t.Fatalf("within the lease: %d sent (%d sends), %v", n, sends.Load(), err)
		}
		var mu sync.Mutex
		var reported []conversation.Message
		var wg sync.WaitGroup
		for range 4 { // four instances recover at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				other := New(s, senders, nil, func() time.Time { return t0 })
				if _, err := other.Recover(ctx, t0.Add(SendLease+time.Second), func(_ context.Context, m conversation.Message) {
					mu.Lock()
					reported = append(reported, m)
					mu.Unlock()
				}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if sends.Load() != 1 || len(reported) != 1 || reported[0].ID != lost.ID || reported[0].Status != conversation.DeliverySent {
			t.Fatalf("sent %d times, reported %+v; want the lost message sent once", sends.Load(), reported)
		}
		if got, err := s.Message(ctx, lost.ID); err != nil || got.Status != conversation.DeliverySent {
			t.Fatalf("lost message now %+v, %v", got, err)
		}
		if q, err := s.Queue(ctx, SendingQueue, 10); err != nil || len(q) != 0 {
			t.Fatalf("in flight after recovery: %v, %v", q, err)
		}

		if _, err := o.Send(ctx, c.ID, "rm-pb-01", "And a normal reply.", nil); err != nil {
			t.Fatal(err)
		}
		if q, err := s.Queue(ctx, SendingQueue, 10); err != nil || len(q) != 0 {
			t.Fatalf("in flight after a send: %v, %v", q, err)
		}
		if sends.Load() != 2 {
			t.Fatalf("%d sends, want 2", sends.Load())
		}
	})
}
