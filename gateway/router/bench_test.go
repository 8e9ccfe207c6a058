package router

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/state/statetest"
	"github.com/airbranch/airbranch/routing"
)

// timedStore measures the routing pass's commits: the latency of each
// CommitBatch (one EVALSHA on Redis) and the offers applied.
type timedStore struct {
	state.Store
	mu     sync.Mutex
	lats   []time.Duration
	offers int
}

func (s *timedStore) CommitBatch(ctx context.Context, txns []state.Txn) ([]error, error) {
	start := time.Now()
	errs, err := s.Store.CommitBatch(ctx, txns)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lats = append(s.lats, time.Since(start))
	for i, txn := range txns {
		if err == nil && errs[i] == nil && txn.PutOffer != nil {
			s.offers++
		}
	}
	return errs, err
}

// bigWorld is a directory of 1,000 RMs over the seven teams the default
// policies name, and 1,000 customers over the six segments (private-bank
// clients with own RMs and deputies).
func bigWorld(b *testing.B) *directory.Static {
	b.Helper()
	type teamSpec struct {
		id  conversation.TeamID
		seg conversation.Segment
		n   int
	}
	specs := []teamSpec{
		{"private_bank", conversation.SegmentPrivate, 100}, {"affluent", conversation.SegmentAffluent, 150},
		{"mass_affluent", conversation.SegmentMassAffluent, 150}, {"mass", conversation.SegmentMass, 300},
		{"small_business", conversation.SegmentSmallBusiness, 100}, {"retail_lending", conversation.SegmentRetailLending, 100},
		{"overflow", conversation.SegmentMass, 100},
	}
	var teams []conversation.Team
	var rms []conversation.RM
	bySeg := map[conversation.Segment][]conversation.RMID{}
	for _, sp := range specs {
		teams = append(teams, conversation.Team{ID: sp.id, Kind: conversation.TeamSegment, Segment: sp.seg, TimeZone: "Asia/Hong_Kong"})
		for i := 0; i < sp.n; i++ {
			id := conversation.RMID(fmt.Sprintf("rm-%s-%03d", sp.id, i))
			rms = append(rms, conversation.RM{ID: id, TeamID: sp.id, Capacity: 100, Languages: []string{"en", "zh", "yue"},
				Skills: map[string]int{"wealth": 1 + i%5, "mortgage": 3}, Licences: []conversation.Licence{{Name: "investment_advice"}}})
			if sp.id != "overflow" {
				bySeg[sp.seg] = append(bySeg[sp.seg], id)
			}
		}
	}
	var customers []conversation.Customer
	for i := 0; i < 1000; i++ {
		seg := conversation.Segments[i%len(conversation.Segments)]
		c := conversation.Customer{ID: conversation.CustomerID(fmt.Sprintf("cus-%04d", i)), Segment: seg,
			Verification: conversation.VerificationBasic, PreferredLanguage: "yue",
			Addresses: []conversation.Address{{Kind: conversation.AddressPhone, Value: fmt.Sprintf("+8525550%04d", i)}}}
		if seg == conversation.SegmentPrivate {
			pool := bySeg[seg]
			c.OwnRM, c.DeputyRM = pool[i%len(pool)], pool[(i+1)%len(pool)]
		}
		customers = append(customers, c)
	}
	d, err := directory.NewStatic(teams, rms, customers)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkEvaluate is one routing pass with 1,000 available RMs and
// 10,000 waiting web chats (cost 25, so 4,000 can be offered): read the
// queue and the conversations, build the snapshot, decide all 10,000 in
// serving order, commit each offer atomically and record each wait, in
// batches of passBatchSize Txns. It reports decisions/s over the pass,
// the p50/p99 latency of one batch (one EVALSHA on Redis), the batches'
// wall time per decision (commit-µs/decision: encoding, round trip and
// script) and on Redis the server's EVALSHA time per decision
// (server-µs/decision, from INFO commandstats: another client's scripts
// during the pass count too), for full decision records (every
// candidate) and compact ones (named RMs and the choice).
func BenchmarkEvaluate(b *testing.B) {
	for _, mode := range []routing.RecordMode{routing.RecordFull, routing.RecordCompact} {
		for _, backend := range []string{"memory", "redis"} {
			b.Run(backend+"/"+string(mode), func(b *testing.B) { benchEvaluate(b, backend, mode) })
		}
	}
}

func benchEvaluate(b *testing.B, backend string, mode routing.RecordMode) {
	dir := bigWorld(b)
	teams, _ := dir.Teams(context.Background())
	rms, _ := dir.RMs(context.Background())
	cfg := routing.DefaultConfig()
	cfg.Record = mode
	pol, err := routing.Compile(cfg, teams, rms)
	if err != nil {
		b.Fatal(err)
	}
	customers := make([]conversation.Customer, 0, 1000)
	for i := 0; i < 1000; i++ {
		c, _ := dir.Customer(context.Background(), conversation.CustomerID(fmt.Sprintf("cus-%04d", i)))
		customers = append(customers, c)
	}
	var decisions, offers int
	var elapsed, committing time.Duration
	var server int64 // µs of EVALSHA on the Redis server during the passes
	var lats []time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		var base state.Store = state.NewMemory()
		if backend == "redis" {
			base = benchRedis(b)
		}
		store := &timedStore{Store: base}
		clk := &clock{t: monday}
		r, err := New(Options{Store: store, Directory: dir, Customers: dir, Policies: pol, Now: clk.Now,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		for _, rm := range rms {
			if _, err := r.SetPresence(ctx, rm.ID, conversation.PresenceAvailable, "", 8*time.Hour); err != nil {
				b.Fatal(err)
			}
		}
		for j := 0; j < 10000; j++ {
			cust := customers[j%len(customers)]
			c := conversation.New(cust, conversation.ChannelWebChat, cust.Addresses[0], monday.Add(-time.Duration(10000-j)*10*time.Millisecond))
			_ = c.Transition(conversation.StatusQueued, c.CreatedAt)
			if _, err := base.CreateConversation(ctx, c); err != nil {
				b.Fatal(err)
			}
			if err := base.Enqueue(ctx, WaitingQueue, c.ID, float64(c.QueuedAt.UnixMilli())); err != nil {
				b.Fatal(err)
			}
		}
		evalBefore := evalshaMicros(ctx, base)
		b.StartTimer()
		start := time.Now()
		if err := r.Evaluate(ctx); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		b.StopTimer()
		server += evalshaMicros(ctx, base) - evalBefore
		decisions += 10000
		offers += store.offers
		lats = append(lats, store.lats...)
		for _, l := range store.lats {
			committing += l
		}
		_ = base.Close()
		b.StartTimer()
	}
	slices.Sort(lats)
	pct := func(p float64) float64 {
		if len(lats) == 0 {
			return 0
		}
		return float64(lats[int(p*float64(len(lats)-1))].Microseconds())
	}
	b.ReportMetric(float64(decisions)/elapsed.Seconds(), "decisions/s")
	b.ReportMetric(float64(offers)/float64(b.N), "offers/pass")
	b.ReportMetric(pct(0.50), "p50-batch-µs")
	b.ReportMetric(pct(0.99), "p99-batch-µs")
	b.ReportMetric(float64(committing.Microseconds())/float64(decisions), "commit-µs/decision")
	if backend == "redis" {
		b.ReportMetric(float64(server)/float64(decisions), "server-µs/decision")
	}
}

// evalshaMicros returns the server's total time in EVALSHA so far (INFO
// commandstats, µs), 0 for a store that is not Redis. The server is
// shared, so another client's scripts during a pass count too.
func evalshaMicros(ctx context.Context, s state.Store) int64 {
	rs, ok := s.(*state.Redis)
	if !ok {
		return 0
	}
	info, err := rs.Client().Info(ctx, "commandstats").Result()
	if err != nil {
		return 0
	}
	for line := range strings.Lines(info) {
		if rest, ok := strings.CutPrefix(line, "cmdstat_evalsha:"); ok {
			for field := range strings.SplitSeq(strings.TrimSpace(rest), ",") {
				if v, ok := strings.CutPrefix(field, "usec="); ok {
					n, _ := strconv.ParseInt(v, 10, 64)
					return n
				}
			}
		}
	}
	return 0
}

// benchRedis opens the Redis of AIRBRANCH_TEST_REDIS_URL (default db 15 of
// the local server) under a fresh key prefix, removed afterwards.
func benchRedis(b *testing.B) state.Store {
	b.Helper()
	url := os.Getenv("AIRBRANCH_TEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/15"
	}
	prefix := fmt.Sprintf("{abbench-%d}", time.Now().UnixNano())
	s, err := state.OpenRedis(context.Background(), state.RedisOptions{URL: url, KeyPrefix: prefix})
	if err != nil {
		b.Skipf("no Redis at %s: %v", url, err)
	}
	b.Cleanup(func() { statetest.PurgeRedisURL(b, url, prefix) })
	return s
}
