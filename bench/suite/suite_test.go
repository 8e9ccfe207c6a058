package main

import (
	"math"
	"os"
	"strings"
	"testing"
)

func TestParseBenchOutput(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/airbranch/airbranch/gateway/state
cpu: AMD EPYC
BenchmarkStore/memory-2         	  200000	      8643 ns/op	    115709 ops/s	    1905 B/op	      10 allocs/op
BenchmarkStore/redis-2          	    2000	    144080 ns/op	      6941 ops/s
BenchmarkSubmitWindow/delay=5ms/window=10-2   	       1	 316749615 ns/op	        10.00 max-in-flight	      1612 submits/s
BenchmarkVideoVersusJanus/airbranch-2         	some log line the server wrote
       1	28145763132 ns/op	         0.5540 cpu_%/Mbit/s	        32.60 ttff_median_ms
    bench_test.go:80: a b.Log line: 12 ns/op
--- SKIP: BenchmarkVideoVersusJanus/janus
BenchmarkWeChatCallbacks-2      	       1	7520703847 ns/op	     14573 aes-bare-calls/s	         0.5680 aes-ratio
PASS
ok  	github.com/airbranch/airbranch/gateway/state	12.3s
`
	lines, err := parseBenchOutput(strings.NewReader(out), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name  string
		iters int
		unit  string
		value float64
	}{
		{"BenchmarkStore/memory", 200000, "ops/s", 115709},
		{"BenchmarkStore/redis", 2000, "ns/op", 144080},
		{"BenchmarkSubmitWindow/delay=5ms/window=10", 1, "max-in-flight", 10},
		{"BenchmarkVideoVersusJanus/airbranch", 1, "cpu_%/Mbit/s", 0.554},
		{"BenchmarkWeChatCallbacks", 1, "aes-bare-calls/s", 14573},
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines, want %d: %+v", len(lines), len(want), lines)
	}
	for i, w := range want {
		l := lines[i]
		if l.Name != w.name || l.Iterations != w.iters || l.Metrics[w.unit] != w.value {
			t.Errorf("line %d = %s %d %v, want %s %d %s=%v", i, l.Name, l.Iterations, l.Metrics, w.name, w.iters, w.unit, w.value)
		}
	}
	if got := lines[0].Metrics["allocs/op"]; got != 10 {
		t.Errorf("allocs/op = %v, want 10", got)
	}
}

func TestTrimProcs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		procs int
		want  string
	}{
		{"BenchmarkStore/redis-2", 2, "BenchmarkStore/redis"},
		{"BenchmarkStore/redis", 1, "BenchmarkStore/redis"},
		{"BenchmarkX/window=1-16", 16, "BenchmarkX/window=1"},
		{"BenchmarkX/window=1", 2, "BenchmarkX/window=1"},
	} {
		if got := trimProcs(tc.name, tc.procs); got != tc.want {
			t.Errorf("trimProcs(%q, %d) = %q, want %q", tc.name, tc.procs, got, tc.want)
		}
	}
}

func TestParseRedisBenchmark(t *testing.T) {
	for _, tc := range []struct {
		name     string
		out      string
		rps, p50 float64
		err      bool
	}{
		{"redis 7", "SET: rps=0.0 (overall: nan) avg_msec=nan (overall: nan)\rSET: 102580.41 requests per second, p50=0.007 msec                    \n", 102580.41, 7, false},
		{"evalsha", "evalsha abc 1 {abbench}:k v: 13810.00 requests per second, p50=0.071 msec\n", 13810, 71, false},
		{"no latency", "SET: 15746.00 requests per second\n", 15746, math.NaN(), false},
		{"nothing", "Could not connect to Redis at 127.0.0.1:1: Connection refused\n", 0, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rps, p50, err := parseRedisBenchmark(tc.out)
			if (err != nil) != tc.err {
				t.Fatalf("err = %v, want error %v", err, tc.err)
			}
			if tc.err {
				return
			}
			if math.Abs(rps-tc.rps) > 1e-6 || !(math.Abs(p50-tc.p50) < 1e-9 || math.IsNaN(p50) && math.IsNaN(tc.p50)) {
				t.Errorf("got %v, %v; want %v, %v", rps, p50, tc.rps, tc.p50)
			}
		})
	}
}

func TestMedianAndFormat(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median odd = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median even = %v", m)
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median of nothing is not NaN")
	}
	for v, want := range map[float64]string{
		15147.4: "15,147", 1234567: "1,234,567", 189: "189", 23: "23", 12.46: "12.5",
		4.2: "4.20", 0.554: "0.554", 0: "0", math.NaN(): notMeasured, -2500: "-2,500",
	} {
		if got := formatNumber(v); got != want {
			t.Errorf("formatNumber(%v) = %q, want %q", v, got, want)
		}
	}
	if got := withRange([]float64{14272, 15916, 15147}, formatNumber); got != "15,147 (14,272–15,916)" {
		t.Errorf("withRange = %q", got)
	}
	if got := withRange([]float64{0.55}, formatRatio); got != "0.55" {
		t.Errorf("withRange of one = %q", got)
	}
	if got := withRange(nil, formatRatio); got != notMeasured {
		t.Errorf("withRange of none = %q", got)
	}
}

func TestSameRoundRatios(t *testing.T) {
	r := newResults()
	// Round 1: SET before and after ours; round 2: ours only, no
	// baseline (no ratio); round 3: both.
	r.add(1, "store: redis-benchmark SET", "requests/s", 10000)
	r.add(1, "BenchmarkStore/redis", "ops/s", 5000)
	r.add(1, "store: redis-benchmark SET", "requests/s", 30000)
	r.add(2, "BenchmarkStore/redis", "ops/s", 9999)
	r.add(3, "store: redis-benchmark SET", "requests/s", 10000)
	r.add(3, "BenchmarkStore/redis", "ops/s", 4000)
	got := r.ratios("BenchmarkStore/redis", "ops/s", "store: redis-benchmark SET", "requests/s")
	want := []float64{5000.0 / 20000, 0.4}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("ratios = %v, want %v", got, want)
	}
	if v := r.values("BenchmarkStore/redis", "ops/s"); len(v) != 3 {
		t.Errorf("values = %v", v)
	}
}

func TestRender(t *testing.T) {
	r := newResults()
	for round, v := range []float64{100, 300, 200} {
		r.add(round+1, "BenchmarkA", "ops/s", v)
		r.add(round+1, "peer", "requests/s", 400)
	}
	r.command("a", "go test -c -o $BENCH/a.test ./a")
	r.skipped["voice"] = "not measured in this run: sipp absent"
	r.fail("a", errErr("round 2: exit status 1\nmore"))
	src := `{{.M.Nproc}} {{fig "BenchmarkA" "ops/s"}} | {{ratio "BenchmarkA" "ops/s" "peer" "requests/s"}} | ` +
		`{{verdict (ratiov "BenchmarkA" "ops/s" "peer" "requests/s") ">=" 0.5}} | {{verdict (medv "none" "x") "<=" 1}} | ` +
		`{{fig "none" "x"}}
{{cmds "a"}}
{{status "voice"}}{{status "a"}}{{range all}}{{.Name}}={{.Value}}/{{.N}};{{end}}`
	got, err := renderText(src, machine{Nproc: 2}, r)
	if err != nil {
		t.Fatal(err)
	}
	want := "2 200 (100–300) | 0.50 (0.25–0.75) | met | not measured | –\n" +
		"go test -c -o $BENCH/a.test ./a\n" +
		"**Not measured in this run: sipp absent.**\n\n" +
		"**Error in this run:** `round 2: exit status 1`\n\n" +
		"BenchmarkA=200 (100–300)/3;peer=400/3;"
	if string(got) != want {
		t.Errorf("render =\n%s\nwant\n%s", got, want)
	}
	if _, err := renderText(`{{verdict 1.0 "<" 2.0}}`, machine{}, r); err == nil {
		t.Error("verdict with an unknown operator did not fail")
	}
}

// TestTemplateRenders renders the repository's template with no figures:
// every function it calls exists and every figure renders as not measured.
func TestTemplateRenders(t *testing.T) {
	src, err := os.ReadFile("BENCHMARKS.md.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	r := newResults()
	for _, s := range sections() {
		r.skipped[s.ID] = "not measured in this run: test"
	}
	got, err := renderText(string(src), machine{Runs: 5}, r)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sections() {
		if !strings.Contains(string(got), "## "+s.Title+"\n") {
			t.Errorf("no section %q", s.Title)
		}
	}
	if strings.Contains(string(got), "<no value>") {
		t.Error("a field rendered as <no value>")
	}
}

type errErr string

func (e errErr) Error() string { return string(e) }

// TestVoiceLinesAsBenchVoiceWritesThem: the JSON lines bench/voice prints
// (copied from a run) are read into the best rate, the most concurrent
// calls passing and the per-count relay figures.
func TestVoiceLinesAsBenchVoiceWritesThem(t *testing.T) {
	out := `{"kind":"cps","target":"airbranch","run":1,"rate":50,"calls":150,"caller":{"created":150,"successful":150,"failed":0},"phone":{"created":150,"successful":150,"failed":0},"achieved_cps":50,"cpu_ms_per_call":24.000000000000004,"zero_failed":true,"load":"0.45 2.11 2.81"}
{"kind":"concurrent","target":"airbranch","run":1,"calls":100,"caller":{"created":100,"successful":100,"failed":0},"phone":{"created":100,"successful":100,"failed":0},"failed_calls":0,"media":{"streams":100,"received":25002,"expected":25002,"loss_pct":0,"p50_dv_ms":1.7788130044937134,"p99_dv_ms":5.192273020744324},"relay_cpu_pct_per_call":0.3719999999999999,"sig_cpu_pct_per_call":0.36999999999999994,"pass":true,"load":"0.32 1.98 2.75"}
`
	steps, err := parseVoice(strings.NewReader(out))
	if err != nil || len(steps) != 2 {
		t.Fatalf("parsed %d steps, %v", len(steps), err)
	}
	res := newResults()
	recordVoice(res, 0, steps)
	for _, want := range []struct {
		name, unit string
		value      float64
	}{
		{"voice airbranch", "calls/s", 50},
		{"voice airbranch", "concurrent", 100},
		{"voice airbranch conc=100", "relay-cpu-%/call", 0.372},
		{"voice airbranch conc=100", "p99-dv-ms", 5.19},
	} {
		found := false
		for k, samples := range res.figures {
			if strings.Contains(k, want.name) && strings.Contains(k, want.unit) && len(samples) == 1 &&
				samples[0].Value > want.value*0.99 && samples[0].Value < want.value*1.01 {
				found = true
			}
		}
		if !found {
			t.Errorf("no %s %s of %v in %v", want.name, want.unit, want.value, res.figures)
		}
	}
}
