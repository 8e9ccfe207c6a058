package wechat

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultKeyPrefix is the key prefix of the Redis stores when none is
// given: the gateway store's hash tag, so every key of the gateway sits in
// one Cluster slot.
const DefaultKeyPrefix = "{airbranch}"

// RedisWindows is Windows on Redis, shared by every instance. One hash per
// user, "<prefix>:wechat:win:<account>:<openid>", field = trigger, value =
// "<at ms>:<until ms>:<left>:<quota>"; the key expires with its last
// grant. Every write is one Lua script on that one key.
type RedisWindows struct {
	c      redis.UniversalClient
	prefix string
}

var _ Windows = (*RedisWindows)(nil)

// NewRedisWindows returns the Windows on c with keys under prefix
// (DefaultKeyPrefix when empty).
func NewRedisWindows(c redis.UniversalClient, prefix string) *RedisWindows {
	if prefix == "" {
		prefix = DefaultKeyPrefix
	}
	return &RedisWindows{c: c, prefix: prefix}
}

func (r *RedisWindows) key(account, openid string) string {
	return r.prefix + ":wechat:win:" + account + ":" + openid
}

// luaExpireLast (shared prologue): set the key's TTL to the last grant's
// end, relative to ARGV now (the caller's clock), plus one minute; delete
// the key when nothing is open.
const luaExpireLast = `
local function expire_last(key, now)
  local last = 0
  local all = redis.call('HGETALL', key)
  for i = 2, #all, 2 do
    local u = tonumber(string.match(all[i], '^%d+:(%d+):'))
    if u and u > last then last = u end
  end
  if last <= now then
    redis.call('DEL', key)
  else
    redis.call('PEXPIRE', key, string.format('%d', last - now + 60000))
  end
end
`

// grantScript: KEYS[1] user; ARGV trigger, at, until, quota, now, new
// ("1": a new interaction, which refills a grant of the same time).
var grantScript = redis.NewScript(luaExpireLast + `
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if cur then
  local at = tonumber(string.match(cur, '^(%d+):'))
  if at and (at > tonumber(ARGV[2]) or (at == tonumber(ARGV[2]) and ARGV[6] ~= '1')) then return 0 end
end
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local u = tonumber(string.match(all[i+1], '^%d+:(%d+):'))
  if u and u <= tonumber(ARGV[2]) then redis.call('HDEL', KEYS[1], all[i]) end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[3] .. ':' .. ARGV[4] .. ':' .. ARGV[4])
expire_last(KEYS[1], tonumber(ARGV[5]))
return 1
`)

// takeScript: KEYS[1] user; ARGV now. Returns {0, trigger}, {1} closed,
// {2} quota used.
var takeScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local all = redis.call('HGETALL', KEYS[1])
local best, bestu, live = nil, nil, false
for i = 1, #all, 2 do
  local at, u, rem, q = string.match(all[i+1], '^(%d+):(%d+):(%d+):(%d+)$')
  u = tonumber(u)
  if u and u > now then
    live = true
    if tonumber(rem) > 0 and (best == nil or u < bestu or (u == bestu and all[i] < all[best])) then
      best, bestu = i, u
    end
  end
end
if best == nil then
  if live then return {2} end
  return {1}
end
local at, u, rem, q = string.match(all[best+1], '^(%d+):(%d+):(%d+):(%d+)$')
redis.call('HSET', KEYS[1], all[best], at .. ':' .. u .. ':' .. string.format('%d', tonumber(rem) - 1) .. ':' .. q)
return {0, all[best]}
`)

// giveScript: KEYS[1] user; ARGV trigger, now.
var giveScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then return 0 end
local at, u, rem, q = string.match(cur, '^(%d+):(%d+):(%d+):(%d+)$')
if not at or tonumber(u) <= tonumber(ARGV[2]) or tonumber(rem) >= tonumber(q) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], at .. ':' .. u .. ':' .. string.format('%d', tonumber(rem) + 1) .. ':' .. q)
return 1
`)

// exhaustScript: KEYS[1] user.
var exhaustScript = redis.NewScript(`
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local at, u, rem, q = string.match(all[i+1], '^(%d+):(%d+):(%d+):(%d+)$')
  if at then redis.call('HSET', KEYS[1], all[i], at .. ':' .. u .. ':0:' .. q) end
end
return 1
`)

// Grant implements Windows.
func (r *RedisWindows) Grant(ctx context.Context, account, openid string, g Grant) error {
	if err := checkGrant(g); err != nil {
		return err
	}
	err := grantScript.Run(ctx, r.c, []string{r.key(account, openid)}, string(g.Trigger),
		g.At.UnixMilli(), g.Until.UnixMilli(), g.Quota, g.At.UnixMilli(), newFlag(g.New)).Err()
	if err != nil {
		return fmt.Errorf("wechat: window grant: %w", err)
	}
	return nil
}

// Take implements Windows.
func (r *RedisWindows) Take(ctx context.Context, account, openid string, now time.Time) (Trigger, error) {
	res, err := takeScript.Run(ctx, r.c, []string{r.key(account, openid)}, now.UnixMilli()).Slice()
	if err != nil {
		return "", fmt.Errorf("wechat: window take: %w", err)
	}
	code, _ := res[0].(int64)
	switch code {
	case 0:
		t, _ := res[1].(string)
		return Trigger(t), nil
	case 2:
		return "", ErrQuotaUsed
	}
	return "", ErrWindowClosed
}

// Give implements Windows.
func (r *RedisWindows) Give(ctx context.Context, account, openid string, t Trigger, now time.Time) error {
	if err := giveScript.Run(ctx, r.c, []string{r.key(account, openid)}, string(t), now.UnixMilli()).Err(); err != nil {
		return fmt.Errorf("wechat: window give: %w", err)
	}
	return nil
}

// Exhaust implements Windows.
func (r *RedisWindows) Exhaust(ctx context.Context, account, openid string) error {
	if err := exhaustScript.Run(ctx, r.c, []string{r.key(account, openid)}).Err(); err != nil {
		return fmt.Errorf("wechat: window exhaust: %w", err)
	}
	return nil
}

// Close implements Windows.
func (r *RedisWindows) Close(ctx context.Context, account, openid string) error {
	if err := r.c.Del(ctx, r.key(account, openid)).Err(); err != nil {
		return fmt.Errorf("wechat: window close: %w", err)
	}
	return nil
}

// Window implements Windows.
func (r *RedisWindows) Window(ctx context.Context, account, openid string, now time.Time) (bool, int, time.Time, error) {
	all, err := r.c.HGetAll(ctx, r.key(account, openid)).Result()
	if err != nil {
		return false, 0, time.Time{}, fmt.Errorf("wechat: window: %w", err)
	}
	grants := make(map[Trigger]grantState, len(all))
	for t, v := range all {
		if g, ok := parseGrantState(v); ok {
			grants[Trigger(t)] = g
		}
	}
	open, rem, closes := windowOf(grants, now)
	return open, rem, closes, nil
}

// parseGrantState reads "<at>:<until>:<left>:<quota>".
func parseGrantState(v string) (grantState, bool) {
	p := strings.Split(v, ":")
	if len(p) != 4 {
		return grantState{}, false
	}
	var n [4]int64
	for i, s := range p {
		x, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return grantState{}, false
		}
		n[i] = x
	}
	return grantState{at: n[0], until: n[1], rem: int(n[2]), quota: int(n[3])}, true
}

// newFlag is Grant.New as grantScript's argument.
func newFlag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
