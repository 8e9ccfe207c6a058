package router

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/gateway/state"
)

// redisStore returns a Redis store under a key prefix of its own: on the
// real Redis named by AIRBRANCH_TEST_REDIS_URL (its keys removed after the
// test), else on a miniredis.
func redisStore(t *testing.T) state.Store {
	t.Helper()
	url := os.Getenv("AIRBRANCH_TEST_REDIS_URL")
	if url == "" {
		url = "redis://" + miniredis.RunT(t).Addr()
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "{abrt-" + hex.EncodeToString(b[:]) + "}"
	s, err := state.OpenRedis(context.Background(), state.RedisOptions{URL: url, KeyPrefix: prefix})
	if err != nil {
		t.Fatalf("redis at %s: %v", url, err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		purgeRedis(t, url, prefix)
	})
	return s
}

// purgeRedis removes every key under prefix from the Redis at url.
func purgeRedis(t testing.TB, url, prefix string) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		t.Error(err)
		return
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		c.Unlink(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("purging %s: %v", prefix, err)
	}
}
