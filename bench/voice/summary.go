package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
)

// summarize prints, per target, the medians over runs (with their range)
// of the highest zero-failure call rate and of the most concurrent calls
// passing, and per rate or count the medians of CPU, loss and delay
// variation, with Airbranch's figures as ratios of the peer's.
func summarize(w io.Writer, targets []*target, cps []cpsResult, conc []concResult) {
	fmt.Fprintln(w, "\n== summary (medians over runs, [min..max]) ==")
	for _, t := range targets {
		byRun, runs := map[int]int{}, map[int]bool{}
		for _, r := range cps {
			if r.Target != t.name {
				continue
			}
			runs[r.Run] = true
			if r.ZeroFailed && r.Rate > byRun[r.Run] {
				byRun[r.Run] = r.Rate
			}
		}
		if len(runs) > 0 {
			fmt.Fprintf(w, "%-20s highest rate with zero failed calls: %s calls/s\n", t.name, medianRange(runValues(byRun, runs)))
		}
	}
	rates := map[int]bool{}
	for _, r := range cps {
		rates[r.Rate] = true
	}
	for _, rate := range sortedKeys(rates) {
		for _, t := range targets {
			var cpu, ach []float64
			ok, n := 0, 0
			for _, r := range cps {
				if r.Target == t.name && r.Rate == rate {
					n++
					cpu = append(cpu, r.CPUmsPerCall)
					ach = append(ach, r.AchievedCPS)
					if r.ZeroFailed {
						ok++
					}
				}
			}
			if n > 0 {
				fmt.Fprintf(w, "  cps %4d %-20s zero-failed %d/%d runs; achieved %s calls/s; signalling CPU %s ms/call\n", rate, t.name, ok, n, fmedian(ach), fmedian(cpu))
			}
		}
	}
	for _, t := range targets {
		byRun, runs := map[int]int{}, map[int]bool{}
		for _, r := range conc {
			if r.Target != t.name {
				continue
			}
			runs[r.Run] = true
			if r.Pass && r.Calls > byRun[r.Run] {
				byRun[r.Run] = r.Calls
			}
		}
		if len(runs) > 0 {
			fmt.Fprintf(w, "%-20s most concurrent calls passing (<1%% loss, <1%% failed): %s\n", t.name, medianRange(runValues(byRun, runs)))
		}
	}
	counts := map[int]bool{}
	for _, r := range conc {
		counts[r.Calls] = true
	}
	for _, n := range sortedKeys(counts) {
		for _, t := range targets {
			var loss, p99, cpu, sig []float64
			ok, runs := 0, 0
			for _, r := range conc {
				if r.Target == t.name && r.Calls == n {
					runs++
					loss = append(loss, r.Media.LossPct)
					p99 = append(p99, r.Media.P99DVms)
					cpu = append(cpu, r.RelayCPUPct)
					sig = append(sig, r.SigCPUPct)
					if r.Pass {
						ok++
					}
				}
			}
			if runs > 0 {
				fmt.Fprintf(w, "  conc %4d %-20s pass %d/%d; loss %s %%; p99 DV %s ms; relay CPU %s %%core/call; signalling CPU %s %%core/call\n",
					n, t.name, ok, runs, fmedian(loss), fmedian(p99), fmedian(cpu), fmedian(sig))
			}
		}
	}
}

// runValues lists, for every run in which target took part, the run's
// best value (0 when no step passed).
func runValues(best map[int]int, runs map[int]bool) []float64 {
	var out []float64
	for run := range runs {
		out = append(out, float64(best[run]))
	}
	return out
}

func sortedKeys(m map[int]bool) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func medianRange(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	return fmt.Sprintf("%g [%g..%g]", median(v), slices.Min(v), slices.Max(v))
}

func fmedian(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3g [%.3g..%.3g]", median(v), slices.Min(v), slices.Max(v))
}

// summarizeFile prints the summary of the JSON lines a run printed (its
// standard output), for a run stopped before its end or read again later.
func summarizeFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var cps []cpsResult
	var conc []concResult
	names := map[string]bool{}
	var targets []*target
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var kind struct {
			Kind   string `json:"kind"`
			Target string `json:"target"`
		}
		if json.Unmarshal(line, &kind) != nil {
			continue
		}
		switch kind.Kind {
		case "cps":
			var r cpsResult
			if json.Unmarshal(line, &r) == nil {
				cps = append(cps, r)
			}
		case "concurrent":
			var r concResult
			if json.Unmarshal(line, &r) == nil {
				conc = append(conc, r)
			}
		default:
			continue
		}
		if !names[kind.Target] {
			names[kind.Target] = true
			targets = append(targets, &target{name: kind.Target})
		}
	}
	summarize(w, targets, cps, conc)
	return sc.Err()
}
