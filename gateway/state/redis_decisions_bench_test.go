package state_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/state/statetest"
	"github.com/airbranch/airbranch/routing"
)

// BenchmarkDecisionRecords measures storing the decision record of a
// waiting conversation as a routing pass does: a Txn of the record and a
// wake-up, 32 Txns per CommitBatch (one EVALSHA), over 320 conversations.
// Records: "full" has 300 candidates (a team's RMs, as in BENCHMARKS.md's
// routing pass), "compact" 3; "json" stores the record's AppendJSON bytes
// (DecisionRecord.Record: what every record cost before records were
// packed), "packed" the routing.Decision (DecisionRecord.Decision). It
// reports records/s from one goroutine, the stored bytes per record, and
// on Redis the server's EVALSHA time per record (server-µs; INFO
// commandstats, so another client's scripts in the same seconds count
// too).
func BenchmarkDecisionRecords(b *testing.B) {
	for _, tc := range []struct {
		name   string
		n      int
		packed bool
	}{
		{"json/full", 300, false}, {"packed/full", 300, true},
		{"json/compact", 3, false}, {"packed/compact", 3, true},
	} {
		b.Run("redis/"+tc.name, func(b *testing.B) {
			s := benchRedis(b)
			opts, err := redis.ParseURL(benchRedisURL(b))
			if err != nil {
				b.Fatal(err)
			}
			stats := redis.NewClient(opts)
			defer stats.Close()
			benchDecisionRecords(b, s.(*state.Redis), stats, tc.n, tc.packed)
		})
	}
}

func benchDecisionRecords(b *testing.B, s *state.Redis, stats *redis.Client, candidates int, packed bool) {
	ctx := b.Context()
	const convs, batch = 320, 32
	ds := make([]routing.Decision, convs)
	for i := range ds {
		ds[i] = statetest.FullDecision(conversation.ConversationID(fmt.Sprintf("conv-bench-%03d", i)), candidates, "rm-bench", uint64(i))
	}
	txns := make([]state.Txn, 0, batch)
	commit := func(from, round int) {
		txns = txns[:0]
		for i := from; i < from+batch; i++ {
			d := &ds[i%convs]
			rec := &state.DecisionRecord{ConversationID: d.ConversationID, At: d.At, Decision: d}
			if !packed {
				rec = &state.DecisionRecord{ConversationID: d.ConversationID, At: d.At, Record: d.AppendJSON(nil)}
			}
			txns = append(txns, state.Txn{Now: d.At, Decision: rec,
				Wakes: []state.Wake{{ConversationID: d.ConversationID, At: d.NextChange.Add(time.Duration(round) * time.Millisecond)}}})
		}
		errs, err := s.CommitBatch(ctx, txns)
		if err != nil {
			b.Fatal(err)
		}
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	commit(0, 0) // loads the script and stores the roster
	calls0, usec0 := evalshaStats(b, stats)
	n := 0
	b.ResetTimer()
	for b.Loop() {
		commit(n*batch, n)
		n++
	}
	b.StopTimer()
	calls1, usec1 := evalshaStats(b, stats)
	elem, err := s.Client().LIndex(ctx, s.KeyPrefix()+"decisions:"+string(ds[0].ConversationID), 0).Result()
	if err != nil {
		b.Fatal(err)
	}
	records := float64(n * batch)
	b.ReportMetric(records/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(len(elem)), "bytes/record")
	b.ReportMetric((usec1-usec0)/records, "server-µs/record")
	b.ReportMetric(float64(calls1-calls0)/float64(n), "evalsha/batch")
}
