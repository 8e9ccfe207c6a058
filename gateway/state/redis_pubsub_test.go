package state_test

import (
	"context"
	"crypto/rand"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/state/statetest"
)

// TestRedisSubscribeSurvivesRestart stops and restarts the server under
// a subscription: Notify fails while it is down, the subscription comes
// back by itself and says so with one notification (what was published
// meanwhile is lost), and later notifications arrive.
func TestRedisSubscribeSurvivesRestart(t *testing.T) {
	t.Parallel()
	mr, opts := miniredisOptions(t)
	opts.MaxRetries = -1
	s, _ := redisOn(t, opts)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch, err := s.Subscribe(ctx, "queue:team-1")
	if err != nil {
		t.Fatal(err)
	}
	mr.Close()
	if err := s.Notify(ctx, "queue:team-1"); !errors.Is(err, state.ErrUnavailable) {
		t.Fatalf("Notify while the server is down: %v, want ErrUnavailable", err)
	}
	if err := mr.Restart(); err != nil {
		t.Fatal(err)
	}
	statetest.WaitNotified(t, "re-subscribed after the restart", ch)
	if err := s.Notify(ctx, "queue:team-1"); err != nil {
		t.Fatal(err)
	}
	statetest.WaitNotified(t, "after the restart", ch)
	cancel()
	statetest.WaitClosed(t, "after cancel", ch)
}

// TestRedisSubscribeSurvivesKilledConnection kills the subscription's
// connection on the real Redis (CLIENT KILL of that one client, so other
// users of the server are not disturbed): the subscription comes back and
// says so, and later notifications arrive.
func TestRedisSubscribeSurvivesKilledConnection(t *testing.T) {
	t.Parallel()
	opts := realRedisOptions(t)
	if opts == nil {
		t.Skipf("%s not set: the restart is tested on miniredis only", testRedisEnv)
	}
	named := *opts
	named.ClientName = "abtest-sub-" + rand.Text()[:10]
	s, client := redisOn(t, &named)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ch, err := s.Subscribe(ctx, "queue:team-1")
	if err != nil {
		t.Fatal(err)
	}
	list, err := client.ClientList(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	killed := 0
	for line := range strings.SplitSeq(list, "\n") {
		if strings.Contains(line, " name="+named.ClientName+" ") && strings.Contains(line, " cmd=subscribe") {
			id := strings.TrimPrefix(strings.Fields(line)[0], "id=")
			if err := client.Do(ctx, "CLIENT", "KILL", "ID", id).Err(); err != nil {
				t.Fatal(err)
			}
			killed++
		}
	}
	if killed != 1 {
		t.Fatalf("found %d subscriber connections named %s, want 1:\n%s", killed, named.ClientName, list)
	}
	statetest.WaitNotified(t, "re-subscribed after the kill", ch)
	if err := s.Notify(ctx, "queue:team-1"); err != nil {
		t.Fatal(err)
	}
	statetest.WaitNotified(t, "after the kill", ch)
}

// TestSubscribeLeavesNoGoroutines subscribes several times on each store,
// ends the subscriptions and checks that the number of goroutines comes
// back to where it was (go-redis's own reader and health-check goroutines
// included). It does not run in parallel, so other tests' goroutines do
// not move the count.
func TestSubscribeLeavesNoGoroutines(t *testing.T) {
	_, opts := miniredisOptions(t)
	r, _ := redisOn(t, opts)
	stores := []struct {
		name string
		s    state.Store
	}{{"memory", state.NewMemory()}, {"redis", r}}
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			if err := st.s.Notify(t.Context(), "warm-up"); err != nil { // dial the pool first
				t.Fatal(err)
			}
			before := settledGoroutines(0)
			ctx, cancel := context.WithCancel(t.Context())
			var chans []<-chan struct{}
			for range 5 {
				ch, err := st.s.Subscribe(ctx, "queue:team-1")
				if err != nil {
					t.Fatal(err)
				}
				chans = append(chans, ch)
			}
			if err := st.s.Notify(t.Context(), "queue:team-1"); err != nil {
				t.Fatal(err)
			}
			for _, ch := range chans {
				statetest.WaitNotified(t, "subscriber", ch)
			}
			cancel()
			for _, ch := range chans {
				statetest.WaitClosed(t, "after cancel", ch)
			}
			if after := settledGoroutines(before); after > before {
				buf := make([]byte, 1<<16)
				t.Fatalf("%d goroutines before the subscriptions, %d after they ended:\n%s", before, after, buf[:runtime.Stack(buf, true)])
			}
		})
	}
}

// settledGoroutines waits up to 3 s for the goroutine count to drop to
// target (or, with target 0, to stop changing) and returns it.
func settledGoroutines(target int) int {
	n := runtime.NumGoroutine()
	for range 60 {
		time.Sleep(50 * time.Millisecond)
		m := runtime.NumGoroutine()
		if (target > 0 && m <= target) || (target == 0 && m == n) {
			return m
		}
		n = m
	}
	return n
}
