package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// sample is one measured value of a figure, from round Round (1-based) of
// the run.
type sample struct {
	Round int
	Value float64
}

// figureKey names a figure: a benchmark's name without the GOMAXPROCS
// suffix (or a peer's label, e.g. "redis-benchmark SET") and the unit it
// was reported in ("ops/s", "p99-µs", "requests/s").
func figureKey(name, unit string) string { return name + " | " + unit }

// results holds every sample of a run, by figure, and what each section
// ran: its commands, why it was skipped, its errors and its wall time.
// It is safe for concurrent use.
type results struct {
	mu       sync.Mutex
	figures  map[string][]sample
	commands map[string][]string // section id → commands, in order, each once
	skipped  map[string]string   // section id → reason
	errs     map[string][]string // section id → errors
	seconds  map[string]float64  // section id → wall seconds over all rounds
}

func newResults() *results {
	return &results{
		figures:  map[string][]sample{},
		commands: map[string][]string{},
		skipped:  map[string]string{},
		errs:     map[string][]string{},
		seconds:  map[string]float64{},
	}
}

// add records value of figure (name, unit) in round.
func (r *results) add(round int, name, unit string, value float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := figureKey(name, unit)
	r.figures[k] = append(r.figures[k], sample{round, value})
}

// command records cmd as run by section id (once, in first-run order).
func (r *results) command(id, cmd string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !slices.Contains(r.commands[id], cmd) {
		r.commands[id] = append(r.commands[id], cmd)
	}
}

func (r *results) fail(id string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs[id] = append(r.errs[id], err.Error())
}

// values returns the samples of a figure, in recording order.
func (r *results) values(name, unit string) []float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var v []float64
	for _, s := range r.figures[figureKey(name, unit)] {
		v = append(v, s.Value)
	}
	return v
}

// byRound returns the median of a figure's samples in each round that
// has any.
func (r *results) byRound(name, unit string) map[int]float64 {
	r.mu.Lock()
	per := map[int][]float64{}
	for _, s := range r.figures[figureKey(name, unit)] {
		per[s.Round] = append(per[s.Round], s.Value)
	}
	r.mu.Unlock()
	out := map[int]float64{}
	for round, v := range per {
		out[round] = median(v)
	}
	return out
}

// ratios returns, for every round in which both figures were measured,
// num's round median over den's round median: the same-run ratio.
func (r *results) ratios(numName, numUnit, denName, denUnit string) []float64 {
	num, den := r.byRound(numName, numUnit), r.byRound(denName, denUnit)
	var rounds []int
	for round := range num {
		if _, ok := den[round]; ok && den[round] != 0 {
			rounds = append(rounds, round)
		}
	}
	slices.Sort(rounds)
	var out []float64
	for _, round := range rounds {
		out = append(out, num[round]/den[round])
	}
	return out
}

// median returns the median of v (the mean of the middle two for an even
// count), or NaN for none.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// notMeasured is what a figure without samples renders as.
const notMeasured = "–"

// formatNumber renders v for a table: thousands separated and no decimals
// from 100 up and for whole numbers, then three significant digits (1.25,
// 12.5, 0.0125).
func formatNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return notMeasured
	}
	a := math.Abs(v)
	switch {
	case a >= 100 || v == math.Trunc(v):
		return groupThousands(strconv.FormatFloat(math.Round(v), 'f', 0, 64))
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a == 0:
		return "0"
	default:
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
}

// formatRatio renders a ratio with two decimals (three under 0.1).
func formatRatio(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return notMeasured
	case math.Abs(v) < 0.1 && v != 0:
		return strconv.FormatFloat(v, 'f', 3, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func groupThousands(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// withRange renders the median of v with the range of v in brackets when
// the values differ once formatted: "15,147 (14,272–15,916)".
func withRange(v []float64, format func(float64) string) string {
	if len(v) == 0 {
		return notMeasured
	}
	m := format(median(v))
	lo, hi := format(slices.Min(v)), format(slices.Max(v))
	if lo == hi {
		return m
	}
	return fmt.Sprintf("%s (%s–%s)", m, lo, hi)
}

func nan() float64         { return math.NaN() }
func isNaN(v float64) bool { return math.IsNaN(v) }
