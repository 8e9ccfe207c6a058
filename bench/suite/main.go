// Command suite runs every benchmark of Airbranch, each beside its
// same-run baseline or peer, and rewrites BENCHMARKS.md from what it
// measured. Run from the repository root:
//
//	go run ./bench/suite [-runs N] [-quick] [-only REGEX] [-out BENCHMARKS.md]
//
// Each of the N rounds runs every section of the table (table.go) once,
// its baselines and its benchmarks interleaved in the order the table
// gives (a Redis section: SET, ours, SET), so ours and its baseline see
// the same machine. Go benchmarks run from test binaries compiled once
// before the first round (`go test -c`), so compiling is never timed; the
// Redis benchmarks and redis-benchmark use a private redis-server started
// on a free port. The figures are the medians over rounds with their
// range, and every ratio is the median of the rounds' ratios (ours over
// the baseline of the same round). The output is rendered from
// bench/suite/BENCHMARKS.md.tmpl (text/template; render.go lists its
// functions). Sections whose tools are absent (janus, sipp, kamailio,
// rtpengine) say so instead of showing figures.
//
// -quick runs shorter benchmarks (the -test.benchtime of the table's
// Quick column, a tenth of the redis-benchmark requests), to check the
// pipeline; its figures are not comparable with a full run's.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// step is one measurement of a section's round: a Go benchmark run, a
// redis-benchmark run or the voice benchmark.
type step interface {
	run(ctx context.Context, e *env, id string, round int) error
}

// section is one section of BENCHMARKS.md: the steps measured in each
// round, in order, and the tools they need (the section is not measured
// when one is absent). Optional tools only drop a peer: the section runs
// and its template says which peer was absent.
type section struct {
	ID       string
	Title    string
	Needs    []string // commands that must be on PATH
	Optional []string // peers' commands measured when present
	Redis    bool     // needs the private redis-server
	Steps    []step
}

// env is what steps share during a run.
type env struct {
	root, work string
	quick      bool
	procs      int
	res        *results
	redis      *privateRedis
	redisURL   string

	mu       sync.Mutex
	binaries map[string]string // package → compiled test binary
	voiceBin string
}

// show renders a path of the working folder as "$BENCH/…" in commands.
func (e *env) show(p string) string {
	if rel, err := filepath.Rel(e.work, p); err == nil && !strings.HasPrefix(rel, "..") {
		return "$BENCH/" + rel
	}
	return p
}

func main() {
	runs := flag.Int("runs", 5, "rounds; every figure is the median over them")
	quick := flag.Bool("quick", false, "short benchmarks (checks the pipeline; figures not comparable)")
	only := flag.String("only", "", "measure only the sections whose id or title matches this regular expression")
	out := flag.String("out", "BENCHMARKS.md", "file to write")
	tmpl := flag.String("template", "bench/suite/BENCHMARKS.md.tmpl", "template of the file")
	voiceRuns := flag.Int("voice-runs", 2, "rounds of the voice benchmark (about 15 minutes each), at most -runs")
	keep := flag.String("work", "", "working folder for test binaries and logs (kept); default a temporary one, removed")
	flag.Parse()
	log.SetFlags(log.Ltime)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, config{runs: *runs, quick: *quick, only: *only, out: *out, tmpl: *tmpl, voiceRuns: *voiceRuns, work: *keep}); err != nil {
		log.Fatal(err)
	}
}

type config struct {
	runs, voiceRuns int
	quick           bool
	only, out, tmpl string
	work            string
}

