package state_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/state/statetest"
)

// claimBenchRMs is how many RMs the claim benchmark spreads claims over
// (the scale of the routing benchmark in BENCHMARKS.md); it is also the
// batch of conversations prepared, untimed, between timed runs.
const claimBenchRMs = 1000

// BenchmarkCommitClaim measures one routing claim from one goroutine: a
// Commit of statetest.ClaimTxn (compare-and-set queued → offered, the
// rm_available, capacity and no_live_offer guards, a holding, an offer
// lease, a dequeue, the RM's last-offer time, an offer event and a decision
// record of about 400 bytes) on a fresh queued conversation, building the
// Txn included. Claims go round 1,000 available RMs; between batches of
// 1,000 the holdings are released and the next conversations are created
// and queued with the timer stopped. It reports claims/s and the p50 and
// p99 latency of one claim in µs. One goroutine, so it compares with a
// single-connection redis-benchmark. On Redis it also reports the
// server's time per claim (server-µs: INFO commandstats of EVALSHA around
// each timed batch, counting only batches in which nobody else on the
// server ran EVALSHA).
func BenchmarkCommitClaim(b *testing.B) {
	b.Run("memory", func(b *testing.B) { benchClaims(b, state.NewMemory(), nil) })
	b.Run("redis", func(b *testing.B) {
		s := benchRedis(b)
		opts, err := redis.ParseURL(benchRedisURL(b))
		if err != nil {
			b.Fatal(err)
		}
		stats := redis.NewClient(opts)
		defer stats.Close()
		benchClaims(b, s, func() (int64, float64) { return evalshaStats(b, stats) })
	})
}

// evalshaStats returns the server's EVALSHA calls and their time in µs
// (INFO commandstats).
func evalshaStats(b *testing.B, c *redis.Client) (int64, float64) {
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_evalsha:")
		if !ok {
			continue
		}
		var calls int64
		var usec float64
		for f := range strings.SplitSeq(rest, ",") {
			if v, ok := strings.CutPrefix(f, "calls="); ok {
				calls, _ = strconv.ParseInt(v, 10, 64)
			}
			if v, ok := strings.CutPrefix(f, "usec="); ok {
				usec, _ = strconv.ParseFloat(v, 64)
			}
		}
		return calls, usec
	}
	return 0, 0
}

// BenchmarkCommitClaimParallel is BenchmarkCommitClaim from 8 ×
// GOMAXPROCS goroutines (several routers, or one router's concurrent
// commits): the throughput bound rather than the latency bound. All b.N
// conversations are created and queued before the timer starts, and
// holdings are not released, so the capacity guard is given a capacity
// that never binds (it still sums the RM's holdings: about b.N/1,000).
func BenchmarkCommitClaimParallel(b *testing.B) {
	b.Run("memory", func(b *testing.B) { benchClaimsParallel(b, state.NewMemory()) })
	b.Run("redis", func(b *testing.B) { benchClaimsParallel(b, benchRedis(b)) })
}

const claimBenchQueue = "team-mass-affluent"

// claimBenchRMIDs stores an available presence for claimBenchRMs RMs and
// returns their ids.
func claimBenchRMIDs(b *testing.B, s state.Store) []conversation.RMID {
	now := time.Now()
	rms := make([]conversation.RMID, claimBenchRMs)
	for i := range rms {
		rms[i] = conversation.RMID(fmt.Sprintf("rm-%04d", i))
		p := conversation.Presence{RMID: rms[i], State: conversation.PresenceAvailable, Since: now, ExpiresAt: now.Add(time.Hour)}
		if err := s.SetPresence(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
	return rms
}

// prepareClaims creates and queues n conversations (from 16 goroutines),
// after releasing the holdings in release.
func prepareClaims(b *testing.B, s state.Store, n int, release []state.Hold) []conversation.Conversation {
	ctx := context.Background()
	if len(release) > 0 {
		if err := s.Commit(ctx, state.Txn{Now: time.Now(), Releases: release}); err != nil {
			b.Fatal(err)
		}
	}
	cust := conversation.Customer{ID: "cust-bench", Segment: conversation.SegmentMassAffluent, PreferredLanguage: "zh"}
	addr := conversation.Address{Kind: conversation.AddressWeChat, Value: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
	convs := make([]conversation.Conversation, n)
	var wg sync.WaitGroup
	const workers = 16
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				c := conversation.New(cust, conversation.ChannelWeChat, addr, time.Now())
				c.Status, c.TeamID, c.QueuedAt = conversation.StatusQueued, claimBenchQueue, c.CreatedAt
				stored, err := s.CreateConversation(ctx, c)
				if err == nil {
					err = s.Enqueue(ctx, claimBenchQueue, c.ID, float64(c.CreatedAt.UnixMilli()))
				}
				if err != nil {
					b.Error(err)
					return
				}
				convs[i] = stored
			}
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return convs
}

func benchClaimsParallel(b *testing.B, s state.Store) {
	rms := claimBenchRMIDs(b, s)
	convs := prepareClaims(b, s, b.N, nil)
	var next atomic.Int64
	b.SetParallelism(redisParallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(next.Add(1) - 1)
			txn, err := statetest.ClaimTxn(convs[i], rms[i%len(rms)], claimBenchQueue, 25, 1<<30, 15*time.Second, time.Now())
			if err == nil {
				err = s.Commit(context.Background(), txn)
			}
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
}

func benchClaims(b *testing.B, s state.Store, stats func() (int64, float64)) {
	ctx := context.Background()
	const queue = claimBenchQueue
	rms := claimBenchRMIDs(b, s)
	lat := make([]time.Duration, 0, b.N)
	var held []state.Hold
	var serverClaims int64
	var serverUsec float64
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; {
		b.StopTimer()
		convs := prepareClaims(b, s, min(claimBenchRMs, b.N-done), held)
		held = held[:0]
		var calls0 int64
		var usec0 float64
		if stats != nil {
			calls0, usec0 = stats()
		}
		b.StartTimer()
		for i, c := range convs {
			start := time.Now()
			rm := rms[i%len(rms)]
			txn, err := statetest.ClaimTxn(c, rm, queue, 25, 100, 15*time.Second, start)
			if err != nil {
				b.Fatal(err)
			}
			if err := s.Commit(ctx, txn); err != nil {
				b.Fatal(err)
			}
			lat = append(lat, time.Since(start))
			held = append(held, state.Hold{RMID: rm, ConversationID: c.ID})
		}
		b.StopTimer()
		if stats != nil {
			if calls, usec := stats(); calls-calls0 == int64(len(convs)) {
				serverClaims += calls - calls0
				serverUsec += usec - usec0
			}
		}
		b.StartTimer()
		done += len(convs)
	}
	b.StopTimer()
	if serverClaims > 0 {
		b.ReportMetric(serverUsec/float64(serverClaims), "server-µs")
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "claims/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
