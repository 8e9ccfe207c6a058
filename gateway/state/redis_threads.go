package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
)

func (r *Redis) threadKey(key string) string { return r.prefix + "thread:" + key }
func (r *Redis) onceKey(key string) string   { return r.prefix + "once:" + key }

// claimThreadLua sets KEYS[1] to ARGV[2] if it holds ARGV[1] ("" for
// absent) and returns what it holds afterwards.
const claimThreadLua = `
local cur = redis.call('GET', KEYS[1]) or ''
if cur ~= ARGV[1] then
  return cur
end
redis.call('SET', KEYS[1], ARGV[2])
return ARGV[2]
`

var claimThreadScript = redis.NewScript(claimThreadLua)

// Thread returns the conversation key points at, or ErrNotFound.
func (r *Redis) Thread(ctx context.Context, key string) (conversation.ConversationID, error) {
	id, err := r.client.Get(ctx, r.threadKey(key)).Result()
	if err != nil {
		return "", redisErr("thread", err)
	}
	return conversation.ConversationID(id), nil
}

// ClaimThread points key at next if it points at prev, in one script (see
// Store).
func (r *Redis) ClaimThread(ctx context.Context, key string, prev, next conversation.ConversationID) (conversation.ConversationID, error) {
	if key == "" || next == "" {
		return "", fmt.Errorf("redis claim thread: %w: empty key or conversation", conversation.ErrInvalid)
	}
	res, err := claimThreadScript.Run(ctx, r.client, []string{r.threadKey(key)}, string(prev), string(next)).Text()
	if err != nil {
		return "", redisErr("claim thread", err)
	}
	return conversation.ConversationID(res), nil
}

// ClaimOnce is SET key 1 NX PX ttl (see Store).
func (r *Redis) ClaimOnce(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	if key == "" || ttl <= 0 {
		return false, fmt.Errorf("redis claim once: %w: needs a key and a ttl > 0", conversation.ErrInvalid)
	}
	err := r.client.SetArgs(ctx, r.onceKey(key), "1", redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, redisErr("claim once", err)
	}
	return true, nil
}

// ForgetOnce deletes a claim of ClaimOnce.
func (r *Redis) ForgetOnce(ctx context.Context, key string) error {
	return redisErr("forget once", r.client.Del(ctx, r.onceKey(key)).Err())
}

// BindProviderIDs indexes message id under each provider id with SET NX,
// in one pipeline (see Store).
func (r *Redis) BindProviderIDs(ctx context.Context, id conversation.MessageID, providerIDs []string) error {
	msg, err := r.Message(ctx, id)
	if err != nil {
		return err
	}
	for _, pid := range providerIDs {
		if pid == "" {
			return fmt.Errorf("redis bind provider ids of %s: %w: empty provider id", id, conversation.ErrInvalid)
		}
	}
	_, err = r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, pid := range providerIDs {
			key := conversation.Message{Channel: msg.Channel, ChannelAccount: msg.ChannelAccount, ProviderID: pid}.IdempotencyKey()
			p.SetNX(ctx, r.idemKey(key), string(id), 0)
		}
		return nil
	})
	return redisErr("bind provider ids of "+string(id), err)
}
