package sip

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
)

// RedisRegistrar is a Registrar in Redis, shared by every instance: one
// hash per RM at "<prefix>sip:reg:{<rm>}" whose fields are contact URIs and
// values JSON bindings; the key expires with its longest binding.
type RedisRegistrar struct {
	rdb    redis.UniversalClient
	prefix string
}

var _ Registrar = (*RedisRegistrar)(nil)

// NewRedisRegistrar returns a registrar on rdb (single node, Sentinel or
// Cluster) under the key prefix, e.g. "airbranch:".
func NewRedisRegistrar(rdb redis.UniversalClient, prefix string) *RedisRegistrar {
	return &RedisRegistrar{rdb: rdb, prefix: prefix}
}

func (r *RedisRegistrar) key(rm conversation.RMID) string {
	return r.prefix + "sip:reg:{" + string(rm) + "}"
}

// putScript sets a field and extends the key's TTL to the later of its
// current TTL and the new binding's, atomically.
var putScript = redis.NewScript(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1`)

// Put implements Registrar.
func (r *RedisRegistrar) Put(ctx context.Context, b Binding) error {
	data, err := json.Marshal(b)
	if err != nil {
		return fmt.Errorf("registrar: encode binding: %w", err)
	}
	// The key outlives the binding by a minute; Bindings filters by time.
	ttl := b.Expires.Sub(b.UpdatedAt) + time.Minute
	if err := putScript.Run(ctx, r.rdb, []string{r.key(b.RM)}, b.Contact, data, ttl.Milliseconds()).Err(); err != nil {
		return fmt.Errorf("registrar: put: %w", err)
	}
	return nil
}

// Remove implements Registrar.
func (r *RedisRegistrar) Remove(ctx context.Context, rm conversation.RMID, contact string) error {
	if err := r.rdb.HDel(ctx, r.key(rm), contact).Err(); err != nil {
		return fmt.Errorf("registrar: remove: %w", err)
	}
	return nil
}

// RemoveAll implements Registrar.
func (r *RedisRegistrar) RemoveAll(ctx context.Context, rm conversation.RMID) error {
	if err := r.rdb.Del(ctx, r.key(rm)).Err(); err != nil {
		return fmt.Errorf("registrar: remove all: %w", err)
	}
	return nil
}

// Bindings implements Registrar; expired fields are deleted as they are
// found.
func (r *RedisRegistrar) Bindings(ctx context.Context, rm conversation.RMID, now time.Time) ([]Binding, error) {
	all, err := r.rdb.HGetAll(ctx, r.key(rm)).Result()
	if err != nil {
		return nil, fmt.Errorf("registrar: bindings: %w", err)
	}
	var out []Binding
	var stale []string
	for contact, data := range all {
		var b Binding
		if err := json.Unmarshal([]byte(data), &b); err != nil || !b.Expires.After(now) {
			stale = append(stale, contact)
			continue
		}
		out = append(out, b)
	}
	if len(stale) > 0 {
		if err := r.rdb.HDel(ctx, r.key(rm), stale...).Err(); err != nil {
			return nil, fmt.Errorf("registrar: drop expired: %w", err)
		}
	}
	sortBindings(out)
	return out, nil
}
