package e2e

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zaf/g711"

	"github.com/airbranch/airbranch/media"
)

// voiceOutput is a process's output, written by it and read by the test.
type voiceOutput struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *voiceOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

// tail is the last n bytes written.
func (o *voiceOutput) tail(n int) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	s := o.b.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

// voiceSipp is one sipp process running a scenario of testdata/sipp, one
// call (-m 1), from 127.0.0.1:port.
type voiceSipp struct {
	cmd  *exec.Cmd
	out  *voiceOutput
	done chan error
	name string
	dir  string
	port int
}

// voiceStartSipp runs sipp with scenario against target ("" for a UAS
// that waits for the gateway); extra arguments go before the target. The
// process is killed when the test ends if it has not finished.
func voiceStartSipp(t *testing.T, scenario, target string, port int, extra ...string) *voiceSipp {
	t.Helper()
	bin := voiceNeedTool(t, "sipp", "sip-tester")
	sf, err := filepath.Abs(filepath.Join("testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{"-sf", sf, "-m", "1", "-l", "1", "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(voiceFreeUDPPort(t)), "-s", bankNumber,
		"-timeout", "150", "-timeout_error", "-nostdin", "-trace_err", "-error_file", filepath.Join(dir, "errors.log")}
	args = append(args, extra...)
	if target != "" {
		args = append(args, target)
	}
	s := &voiceSipp{name: scenario, dir: dir, port: port, out: &voiceOutput{}, done: make(chan error, 1)}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case err := <-s.done:
			s.done <- err
		default:
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// finished reports whether sipp has exited, and how.
func (s *voiceSipp) finished() (bool, error) {
	select {
	case err := <-s.done:
		s.done <- err
		return true, err
	default:
		return false, nil
	}
}

// wait waits up to within for sipp to exit and fails the test unless
// every call of its scenario succeeded (exit 0).
func (s *voiceSipp) wait(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			errLog, _ := os.ReadFile(filepath.Join(s.dir, "errors.log"))
			t.Fatalf("sipp %s: %v\n%s\nerrors:\n%s", s.name, err, s.out.tail(3000), errLog)
		}
	case <-time.After(within):
		t.Fatalf("sipp %s did not finish within %s", s.name, within)
	}
}

// voiceSippPhone is an RM's desk phone played by sipp: scenario answers
// one call; the registration is removed when the test ends.
type voiceSippPhone struct {
	*voiceSipp
	rm, gw string
	uas    int
}

// voiceRegisterSippPhone starts rm's sipp phone (phone_answer.xml with
// -rtp_echo: it answers in PCMA and sends back what it hears) and
// registers it with the instance at gw by digest; when the test ends it
// unregisters it (Expires 0), so that no later call rings a dead phone.
func voiceRegisterSippPhone(t *testing.T, gw, rm string) *voiceSippPhone {
	t.Helper()
	p := &voiceSippPhone{rm: rm, gw: gw, uas: voiceFreeUDPPort(t)}
	p.voiceSipp = voiceStartSipp(t, "phone_answer.xml", "", p.uas, "-rtp_echo")
	p.register(t, 600)
	t.Cleanup(func() { p.register(t, 0) })
	return p
}

// register sends the phone's REGISTER with expires seconds (0 removes
// the binding).
func (p *voiceSippPhone) register(t *testing.T, expires int) {
	t.Helper()
	voiceStartSipp(t, "phone_register.xml", p.gw, voiceFreeUDPPort(t), "-s", p.rm, "-au", p.rm, "-ap", phonePassword(p.rm),
		"-set", "uas_port", strconv.Itoa(p.uas), "-set", "expires", strconv.Itoa(expires)).wait(t, 30*time.Second)
}

// voiceCaller is a call the bank's trunk places with sipp (signalling)
// from a client's number asserted by P-Asserted-Identity, whose RTP is on
// a socket of the test: the test hears what the gateway sends the caller
// and talks back.
type voiceCaller struct {
	t      *testing.T
	sipp   *voiceSipp
	callID string
	rtp    *net.UDPConn
	gwRTP  *net.UDPAddr
}

