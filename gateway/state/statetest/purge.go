package statetest

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// PurgeRedis removes every key starting with prefix from the Redis that
// opts names (SCAN + UNLINK in batches of 1,000), for test cleanup;
// failures are reported with t.Errorf.
func PurgeRedis(t testing.TB, opts *redis.Options, prefix string) {
	t.Helper()
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var batch []string
	flush := func() {
		if len(batch) > 0 {
			if err := c.Unlink(ctx, batch...).Err(); err != nil {
				t.Errorf("cleanup of %s: %v", prefix, err)
			}
			batch = batch[:0]
		}
	}
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			flush()
		}
	}
	flush()
	if err := iter.Err(); err != nil {
		t.Errorf("cleanup of %s: %v", prefix, err)
	}
}

// PurgeRedisURL is PurgeRedis for a redis:// URL.
func PurgeRedisURL(t testing.TB, url, prefix string) {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Errorf("cleanup of %s: %v", prefix, err)
		return
	}
	PurgeRedis(t, opts, prefix)
}
