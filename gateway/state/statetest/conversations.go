package statetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

func testCreateAndGet(t *testing.T, s state.Store) {
	ctx := t.Context()
	c := newConversation(1)
	c.Tags = []string{"vip"}
	c.Version = 7 // ignored: a new conversation gets version 1
	got, err := s.CreateConversation(ctx, c)
	must(t, "CreateConversation", err)
	want := c
	want.Tags = []string{"vip"}
	want.Version = 1
	equal(t, "created", got, want)

	// The store keeps its own copy: changing the caller's slices later
	// changes nothing stored.
	c.Tags[0] = "changed by caller"
	got.Tags[0] = "changed by caller"
	read, err := s.Conversation(ctx, c.ID)
	must(t, "Conversation", err)
	equal(t, "read", read, want)
	read.Participants[0].ID = "changed by reader"
	again, err := s.Conversation(ctx, c.ID)
	must(t, "Conversation", err)
	equal(t, "read again", again, want)
}

func testCreateDuplicate(t *testing.T, s state.Store) {
	ctx := t.Context()
	c := newConversation(1)
	first, err := s.CreateConversation(ctx, c)
	must(t, "CreateConversation", err)
	dup := c
	dup.Channel = conversation.ChannelWeChat
	_, err = s.CreateConversation(ctx, dup)
	wantErr(t, "second CreateConversation", err, state.ErrExists)
	read, err := s.Conversation(ctx, c.ID)
	must(t, "Conversation", err)
	equal(t, "stored after duplicate", read, first)
}

func testConversationNotFound(t *testing.T, s state.Store) {
	ctx := t.Context()
	missing := newConversation(1).ID
	_, err := s.Conversation(ctx, missing)
	wantErr(t, "Conversation", err, state.ErrNotFound, conversation.ErrNotFound)
	called := false
	_, err = s.UpdateConversation(ctx, missing, func(*conversation.Conversation) error { called = true; return nil })
	wantErr(t, "UpdateConversation", err, state.ErrNotFound, conversation.ErrNotFound)
	if called {
		t.Fatal("UpdateConversation called fn for a missing conversation")
	}
}

func testCreateInvalid(t *testing.T, s state.Store) {
	ctx := t.Context()
	tests := []struct {
		name   string
		change func(*conversation.Conversation)
	}{
		{"empty_id", func(c *conversation.Conversation) { c.ID = "" }},
		{"empty_customer", func(c *conversation.Conversation) { c.CustomerID = "" }},
		{"unknown_channel", func(c *conversation.Conversation) { c.Channel = "fax" }},
		{"unknown_status", func(c *conversation.Conversation) { c.Status = "parked" }},
		{"skill_level", func(c *conversation.Conversation) {
			c.Skills = []conversation.SkillRequirement{{Skill: "mortgage", MinLevel: 9}}
		}},
	}
	for i, tc := range tests {
		c := newConversation(i)
		tc.change(&c)
		_, err := s.CreateConversation(ctx, c)
		wantErr(t, tc.name, err, conversation.ErrInvalid)
		if c.ID != "" {
			_, err := s.Conversation(ctx, c.ID)
			wantErr(t, tc.name+": stored anyway", err, state.ErrNotFound)
		}
	}
}

func testUpdate(t *testing.T, s state.Store) {
	ctx := t.Context()
	c, err := s.CreateConversation(ctx, newConversation(1))
	must(t, "CreateConversation", err)
	for i, step := range []struct {
		to   conversation.Status
		team conversation.TeamID
	}{
		{conversation.StatusQueued, "team-affluent"},
		{conversation.StatusOffered, "team-affluent"},
		{conversation.StatusActive, "team-wealth"},
	} {
		got, err := s.UpdateConversation(ctx, c.ID, func(c *conversation.Conversation) error {
			c.TeamID = step.team
			return c.Transition(step.to, at(10+i))
		})
		must(t, fmt.Sprintf("update to %s", step.to), err)
		if got.Version != int64(i+2) || got.Status != step.to || got.TeamID != step.team {
			t.Fatalf("update %d: version %d status %s team %s, want %d %s %s", i, got.Version, got.Status, got.TeamID, i+2, step.to, step.team)
		}
		read, err := s.Conversation(ctx, c.ID)
		must(t, "Conversation", err)
		equal(t, "read after update", read, got)
	}
	read, err := s.Conversation(ctx, c.ID)
	must(t, "Conversation", err)
	if read.QueuedAt.IsZero() || read.AnsweredAt.IsZero() {
		t.Fatalf("timestamps set by Transition were not stored: %+v", read)
	}
}

func testUpdateAborts(t *testing.T, s state.Store) {
	ctx := t.Context()
	before, err := s.CreateConversation(ctx, newConversation(1))
	must(t, "CreateConversation", err)
	boom := errors.New("boom")
	tests := []struct {
		name   string
		fn     func(*conversation.Conversation) error
		target error
	}{
		{"fn_error", func(c *conversation.Conversation) error {
			c.Tags = append(c.Tags, "half-done")
			return boom
		}, boom},
		{"illegal_transition", func(c *conversation.Conversation) error {
			c.Tags = append(c.Tags, "half-done")
			return c.Transition(conversation.StatusWrapUp, at(5)) // new → wrap_up is not allowed
		}, conversation.ErrIllegalTransition},
		{"changed_id", func(c *conversation.Conversation) error {
			c.ID = "another-id"
			return nil
		}, conversation.ErrInvalid},
		{"invalid_result", func(c *conversation.Conversation) error {
			c.Channel = "fax"
			return nil
		}, conversation.ErrInvalid},
	}
	for _, tc := range tests {
		_, err := s.UpdateConversation(ctx, before.ID, tc.fn)
		wantErr(t, tc.name, err, tc.target)
		if tc.target == boom && err != boom {
			t.Fatalf("%s: fn's error came back as %v, want it as is", tc.name, err)
		}
		read, err := s.Conversation(ctx, before.ID)
		must(t, "Conversation", err)
		equal(t, tc.name+": stored record", read, before)
	}
	// The result is the caller's copy.
	got, err := s.UpdateConversation(ctx, before.ID, func(c *conversation.Conversation) error {
		c.Tags = append(c.Tags, "kept")
		return nil
	})
	must(t, "UpdateConversation", err)
	got.Tags[0] = "changed by caller"
	read, err := s.Conversation(ctx, before.ID)
	must(t, "Conversation", err)
	if !slices.Equal(read.Tags, []string{"kept"}) || read.Version != 2 {
		t.Fatalf("stored tags %v version %d, want [kept] 2", read.Tags, read.Version)
	}
}

func testUpdateConcurrent(t *testing.T, s state.Store) {
	ctx := t.Context()
	c, err := s.CreateConversation(ctx, newConversation(1))
	must(t, "CreateConversation", err)
	const writers = 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Go(func() {
			_, err := s.UpdateConversation(ctx, c.ID, func(c *conversation.Conversation) error {
				c.Tags = append(c.Tags, fmt.Sprintf("tag-%02d", i))
				return nil
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, "concurrent UpdateConversation", err)
	}
	read, err := s.Conversation(ctx, c.ID)
	must(t, "Conversation", err)
	distinct := len(slices.Compact(slices.Sorted(slices.Values(read.Tags))))
	if distinct != writers || len(read.Tags) != writers {
		t.Fatalf("got %d tags (%d distinct), want %d: %v", len(read.Tags), distinct, writers, read.Tags)
	}
	if read.Version != writers+1 {
		t.Fatalf("version %d, want %d", read.Version, writers+1)
	}
}