func run(ctx context.Context, c config) error {
	if c.runs < 1 {
		return fmt.Errorf("-runs %d: at least 1", c.runs)
	}
	onlyRE, err := regexp.Compile(c.only)
	if err != nil {
		return fmt.Errorf("-only: %w", err)
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	if _, err := os.Stat(c.tmpl); err != nil {
		return fmt.Errorf("run from the repository root: %w", err)
	}
	work := c.work
	if work == "" {
		if work, err = os.MkdirTemp("", "airbranch-bench-"); err != nil {
			return err
		}
		defer os.RemoveAll(work)
	} else if err := os.MkdirAll(work, 0o755); err != nil {
		return err
	}
	work, _ = filepath.Abs(work)
	e := &env{root: root, work: work, quick: c.quick, procs: runtime.GOMAXPROCS(0), res: newResults(), binaries: map[string]string{}}
	m := machineInfo(ctx)
	m.Runs, m.Quick, m.VoiceRuns = c.runs, c.quick, min(c.voiceRuns, c.runs)
	begin := time.Now()

	var todo []section
	for _, s := range sections() {
		if c.only != "" && !onlyRE.MatchString(s.ID) && !onlyRE.MatchString(s.Title) {
			e.res.skipped[s.ID] = "not selected in this run (-only " + c.only + ")"
			continue
		}
		if missing := absent(s.Needs); len(missing) > 0 {
			e.res.skipped[s.ID] = "not measured in this run: " + strings.Join(missing, ", ") + " absent"
			continue
		}
		todo = append(todo, s)
	}
	for _, s := range todo {
		if s.Redis && e.redis == nil {
			if e.redis, err = startRedis(ctx); err != nil {
				return err
			}
			defer e.redis.stop()
			e.redisURL = e.redis.url()
			log.Printf("private redis-server on port %d", e.redis.port)
		}
	}
	// Compile every test binary before the first round.
	for _, s := range todo {
		for _, st := range s.Steps {
			if g, ok := st.(goBench); ok {
				if _, err := e.testBinary(ctx, s.ID, g.Pkg); err != nil {
					e.res.fail(s.ID, err)
				}
			}
		}
	}
	for round := 1; round <= c.runs && ctx.Err() == nil; round++ {
		for _, s := range todo {
			if s.ID == "voice" && round > m.VoiceRuns {
				continue
			}
			t0 := time.Now()
			for _, st := range s.Steps {
				if ctx.Err() != nil {
					break
				}
				if err := st.run(ctx, e, s.ID, round); err != nil {
					log.Printf("%s, round %d: %v", s.ID, round, err)
					e.res.fail(s.ID, fmt.Errorf("round %d: %w", round, err))
				}
			}
			d := time.Since(t0)
			e.res.mu.Lock()
			e.res.seconds[s.ID] += d.Seconds()
			e.res.mu.Unlock()
			log.Printf("round %d/%d: %s took %s", round, c.runs, s.ID, d.Round(time.Second))
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	m.LoadAfter = loadAverage()
	m.Duration = time.Since(begin).Round(time.Second).String()
	doc, err := render(c.tmpl, m, e.res)
	if err != nil {
		return err
	}
	if err := os.WriteFile(c.out, doc, 0o644); err != nil {
		return err
	}
	log.Printf("wrote %s in %s", c.out, m.Duration)
	for _, s := range sections() {
		log.Printf("  %-10s %6.0f s  %s", s.ID, e.res.seconds[s.ID], e.res.skipped[s.ID])
	}
	return nil
}

// absent returns the commands of tools not on PATH.
func absent(tools []string) []string {
	var missing []string
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			missing = append(missing, t)
		}
	}
	return missing
}

// machine describes where and when the run was made.
type machine struct {
	CPU, GoVersion, Kernel, Date, Memory string
	Nproc                                int
	LoadBefore, LoadAfter                string
	Redis, Duration                      string
	Runs, VoiceRuns                      int
	Quick                                bool
}

func machineInfo(ctx context.Context) machine {
	m := machine{Nproc: runtime.NumCPU(), Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), LoadBefore: loadAverage()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			m.Memory = fmt.Sprintf("%d GiB", (kb+1<<19)>>20)
		}
	}
	m.GoVersion = strings.TrimPrefix(firstLine(ctx, "go", "env", "GOVERSION"), "go")
	m.Kernel = firstLine(ctx, "uname", "-sr")
	if v := firstLine(ctx, "redis-server", "--version"); v != "" {
		for _, f := range strings.Fields(v) {
			if strings.HasPrefix(f, "v=") {
				m.Redis = strings.TrimPrefix(f, "v=")
			}
		}
	}
	return m
}

func firstLine(ctx context.Context, name string, args ...string) string {
	out, err := exec.CommandContext(ctx, name, args...).Output()
	if err != nil {
		return ""
	}
	l, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return l
}

// loadAverage returns the 1-, 5- and 15-minute load averages.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " / ")
}
