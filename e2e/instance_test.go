package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// instance is one airbranch process of the cluster.
type instance struct {
	name     string // instance_id
	bin      string
	config   string // its configuration file
	env      []string
	logPath  string
	httpPort int
	sipPort  int // UDP SIP
	cmd      *exec.Cmd
	done     chan struct{}
}

// Base is the instance's own HTTP base URL (the load balancer's is the
// cluster's).
func (in *instance) Base() string { return fmt.Sprintf("http://127.0.0.1:%d", in.httpPort) }

// SIPAddr is the instance's UDP SIP address.
func (in *instance) SIPAddr() string { return fmt.Sprintf("127.0.0.1:%d", in.sipPort) }

// Start runs the binary and waits until /readyz answers 200 (30 s at
// most). Its standard error (JSON logs) is appended to logPath.
func (in *instance) Start() error {
	f, err := os.OpenFile(in.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "{\"e2e\":\"start %s at %s\"}\n", in.name, time.Now().UTC().Format(time.RFC3339Nano))
	in.cmd = exec.Command(in.bin, "serve", "-config", in.config)
	in.cmd.Env = append(os.Environ(), in.env...)
	in.cmd.Stdout, in.cmd.Stderr = f, f
	in.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := in.cmd.Start(); err != nil {
		f.Close()
		return err
	}
	in.done = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) {
		_ = cmd.Wait()
		f.Close()
		close(done)
	}(in.cmd, in.done)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if in.Ready() {
			return nil
		}
		select {
		case <-in.done:
			return fmt.Errorf("instance %s exited at start; its log: %s\n%s", in.name, in.logPath, in.LogTail(4000))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("instance %s not ready after 30 s; its log:\n%s", in.name, in.LogTail(4000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Ready reports whether /readyz answers 200.
func (in *instance) Ready() bool {
	c := http.Client{Timeout: 2 * time.Second}
	res, err := c.Get(in.Base() + "/readyz")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}

// Running reports whether the process is alive.
func (in *instance) Running() bool {
	if in.done == nil {
		return false
	}
	select {
	case <-in.done:
		return false
	default:
		return true
	}
}

// Kill ends the process with SIGKILL, as a crash would: nothing of its
// shutdown runs.
func (in *instance) Kill() {
	if !in.Running() {
		return
	}
	_ = in.cmd.Process.Signal(syscall.SIGKILL)
	<-in.done
}

// Stop ends the process with SIGTERM and waits (at most 40 s, then
// SIGKILL).
func (in *instance) Stop() {
	if !in.Running() {
		return
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-in.done:
	case <-time.After(40 * time.Second):
		in.Kill()
	}
}

// LogTail is the last n bytes of the instance's log.
func (in *instance) LogTail(n int) string {
	b, _ := os.ReadFile(in.logPath)
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// LogLines returns the log lines holding every one of the substrings.
func (in *instance) LogLines(subs ...string) []string {
	b, _ := os.ReadFile(in.logPath)
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
next:
	for sc.Scan() {
		for _, s := range subs {
			if !strings.Contains(sc.Text(), s) {
				continue next
			}
		}
		out = append(out, sc.Text())
	}
	return out
}

// Metric returns the sum of the samples of a Prometheus metric family
// on /metrics whose label set contains every one of labels (e.g.
// `channel="sms"`), and whether any was found.
func (in *instance) Metric(name string, labels ...string) (float64, bool) {
	c := http.Client{Timeout: 5 * time.Second}
	res, err := c.Get(in.Base() + "/metrics")
	if err != nil {
		return 0, false
	}
	defer res.Body.Close()
	var sum float64
	found := false
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
next:
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name) || strings.HasPrefix(line, "#") {
			continue
		}
		rest := line[len(name):]
		if rest == "" || (rest[0] != ' ' && rest[0] != '{') {
			continue
		}
		for _, l := range labels {
			if !strings.Contains(rest, l) {
				continue next
			}
		}
		f := strings.Fields(rest)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			continue
		}
		sum += v
		found = true
	}
	return sum, found
}

// writeFile writes data to dir/name and returns the path.
func writeFile(dir, name string, data []byte) (string, error) {
	p := filepath.Join(dir, name)
	return p, os.WriteFile(p, data, 0o600)
}
