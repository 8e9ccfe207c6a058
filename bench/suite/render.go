package main

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strings"
	"text/template"
	"time"
)

// templateData is what BENCHMARKS.md.tmpl sees: the machine and the run
// as .M; the figures through the functions of templateFuncs.
type templateData struct {
	M machine
}

// templateFuncs are the functions the template uses. A figure is named by
// benchmark name (without the GOMAXPROCS suffix) and unit, as `go test
// -bench` prints them, or by a peer's label ("redis-benchmark SET",
// "requests/s"):
//
//	fig NAME UNIT            median (min–max) over the rounds, or "–"
//	med NAME UNIT            median alone
//	medv NAME UNIT           median as a number (NaN when not measured)
//	ratio N UNIT D UNIT      median (min–max) of the rounds' N / D
//	ratiov N UNIT D UNIT     that median as a number
//	verdict V OP TARGET      "met", "not met" or "not measured" for V OP TARGET (OP ">=" or "<=")
//	num V / r2 V             a number as fig renders it / with two decimals
//	div A B, mul A B         arithmetic on numbers
//	n NAME UNIT              how many values were measured
//	cmds ID                  the section's commands, one a line
//	status ID                "" or the line saying why the section has no figures, and its errors
//	skipped ID               why the section was not measured ("" when it was)
//	secs ID                  the section's wall time over all rounds
//	absent TOOL              whether TOOL is not on PATH
//	all                      every figure: .Name .Unit .Value (as fig) .N
func templateFuncs(res *results) template.FuncMap {
	return template.FuncMap{
		"fig":  func(name, unit string) string { return withRange(res.values(name, unit), formatNumber) },
		"med":  func(name, unit string) string { return formatNumber(median(res.values(name, unit))) },
		"medv": func(name, unit string) float64 { return median(res.values(name, unit)) },
		"ratio": func(n, nu, d, du string) string {
			return withRange(res.ratios(n, nu, d, du), formatRatio)
		},
		"ratiov":  func(n, nu, d, du string) float64 { return median(res.ratios(n, nu, d, du)) },
		"verdict": verdict,
		"num":     formatNumber,
		"r2":      formatRatio,
		"div":     func(a, b float64) float64 { return a / b },
		"mul":     func(a, b float64) float64 { return a * b },
		"n":       func(name, unit string) int { return len(res.values(name, unit)) },
		"cmds":    func(id string) string { return strings.Join(res.commands[id], "\n") },
		"skipped": func(id string) string { return res.skipped[id] },
		"status":  func(id string) string { return status(res, id) },
		"secs": func(id string) string {
			return (time.Duration(res.seconds[id]) * time.Second).Round(time.Second).String()
		},
		"absent": func(tool string) bool { _, err := exec.LookPath(tool); return err != nil },
		"all":    func() []figureRow { return allFigures(res) },
	}
}

// figureRow is one line of the appendix of every figure measured.
type figureRow struct {
	Name, Unit, Value string
	N                 int
}

// allFigures lists every figure of the run, sorted by name and unit.
func allFigures(res *results) []figureRow {
	res.mu.Lock()
	keys := make([]string, 0, len(res.figures))
	for k := range res.figures {
		keys = append(keys, k)
	}
	res.mu.Unlock()
	slices.Sort(keys)
	var rows []figureRow
	for _, k := range keys {
		name, unit, _ := strings.Cut(k, " | ")
		v := res.values(name, unit)
		rows = append(rows, figureRow{Name: name, Unit: unit, Value: withRange(v, formatNumber), N: len(v)})
	}
	return rows
}

// verdict compares v with target: "met" when v op target holds, "not met"
// when it does not, "not measured" when v is NaN.
func verdict(v float64, op string, target float64) (string, error) {
	if math.IsNaN(v) {
		return "not measured", nil
	}
	var ok bool
	switch op {
	case ">=":
		ok = v >= target
	case "<=":
		ok = v <= target
	default:
		return "", fmt.Errorf("verdict: operator %q, want >= or <=", op)
	}
	if ok {
		return "met", nil
	}
	return "not met", nil
}

// status is the paragraph that says why a section has no figures, and
// one paragraph per error of the rounds that failed; "" when neither.
func status(res *results, id string) string {
	var b strings.Builder
	if s := res.skipped[id]; s != "" {
		fmt.Fprintf(&b, "**%s%s.**\n\n", strings.ToUpper(s[:1]), s[1:])
	}
	for _, e := range res.errs[id] {
		fmt.Fprintf(&b, "**Error in this run:** `%s`\n\n", firstLineOf(e))
	}
	return b.String()
}

func firstLineOf(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return strings.ReplaceAll(l, "`", "'")
}

// render executes the template file at path with m and res.
func render(path string, m machine, res *results) ([]byte, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return renderText(string(src), m, res)
}

func renderText(src string, m machine, res *results) ([]byte, error) {
	t, err := template.New("BENCHMARKS.md").Funcs(templateFuncs(res)).Option("missingkey=error").Parse(src)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, templateData{M: m}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
