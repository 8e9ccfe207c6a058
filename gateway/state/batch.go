package state

import (
	"context"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Conversations implements Store: each id is read under its shard's lock;
// missing ids are skipped.
func (m *Memory) Conversations(_ context.Context, ids []conversation.ConversationID) ([]conversation.Conversation, error) {
	out := make([]conversation.Conversation, 0, len(ids))
	for _, id := range ids {
		sh := &m.convs[m.shard(string(id))]
		sh.mu.RLock()
		e, ok := sh.byID[id]
		if ok {
			out = append(out, cloneConversation(e.c))
		}
		sh.mu.RUnlock()
	}
	return out, nil
}

// Conversations implements Store with one pipeline of HGETs (one round
// trip); missing ids are skipped, a record that does not decode is an error.
func (r *Redis) Conversations(ctx context.Context, ids []conversation.ConversationID) ([]conversation.Conversation, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make([]*redis.StringCmd, len(ids))
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGet(ctx, r.convKey(id), "j")
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, redisErr("conversations", err)
	}
	out := make([]conversation.Conversation, 0, len(ids))
	for i, cmd := range cmds {
		data, err := cmd.Bytes()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			return nil, redisErr("conversation "+string(ids[i]), err)
		}
		c, err := decodeConversation(data)
		if err != nil {
			return nil, fmt.Errorf("conversation %s: %w", ids[i], err)
		}
		out = append(out, c)
	}
	return out, nil
}
