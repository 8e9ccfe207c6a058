package statetest

import (
	"context"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// notifyWait bounds how long a test waits for a notification or a close;
// generous, because a loaded CI machine is slow, and only reached on failure.
const notifyWait = 5 * time.Second

// WaitNotified fails the test unless ch delivers a notification within
// a few seconds.
func WaitNotified(t testing.TB, what string, ch <-chan struct{}) {
	t.Helper()
	select {
	case _, ok := <-ch:
		if !ok {
			t.Fatalf("%s: channel closed, want a notification", what)
		}
	case <-time.After(notifyWait):
		t.Fatalf("%s: no notification within %s", what, notifyWait)
	}
}

// WaitClosed fails the test unless ch is closed within a few seconds
// (pending notifications are drained on the way).
func WaitClosed(t testing.TB, what string, ch <-chan struct{}) {
	t.Helper()
	deadline := time.After(notifyWait)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatalf("%s: channel not closed within %s", what, notifyWait)
		}
	}
}

func testNotify(t *testing.T, s state.Store) {
	ctx := t.Context()
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	queue, err := s.Subscribe(subCtx, "queue:team-a")
	must(t, "Subscribe", err)
	other, err := s.Subscribe(subCtx, "queue:team-b")
	must(t, "Subscribe", err)
	second, err := s.Subscribe(subCtx, "queue:team-a")
	must(t, "Subscribe", err)
	if cap(queue) != 1 {
		t.Fatalf("subscription buffer %d, want 1", cap(queue))
	}

	must(t, "Notify", s.Notify(ctx, "queue:team-a"))
	WaitNotified(t, "first subscriber", queue)
	WaitNotified(t, "second subscriber of the topic", second)
	must(t, "Notify without subscribers", s.Notify(ctx, "rm:nobody"))

	// Coalescing: many notifications while nobody reads leave one pending
	// (and a forwarder never blocks on a slow subscriber).
	for range 100 {
		must(t, "Notify", s.Notify(ctx, "queue:team-a"))
	}
	WaitNotified(t, "after a burst", queue)
	time.Sleep(100 * time.Millisecond) // let the rest of the burst reach the subscription
	extra := 0
	for drained := false; !drained; {
		select {
		case <-queue:
			extra++
		default:
			drained = true
		}
	}
	if extra > 2 {
		t.Fatalf("%d more notifications after reading one of a burst of 100, want them coalesced", extra)
	}
	must(t, "Notify after the burst", s.Notify(ctx, "queue:team-a"))
	WaitNotified(t, "after the burst", queue)

	select {
	case <-other:
		t.Fatal("a subscriber of another topic was notified")
	default:
	}

	cancel()
	WaitClosed(t, "after cancel", queue)
	WaitClosed(t, "after cancel", other)
	WaitClosed(t, "after cancel", second)
	must(t, "Notify after every subscriber left", s.Notify(ctx, "queue:team-a"))

	_, err = s.Subscribe(ctx, "")
	wantErr(t, "Subscribe to an empty topic", err, conversation.ErrInvalid)
	wantErr(t, "Notify an empty topic", s.Notify(ctx, ""), conversation.ErrInvalid)
	done, stop := context.WithCancel(ctx)
	stop()
	_, err = s.Subscribe(done, "queue:team-a")
	wantErr(t, "Subscribe with an ended context", err, context.Canceled)
}
