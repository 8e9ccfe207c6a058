package statetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// testThreads checks thread keys: unset until claimed, a claim against
// the wrong previous value loses and reports the winner, and of many
// concurrent first claims exactly one wins.
func testThreads(t *testing.T, s state.Store) {
	ctx := t.Context()
	const key = "sms|+8695588|cust-1"
	if _, err := s.Thread(ctx, key); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("Thread of an unset key: got %v, want ErrNotFound", err)
	}
	got, err := s.ClaimThread(ctx, key, "", "conv-1")
	must(t, "ClaimThread", err)
	if got != "conv-1" {
		t.Fatalf("first claim: key points at %q, want conv-1", got)
	}
	if got, err = s.ClaimThread(ctx, key, "", "conv-2"); err != nil || got != "conv-1" {
		t.Fatalf("claim of a taken key: %q, %v; want conv-1 (the winner)", got, err)
	}
	if got, err = s.ClaimThread(ctx, key, "conv-1", "conv-3"); err != nil || got != "conv-3" {
		t.Fatalf("replacing claim: %q, %v; want conv-3", got, err)
	}
	if id, err := s.Thread(ctx, key); err != nil || id != "conv-3" {
		t.Fatalf("Thread: %q, %v; want conv-3", id, err)
	}
	if _, err := s.ClaimThread(ctx, "", "", "conv-1"); !errors.Is(err, conversation.ErrInvalid) {
		t.Fatalf("claim of an empty key: got %v, want ErrInvalid", err)
	}

	// Concurrent first claims: one winner, everyone told the same.
	const racers = 8
	var wg sync.WaitGroup
	results := make([]conversation.ConversationID, racers)
	for i := range racers {
		wg.Go(func() {
			id := conversation.ConversationID("racer-" + string(rune('a'+i)))
			got, err := s.ClaimThread(ctx, "race", "", id)
			if err != nil {
				t.Errorf("racer %d: %v", i, err)
			}
			results[i] = got
		})
	}
	wg.Wait()
	for _, r := range results {
		if r != results[0] {
			t.Fatalf("concurrent claims disagree on the winner: %v", results)
		}
	}
}

// testClaimOnce checks one-time claims: the first wins, repeats within
// the ttl lose, other keys are independent, and bad input is refused.
func testClaimOnce(t *testing.T, s state.Store) {
	ctx := t.Context()
	first, err := s.ClaimOnce(ctx, "wechat|gh_1|oUser|1700000000|subscribe", time.Hour)
	must(t, "ClaimOnce", err)
	again, err := s.ClaimOnce(ctx, "wechat|gh_1|oUser|1700000000|subscribe", time.Hour)
	must(t, "ClaimOnce again", err)
	other, err := s.ClaimOnce(ctx, "wechat|gh_1|oUser|1700000001|subscribe", time.Hour)
	must(t, "ClaimOnce other", err)
	if !first || again || !other {
		t.Fatalf("claims: first %v, repeat %v, other key %v; want true, false, true", first, again, other)
	}
	must(t, "ForgetOnce", s.ForgetOnce(ctx, "wechat|gh_1|oUser|1700000000|subscribe"))
	if retaken, err := s.ClaimOnce(ctx, "wechat|gh_1|oUser|1700000000|subscribe", time.Hour); err != nil || !retaken {
		t.Fatalf("claim after ForgetOnce: %v, %v; want true", retaken, err)
	}
	if _, err := s.ClaimOnce(ctx, "k", 0); !errors.Is(err, conversation.ErrInvalid) {
		t.Fatalf("zero ttl: got %v, want ErrInvalid", err)
	}
}

// testBindProviderIDs checks that an outbound message sent as several
// parts is found by each part's provider id, and that an id already
// bound stays with its first message.
func testBindProviderIDs(t *testing.T, s state.Store) {
	ctx := t.Context()
	conv := newConversation(1)
	out := newMessage(conv.ID, 1, "")
	_, _, err := s.AppendMessage(ctx, out)
	must(t, "AppendMessage", err)
	must(t, "BindProviderIDs", s.BindProviderIDs(ctx, out.ID, []string{"smsc-1", "smsc-2"}))
	for _, pid := range []string{"smsc-1", "smsc-2"} {
		got, err := s.MessageByProviderID(ctx, out.Channel, out.ChannelAccount, pid)
		must(t, "MessageByProviderID "+pid, err)
		if got.ID != out.ID {
			t.Fatalf("part %s finds message %s, want %s", pid, got.ID, out.ID)
		}
	}
	second := newMessage(conv.ID, 2, "")
	_, _, err = s.AppendMessage(ctx, second)
	must(t, "AppendMessage second", err)
	must(t, "BindProviderIDs second", s.BindProviderIDs(ctx, second.ID, []string{"smsc-2", "smsc-3"}))
	if got, _ := s.MessageByProviderID(ctx, out.Channel, out.ChannelAccount, "smsc-2"); got.ID != out.ID {
		t.Fatalf("a bound provider id moved to another message: %s", got.ID)
	}
	if err := s.BindProviderIDs(ctx, "no-such-message", []string{"x"}); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("bind on a missing message: got %v, want ErrNotFound", err)
	}
	if err := s.BindProviderIDs(ctx, out.ID, []string{""}); !errors.Is(err, conversation.ErrInvalid) {
		t.Fatalf("bind of an empty id: got %v, want ErrInvalid", err)
	}
}
