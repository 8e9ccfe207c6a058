package smpp

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/sms"
)

// BenchmarkSubmit measures single-part submit_sm per second through Send,
// window 10, against the test SMSC on loopback (no throughput limit).
// RunParallel runs 4 × GOMAXPROCS senders: on 2 cores 8, fewer than the
// window, so the window is never full; BenchmarkSubmitWindow is the shape
// that fills it.
func BenchmarkSubmit(b *testing.B) {
	h := start(b, nil, func(c *Config) { c.Window = 10; c.Throughput = 1e9 })
	h.waitBound(b)
	m := sms.Outbound{Account: testAcct, To: testNumber, Text: "Your one-time code is 482913"}
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.p.Send(ctx(b), m); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "submits/s")
}

// BenchmarkSubmitWindow measures single-part submit_sm per second through
// the provider adapter (Send: suppression check, GSM-7 split and PDU,
// throughput limiter with no limit, window, matching of submit_sm_resp)
// against the test SMSC, with 32 concurrent senders, so that the window,
// not the senders, bounds what is in flight: window 10 (the issue's
// figure) beside window 1 (stop and wait) in the same run, with the SMSC
// answering at once on loopback and 5 ms after each submit_sm (an SMSC
// across a network). It reports the most submit_sm seen awaiting their
// resp at once (sampled every 100 µs), to show the window was full.
// 20,000 submits each at once, 5,000 with the delay; every one must be
// accepted and reach the SMSC. Run with -benchtime 1x.
func BenchmarkSubmitWindow(b *testing.B) {
	const senders = 32
	for _, delay := range []time.Duration{0, 5 * time.Millisecond} {
		n := 20000
		if delay > 0 {
			n = 5000
		}
		for _, window := range []int{1, 10} {
			if delay > 0 && window == 1 {
				n = 500 // about 200/s
			}
			b.Run(fmt.Sprintf("delay=%v/window=%d", delay, window), func(b *testing.B) {
				for range b.N {
					rate, inFlight := submitLoad(b, window, delay, n, senders)
					b.ReportMetric(rate, "submits/s")
					b.ReportMetric(float64(inFlight), "max-in-flight")
				}
			})
		}
	}
}

// submitLoad sends n single-part messages from senders goroutines through
// a provider with window against an SMSC answering after delay; it
// returns the submits per second and the most seen in flight.
func submitLoad(b *testing.B, window int, delay time.Duration, n, senders int) (float64, int64) {
	b.Helper()
	smsc := newSMSC(b)
	smsc.SetSubmitDelay(delay)
	h := start(b, smsc, func(c *Config) { c.Window = window; c.Throughput = 1e9 })
	h.waitBound(b)
	m := sms.Outbound{Account: testAcct, To: testNumber, Text: "Your one-time code is 482913"}
	var inFlight atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(100 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if l := int64(len(h.p.window)); l > inFlight.Load() {
					inFlight.Store(l)
				}
			}
		}
	}()
	var next atomic.Int64
	var wg sync.WaitGroup
	begin := time.Now()
	for range senders {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if _, err := h.p.Send(ctx(b), m); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(begin)
	close(stop)
	<-sampled
	if got := len(h.smsc.Submits()); got != n {
		b.Fatalf("the SMSC got %d submit_sm, want %d", got, n)
	}
	return float64(n) / elapsed.Seconds(), inFlight.Load()
}
