package state_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/state/statetest"
)

// benchRedisDefault is the Redis the benchmark uses when testRedisEnv is
// not set and it answers (db 15, keys under a unique prefix, removed after).
const benchRedisDefault = "redis://127.0.0.1:6379/15"

// redisParallelism is the RunParallel multiplier of the Redis benchmark:
// 8 × GOMAXPROCS goroutines, standing for concurrent requests of one
// gateway instance, each with its own pooled connection.
const redisParallelism = 8

// BenchmarkStore measures one inbound first contact: CreateConversation
// followed by AppendMessage of one message (with a provider id, so the
// idempotency key is written), from concurrent goroutines, and reports
// ops/s (one op = both calls).
func BenchmarkStore(b *testing.B) {
	b.Run("memory", func(b *testing.B) { benchCreateAppend(b, state.NewMemory(), 1) })
	b.Run("redis", func(b *testing.B) { benchCreateAppend(b, benchRedis(b), redisParallelism) })
}

// BenchmarkStoreSerial is BenchmarkStore from one goroutine: the latency
// bound, comparable with a single-connection redis-benchmark.
func BenchmarkStoreSerial(b *testing.B) {
	b.Run("memory", func(b *testing.B) { benchCreateAppend(b, state.NewMemory(), 0) })
	b.Run("redis", func(b *testing.B) { benchCreateAppend(b, benchRedis(b), 0) })
}

// benchRedis opens a store with OpenRedis (the production client
// settings) on the test Redis (testRedisEnv, else benchRedisDefault),
// skipping when the default does not answer. Its keys are removed after.
func benchRedis(b *testing.B) state.Store {
	b.Helper()
	url := benchRedisURL(b)
	opts, err := redis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	prefix := uniquePrefix()
	s, err := state.OpenRedis(context.Background(), state.RedisOptions{URL: url, KeyPrefix: prefix})
	if errors.Is(err, state.ErrUnavailable) && url == benchRedisDefault {
		b.Skipf("no Redis at %s and %s not set: %v", benchRedisDefault, testRedisEnv, err)
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = s.Close()
		statetest.PurgeRedis(b, opts, prefix)
	})
	return s
}

// benchRedisURL returns the URL of the benchmarks' Redis: testRedisEnv,
// else benchRedisDefault.
func benchRedisURL(b *testing.B) string {
	if opts := realRedisOptions(b); opts != nil {
		return os.Getenv(testRedisEnv)
	}
	return benchRedisDefault
}

// benchCreateAppend runs b.N create+append ops, serially when parallelism
// is 0, else with RunParallel at that multiplier.
func benchCreateAppend(b *testing.B, s state.Store, parallelism int) {
	ctx := context.Background()
	cust := conversation.Customer{ID: "cust-bench", Segment: conversation.SegmentMassAffluent, PreferredLanguage: "zh"}
	addr := conversation.Address{Kind: conversation.AddressWeChat, Value: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
	op := func() error {
		now := time.Now()
		c := conversation.New(cust, conversation.ChannelWeChat, addr, now)
		c.Status = conversation.StatusQueued
		c.TeamID = "team-mass-affluent"
		if _, err := s.CreateConversation(ctx, c); err != nil {
			return err
		}
		m := conversation.Message{
			ID:             conversation.NewMessageID(now),
			ConversationID: c.ID,
			Channel:        conversation.ChannelWeChat,
			ChannelAccount: "gh_bank",
			Direction:      conversation.Inbound,
			Sender:         string(cust.ID),
			Text:           "I would like to move my deposit to a wealth product.",
			ProviderID:     string(c.ID), // unique, as a WeChat MsgId is
			Status:         conversation.DeliveryDelivered,
			CreatedAt:      c.CreatedAt,
			UpdatedAt:      c.CreatedAt,
		}
		_, _, err := s.AppendMessage(ctx, m)
		return err
	}
	b.ReportAllocs()
	b.ResetTimer()
	if parallelism == 0 {
		for range b.N {
			if err := op(); err != nil {
				b.Fatal(err)
			}
		}
	} else {
		b.SetParallelism(parallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := op(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}
