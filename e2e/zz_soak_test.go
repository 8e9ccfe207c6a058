package e2e

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// The soak runs last (this file's name sorts last, and Go runs a
// package's tests file by file in name order).

// soakSample is one reading of both instances' process metrics.
type soakSample struct {
	at time.Duration // since the soak started
	// per instance (c.a, c.b): goroutines, resident memory and heap in
	// use, bytes
	goroutines, rss, heap [2]float64
}

// soakMetrics are the metric families sampled, with the flatness bound
// each must keep (see soakFlat).
var soakMetrics = []struct {
	name  string
	get   func(s soakSample, i int) float64
	ratio float64 // allowed growth of the median, as a fraction
	slack float64 // and in absolute units
}{
	{"go_goroutines", func(s soakSample, i int) float64 { return s.goroutines[i] }, 0.25, 20},
	{"go_memstats_heap_inuse_bytes", func(s soakSample, i int) float64 { return s.heap[i] }, 0.50, 4 << 20},
	{"process_resident_memory_bytes", func(s soakSample, i int) float64 { return s.rss[i] }, 0.50, 32 << 20},
}

// TestSoak runs the mixed traffic for AIRBRANCH_E2E_SOAK (default 10m;
// "0" skips), samples both instances' goroutines, resident memory and
// heap in use every 10 s, logs them as a table (also written to the file
// AIRBRANCH_E2E_SOAK_REPORT names, when set), and asserts that they stay
// flat: after a warm-up (the first 20 % of the samples), the median of
// the last 20 % is within a bound of the median of the 20 %–40 % window.
// The bounds: goroutines +25 % + 20 (a leak of one goroutine per
// conversation adds hundreds over the soak, while desks reconnecting and
// the HTTP server's idle connections move the count by a few), heap in
// use +50 % + 4 MiB (a leak of the conversations or messages handled
// grows it without bound; the collector's cycles move it by less), and
// resident memory +50 % + 32 MiB (looser: the runtime returns memory to
// the system lazily). Then the exactly-once checks of trafficCheck over
// everything the soak sent.
func TestSoak(t *testing.T) {
	c := need(t)
	length := 10 * time.Minute
	if v := os.Getenv("AIRBRANCH_E2E_SOAK"); v != "" {
		if v == "0" {
			t.Skip("soak: AIRBRANCH_E2E_SOAK=0")
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			t.Fatalf("AIRBRANCH_E2E_SOAK=%q: want a duration such as 10m, or 0", v)
		}
		length = d
	}
	desks := c.openTrafficDesks(t, 3*time.Second)
	tr := c.startTraffic(t, 5*time.Second)
	start := time.Now()
	var samples []soakSample
	sample := func() {
		s := soakSample{at: time.Since(start)}
		for i, in := range c.instances() {
			s.goroutines[i], _ = in.Metric("go_goroutines")
			s.rss[i], _ = in.Metric("process_resident_memory_bytes")
			s.heap[i], _ = in.Metric("go_memstats_heap_inuse_bytes")
		}
		samples = append(samples, s)
	}
	sample()
	tick := time.NewTicker(10 * time.Second)
	for time.Since(start) < length {
		<-tick.C
		sample()
	}
	tick.Stop()
	sum := trafficCheck(t, tr, desks)
	t.Logf("soak of %s: %s; provider statuses: %s", length, sum, statusTable(tr.Statuses()))
	table := soakTable(samples)
	t.Logf("soak samples:\n%s", table)
	if p := os.Getenv("AIRBRANCH_E2E_SOAK_REPORT"); p != "" {
		head := fmt.Sprintf("# Airbranch end-to-end soak, %s, %s\n# %s\n", time.Now().UTC().Format(time.RFC3339), length, sum)
		if err := os.WriteFile(p, []byte(head+table), 0o644); err != nil {
			t.Errorf("soak report: %v", err)
		}
	}
	for _, problem := range soakFlat(samples) {
		t.Error(problem)
	}
	for _, in := range c.instances() {
		if !in.Ready() {
			t.Errorf("instance %s not ready after the soak", in.name)
		}
	}
}

// soakTable formats the samples, one line each.
func soakTable(samples []soakSample) string {
	var b strings.Builder
	b.WriteString("     t  goroutines(a)  goroutines(b)  rss_MiB(a)  rss_MiB(b)  heap_MiB(a)  heap_MiB(b)\n")
	for _, s := range samples {
		fmt.Fprintf(&b, "%6.0fs %14.0f %14.0f %11.1f %11.1f %12.1f %12.1f\n", s.at.Seconds(),
			s.goroutines[0], s.goroutines[1], s.rss[0]/(1<<20), s.rss[1]/(1<<20), s.heap[0]/(1<<20), s.heap[1]/(1<<20))
	}
	return b.String()
}

// soakFlat returns a problem for each metric of each instance whose
// median over the last 20 % of the samples exceeds the bound over its
// median in the 20 %–40 % window; nil with fewer than 5 samples.
func soakFlat(samples []soakSample) []string {
	n := len(samples)
	if n < 5 {
		return nil
	}
	base := samples[n/5 : max(n*2/5, n/5+1)]
	last := samples[n-max(n/5, 1):]
	var problems []string
	for _, m := range soakMetrics {
		for i, name := range []string{"a", "b"} {
			b := soakMedian(base, func(s soakSample) float64 { return m.get(s, i) })
			l := soakMedian(last, func(s soakSample) float64 { return m.get(s, i) })
			if bound := b*(1+m.ratio) + m.slack; l > bound {
				problems = append(problems, fmt.Sprintf("instance %s: %s grew from a median of %.0f (samples %d–%d) to %.0f (last %d samples), over the bound %.0f (+%.0f%% + %.0f): a leak",
					name, m.name, b, n/5, n/5+len(base)-1, l, len(last), bound, m.ratio*100, m.slack))
			}
		}
	}
	return problems
}

func soakMedian(samples []soakSample, f func(soakSample) float64) float64 {
	v := make([]float64, len(samples))
	for i, s := range samples {
		v[i] = f(s)
	}
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
