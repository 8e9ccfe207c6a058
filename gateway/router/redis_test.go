package router

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/alicebob/miniredis/v2"

	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/state/statetest"
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
		statetest.PurgeRedisURL(t, url, prefix)
	})
	return s
}