// voicePlaceCall starts scenario (trunk_call.xml or
// trunk_call_rm_hangup.xml) against the instance at gw, from pai.
func voicePlaceCall(t *testing.T, gw, scenario, pai string) *voiceCaller {
	t.Helper()
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rtp.Close() })
	cid := "airbranch-e2e-voice-" + strings.ToLower(rand.Text()[:10])
	s := voiceStartSipp(t, scenario, gw, voiceFreeUDPPort(t), "-cid_str", cid+"-%u",
		"-set", "rtp_port", strconv.Itoa(rtp.LocalAddr().(*net.UDPAddr).Port), "-set", "pai", pai)
	return &voiceCaller{t: t, sipp: s, callID: cid + "-1", rtp: rtp}
}

// waitAudio waits (30 s) for the gateway's first RTP packet to the caller
// (the welcome, or music on hold) and learns the address it comes from
// (symmetric RTP: the caller talks back to it).
func (c *voiceCaller) waitAudio() {
	c.t.Helper()
	buf := make([]byte, 2048)
	_ = c.rtp.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, from, err := c.rtp.ReadFromUDP(buf)
	if err != nil {
		c.t.Fatalf("no RTP from the gateway to the caller: %v", err)
	}
	c.gwRTP = from
}

// talk sends the caller's audio (a PCMU tone of sayHz) every 20 ms for d,
// after dropping what waited on the socket, and returns how many packets
// came back meanwhile and how many of them carry a tone of hearHz (the
// other side's voice; music on hold is lower).
func (c *voiceCaller) talk(d time.Duration, sayHz, hearHz float64) (packets, tone int) {
	c.t.Helper()
	buf := make([]byte, 2048)
	_ = c.rtp.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	for {
		if _, err := c.rtp.Read(buf); err != nil {
			break
		}
	}
	stop, sent := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sent)
		pkt := make([]byte, media.RTPHeaderLen+media.FrameSamples)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			media.PutRTPHeader(pkt, i == 0, 0, uint16(i), uint32(i*media.FrameSamples), 0xe2e0)
			copy(pkt[media.RTPHeaderLen:], voiceTone(sayHz, i))
			_, _ = c.rtp.WriteToUDP(pkt, c.gwRTP)
		}
	}()
	defer func() {
		close(stop)
		<-sent
	}()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		_ = c.rtp.SetReadDeadline(end)
		n, err := c.rtp.Read(buf)
		if err != nil {
			break
		}
		h, err := media.ParseRTPHeader(buf[:n])
		if err != nil {
			continue
		}
		packets++
		if h.PayloadType == 0 && voiceIsTone(g711.DecodeUlaw(buf[h.PayloadOffset:h.PayloadEnd]), 1, 8000, hearHz) {
			tone++
		}
	}
	return packets, tone
}

// hangUp makes the trunk hang up: a NOTIFY with the call's Call-ID tells
// trunk_call.xml to answer it and send its BYE; it is repeated each
// second until sipp has finished (sipp sends its 200 to the gateway, the
// call's remote), at most ten times.
func (c *voiceCaller) hangUp() {
	c.t.Helper()
	conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", c.sipp.port))
	if err != nil {
		c.t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().(*net.UDPAddr)
	for i := range 10 {
		msg := fmt.Sprintf("NOTIFY sip:trunk@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-e2e-hangup-%d\r\n"+
			"From: <sip:e2e@127.0.0.1>;tag=e2e-hangup\r\nTo: <sip:trunk@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: %d NOTIFY\r\n"+
			"Event: hangup\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n", c.sipp.port, local.Port, i, c.callID, i+1)
		if _, err := conn.Write([]byte(msg)); err != nil {
			c.t.Fatal(err)
		}
		select {
		case err := <-c.sipp.done:
			c.sipp.done <- err
			return
		case <-time.After(time.Second):
		}
	}
	errLog, _ := os.ReadFile(filepath.Join(c.sipp.dir, "errors.log"))
	c.t.Fatalf("the trunk's sipp did not hang up on the test's NOTIFY; its errors:\n%s", errLog)
}
