package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// voiceStep is one line of bench/voice's output: a calls-per-second step
// (kind "cps") or a concurrent-calls step (kind "concurrent", as bench/voice writes it).
type voiceStep struct {
	Kind        string  `json:"kind"`
	Target      string  `json:"target"`
	Rate        int     `json:"rate"`
	Calls       int     `json:"calls"`
	ZeroFailed  bool    `json:"zero_failed"`
	CPUmsPer    float64 `json:"cpu_ms_per_call"`
	Pass        bool    `json:"pass"`
	RelayCPUPct float64 `json:"relay_cpu_pct_per_call"`
	Media       struct {
		LossPct float64 `json:"loss_pct"`
		P99DVms float64 `json:"p99_dv_ms"`
	} `json:"media"`
}

// voiceBench is the step that runs bench/voice for one run of its ladders
// (sipp into Airbranch and into kamailio/rtpengine, step by step).
type voiceBench struct{}

func (voiceBench) run(ctx context.Context, e *env, id string, round int) error {
	e.mu.Lock()
	if e.voiceBin == "" {
		for _, b := range [][2]string{{"voice", "./bench/voice"}, {"airbranch", "./cmd/airbranch"}} {
			out := filepath.Join(e.work, b[0])
			e.res.command(id, "go build -o "+e.show(out)+" "+b[1])
			cmd := exec.CommandContext(ctx, "go", "build", "-o", out, b[1])
			cmd.Dir = e.root
			if o, err := cmd.CombinedOutput(); err != nil {
				e.mu.Unlock()
				return fmt.Errorf("go build %s: %v\n%s", b[1], err, o)
			}
		}
		e.voiceBin = filepath.Join(e.work, "voice")
	}
	e.mu.Unlock()
	args := []string{"-bin", filepath.Join(e.work, "airbranch"), "-runs", "1", "-conc", "100,200,300,400,500"}
	if e.quick {
		args = []string{"-bin", filepath.Join(e.work, "airbranch"), "-runs", "1", "-cps", "50,100", "-cps-seconds", "3", "-conc", "100", "-window", "5s"}
	}
	shown := e.show(e.voiceBin)
	for _, a := range args {
		shown += " " + shellQuote(strings.ReplaceAll(a, e.work, "$BENCH"))
	}
	e.res.command(id, shown)
	logf, err := os.OpenFile(filepath.Join(e.work, id+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, e.voiceBin, args...)
	cmd.Dir = e.root
	var stdout strings.Builder
	cmd.Stdout = io.MultiWriter(&stdout, logf)
	cmd.Stderr = logf
	runErr := cmd.Run()
	steps, err := parseVoice(strings.NewReader(stdout.String()))
	if err != nil {
		return err
	}
	recordVoice(e.res, round, steps)
	if runErr != nil {
		return fmt.Errorf("bench/voice: %v (output in %s)", runErr, logf.Name())
	}
	return nil
}

// parseVoice reads bench/voice's JSON lines, ignoring its other output
// (the summary).
func parseVoice(r io.Reader) ([]voiceStep, error) {
	var out []voiceStep
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(l, "{") {
			continue
		}
		var s voiceStep
		if err := json.Unmarshal([]byte(l), &s); err != nil {
			return nil, fmt.Errorf("bench/voice line %q: %w", l, err)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// recordVoice records one run's figures: per target the highest rate with
// zero failed calls ("voice <target>", "calls/s", 0 when none passed) and
// the most concurrent calls passing ("concurrent"); per rate, signalling
// CPU ("voice <target> cps=<rate>", "cpu-ms/call"); per count, relay CPU,
// loss and delay variation ("voice <target> conc=<n>").
func recordVoice(res *results, round int, steps []voiceStep) {
	best := map[string]int{}
	seen := map[string]string{} // target+kind → unit
	for _, s := range steps {
		name := "voice " + s.Target
		switch s.Kind {
		case "cps":
			seen[name+"|calls/s"] = "calls/s"
			if s.ZeroFailed && s.Rate > best[name+"|calls/s"] {
				best[name+"|calls/s"] = s.Rate
			}
			res.add(round, name+" cps="+strconv.Itoa(s.Rate), "cpu-ms/call", s.CPUmsPer)
		case "concurrent":
			seen[name+"|concurrent"] = "concurrent"
			if s.Pass && s.Calls > best[name+"|concurrent"] {
				best[name+"|concurrent"] = s.Calls
			}
			n := name + " conc=" + strconv.Itoa(s.Calls)
			res.add(round, n, "relay-cpu-%/call", s.RelayCPUPct)
			res.add(round, n, "loss-%", s.Media.LossPct)
			res.add(round, n, "p99-dv-ms", s.Media.P99DVms)
		}
	}
	for k, unit := range seen {
		name, _, _ := strings.Cut(k, "|")
		res.add(round, name, unit, float64(best[k]))
	}
}
