package state_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/state/statetest"
)

func TestRedisContract(t *testing.T) {
	t.Parallel()
	t.Run("miniredis", func(t *testing.T) {
		t.Parallel()
		statetest.Run(t, func(t *testing.T) state.Store {
			_, opts := miniredisOptions(t)
			s, _ := redisOn(t, opts)
			return s
		})
	})
	t.Run("real", func(t *testing.T) {
		t.Parallel()
		opts := realRedisOptions(t)
		if opts == nil {
			t.Skipf("%s not set: the contract ran on miniredis only", testRedisEnv)
		}
		statetest.Run(t, func(t *testing.T) state.Store {
			s, _ := redisOn(t, opts)
			return s
		})
	})
}

// testConversation returns a valid new conversation made at now.
func testConversation(now time.Time) conversation.Conversation {
	cust := conversation.Customer{ID: "cust-1", Segment: conversation.SegmentPrivate}
	return conversation.New(cust, conversation.ChannelWeChat, conversation.Address{Kind: conversation.AddressWeChat, Value: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}, now)
}

// testMessage returns a valid inbound message on conversation id.
func testMessage(id conversation.ConversationID, now time.Time, providerID string) conversation.Message {
	return conversation.Message{
		ID:             conversation.NewMessageID(now),
		ConversationID: id,
		Channel:        conversation.ChannelWeChat,
		ChannelAccount: "gh_bank",
		Direction:      conversation.Inbound,
		Sender:         "cust-1",
		Text:           "hello",
		ProviderID:     providerID,
		Status:         conversation.DeliveryDelivered,
		CreatedAt:      conversation.Millis(now),
		UpdatedAt:      conversation.Millis(now),
	}
}

func TestRedisRoundTrips(t *testing.T) {
	t.Parallel()
	s, client := newTestRedis(t)
	ctx := t.Context()
	counter := &commandCounter{}
	client.AddHook(counter)
	now := time.Now()

	// The first run loads the scripts (EVALSHA answered NOSCRIPT, then EVAL).
	c := testConversation(now)
	if _, err := s.CreateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.AppendMessage(ctx, testMessage(c.ID, now, "warm-up")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		run  func(c conversation.Conversation) error
	}{
		{"create_conversation", func(c conversation.Conversation) error {
			_, err := s.CreateConversation(ctx, c)
			return err
		}},
		{"append_message", func(c conversation.Conversation) error {
			_, _, err := s.AppendMessage(ctx, testMessage(c.ID, now, "MsgId-"+string(c.ID)))
			return err
		}},
		{"append_duplicate", func(c conversation.Conversation) error {
			_, created, err := s.AppendMessage(ctx, testMessage(c.ID, now, "MsgId-"+string(c.ID)))
			if created {
				return errors.New("duplicate stored")
			}
			return err
		}},
	}
	c = testConversation(now.Add(time.Millisecond))
	total := 0
	for _, tc := range tests {
		counter.n, counter.cmds = 0, nil
		if err := tc.run(c); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if counter.n != 1 {
			t.Errorf("%s took %d round trips %v, want 1", tc.name, counter.n, counter.cmds)
		}
		if tc.name != "append_duplicate" {
			total += counter.n
		}
	}
	if total > 2 {
		t.Errorf("create + append took %d round trips, want at most 2", total)
	}
}

