package router

import (
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

func lostCall(c *conversation.Conversation, now time.Time) conversation.Event {
	ev := conversation.NewEvent(c.ID, conversation.EventChannel, "system", now)
	ev.Channel, ev.Detail = conversation.ChannelVoice, map[string]string{"event": "call_ended", "reason": ReasonInstanceLost}
	return ev
}

// countLost counts the call_ended events of the conversation's timeline.
func (f *fixture) countLost(t *testing.T, id conversation.ConversationID) int {
	t.Helper()
	evs, err := f.store.Events(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.Detail["event"] == "call_ended" {
			n++
		}
	}
	return n
}

// TestEndLost: a call lost with its instance ends once however many
// reapers race on it: offered → abandoned with the offer and its hold
// withdrawn; answered → wrap-up by its RM with the hold released; in
// wrap-up → left as it is.
func TestEndLost(t *testing.T) {
	t.Parallel()
	for name, mk := range stores(t) {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, mk(t))
			f.available(t, "rm-pb-01")
			race := func(id conversation.ConversationID) int {
				var wg sync.WaitGroup
				var mu sync.Mutex
				changed := 0
				for range 4 {
					wg.Go(func() {
						_, _, ok, err := f.r.EndLost(f.ctx, id, lostCall)
						if err != nil {
							t.Error(err)
						}
						if ok {
							mu.Lock()
							changed++
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				return changed
			}

			// Offered, then lost.
			c := f.open(t, "cus-pb-0001", conversation.ChannelVoice)
			f.evaluate(t)
			o, ok := f.offerOf(t, c.ID)
			if !ok || f.load(t, "rm-pb-01") == 0 {
				t.Fatalf("not offered: %+v load %d", o, f.load(t, "rm-pb-01"))
			}
			if n := race(c.ID); n != 1 {
				t.Fatalf("offered call ended by %d reapers, want 1", n)
			}
			if st := f.status(t, c.ID); st != conversation.StatusAbandoned {
				t.Fatalf("offered call lost: %s, want abandoned", st)
			}
			if _, ok := f.offerOf(t, c.ID); ok || f.load(t, "rm-pb-01") != 0 || f.countLost(t, c.ID) != 1 {
				t.Fatalf("after the loss: offer live %v, load %d, %d call_ended events", ok, f.load(t, "rm-pb-01"), f.countLost(t, c.ID))
			}
			if entries, _ := f.store.Queue(f.ctx, WaitingQueue, 0); len(entries) != 0 {
				t.Fatalf("queue after the loss: %v", entries)
			}

			// Answered, then lost.
			c = f.open(t, "cus-pb-0001", conversation.ChannelVoice)
			f.evaluate(t)
			o, _ = f.offerOf(t, c.ID)
			if _, err := f.r.Accept(f.ctx, o.ID, "rm-pb-01"); err != nil {
				t.Fatal(err)
			}
			if n := race(c.ID); n != 1 {
				t.Fatalf("answered call ended by %d reapers, want 1", n)
			}
			got, _ := f.store.Conversation(f.ctx, c.ID)
			if got.Status != conversation.StatusWrapUp || got.AssigneeID != "rm-pb-01" || f.load(t, "rm-pb-01") != 0 || f.countLost(t, c.ID) != 1 {
				t.Fatalf("answered call lost: %s by %s, load %d, %d call_ended events", got.Status, got.AssigneeID, f.load(t, "rm-pb-01"), f.countLost(t, c.ID))
			}
			// The RM closes it with a disposition as any wrap-up.
			if _, err := f.r.Close(f.ctx, c.ID, "rm-pb-01", "resolved"); err != nil {
				t.Fatal(err)
			}
			if _, _, ok, err := f.r.EndLost(f.ctx, c.ID, lostCall); ok || err != nil {
				t.Fatalf("EndLost of a closed conversation: changed %v, %v", ok, err)
			}
		})
	}
}
