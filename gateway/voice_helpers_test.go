package gateway

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/media"
)

// Voice test values: the bank's dialled number and the RM phone's
// password.
const (
	bankNumber    = "+85221234567"
	phonePassword = "phone-secret-1"
)

// needTool returns the path of an external tool, skipping the test when it
// is absent unless AIRBRANCH_TEST_REQUIRE_TOOLS=1 (then it fails).
func needTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("AIRBRANCH_TEST_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s not installed (apt-get install %s)", name, pkg)
		}
		t.Skipf("%s not installed (apt-get install %s)", name, pkg)
	}
	return p
}

// voiceConfig turns the voice channel on in cfg on loopback: UDP SIP on an
// ephemeral port, RTP on 127.0.0.1 on ports the kernel chooses, a trunk
// for 127.0.0.0/8 whose P-Asserted-Identity is trusted, and rm-pb-01's
// phone; no RTP timeout.
func voiceConfig(cfg *configs.Config) {
	s := &cfg.SIP
	s.UDPAddr, s.MediaIP, s.PublicMediaIP = "127.0.0.1:0", "127.0.0.1", "127.0.0.1"
	s.RTPPortMin, s.RTPPortMax = 0, 0
	s.ChannelAccount = bankNumber
	s.Trunks = []configs.SIPTrunk{{Name: "loopback", Sources: []string{"127.0.0.0/8"}, TrustIdentity: true}}
	s.RMPhones = []configs.SIPPhone{{RM: demoRM, Username: demoRM}}
	s.RMRingTimeout = 10 * time.Second
	s.AnnounceEvery = 2 * time.Second
	s.RTPTimeout = 0 // off: the test's callers send RTP only when they talk
	cfg.Secrets.SIPPhonePasswords = map[string]string{demoRM: phonePassword}
	cfg.Secrets.SIPNonceSecret = "voice-test-nonce-secret"
}

// startVoice starts a gateway on cfg whose logs are printed (the last
// 8000 bytes) when the test fails.
func startVoice(t *testing.T, cfg *configs.Config) (*running, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			out := logs.String()
			if len(out) > 8000 {
				out = out[len(out)-8000:]
			}
			t.Logf("gateway logs:\n%s", out)
		}
	})
	return start(t, cfg, logs), logs
}

// sipAddr is the gateway's UDP SIP address.
func (r *running) sipAddr() net.Addr { return r.g.voice.server.Addr("udp") }

// freeUDPPort returns a UDP port free on 127.0.0.1 a moment ago.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// freeUDPTCPPort returns a port free on 127.0.0.1 for both UDP and TCP a
// moment ago, with the next port free for TCP too (baresip listens on
// both, and for TLS on the next port).
func freeUDPTCPPort(t *testing.T) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", l.Addr().String())
		l.Close()
		if err != nil {
			continue
		}
		u.Close()
		// baresip also binds its TLS listener on the next port.
		if tls, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+1)); err == nil {
			tls.Close()
			return port
		}
	}
	t.Fatal("no port free for both udp and tcp")
	return 0
}

// sipp is one sipp process running a scenario of testdata/sipp.
type sipp struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
	name string
	dir  string
	port int
}

// startSipp runs sipp with scenario from 127.0.0.1:port against target
// (nil for a UAS); extra arguments go before the target.
func startSipp(t *testing.T, scenario string, target net.Addr, port int, extra ...string) *sipp {
	t.Helper()
	bin := needTool(t, "sipp", "sip-tester")
	sf, err := filepath.Abs(filepath.Join("testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	args := []string{"-sf", sf, "-m", "1", "-l", "1", "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)), "-s", bankNumber,
		"-timeout", "90", "-timeout_error", "-nostdin", "-trace_err", "-error_file", filepath.Join(dir, "errors.log")}
	args = append(args, extra...)
	if target != nil {
		args = append(args, target.String())
	}
	s := &sipp{name: scenario, dir: dir, port: port, out: &syncBuffer{}, done: make(chan error, 1)}
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

// wait waits up to 60 s for sipp to exit and fails the test unless every
// call of its scenario succeeded (exit 0).
func (s *sipp) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			errLog, _ := os.ReadFile(filepath.Join(s.dir, "errors.log"))
			out := s.out.String()
			if len(out) > 3000 {
				out = out[len(out)-3000:]
			}
			t.Fatalf("sipp %s: %v\n%s\nerrors:\n%s", s.name, err, out, errLog)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("sipp %s did not finish", s.name)
	}
}

// registerPhone starts rm-pb-01's sipp phone (answering in PCMA, echoing
// RTP) and registers it with the gateway at gw by digest; it returns the
// phone, which exits once the gateway hung up its call.
func registerPhone(t *testing.T, gw net.Addr) *sipp {
	t.Helper()
	return registerPhoneScenario(t, gw, "phone_answer.xml", "-rtp_echo")
}

// registerPhoneScenario is registerPhone with the phone's scenario.
func registerPhoneScenario(t *testing.T, gw net.Addr, scenario string, extra ...string) *sipp {
	t.Helper()
	uas := freeUDPPort(t)
	phone := startSipp(t, scenario, nil, uas, extra...)
	startSipp(t, "phone_register.xml", gw, freeUDPPort(t), "-s", demoRM, "-au", demoRM, "-ap", phonePassword,
		"-set", "uas_port", strconv.Itoa(uas)).wait(t)
	return phone
}