func TestRedisReplayedScripts(t *testing.T) {
	t.Parallel()
	s, client := newTestRedis(t)
	client.AddHook(replayScripts{})
	ctx := t.Context()
	now := time.Now()

	c := testConversation(now)
	if _, err := s.CreateConversation(ctx, c); err != nil {
		t.Fatalf("replayed CreateConversation: %v, want the success it was", err)
	}
	got, err := s.UpdateConversation(ctx, c.ID, func(c *conversation.Conversation) error {
		c.Tags = append(c.Tags, "once")
		return nil
	})
	if err != nil {
		t.Fatalf("replayed UpdateConversation: %v", err)
	}
	if !slices.Equal(got.Tags, []string{"once"}) || got.Version != 2 {
		t.Fatalf("replayed update gave tags %v version %d, want [once] 2", got.Tags, got.Version)
	}
	m := testMessage(c.ID, now, "MsgId-1")
	if _, created, err := s.AppendMessage(ctx, m); err != nil || !created {
		t.Fatalf("replayed AppendMessage: created %v, %v; want created", created, err)
	}
	if _, created, err := s.AppendMessage(ctx, testMessage(c.ID, now, "MsgId-1")); err != nil || created {
		t.Fatalf("provider retry under replay: created %v, %v; want the first copy", created, err)
	}
	plain := testMessage(c.ID, now, "")
	if _, created, err := s.AppendMessage(ctx, plain); err != nil || !created {
		t.Fatalf("replayed AppendMessage without provider id: created %v, %v; want created", created, err)
	}
	if _, _, err := s.AppendMessage(ctx, plain); !errors.Is(err, state.ErrExists) {
		t.Fatalf("second append of one message id: %v, want ErrExists", err)
	}
	msgs, err := s.Messages(ctx, c.ID, 0)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("Messages: %d, %v; want 2", len(msgs), err)
	}
}

