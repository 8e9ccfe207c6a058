package state

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
)

var _ Instances = (*Redis)(nil)

// instancesKey is the sorted set of instance ids by lease end (Unix µs);
// holdingsKey(id) the set of conversation ids whose media id holds.
func (r *Redis) instancesKey() string           { return r.prefix + "instances" }
func (r *Redis) holdingsKey(inst string) string { return r.prefix + "holdings:" + inst }

// forgetInstanceLua: KEYS[1] instancesKey, KEYS[2] the instance's
// holdings set. ARGV: instance id, now (Unix µs). Removes the lease when
// it ended at or before now and the holdings set is empty; returns 1 when
// removed, 0 otherwise.
const forgetInstanceLua = `
local at = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not at or tonumber(at) > tonumber(ARGV[2]) then
  return 0
end
if redis.call('SCARD', KEYS[2]) > 0 then
  return 0
end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
`

// RenewInstance sets id's lease to end at expiresAt (ZADD).
func (r *Redis) RenewInstance(ctx context.Context, id string, expiresAt time.Time) error {
	if err := validateInstanceLease(id, expiresAt); err != nil {
		return fmt.Errorf("redis renew instance: %w", err)
	}
	err := r.client.ZAdd(ctx, r.instancesKey(), redis.Z{Score: float64(micros(expiresAt)), Member: id}).Err()
	return redisErr("renew instance "+id, err)
}

// LostInstances returns up to limit instances (all when limit <= 0) whose
// lease ended at or before now, earliest first, ties by id
// (ZRANGEBYSCORE).
func (r *Redis) LostInstances(ctx context.Context, now time.Time, limit int) ([]string, error) {
	by := &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(micros(now), 10)}
	if limit > 0 {
		by.Count = int64(limit)
	}
	ids, err := r.client.ZRangeByScore(ctx, r.instancesKey(), by).Result()
	if err != nil {
		return nil, redisErr("lost instances", err)
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

// AddHolding records that instance holds the media of id (SADD).
func (r *Redis) AddHolding(ctx context.Context, instance string, id conversation.ConversationID) error {
	if err := validateHolding(instance, id); err != nil {
		return fmt.Errorf("redis add holding: %w", err)
	}
	return redisErr("add holding "+string(id), r.client.SAdd(ctx, r.holdingsKey(instance), string(id)).Err())
}

// RemoveHolding removes a holding (SREM), reporting whether it was there.
func (r *Redis) RemoveHolding(ctx context.Context, instance string, id conversation.ConversationID) (bool, error) {
	n, err := r.client.SRem(ctx, r.holdingsKey(instance), string(id)).Result()
	if err != nil {
		return false, redisErr("remove holding "+string(id), err)
	}
	return n > 0, nil
}

// Holdings returns the conversations instance holds, by id (SMEMBERS).
func (r *Redis) Holdings(ctx context.Context, instance string) ([]conversation.ConversationID, error) {
	ids, err := r.client.SMembers(ctx, r.holdingsKey(instance)).Result()
	if err != nil {
		return nil, redisErr("holdings of "+instance, err)
	}
	out := make([]conversation.ConversationID, len(ids))
	for i, id := range ids {
		out[i] = conversation.ConversationID(id)
	}
	slices.Sort(out)
	return out, nil
}

// ForgetInstance removes instance's lease when it has ended at now and
// the instance holds nothing (one script, so a renewal or a holding in
// between keeps it).
func (r *Redis) ForgetInstance(ctx context.Context, instance string, now time.Time) (bool, error) {
	n, err := redis.NewScript(forgetInstanceLua).Run(ctx, r.client,
		[]string{r.instancesKey(), r.holdingsKey(instance)}, instance, micros(now)).Int()
	if err != nil {
		return false, redisErr("forget instance "+instance, err)
	}
	return n == 1, nil
}