// trunkCall is a call placed by sipp as the bank's trunk from the demo
// private-bank client's number, with its RTP on a socket of the test.
type trunkCall struct {
	t      *testing.T
	sipp   *sipp
	callID string
	rtp    *net.UDPConn
	gwRTP  netip.AddrPort
}

// placeCall starts trunk_call.xml against gw.
func placeCall(t *testing.T, gw net.Addr) *trunkCall {
	t.Helper()
	return placeCallScenario(t, gw, "trunk_call.xml")
}

// placeCallScenario starts scenario (a variant of trunk_call.xml) against gw.
func placeCallScenario(t *testing.T, gw net.Addr, scenario string) *trunkCall {
	t.Helper()
	rtp, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rtp.Close() })
	cid := "airbranch-e2e-" + strings.ToLower(rand.Text()[:10])
	s := startSipp(t, scenario, gw, freeUDPPort(t), "-cid_str", cid+"-%u",
		"-set", "rtp_port", strconv.Itoa(rtp.LocalAddr().(*net.UDPAddr).Port), "-set", "pai", demoPhone)
	return &trunkCall{t: t, sipp: s, callID: cid + "-1", rtp: rtp}
}

// readRTP reads one RTP packet within 10 s and remembers where the
// gateway sends from (its caller leg, symmetric RTP).
func (c *trunkCall) readRTP() (media.RTPHeader, []byte) {
	c.t.Helper()
	buf := make([]byte, 2048)
	_ = c.rtp.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, from, err := c.rtp.ReadFromUDPAddrPort(buf)
	if err != nil {
		c.t.Fatalf("no rtp from the gateway: %v", err)
	}
	h, err := media.ParseRTPHeader(buf[:n])
	if err != nil {
		c.t.Fatalf("bad rtp: %v", err)
	}
	c.gwRTP = from
	return h, append([]byte(nil), buf[h.PayloadOffset:h.PayloadEnd]...)
}

// waitMusic reads the music on hold the gateway plays to the waiting
// caller, learning where its RTP comes from.
func (c *trunkCall) waitMusic() {
	c.t.Helper()
	if h, _ := c.readRTP(); h.PayloadType != 0 {
		c.t.Fatalf("music on hold in payload type %d, want PCMU (0)", h.PayloadType)
	}
}

// talk sends PCMU frames of audio to the gateway's leg (found by
// waitMusic) every 20 ms and counts the frames that come back equal to
// want (the RM phone's echo, through the gateway both ways) until min came
// back; it gives up after 500 frames read. Music on hold sent before the
// bridge is read and skipped.
func (c *trunkCall) talk(audio, want []byte, min int) int {
	c.t.Helper()
	to := c.gwRTP
	stop, sent := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sent)
		pkt := make([]byte, media.RTPHeaderLen+len(audio))
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			media.PutRTPHeader(pkt, i == 0, 0, uint16(i), uint32(i*media.FrameSamples), 0x5eed)
			copy(pkt[media.RTPHeaderLen:], audio)
			_, _ = c.rtp.WriteToUDPAddrPort(pkt, to)
		}
	}()
	defer func() {
		close(stop)
		<-sent
	}()
	back := 0
	for i := 0; i < 500 && back < min; i++ {
		h, payload := c.readRTP()
		if h.PayloadType == 0 && bytes.Equal(payload, want) {
			back++
		}
	}
	return back
}

// hangUp makes the trunk hang up: a NOTIFY with the call's Call-ID tells
// the scenario to answer it and send its BYE. (sipp sends its 200 to the
// gateway, the call's remote, so the NOTIFY is repeated each second until
// sipp has finished, at most ten times.)
func (c *trunkCall) hangUp() {
	c.t.Helper()
	conn, err := net.Dial("udp", fmt.Sprintf("127.0.0.1:%d", c.sipp.port))
	if err != nil {
		c.t.Fatal(err)
	}
	defer conn.Close()
	local := conn.LocalAddr().(*net.UDPAddr)
	for i := range 10 {
		msg := fmt.Sprintf("NOTIFY sip:trunk@127.0.0.1:%d SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:%d;branch=z9hG4bK-hangup-%d\r\n"+
			"From: <sip:test@127.0.0.1>;tag=test-hangup\r\nTo: <sip:trunk@127.0.0.1>\r\nCall-ID: %s\r\nCSeq: %d NOTIFY\r\n"+
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

// conversation reads conversation id through the API of r.
func (d *apiDesk) conversation(id string) map[string]any {
	d.t.Helper()
	code, detail := do(d.t, "GET", d.base+"/api/v1/conversations/"+id, d.admin, nil)
	if code != http.StatusOK {
		d.t.Fatalf("conversation %s: %d %v", id, code, detail)
	}
	return detail
}

// waitStatus waits until conversation id has status (and assignee, when
// not empty) and returns it.
func (d *apiDesk) waitStatus(id string, status conversation.Status, assignee string) map[string]any {
	d.t.Helper()
	var last map[string]any
	deadline := time.Now().Add(15 * time.Second)
	for {
		last = d.conversation(id)
		if last["status"] == string(status) && (assignee == "" || last["assignee_id"] == assignee) {
			return last
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("conversation %s: status %v assignee %v, want %s %s", id, last["status"], last["assignee_id"], status, assignee)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// hasCallEnded reports whether a conversation detail's timeline records
// the call's end with reason.
func hasCallEnded(detail map[string]any, reason string) bool {
	events, _ := detail["events"].([]any)
	for _, e := range events {
		d, _ := e.(map[string]any)["detail"].(map[string]any)
		if d["event"] == "call_ended" && d["reason"] == reason {
			return true
		}
	}
	return false
}
