package statetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// testStreamEvents checks an RM's stream: seqs from 1 in append order,
// resume after a seq, the limit, other RMs apart, trimming to the kept
// window with a Gap for a reader from before it, and bad input.
func testStreamEvents(t *testing.T, s state.Store) {
	ctx := t.Context()
	for i := 1; i <= 5; i++ {
		e, err := s.AppendStreamEvent(ctx, "rm:rm-a", "offer", fmt.Appendf(nil, `{"n":%d}`, i), at(i))
		must(t, "AppendStreamEvent", err)
		if e.Seq != int64(i) {
			t.Fatalf("event %d got seq %d", i, e.Seq)
		}
	}
	_, err := s.AppendStreamEvent(ctx, "rm:rm-b", "presence", nil, at(9))
	must(t, "AppendStreamEvent rm-b", err)

	page, err := s.StreamEvents(ctx, "rm:rm-a", 2, 2)
	must(t, "StreamEvents", err)
	if len(page.Items) != 2 || page.Items[0].Seq != 3 || page.Items[1].Seq != 4 || page.Gap || page.Last != 5 {
		t.Fatalf("after 2, limit 2: %+v", page)
	}
	if string(page.Items[0].Data) != `{"n":3}` || page.Items[0].Type != "offer" || !page.Items[0].At.Equal(at(3)) {
		t.Fatalf("event 3 read back as %+v", page.Items[0])
	}
	if page, _ = s.StreamEvents(ctx, "rm:rm-a", 5, 10); len(page.Items) != 0 || page.Gap {
		t.Fatalf("after the last: %+v, want nothing and no gap", page)
	}
	if page, _ = s.StreamEvents(ctx, "rm:rm-b", 0, 10); len(page.Items) != 1 || page.Items[0].Seq != 1 || page.Items[0].Data != nil {
		t.Fatalf("rm-b: %+v", page)
	}
	if page, _ = s.StreamEvents(ctx, "rm:rm-nobody", 0, 10); len(page.Items) != 0 || page.Gap || page.Last != 0 {
		t.Fatalf("an RM without events: %+v", page)
	}

	// Past the kept window: the oldest are trimmed and a reader from
	// before them is told of the gap.
	for i := 6; i <= state.MaxStreamEventsKept+10; i++ {
		_, err := s.AppendStreamEvent(ctx, "rm:rm-a", "message", nil, at(i))
		must(t, "AppendStreamEvent", err)
	}
	page, err = s.StreamEvents(ctx, "rm:rm-a", 0, 5)
	must(t, "StreamEvents after trimming", err)
	if !page.Gap || page.Items[0].Seq != 11 {
		t.Fatalf("reader from 0 after trimming: gap %v, first seq %d; want a gap and seq 11", page.Gap, page.Items[0].Seq)
	}
	if page, _ = s.StreamEvents(ctx, "rm:rm-a", 10, 5); page.Gap || page.Items[0].Seq != 11 {
		t.Fatalf("reader from 10: %+v, want no gap", page.Gap)
	}

	for name, call := range map[string]func() error{
		"empty stream": func() error { _, err := s.AppendStreamEvent(ctx, "", "offer", nil, at(1)); return err },
		"no type":      func() error { _, err := s.AppendStreamEvent(ctx, "rm:rm-a", "", nil, at(1)); return err },
		"not JSON":     func() error { _, err := s.AppendStreamEvent(ctx, "rm:rm-a", "offer", []byte("{"), at(1)); return err },
		"limit 0":      func() error { _, err := s.StreamEvents(ctx, "rm:rm-a", 0, 0); return err },
		"limit big":    func() error { _, err := s.StreamEvents(ctx, "rm:rm-a", 0, state.MaxStreamEventsKept+1); return err },
	} {
		if err := call(); !errors.Is(err, conversation.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// testBroadcast checks that payloads reach every listener of the topic,
// in order, and no listener of another topic.
func testBroadcast(t *testing.T, s state.Store) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	a, err := s.Listen(ctx, "desk")
	must(t, "Listen", err)
	b, err := s.Listen(ctx, "desk")
	must(t, "Listen", err)
	other, err := s.Listen(ctx, "supervisor")
	must(t, "Listen other", err)
	for _, p := range []string{"rm:rm-a", "rm:rm-b", "rm:rm-a"} {
		must(t, "Broadcast", s.Broadcast(ctx, "desk", p))
	}
	for name, ch := range map[string]<-chan string{"a": a, "b": b} {
		for _, want := range []string{"rm:rm-a", "rm:rm-b", "rm:rm-a"} {
			select {
			case got := <-ch:
				if got != want {
					t.Fatalf("listener %s got %q, want %q", name, got, want)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("listener %s: %q not delivered", name, want)
			}
		}
	}
	select {
	case got := <-other:
		t.Fatalf("a listener of another topic got %q", got)
	case <-time.After(50 * time.Millisecond):
	}
	if _, err := s.Listen(ctx, ""); !errors.Is(err, conversation.ErrInvalid) {
		t.Fatalf("Listen with an empty topic: %v", err)
	}
	cancel()
	select {
	case _, open := <-a:
		for open {
			_, open = <-a
		}
	case <-time.After(5 * time.Second):
		t.Fatal("listener channel not closed after its context ended")
	}
}
