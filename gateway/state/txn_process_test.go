package state_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/state/statetest"
)

// Environment of a claim worker process (TestRedisClaimProcesses runs its
// own test binary again with these set).
const (
	claimWorkerEnv = "AIRBRANCH_CLAIM_WORKER" // the worker's number
	claimPrefixEnv = "AIRBRANCH_CLAIM_PREFIX" // the key prefix of the race
	claimStartEnv  = "AIRBRANCH_CLAIM_START"  // Unix ms at which workers start
	claimResult    = "claim-worker-result: "  // prefix of the worker's result line
)

// claimProcesses and claimGoroutines shape the race across processes.
const (
	claimProcesses  = 3
	claimGoroutines = 2
)

// TestRedisClaimProcesses races claimProcesses separate processes (this
// test binary run again in worker mode, claimGoroutines goroutines each)
// on one real Redis and one key prefix, then checks the invariants of the
// claim race: no RM over capacity, no conversation offered twice,
// holdings and offers consistent. It needs a real Redis.
func TestRedisClaimProcesses(t *testing.T) {
	if os.Getenv(claimWorkerEnv) != "" {
		runClaimWorker(t)
		return
	}
	t.Parallel()
	opts := realRedisOptions(t)
	if opts == nil {
		t.Skipf("%s not set: separate processes need a real Redis", testRedisEnv)
	}
	s, _ := redisOn(t, opts)
	c := statetest.SeedClaims(t, s, statetest.NewClaims(), 200)
	start := time.Now().Add(time.Second) // every worker is up and waiting by then
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	var wg sync.WaitGroup
	results := make([]statetest.RaceResult, claimProcesses)
	errs := make([]error, claimProcesses)
	for w := range claimProcesses {
		wg.Go(func() {
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRedisClaimProcesses$", "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(),
				claimWorkerEnv+"="+strconv.Itoa(w+1),
				claimPrefixEnv+"="+s.KeyPrefix(),
				claimStartEnv+"="+strconv.FormatInt(start.UnixMilli(), 10))
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				errs[w] = fmt.Errorf("worker %d: %w\n%s", w+1, err, out.String())
				return
			}
			results[w], errs[w] = parseClaimResult(out.Bytes())
		})
	}
	wg.Wait()
	total := 0
	for w := range claimProcesses {
		if errs[w] != nil {
			t.Fatal(errs[w])
		}
		t.Logf("worker %d: %d claims, %d version conflicts, guard refusals %v", w+1, results[w].Claims, results[w].Conflicts, results[w].Guards)
		total += results[w].Claims
	}
	statetest.CheckClaims(t, s, c, total)
}

func parseClaimResult(out []byte) (statetest.RaceResult, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), claimResult); ok {
			var r statetest.RaceResult
			err := json.Unmarshal([]byte(rest), &r)
			return r, err
		}
	}
	return statetest.RaceResult{}, fmt.Errorf("no result line in the worker's output:\n%s", out)
}

// runClaimWorker is the worker process: it waits for the start time,
// races on the prefix it was given, and prints its result. The parent
// seeds the store, checks it and removes the keys.
func runClaimWorker(t *testing.T) {
	opts := realRedisOptions(t)
	if opts == nil {
		t.Fatalf("worker without %s", testRedisEnv)
	}
	start, err := strconv.ParseInt(os.Getenv(claimStartEnv), 10, 64)
	if err != nil {
		t.Fatalf("%s: %v", claimStartEnv, err)
	}
	worker, err := strconv.Atoi(os.Getenv(claimWorkerEnv))
	if err != nil {
		t.Fatalf("%s: %v", claimWorkerEnv, err)
	}
	s := state.NewRedis(redis.NewClient(opts), os.Getenv(claimPrefixEnv))
	defer s.Close()
	time.Sleep(time.Until(time.UnixMilli(start)))
	res, err := statetest.RaceClaims(t.Context(), s, statetest.NewClaims(), claimGoroutines, uint64(time.Now().UnixNano())+uint64(worker))
	if err != nil {
		t.Fatalf("worker %d: %v", worker, err)
	}
	data, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("%s%s\n", claimResult, data)
}
