package wechat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisCache is TokenStore, and silenceper's cache.Cache and
// cache.ContextCache, on a go-redis v9 client, so that every instance uses
// one access token. Keys are "<prefix>:<key>". The cache.Cache methods
// follow silenceper's semantics (errors read as "absent") and run with a
// 2-second timeout; the TokenStore methods return errors.
type RedisCache struct {
	c      redis.UniversalClient
	prefix string
}

var _ TokenStore = (*RedisCache)(nil)

// cacheOpTimeout bounds the context-free cache.Cache methods.
const cacheOpTimeout = 2 * time.Second

// NewRedisCache returns the cache on c with keys under prefix
// (DefaultKeyPrefix when empty).
func NewRedisCache(c redis.UniversalClient, prefix string) *RedisCache {
	if prefix == "" {
		prefix = DefaultKeyPrefix
	}
	return &RedisCache{c: c, prefix: prefix}
}

func (r *RedisCache) key(k string) string { return r.prefix + ":" + k }

// GetToken implements TokenStore.
func (r *RedisCache) GetToken(ctx context.Context, key string) (string, error) {
	v, err := r.c.Get(ctx, r.key(key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("wechat: token read: %w", err)
	}
	return v, nil
}

// SetToken implements TokenStore.
func (r *RedisCache) SetToken(ctx context.Context, key, token string, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("wechat: token ttl %s: must be > 0", ttl)
	}
	if err := r.c.Set(ctx, r.key(key), token, ttl).Err(); err != nil {
		return fmt.Errorf("wechat: token write: %w", err)
	}
	return nil
}

// unlockScript deletes KEYS[1] only if it still holds ARGV[1].
var unlockScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// TryLock implements TokenStore with SET NX PX and a random value; unlock
// deletes the key only while it holds that value.
func (r *RedisCache) TryLock(ctx context.Context, key string, ttl time.Duration) (func(), bool, error) {
	id := randomHex(16)
	k := r.key(key)
	ok, err := r.c.SetNX(ctx, k, id, ttl).Result()
	if err != nil {
		return nil, false, fmt.Errorf("wechat: token lock: %w", err)
	}
	if !ok {
		return nil, false, nil
	}
	return func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cacheOpTimeout)
		defer cancel()
		_ = unlockScript.Run(uctx, r.c, []string{k}, id).Err() // on failure the lock expires
	}, true, nil
}

// GetContext implements silenceper's cache.ContextCache: the value as a
// string, or nil when absent or unreadable.
func (r *RedisCache) GetContext(ctx context.Context, key string) any {
	v, err := r.c.Get(ctx, r.key(key)).Result()
	if err != nil {
		return nil
	}
	return v
}

// SetContext implements silenceper's cache.ContextCache: store val (a
// string, []byte or number, as go-redis encodes it) for timeout (0: no
// expiry).
func (r *RedisCache) SetContext(ctx context.Context, key string, val any, timeout time.Duration) error {
	return r.c.Set(ctx, r.key(key), val, max(timeout, 0)).Err()
}

// IsExistContext implements silenceper's cache.ContextCache.
func (r *RedisCache) IsExistContext(ctx context.Context, key string) bool {
	n, err := r.c.Exists(ctx, r.key(key)).Result()
	return err == nil && n > 0
}

// DeleteContext implements silenceper's cache.ContextCache.
func (r *RedisCache) DeleteContext(ctx context.Context, key string) error {
	return r.c.Del(ctx, r.key(key)).Err()
}

// Get implements silenceper's cache.Cache.
func (r *RedisCache) Get(key string) any {
	ctx, cancel := context.WithTimeout(context.Background(), cacheOpTimeout)
	defer cancel()
	return r.GetContext(ctx, key)
}

// Set implements silenceper's cache.Cache.
func (r *RedisCache) Set(key string, val any, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), cacheOpTimeout)
	defer cancel()
	return r.SetContext(ctx, key, val, timeout)
}

// IsExist implements silenceper's cache.Cache.
func (r *RedisCache) IsExist(key string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), cacheOpTimeout)
	defer cancel()
	return r.IsExistContext(ctx, key)
}

// Delete implements silenceper's cache.Cache.
func (r *RedisCache) Delete(key string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cacheOpTimeout)
	defer cancel()
	return r.DeleteContext(ctx, key)
}
