package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// benchLine is one result line of `go test -bench`: the benchmark's name
// without the GOMAXPROCS suffix, its iterations, and each value with its
// unit ("ns/op", "B/op", "allocs/op" and every b.ReportMetric unit).
type benchLine struct {
	Name       string
	Iterations int
	Metrics    map[string]float64
}

// benchNameRE matches a benchmark name at the start of a line.
var benchNameRE = regexp.MustCompile(`^(Benchmark\S+)`)

// resultRE matches the results part of a line: iterations, then
// value-unit pairs, the first of them ns/op (as testing prints it).
var resultRE = regexp.MustCompile(`^\s*(\d+)\s+([-+0-9.eE]+ ns/op.*)$`)

// parseBenchOutput reads `go test -bench` output (the standard format of
// golang.org/x/perf's benchfmt: "BenchmarkName-N  iters  v unit  v unit…")
// and returns its result lines in order. procs is GOMAXPROCS of the run:
// the "-procs" suffix testing adds to names when it is not 1 is removed.
// A name printed before a benchmark ran and its results printed after
// other output (a benchmark that writes to stdout) are joined.
func parseBenchOutput(r io.Reader, procs int) ([]benchLine, error) {
	var out []benchLine
	pending := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		rest := line
		if m := benchNameRE.FindStringSubmatch(line); m != nil {
			pending = m[1]
			rest = line[len(m[1]):]
		}
		if pending == "" {
			continue
		}
		m := resultRE.FindStringSubmatch(rest)
		if m == nil {
			continue
		}
		iters, err := strconv.Atoi(m[1])
		if err != nil {
			return nil, fmt.Errorf("iterations of %s: %w", pending, err)
		}
		bl := benchLine{Name: trimProcs(pending, procs), Iterations: iters, Metrics: map[string]float64{}}
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("value %q of %s: %w", fields[i], pending, err)
			}
			bl.Metrics[fields[i+1]] = v
		}
		out = append(out, bl)
		pending = ""
	}
	return out, sc.Err()
}

// trimProcs removes the "-procs" suffix testing appends to a benchmark's
// name when GOMAXPROCS is not 1.
func trimProcs(name string, procs int) string {
	if procs <= 1 {
		return name
	}
	return strings.TrimSuffix(name, "-"+strconv.Itoa(procs))
}

// testBinary compiles the tests of pkg ("./gateway/state") into dir once
// per run, so that compiling is not part of any measured time, and
// returns the binary's path.
func (e *env) testBinary(ctx context.Context, id, pkg string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	bin := filepath.Join(e.work, strings.ReplaceAll(strings.Trim(pkg, "./"), "/", "-")+".test")
	e.res.command(id, "go test -c -o "+e.show(bin)+" "+pkg)
	if p, ok := e.binaries[pkg]; ok {
		return p, nil
	}
	log.Printf("compiling the tests of %s", pkg)
	cmd := exec.CommandContext(ctx, "go", "test", "-c", "-o", bin, pkg)
	cmd.Dir = e.root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go test -c %s: %v\n%s", pkg, err, out)
	}
	e.binaries[pkg] = bin
	return bin, nil
}

// goBench is a step that runs benchmarks of one package's compiled tests.
type goBench struct {
	Pkg       string   // "./gateway/state"
	Bench     string   // -test.bench pattern
	Benchtime string   // -test.benchtime; "" for the default 1s
	Quick     string   // -test.benchtime with -quick
	Benchmem  bool     // -test.benchmem
	Env       []string // extra environment, "K=V"; {{redis}} is the private Redis URL
}

func (g goBench) run(ctx context.Context, e *env, id string, round int) error {
	bin, err := e.testBinary(ctx, id, g.Pkg)
	if err != nil {
		return err
	}
	args := []string{"-test.run", "^$", "-test.bench", g.Bench, "-test.timeout", "30m"}
	bt := g.Benchtime
	if e.quick && g.Quick != "" {
		bt = g.Quick
	}
	if bt != "" {
		args = append(args, "-test.benchtime", bt)
	}
	if g.Benchmem {
		args = append(args, "-test.benchmem")
	}
	var envs, shownEnvs []string
	for _, kv := range g.Env {
		envs = append(envs, strings.ReplaceAll(kv, "{{redis}}", e.redisURL))
		shownEnvs = append(shownEnvs, strings.ReplaceAll(kv, "{{redis}}", "redis://127.0.0.1:$PORT/0"))
	}
	shown := append([]string{"(cd " + g.Pkg + " &&"}, shownEnvs...)
	shown = append(shown, e.show(bin))
	for _, a := range args {
		shown = append(shown, shellQuote(a))
	}
	e.res.command(id, strings.Join(shown, " ")+")")

	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = filepath.Join(e.root, g.Pkg)
	cmd.Env = append(os.Environ(), envs...)
	logf, err := os.OpenFile(filepath.Join(e.work, id+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "== round %d: %s\n", round, strings.Join(shown, " "))
	var stdout strings.Builder
	cmd.Stdout = io.MultiWriter(&stdout, logf)
	cmd.Stderr = logf
	runErr := cmd.Run()
	lines, err := parseBenchOutput(strings.NewReader(stdout.String()), e.procs)
	if err != nil {
		return err
	}
	for _, l := range lines {
		for unit, v := range l.Metrics {
			e.res.add(round, l.Name, unit, v)
		}
	}
	if runErr != nil {
		return fmt.Errorf("%s %s: %v (output in %s)", filepath.Base(bin), g.Bench, runErr, logf.Name())
	}
	if len(lines) == 0 {
		return fmt.Errorf("%s %s: no benchmark result (output in %s)", filepath.Base(bin), g.Bench, logf.Name())
	}
	return nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '.' || r == '/' || r == '_' || r == ':' || r == '=' ||
			(r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
