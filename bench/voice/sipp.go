package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sipp is one sipp process (Debian's sip-tester) of the benchmark.
type sipp struct {
	name  string
	dir   string
	cmd   *exec.Cmd
	out   bytes.Buffer
	done  chan error
	err   error
	ended bool
}

// startSipp runs sipp in a folder of its own under work with scenario (a
// file of bench/voice) and args; its statistics go to stats.csv there,
// every second.
func startSipp(work, name, scenario string, args ...string) (*sipp, error) {
	dir := filepath.Join(work, fmt.Sprintf("%s-%d", name, time.Now().UnixNano()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	// caller_rtp.xml plays talk.pcap from its working folder.
	if err := os.Symlink(filepath.Join(work, "talk.pcap"), filepath.Join(dir, "talk.pcap")); err != nil {
		return nil, err
	}
	sf, err := filepath.Abs(filepath.Join(benchDir, scenario))
	if err != nil {
		return nil, err
	}
	all := append([]string{"-sf", sf, "-nostdin", "-trace_stat", "-stf", "stats.csv", "-fd", "1",
		"-trace_err", "-error_file", "errors.log", "-aa"}, args...)
	s := &sipp{name: name, dir: dir, done: make(chan error, 1)}
	s.cmd = exec.Command("sipp", all...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("sipp %s: %w", name, err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	return s, nil
}

// wait waits for sipp to exit, at most d; a sipp still running is killed.
func (s *sipp) wait(d time.Duration) error {
	if s.ended {
		return s.err
	}
	select {
	case s.err = <-s.done:
	case <-time.After(d):
		_ = s.cmd.Process.Kill()
		s.err = fmt.Errorf("sipp %s still running after %s: killed", s.name, d)
		<-s.done
	}
	s.ended = true
	return s.err
}

// stop asks sipp to quit (SIGUSR1: stop creating calls and exit once the
// current ones end; SIGTERM after 3 s) and waits for it.
func (s *sipp) stop() {
	if s.ended {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGUSR1)
	select {
	case s.err = <-s.done:
	case <-time.After(3 * time.Second):
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case s.err = <-s.done:
		case <-time.After(3 * time.Second):
			_ = s.cmd.Process.Kill()
			s.err = <-s.done
		}
	}
	s.ended = true
}

// sippStats is sipp's last line of statistics (cumulative counters).
type sippStats struct {
	Created    int     `json:"created"` // calls created: OutgoingCall(C) or IncomingCall(C)
	Successful int     `json:"successful"`
	Failed     int     `json:"failed"`
	Seconds    float64 `json:"-"` // seconds from the first line to the line where the last call was created
}

// stats parses sipp's stats.csv (semicolon separated, a header line, one
// line a second).
func (s *sipp) stats() (sippStats, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, "stats.csv"))
	if err != nil {
		return sippStats{}, fmt.Errorf("sipp %s stats: %w", s.name, err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 {
		return sippStats{}, fmt.Errorf("sipp %s stats: no data", s.name)
	}
	col := map[string]int{}
	for i, h := range strings.Split(lines[0], ";") {
		col[h] = i
	}
	get := func(line, name string) int {
		f := strings.Split(line, ";")
		i, ok := col[name]
		if !ok || i >= len(f) {
			return 0
		}
		v, _ := strconv.Atoi(f[i])
		return v
	}
	last := lines[len(lines)-1]
	st := sippStats{
		Created:    get(last, "OutgoingCall(C)") + get(last, "IncomingCall(C)"),
		Successful: get(last, "SuccessfulCall(C)"),
		Failed:     get(last, "FailedCall(C)"),
	}
	for i := 1; i < len(lines); i++ {
		if get(lines[i], "OutgoingCall(C)")+get(lines[i], "IncomingCall(C)") >= st.Created {
			st.Seconds = float64(i - 1)
			break
		}
	}
	return st, nil
}

// errors returns the tail of sipp's error log, for the report of a failure.
func (s *sipp) errors() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "errors.log"))
	if len(b) > 1500 {
		b = b[len(b)-1500:]
	}
	return string(b)
}
