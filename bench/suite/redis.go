package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// evalshaScript is the one-command script of the EVALSHA baseline: the
// script machinery itself, around one SET.
const evalshaScript = "return redis.call('set', KEYS[1], ARGV[1])"

// privateRedis is a redis-server the run started on a free loopback port,
// without persistence, that no other client uses.
type privateRedis struct {
	port int
	cmd  *exec.Cmd
	sha  string // the SHA1 of evalshaScript, loaded
}

// startRedis starts redis-server on a free port and waits until it
// answers PING; it loads evalshaScript.
func startRedis(ctx context.Context) (*privateRedis, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	cmd := exec.Command("redis-server", "--bind", "127.0.0.1", "--port", strconv.Itoa(port),
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("redis-server: %w", err)
	}
	r := &privateRedis{port: port, cmd: cmd}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := r.cli(ctx, "ping")
		if err == nil && strings.TrimSpace(out) == "PONG" {
			break
		}
		if time.Now().After(deadline) {
			r.stop()
			return nil, fmt.Errorf("redis-server on port %d did not answer: %v %s", port, err, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, err := r.cli(ctx, "script", "load", evalshaScript)
	if err != nil {
		r.stop()
		return nil, fmt.Errorf("script load: %v %s", err, out)
	}
	r.sha = strings.TrimSpace(out)
	return r, nil
}

func (r *privateRedis) cli(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, "redis-cli", append([]string{"-h", "127.0.0.1", "-p", strconv.Itoa(r.port)}, args...)...).CombinedOutput()
	return string(out), err
}

func (r *privateRedis) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *privateRedis) stop() {
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = r.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-done
	}
}

// redisBench is a step that runs redis-benchmark with one connection
// against the private server: Test "set" (SET) or "evalsha" (EVALSHA of
// evalshaScript). It records "requests/s" and "p50-µs" under
// "<section id>: <Label>" (each section has baselines of its own, so that
// a ratio divides by the baseline measured beside it).
type redisBench struct {
	Label string // figure name, e.g. "redis-benchmark SET"
	Test  string // "set" or "evalsha"
	N     int    // requests; -quick uses a tenth
}

func (rb redisBench) run(ctx context.Context, e *env, id string, round int) error {
	if e.redis == nil {
		return errors.New("no private redis-server")
	}
	n := rb.N
	if e.quick {
		n /= 10
	}
	args := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(e.redis.port), "-c", "1", "-n", strconv.Itoa(n), "-q"}
	shown := "redis-benchmark -h 127.0.0.1 -p $PORT -c 1 -n " + strconv.Itoa(n) + " -q"
	switch rb.Test {
	case "set":
		args = append(args, "-t", "set")
		shown += " -t set"
	case "evalsha":
		args = append(args, "evalsha", e.redis.sha, "1", "{abbench}:k", "v")
		shown += " evalsha \"$SHA\" 1 '{abbench}:k' v"
	default:
		return fmt.Errorf("redis-benchmark test %q", rb.Test)
	}
	e.res.command(id, shown)
	out, err := exec.CommandContext(ctx, "redis-benchmark", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("redis-benchmark %s: %v\n%s", rb.Test, err, out)
	}
	rps, p50, err := parseRedisBenchmark(string(out))
	if err != nil {
		return err
	}
	e.res.add(round, id+": "+rb.Label, "requests/s", rps)
	if !isNaN(p50) {
		e.res.add(round, id+": "+rb.Label, "p50-µs", p50)
	}
	return nil
}

var (
	rpsRE = regexp.MustCompile(`([0-9.]+) requests per second`)
	p50RE = regexp.MustCompile(`p50=([0-9.]+) msec`)
)

// parseRedisBenchmark reads the final line of `redis-benchmark -q` (Redis
// 7: "SET: 102580.41 requests per second, p50=0.007 msec"; the progress
// lines before it are separated by carriage returns) and returns the
// requests per second and the p50 latency in µs (NaN when not printed).
func parseRedisBenchmark(out string) (rps, p50us float64, err error) {
	var last string
	for _, l := range strings.FieldsFunc(out, func(r rune) bool { return r == '\r' || r == '\n' }) {
		if strings.Contains(l, "requests per second") {
			last = l
		}
	}
	m := rpsRE.FindStringSubmatch(last)
	if m == nil {
		return 0, 0, fmt.Errorf("redis-benchmark printed no rate: %q", out)
	}
	rps, err = strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, 0, err
	}
	p50us = nan()
	if m := p50RE.FindStringSubmatch(last); m != nil {
		if v, err := strconv.ParseFloat(m[1], 64); err == nil {
			p50us = v * 1000
		}
	}
	return rps, p50us, nil
}
