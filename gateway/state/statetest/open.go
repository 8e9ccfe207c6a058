package statetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/alicebob/miniredis/v2"

	"github.com/airbranch/airbranch/gateway/state"
)

// OpenRedis returns a Redis store under a key prefix of its own (a hash
// tag starting with tag): on the real Redis that AIRBRANCH_TEST_REDIS_URL
// names, its keys removed after the test, else on a fresh miniredis. A
// configured Redis that cannot be reached fails the test.
func OpenRedis(t testing.TB, tag string) *state.Redis {
	t.Helper()
	return OpenRedisInstances(t, tag, 1)[0]
}

// OpenRedisInstances returns n Redis stores on one Redis and one key
// prefix, each with connections of its own, as n gateway instances have
// (see OpenRedis for the Redis used and the cleanup).
func OpenRedisInstances(t testing.TB, tag string, n int) []*state.Redis {
	t.Helper()
	url := os.Getenv("AIRBRANCH_TEST_REDIS_URL")
	if url == "" {
		url = "redis://" + miniredis.RunT(t).Addr()
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "{" + tag + "-" + hex.EncodeToString(b[:]) + "}"
	out := make([]*state.Redis, n)
	for i := range out {
		s, err := state.OpenRedis(context.Background(), state.RedisOptions{URL: url, KeyPrefix: prefix})
		if err != nil {
			t.Fatalf("redis at %s: %v", url, err)
		}
		out[i] = s
	}
	t.Cleanup(func() {
		for _, s := range out {
			_ = s.Close()
		}
		PurgeRedisURL(t, url, prefix)
	})
	return out
}
