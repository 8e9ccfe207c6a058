package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/airbranch/airbranch/gateway/auth"
)

// benchNumber is the bank's number the trunk calls.
const benchNumber = "+85221234567"

// gatewayConfig is the benchmark's configuration of Airbranch: UDP SIP on
// loopback, one trunk for 127.0.0.0/8, phone-first (the offer rings the
// RM's phone, answering accepts and bridges), one 24/7 team of rms RMs each
// with a phone, the shortest wrap-up routing allows (10 s; an RM's capacity
// stays held during it) and the in-memory store (one instance).
const gatewayConfig = `log:
  level: info
  format: json
http:
  addr: "127.0.0.1:%d"
directory:
  file: directory.yaml
sip:
  udp_addr: "127.0.0.1:%d"
  media_ip: 127.0.0.1
  public_media_ip: 127.0.0.1
  rtp_port_min: 20000
  rtp_port_max: 29999
  channel_account: "%s"
  trunks:
    - {name: sipp, sources: ["127.0.0.0/8"], trust_identity: true}
  register_max_expires: 1h
  phone_first: true
  rm_ring_timeout: 10s
  rm_phones:
%s
routing:
  wrap_up:
    timeout: 10s
    dispositions: [resolved]
  policies:
    - id: bench
      when: "true"
      steps:
        - {target: "team:bench", expiry: 10m}
      fallback: callback
      after_hours: callback
`

// airbranch is the gateway under test, a process of its own.
type airbranch struct {
	cmd     *exec.Cmd
	sipAddr string
	http    string
	rms     []string
	secret  []byte
	logPath string
}

// startAirbranch runs bin (go build ./cmd/airbranch): it writes the configuration and directory under work, starts the gateway
// and waits for /readyz.
func startAirbranch(ctx context.Context, bin, work string, rms int) (*airbranch, error) {
	dir := filepath.Join(work, "airbranch")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	g := &airbranch{secret: []byte("voice-benchmark-jwt-secret-32-bytes-long!"), logPath: filepath.Join(dir, "gateway.log")}
	var dirYAML, phones strings.Builder
	dirYAML.WriteString(`teams:
  - id: bench
    name: Benchmark team
    kind: segment
    segment: mass
    time_zone: UTC
    hours:
      - {days: [mon, tue, wed, thu, fri, sat, sun], open: "00:00", close: "24:00"}
rms:
`)
	// The variables of configs.EnvJWTSecret, configs.EnvSIPNonceSecret and
	// configs.SIPPhonePasswordEnv (spelt out so that this command does not
	// link the whole configuration package).
	env := append(os.Environ(), "AIRBRANCH_JWT_SECRET="+string(g.secret),
		"AIRBRANCH_SIP_NONCE_SECRET=voice-benchmark-nonce-secret")
	for i := range rms {
		id := fmt.Sprintf("rm-bench-%04d", i+1)
		g.rms = append(g.rms, id)
		fmt.Fprintf(&dirYAML, "  - {id: %s, name: Bench RM %d, team: bench, languages: [en, zh, yue], licences: [{name: investment_advice, expires: 2099-12-31}]}\n", id, i+1)
		fmt.Fprintf(&phones, "    - {rm: %s, username: %s}\n", id, id)
		env = append(env, "AIRBRANCH_SIP_PHONE_"+strings.ToUpper(strings.ReplaceAll(id, "-", "_"))+"_PASSWORD=pw-"+id)
	}
	dirYAML.WriteString("customers: []\n")
	httpPort, sipPort := freePort("tcp"), freePort("udp")
	g.sipAddr, g.http = fmt.Sprintf("127.0.0.1:%d", sipPort), fmt.Sprintf("http://127.0.0.1:%d", httpPort)
	cfg := fmt.Sprintf(gatewayConfig, httpPort, sipPort, benchNumber, strings.TrimRight(phones.String(), "\n"))
	if err := os.WriteFile(filepath.Join(dir, "directory.yaml"), []byte(dirYAML.String()), 0o644); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "airbranch.yaml"), []byte(cfg), 0o644); err != nil {
		return nil, err
	}
	var check bytes.Buffer
	cc := exec.CommandContext(ctx, bin, "check-config", "-config", filepath.Join(dir, "airbranch.yaml"))
	cc.Env, cc.Stdout, cc.Stderr = env, &check, &check
	if err := cc.Run(); err != nil {
		return nil, fmt.Errorf("check-config: %v\n%s", err, check.String())
	}
	logf, err := os.Create(g.logPath)
	if err != nil {
		return nil, err
	}
	g.cmd = exec.Command(bin, "serve", "-config", filepath.Join(dir, "airbranch.yaml"))
	g.cmd.Env, g.cmd.Stdout, g.cmd.Stderr = env, logf, logf
	if err := g.cmd.Start(); err != nil {
		return nil, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(g.http + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			g.stop()
			return nil, fmt.Errorf("airbranch not ready after 60 s (log %s)", g.logPath)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return g, nil
}

func (g *airbranch) pid() int { return g.cmd.Process.Pid }

func (g *airbranch) stop() {
	_ = g.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = g.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = g.cmd.Process.Kill()
		<-done
	}
}

// makeAvailable sets every RM's presence to available through the API, as
// each RM's desk would (PUT /api/v1/presence with the RM's bearer token).
func (g *airbranch) makeAvailable() error {
	var wg sync.WaitGroup
	errs := make(chan error, len(g.rms))
	sem := make(chan struct{}, 16)
	for _, id := range g.rms {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			tok, err := auth.Issue(g.secret, auth.Principal{Subject: id, Role: auth.RoleRM, Team: "bench"}, 8*time.Hour, time.Now())
			if err != nil {
				errs <- err
				return
			}
			req, _ := http.NewRequest(http.MethodPut, g.http+"/api/v1/presence", strings.NewReader(`{"state":"available"}`))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				errs <- fmt.Errorf("presence of %s: %d", id, resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// registerPhones registers every RM's phone with digest authentication
// through sipp (register.xml, one line of credentials a call) with its
// contact at uasPort, where the phone sipp of each step listens.
func (g *airbranch) registerPhones(work string, uasPort int) error {
	var csv strings.Builder
	csv.WriteString("SEQUENTIAL\n")
	for _, id := range g.rms {
		fmt.Fprintf(&csv, "%s;[authentication username=%s password=pw-%s]\n", id, id, id)
	}
	inf := filepath.Join(work, "phones.csv")
	if err := os.WriteFile(inf, []byte(csv.String()), 0o644); err != nil {
		return err
	}
	return register(work, g.sipAddr, inf, len(g.rms), uasPort)
}

// register runs register.xml for n phones from inf against addr.
func register(work, addr, inf string, n, uasPort int) error {
	s, err := startSipp(work, "register", "register.xml", "-inf", inf, "-r", "100", "-m", strconv.Itoa(n),
		"-l", "200", "-i", "127.0.0.1", "-p", strconv.Itoa(freePort("udp")), "-set", "uas_port", strconv.Itoa(uasPort),
		"-recv_timeout", "10000", addr)
	if err != nil {
		return err
	}
	if err := s.wait(5 * time.Minute); err != nil {
		return fmt.Errorf("registering %d phones at %s: %v\n%s", n, addr, err, s.errors())
	}
	return nil
}

// freePort returns a port of network ("tcp" or "udp") free on 127.0.0.1 a
// moment ago.
func freePort(network string) int {
	if network == "tcp" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			panic(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}
