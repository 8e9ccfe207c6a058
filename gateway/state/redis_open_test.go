package state_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

func TestRedisUnavailable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()

	_, err := state.OpenRedis(ctx, state.RedisOptions{URL: "redis://127.0.0.1:1/0", DialTimeout: 500 * time.Millisecond})
	if !errors.Is(err, state.ErrUnavailable) {
		t.Fatalf("OpenRedis on a closed port: %v, want ErrUnavailable", err)
	}

	s := state.NewRedis(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", DialTimeout: 500 * time.Millisecond, MaxRetries: -1, DialerRetries: 1}), "{abtest-down}")
	t.Cleanup(func() { _ = s.Close() })
	c := testConversation(time.Now())
	ops := []struct {
		name string
		run  func() error
	}{
		{"ping", func() error { return s.Ping(ctx) }},
		{"create_conversation", func() error { _, err := s.CreateConversation(ctx, c); return err }},
		{"conversation", func() error { _, err := s.Conversation(ctx, c.ID); return err }},
		{"append_message", func() error { _, _, err := s.AppendMessage(ctx, testMessage(c.ID, time.Now(), "p")); return err }},
		{"list", func() error { _, err := s.ListConversations(ctx, state.ConversationFilter{}); return err }},
	}
	for _, op := range ops {
		if err := op.run(); !errors.Is(err, state.ErrUnavailable) {
			t.Errorf("%s: %v, want ErrUnavailable", op.name, err)
		}
	}

	// A server that goes away after the store was opened.
	mr, opts := miniredisOptions(t)
	up, err := state.OpenRedis(ctx, state.RedisOptions{URL: "redis://" + opts.Addr, KeyPrefix: uniquePrefix()})
	if err != nil {
		t.Fatalf("OpenRedis on miniredis: %v", err)
	}
	t.Cleanup(func() { _ = up.Close() })
	if _, err := up.CreateConversation(ctx, c); err != nil {
		t.Fatal(err)
	}
	mr.Close()
	if _, err := up.Conversation(ctx, c.ID); !errors.Is(err, state.ErrUnavailable) {
		t.Fatalf("after the server stopped: %v, want ErrUnavailable", err)
	}
}

func TestOpenRedisOptions(t *testing.T) {
	t.Parallel()
	_, opts := miniredisOptions(t)
	ctx := t.Context()
	bad := []struct {
		name string
		o    state.RedisOptions
	}{
		{"nothing", state.RedisOptions{}},
		{"url_and_addrs", state.RedisOptions{URL: "redis://" + opts.Addr, Addrs: []string{opts.Addr}}},
		{"master_without_addrs", state.RedisOptions{URL: "redis://" + opts.Addr, MasterName: "mymaster"}},
		{"bad_scheme", state.RedisOptions{URL: "http://" + opts.Addr}},
		{"addr_without_port", state.RedisOptions{Addrs: []string{"127.0.0.1"}}},
		{"negative_timeout", state.RedisOptions{URL: "redis://" + opts.Addr, DialTimeout: -time.Second}},
		{"prefix_without_hash_tag", state.RedisOptions{URL: "redis://" + opts.Addr, KeyPrefix: "airbranch"}},
		{"empty_hash_tag", state.RedisOptions{URL: "redis://" + opts.Addr, KeyPrefix: "{}airbranch"}},
	}
	for _, tc := range bad {
		if _, err := state.OpenRedis(ctx, tc.o); !errors.Is(err, conversation.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tc.name, err)
		}
	}
	// The password of a bad URL never appears in the error.
	_, err := state.OpenRedis(ctx, state.RedisOptions{URL: "redis://user:s3cret@%zz"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("bad url error %v: want an error without the password", err)
	}

	good := []struct {
		name string
		o    state.RedisOptions
	}{
		{"url", state.RedisOptions{URL: "redis://" + opts.Addr + "/0"}},
		{"one_addr", state.RedisOptions{Addrs: []string{opts.Addr}, KeyPrefix: "{airbranch}:test"}},
	}
	for _, tc := range good {
		s, err := state.OpenRedis(ctx, tc.o)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := s.Ping(ctx); err != nil {
			t.Errorf("%s: Ping: %v", tc.name, err)
		}
		_ = s.Close()
	}
}
