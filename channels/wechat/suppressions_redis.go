package wechat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisSuppressions is Suppressions on Redis, shared by every instance:
// one hash per account, "<prefix>:wechat:optout:<account>", field = openid,
// value "1:<at ms>" (opted out) or "0:<at ms>".
type RedisSuppressions struct {
	c      redis.UniversalClient
	prefix string
}

var _ Suppressions = (*RedisSuppressions)(nil)

// NewRedisSuppressions returns the Suppressions on c with keys under
// prefix (DefaultKeyPrefix when empty).
func NewRedisSuppressions(c redis.UniversalClient, prefix string) *RedisSuppressions {
	if prefix == "" {
		prefix = DefaultKeyPrefix
	}
	return &RedisSuppressions{c: c, prefix: prefix}
}

func (r *RedisSuppressions) key(account string) string {
	return r.prefix + ":wechat:optout:" + account
}

// suppressScript: KEYS[1] account hash; ARGV openid, "0"/"1", at ms.
var suppressScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local at = tonumber(string.match(cur, '^%d:(%d+)$'))
  if at and at > tonumber(ARGV[3]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
return 1
`)

func (r *RedisSuppressions) set(ctx context.Context, account, openid, flag string, at time.Time) error {
	if err := suppressScript.Run(ctx, r.c, []string{r.key(account)}, openid, flag, at.UnixMilli()).Err(); err != nil {
		return fmt.Errorf("wechat: opt-out record: %w", err)
	}
	return nil
}

// Suppress implements Suppressions.
func (r *RedisSuppressions) Suppress(ctx context.Context, account, openid string, at time.Time) error {
	return r.set(ctx, account, openid, "1", at)
}

// Unsuppress implements Suppressions.
func (r *RedisSuppressions) Unsuppress(ctx context.Context, account, openid string, at time.Time) error {
	return r.set(ctx, account, openid, "0", at)
}

// Suppressed implements Suppressions.
func (r *RedisSuppressions) Suppressed(ctx context.Context, account, openid string) (bool, error) {
	v, err := r.c.HGet(ctx, r.key(account), openid).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("wechat: opt-out lookup: %w", err)
	}
	return strings.HasPrefix(v, "1:"), nil
}
