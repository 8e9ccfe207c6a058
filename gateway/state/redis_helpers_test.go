package state_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/state/statetest"
)

// testRedisEnv names the real Redis the tests use when it is set, e.g.
// redis://127.0.0.1:6379/15. Set but unreachable fails the tests.
const testRedisEnv = "AIRBRANCH_TEST_REDIS_URL"

// uniquePrefix returns a key prefix (a hash tag) no other test uses.
func uniquePrefix() string {
	return fmt.Sprintf("{abtest-%s}", rand.Text()[:12])
}

// realRedisOptions returns the options of the real test Redis, or nil
// when testRedisEnv is not set. It fails the test if the variable is set
// but the server does not answer.
func realRedisOptions(t testing.TB) *redis.Options {
	t.Helper()
	url := os.Getenv(testRedisEnv)
	if url == "" {
		return nil
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("%s: %v", testRedisEnv, err)
	}
	c := redis.NewClient(opts)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("%s is set but Redis does not answer: %v", testRedisEnv, err)
	}
	return opts
}

// redisOn returns a store with a unique prefix on the server opts names
// (its own client), closed and its keys removed at cleanup.
func redisOn(t testing.TB, opts *redis.Options) (*state.Redis, redis.UniversalClient) {
	t.Helper()
	prefix := uniquePrefix()
	t.Cleanup(func() { statetest.PurgeRedis(t, opts, prefix) })
	client := redis.NewClient(opts)
	s := state.NewRedis(client, prefix)
	t.Cleanup(func() { _ = s.Close() })
	return s, client
}

// miniredisOptions starts a miniredis for the test and returns options
// for it.
func miniredisOptions(t testing.TB) (*miniredis.Miniredis, *redis.Options) {
	t.Helper()
	mr := miniredis.RunT(t)
	return mr, &redis.Options{Addr: mr.Addr()}
}

// newTestRedis returns a store on the real test Redis when testRedisEnv
// is set, else on a fresh miniredis.
func newTestRedis(t testing.TB) (*state.Redis, redis.UniversalClient) {
	t.Helper()
	if opts := realRedisOptions(t); opts != nil {
		return redisOn(t, opts)
	}
	_, opts := miniredisOptions(t)
	return redisOn(t, opts)
}

// commandCounter is a go-redis hook counting round trips: each command
// and each pipeline sent.
type commandCounter struct {
	n    int
	cmds []string
}

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		c.n++
		c.cmds = append(c.cmds, cmd.Name())
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n++
		c.cmds = append(c.cmds, fmt.Sprintf("pipeline(%d)", len(cmds)))
		return next(ctx, cmds)
	}
}

// replayScripts is a go-redis hook that sends every script command twice,
// as a client does when it re-sends a command whose reply was lost; the
// caller sees the second reply.
type replayScripts struct{}

func (replayScripts) DialHook(next redis.DialHook) redis.DialHook { return next }

func (replayScripts) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if name := cmd.Name(); name == "evalsha" || name == "eval" {
			if err := next(ctx, cmd); err != nil {
				return err
			}
		}
		return next(ctx, cmd)
	}
}

func (replayScripts) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
