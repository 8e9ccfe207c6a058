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
	url := os.Getenv("AIRBRANCH_TEST_REDIS_URL")
	if url == "" {
		url = "redis://" + miniredis.RunT(t).Addr()
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "{" + tag + "-" + hex.EncodeToString(b[:]) + "}"
	s, err := state.OpenRedis(context.Background(), state.RedisOptions{URL: url, KeyPrefix: prefix})
	if err != nil {
		t.Fatalf("redis at %s: %v", url, err)
	}
	t.Cleanup(func() {
		_ = s.Close()
		PurgeRedisURL(t, url, prefix)
	})
	return s
}
