package statetest

import (
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// testConversationsBatch: Conversations returns what exists, in the order
// asked, and skips missing ids.
func testConversationsBatch(t *testing.T, s state.Store) {
	ctx := t.Context()
	var ids []conversation.ConversationID
	for i := 0; i < 5; i++ {
		c := newConversation(i)
		if _, err := s.CreateConversation(ctx, c); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	ask := []conversation.ConversationID{ids[3], "missing-id", ids[0], ids[4]}
	got, err := s.Conversations(ctx, ask)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != ids[3] || got[1].ID != ids[0] || got[2].ID != ids[4] {
		t.Fatalf("Conversations(%v) = %d items", ask, len(got))
	}
	if none, err := s.Conversations(ctx, nil); err != nil || len(none) != 0 {
		t.Fatalf("Conversations(nil) = %v, %v", none, err)
	}
}
