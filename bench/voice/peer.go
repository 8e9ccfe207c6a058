package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// peer is the same-run reference of every figure: Debian's kamailio
// (stateful proxy, kamailio.cfg of this folder) twice, alone for
// signalling (the calls-per-second test) and with Debian's rtpengine in
// user space (no kernel forwarding table) as its media relay (the
// concurrent-calls test).
type peer struct {
	kamailio, kamailioRTP, rtpengine *exec.Cmd
	sipAddr, sipAddrRTP              string
	logs                             []*os.File
}

// startPeer starts rtpengine (ng control on a loopback port, RTP ports
// 10000-19999, --table=-1: user-space forwarding only) and kamailio twice
// in the foreground on loopback UDP ports, one with rtpengine as its relay.
func startPeer(work string) (*peer, error) {
	dir := filepath.Join(work, "peer")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := &peer{}
	ng := freePort("udp")
	rlog, _ := os.Create(filepath.Join(dir, "rtpengine.log"))
	klog, _ := os.Create(filepath.Join(dir, "kamailio.log"))
	p.logs = []*os.File{rlog, klog}
	p.rtpengine = exec.Command("rtpengine", "--config-file=none", "--foreground", "--log-stderr", "--log-level=4",
		"--table=-1", "--interface=127.0.0.1", fmt.Sprintf("--listen-ng=127.0.0.1:%d", ng),
		"--port-min=10000", "--port-max=19999", "--pidfile="+filepath.Join(dir, "rtpengine.pid"))
	p.rtpengine.Stdout, p.rtpengine.Stderr = rlog, rlog
	if err := p.rtpengine.Start(); err != nil {
		return nil, fmt.Errorf("rtpengine: %w", err)
	}
	if err := pingRtpengine(ng); err != nil {
		p.stop()
		return nil, fmt.Errorf("%w (log in %s)", err, dir)
	}
	cfg, _ := filepath.Abs(filepath.Join(benchDir, "kamailio.cfg"))
	kamailio := func(name string, extra ...string) (*exec.Cmd, string, error) {
		addr := fmt.Sprintf("127.0.0.1:%d", freePort("udp"))
		klog, _ := os.Create(filepath.Join(dir, name+".log"))
		p.logs = append(p.logs, klog)
		args := append([]string{"-f", cfg, "-DD", "-E", "-m", "256", "-M", "16", "-l", "udp:" + addr, "-w", dir,
			"-P", filepath.Join(dir, name+".pid")}, extra...)
		c := exec.Command("kamailio", args...)
		c.Stdout, c.Stderr = klog, klog
		if err := c.Start(); err != nil {
			return nil, "", fmt.Errorf("kamailio: %w", err)
		}
		return c, addr, nil
	}
	var err error
	if p.kamailio, p.sipAddr, err = kamailio("kamailio"); err != nil {
		p.stop()
		return nil, err
	}
	if p.kamailioRTP, p.sipAddrRTP, err = kamailio("kamailio-rtpengine", "-A", "WITH_RTPENGINE",
		"-A", fmt.Sprintf(`RTPENGINE_SOCK="udp:127.0.0.1:%d"`, ng)); err != nil {
		p.stop()
		return nil, err
	}
	time.Sleep(2 * time.Second)
	for _, c := range []*exec.Cmd{p.rtpengine, p.kamailio, p.kamailioRTP} {
		if err := c.Process.Signal(syscallZero); err != nil {
			p.stop()
			return nil, fmt.Errorf("%s exited at start (logs in %s)", c.Path, dir)
		}
	}
	return p, nil
}

// registerPhone registers with the kamailio at addr the one phone user all
// of its calls go to, with its contact at uasPort (kamailio's registrar,
// no digest).
func (p *peer) registerPhone(work, addr string, uasPort int) error {
	inf := filepath.Join(work, "peer-phone.csv")
	if err := os.WriteFile(inf, []byte("SEQUENTIAL\nbench-rm;unused\n"), 0o644); err != nil {
		return err
	}
	return register(work, addr, inf, 1, uasPort)
}

func (p *peer) stop() {
	for _, c := range []*exec.Cmd{p.kamailio, p.kamailioRTP, p.rtpengine} {
		if c == nil || c.Process == nil {
			continue
		}
		_ = c.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = c.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = c.Process.Kill()
			<-done
		}
	}
	for _, f := range p.logs {
		f.Close()
	}
}

// pingRtpengine waits up to 10 s for rtpengine's ng control port to answer
// a ping (the ng protocol: a cookie, then a bencoded dictionary), so that
// kamailio, which disables a relay that missed its first ping for a
// minute, never starts without it.
func pingRtpengine(port int) error {
	c, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 256)
	for range 50 {
		_, _ = c.Write([]byte("bench1 d7:command4:pinge"))
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if n, err := c.Read(buf); err == nil && strings.Contains(string(buf[:n]), "pong") {
			return nil
		}
		time.Sleep(200 * time.Millisecond) // a refused port answers at once
	}
	return fmt.Errorf("rtpengine did not answer a ping on 127.0.0.1:%d", port)
}