// TestRedisConflictAcrossInstances runs two stores (two gateway
// instances) on one Redis: a write by the other instance between the read
// and the compare-and-set makes the update re-read and re-apply fn.
func TestRedisConflictAcrossInstances(t *testing.T) {
	t.Parallel()
	opts := realRedisOptions(t)
	if opts == nil {
		_, opts = miniredisOptions(t)
	}
	prefix := uniquePrefix()
	t.Cleanup(func() { statetest.PurgeRedis(t, opts, prefix) })
	a := state.NewRedis(redis.NewClient(opts), prefix)
	b := state.NewRedis(redis.NewClient(opts), prefix)
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	ctx := t.Context()
	c, err := a.CreateConversation(ctx, testConversation(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	addTag := func(tag string) func(*conversation.Conversation) error {
		return func(c *conversation.Conversation) error {
			c.Tags = append(c.Tags, tag)
			return nil
		}
	}

	t.Run("one_conflict_then_success", func(t *testing.T) {
		calls := 0
		got, err := a.UpdateConversation(ctx, c.ID, func(conv *conversation.Conversation) error {
			calls++
			if calls == 1 {
				if _, err := b.UpdateConversation(ctx, c.ID, addTag("from-b")); err != nil {
					return err
				}
			}
			conv.Tags = append(conv.Tags, "from-a")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if calls != 2 || !slices.Equal(got.Tags, []string{"from-b", "from-a"}) || got.Version != 3 {
			t.Fatalf("fn ran %d times, tags %v, version %d; want 2, [from-b from-a], 3", calls, got.Tags, got.Version)
		}
	})

	t.Run("conflict_every_time", func(t *testing.T) {
		calls := 0
		_, err := a.UpdateConversation(ctx, c.ID, func(conv *conversation.Conversation) error {
			calls++
			if _, err := b.UpdateConversation(ctx, c.ID, addTag("b-wins")); err != nil {
				return err
			}
			conv.Tags = append(conv.Tags, "a-lost")
			return nil
		})
		if !errors.Is(err, state.ErrConflict) {
			t.Fatalf("got %v, want ErrConflict", err)
		}
		read, err := b.Conversation(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		// UpdateConversation documents 8 attempts.
		if calls != 8 || read.Version != int64(3+calls) || slices.Contains(read.Tags, "a-lost") {
			t.Fatalf("fn ran %d times, version %d, tags %v; want 8 attempts, every b write (version %d) and none of a's", calls, read.Version, read.Tags, 3+calls)
		}
	})
}

// TestRedisKeysShareTheHashTag checks that every key the store writes
// starts with its prefix, so all keys share the prefix's hash tag and one
// Cluster slot.
func TestRedisKeysShareTheHashTag(t *testing.T) {
	t.Parallel()
	mr, opts := miniredisOptions(t)
	s, _ := redisOn(t, opts)
	ctx := t.Context()
	now := time.Now()
	c := testConversation(now)
	c.TeamID, c.AssigneeID = "team-private", "rm-1"
	steps := []error{
		func() error { _, err := s.CreateConversation(ctx, c); return err }(),
		func() error { _, _, err := s.AppendMessage(ctx, testMessage(c.ID, now, "p1")); return err }(),
		s.AppendEvent(ctx, conversation.NewEvent(c.ID, conversation.EventNote, "rm-1", now)),
		s.SetPresence(ctx, conversation.Presence{RMID: "rm-1", State: conversation.PresenceAvailable, Since: now, ExpiresAt: now.Add(time.Minute)}),
		s.Enqueue(ctx, "team-private", c.ID, 1),
		s.CreateOffer(ctx, conversation.Offer{ID: conversation.NewOfferID(now), ConversationID: c.ID, RMID: "rm-1", Cost: 100, Attempt: 1, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}),
		func() error {
			_, _, err := s.CreateProspect(ctx, conversation.NewProspect(conversation.Address{Kind: conversation.AddressPhone, Value: "+8613800138000"}, now))
			return err
		}(),
		s.Commit(ctx, state.Txn{
			Now:       now,
			Holds:     []state.Hold{{RMID: "rm-2", ConversationID: c.ID, Cost: 25}},
			PutOffer:  &conversation.Offer{ID: conversation.NewOfferID(now.Add(time.Second)), ConversationID: "c-2", RMID: "rm-2", CreatedAt: now, ExpiresAt: now.Add(time.Minute)},
			Presences: []conversation.Presence{{RMID: "rm-2", State: conversation.PresenceAvailable, Since: now}},
			Decision:  &state.DecisionRecord{ConversationID: c.ID, At: now, Record: []byte(`{}`)},
			Wakes:     []state.Wake{{ConversationID: c.ID, At: now}},
			Cursors:   map[string]conversation.RMID{"team-private": "rm-2"},
		}),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	keys := mr.Keys()
	if len(keys) < 25 {
		t.Fatalf("only %d keys written: %v", len(keys), keys)
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, s.KeyPrefix()) {
			t.Errorf("key %q does not start with the prefix %q", k, s.KeyPrefix())
		}
	}
}

func TestRedisWaitingUpdateHonoursContext(t *testing.T) {
	t.Parallel()
	s, _ := newTestRedis(t)
	c, err := s.CreateConversation(t.Context(), testConversation(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	inside := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := s.UpdateConversation(context.Background(), c.ID, func(*conversation.Conversation) error {
			close(inside)
			<-release
			return nil
		})
		done <- err
	}()
	<-inside
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err = s.UpdateConversation(ctx, c.ID, func(*conversation.Conversation) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("update waiting behind another: %v, want the context's deadline", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("first update: %v", err)
	}
}

// TestRedisIndexesFollowChanges checks the index sets themselves: an
// update moves the conversation out of the sets of its old field values
// (ListConversations would also filter a stale entry out, so the contract
// suite alone cannot see a set that was left behind).
func TestRedisIndexesFollowChanges(t *testing.T) {
	t.Parallel()
	s, client := newTestRedis(t)
	ctx := t.Context()
	c := testConversation(time.Now())
	c.Status, c.TeamID = conversation.StatusQueued, "team-1"
	if _, err := s.CreateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateConversation(ctx, c.ID, func(c *conversation.Conversation) error {
		c.TeamID, c.AssigneeID = "team-2", "rm-9"
		if err := c.Escalate(conversation.ChannelVideo, c.Address, time.Now()); err != nil {
			return err
		}
		return c.Transition(conversation.StatusOffered, time.Now())
	}); err != nil {
		t.Fatal(err)
	}
	p := s.KeyPrefix()
	tests := []struct {
		set  string
		want bool
	}{
		{"cidx:all", true},
		{"cidx:status:queued", false},
		{"cidx:status:offered", true},
		{"cidx:team:team-1", false},
		{"cidx:team:team-2", true},
		{"cidx:channel:wechat", false},
		{"cidx:channel:video", true},
		{"cidx:assignee:rm-9", true},
		{"cidx:customer:cust-1", true},
	}
	for _, tc := range tests {
		_, err := client.ZScore(ctx, p+tc.set, string(c.ID)).Result()
		if in := err == nil; in != tc.want {
			t.Errorf("%s: member %v (%v), want %v", tc.set, in, err, tc.want)
		}
	}
}
