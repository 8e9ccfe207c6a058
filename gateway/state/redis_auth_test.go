package state_test

import (
	"context"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"

	"github.com/airbranch/airbranch/gateway/state"
)

// TestOpenRedisWithCredentials: servers given as addrs (the Sentinel and
// Cluster form) authenticate with the configured ACL user and password; a
// wrong password fails start-up.
func TestOpenRedisWithCredentials(t *testing.T) {
	t.Parallel()
	m := miniredis.RunT(t)
	m.RequireUserAuth("airbranch", "s3cret-pass")
	ctx := context.Background()
	s, err := state.OpenRedis(ctx, state.RedisOptions{Addrs: []string{m.Addr()}, Username: "airbranch", Password: "s3cret-pass"})
	if err != nil {
		t.Fatalf("with the right credentials: %v", err)
	}
	_ = s.Close()
	_, err = state.OpenRedis(ctx, state.RedisOptions{Addrs: []string{m.Addr()}, Username: "airbranch", Password: "wrong"})
	if err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Fatalf("with a wrong password: %v", err)
	}
	_, err = state.OpenRedis(ctx, state.RedisOptions{URL: "redis://" + m.Addr(), Password: "x"})
	if err == nil {
		t.Fatal("a URL together with a separate password was accepted")
	}
}
