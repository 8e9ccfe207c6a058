package sip

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/zaf/g711"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media"
)

// sippPath returns the sipp binary (Debian package sip-tester), skipping
// the test when it is absent unless AIRBRANCH_TEST_REQUIRE_TOOLS=1.
func sippPath(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("AIRBRANCH_TEST_REQUIRE_TOOLS") == "1" {
			t.Fatal("sipp not installed (apt-get install sip-tester)")
		}
		t.Skip("sipp not installed (apt-get install sip-tester)")
	}
	return p
}

// freePort returns a UDP port free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// sipp is one sipp process running a scenario of testdata/sipp against
// the gateway, in dir (where it finds its pcap files and writes logs).
type sipp struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan error
	name string
	dir  string
}

// startSipp starts sipp with scenario against gw; extra arguments go
// before the target (e.g. "-rtp_echo", "-set", "user", "rm-pb-01").
func startSipp(t *testing.T, dir, scenario string, gw net.Addr, port int, extra ...string) *sipp {
	t.Helper()
	bin := sippPath(t)
	sf, err := filepath.Abs(filepath.Join("testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"-sf", sf, "-m", "1", "-l", "1", "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freePort(t)), "-s", "+85221234567",
		"-timeout", "60", "-timeout_error", "-nostdin", "-trace_err", "-error_file", filepath.Join(dir, scenario+".errors.log")}
	args = append(args, extra...)
	if gw != nil {
		args = append(args, gw.String())
	}
	s := &sipp{name: scenario, dir: dir, done: make(chan error, 1)}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = &s.out, &s.out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	return s
}

// wait waits up to 90 s for sipp to exit and fails the test unless it
// exited 0 (every call of the scenario succeeded).
func (s *sipp) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			errLog, _ := os.ReadFile(filepath.Join(s.dir, s.name+".errors.log"))
			out := s.out.String()
			if len(out) > 3000 {
				out = out[len(out)-3000:]
			}
			t.Fatalf("sipp %s: %v\n%s\nerrors:\n%s", s.name, err, out, errLog)
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("sipp %s did not finish", s.name)
	}
}

func runSippCall(t *testing.T, s *Server, scenario string, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	startSipp(t, dir, scenario, s.Addr("udp"), freePort(t), extra...).wait(t)
	return dir
}

func TestSippTrunkCaller(t *testing.T) {
	tests := []struct {
		name     string
		scenario string
		cfg      func(*Config)
		pcap     bool
		menus    []string
		end      string
		from     string
		verified conversation.Verification
	}{
		{name: "callback by INFO", scenario: "trunk_info_callback.xml", menus: []string{"menu:callback:"}, end: "ended:callback",
			from: "+85261234567", verified: conversation.VerificationBasic},
		{name: "menu by RFC 4733", scenario: "trunk_rfc4733_menu.xml", pcap: true, menus: []string{"menu:language:zh", "menu:callback:"}, end: "ended:callback",
			from: "+85291234567", verified: conversation.VerificationNone},
		{name: "late offer then BYE while queued", scenario: "trunk_late_offer.xml", end: "ended:abandoned", from: "+85291234567"},
		{name: "CANCEL while ringing", scenario: "trunk_cancel.xml", cfg: func(c *Config) { c.RingBeforeAnswer = 30 * time.Second }, end: "ended:abandoned", from: "+85291234567"},
		{name: "codec mismatch", scenario: "trunk_codec_mismatch.xml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sippPath(t)
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}
			sink := newFakeSink()
			s := startServer(t, cfg, sink, nil)
			dir := t.TempDir()
			if tt.pcap {
				if err := os.WriteFile(filepath.Join(dir, "dtmf.pcap"), dtmfPcap([]uint8{1, 2}), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			startSipp(t, dir, tt.scenario, s.Addr("udp"), freePort(t)).wait(t)
			for _, m := range tt.menus {
				if got := sink.waitEvent(t, "menu:"); got != m {
					t.Errorf("menu %q, want %q", got, m)
				}
			}
			if tt.end == "" {
				sink.mu.Lock()
				defer sink.mu.Unlock()
				if len(sink.incoming) != 0 {
					t.Errorf("refused call created %d conversations", len(sink.incoming))
				}
				return
			}
			if got := sink.waitEvent(t, "ended:"); got != tt.end {
				t.Errorf("end %q, want %q", got, tt.end)
			}
			in := sink.lastIncoming()
			if in.From.Value != tt.from || in.Verification != tt.verified && tt.verified != "" {
				t.Errorf("caller %s verification %s, want %s %s", in.From.Value, in.Verification, tt.from, tt.verified)
			}
		})
	}
}

// TestSippRMPhone: sipp registers as RM phone rm-pb-01 with digest
// authentication, a PCMU caller waits in queue, Bridge rings the sipp
// phone, which answers in PCMA and echoes RTP (-rtp_echo); the caller's
// audio comes back through both transcodings byte for byte, and the
// phone's BYE ends the caller's leg and completes the call.
func TestSippRMPhone(t *testing.T) {
	sippPath(t)
	sink := newFakeSink()
	reg := NewMemoryRegistrar()
	s := startServer(t, testConfig(), sink, reg)
	dir := t.TempDir()
	uasPort := freePort(t)
	phone := startSipp(t, dir, "rm_phone_uas.xml", nil, uasPort, "-rtp_echo", "-d", "3000")
	startSipp(t, dir, "rm_register.xml", s.Addr("udp"), freePort(t),
		"-s", "rm-pb-01", "-au", "rm-pb-01", "-ap", "secret-1", "-set", "uas_port", strconv.Itoa(uasPort)).wait(t)
	bs, err := reg.Bindings(context.Background(), "rm-pb-01", time.Now())
	if err != nil || len(bs) != 1 || bs[0].Contact != fmt.Sprintf("sip:rm-pb-01@127.0.0.1:%d", uasPort) {
		t.Fatalf("bindings %+v %v", bs, err)
	}

	caller := newPeer(t, "caller")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d, n, id := callQueued(t, ctx, s, sink, caller, "0 101", "a=rtpmap:101 telephone-event/8000")
	if err := s.Bridge(ctx, id, "rm-pb-01"); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	audio := make([]byte, media.FrameSamples)
	for i := range audio {
		audio[i] = byte(i*5 + 1)
	}
	want := g711.Alaw2Ulaw(g711.Ulaw2Alaw(audio))
	stop := make(chan struct{})
	sent := make(chan struct{})
	go func() { // the caller talks until its echo comes back
		defer close(sent)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			caller.sendRTP(n.Remote, 0, uint16(i), uint32(i*media.FrameSamples), i == 0, audio)
		}
	}()
	readUntil(t, caller, 0, want)
	close(stop)
	<-sent
	if got := caller.waitBye(); got != d.InviteRequest.CallID().Value() {
		t.Errorf("BYE for %q", got)
	}
	phone.wait(t)
	if got := sink.waitEvent(t, "ended:"); got != "ended:completed" {
		t.Fatalf("end %q", got)
	}
}

// dtmfPcap returns a pcap file (Ethernet, IPv4, UDP) of RFC 4733
// telephone-event packets for the events given, one second apart: per
// event three updates and the three end packets (RFC 4733 §2.5.1.4), all
// with the event's timestamp, 20 ms apart; only the first has the marker.
func dtmfPcap(events []uint8) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4)
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65535)
	le.PutUint32(hdr[20:], 1) // LINKTYPE_ETHERNET
	b.Write(hdr)
	seq := uint16(100)
	for e, ev := range events {
		ts := uint32(16000 + e*8000)
		for i := range 6 {
			end := i >= 3
			dur := uint16(160 * (i + 1))
			if end {
				dur = 640
			}
			payload := []byte{ev, 10, byte(dur >> 8), byte(dur)}
			if end {
				payload[1] |= 0x80
			}
			rtp := make([]byte, media.RTPHeaderLen+4)
			media.PutRTPHeader(rtp, i == 0, 101, seq, ts, 0x5eed)
			copy(rtp[media.RTPHeaderLen:], payload)
			seq++
			frame := ethIPv4UDP(rtp)
			at := time.Duration(e)*time.Second + time.Duration(i)*20*time.Millisecond + 500*time.Millisecond
			rec := make([]byte, 16)
			le.PutUint32(rec[0:], uint32(at/time.Second))
			le.PutUint32(rec[4:], uint32(at%time.Second/time.Microsecond))
			le.PutUint32(rec[8:], uint32(len(frame)))
			le.PutUint32(rec[12:], uint32(len(frame)))
			b.Write(rec)
			b.Write(frame)
		}
	}
	return b.Bytes()
}

// ethIPv4UDP wraps payload in Ethernet, IPv4 (127.0.0.1 to 127.0.0.1) and
// UDP headers; sipp rewrites addresses and ports when it plays them.
func ethIPv4UDP(payload []byte) []byte {
	be := binary.BigEndian
	out := make([]byte, 14+20+8+len(payload))
	be.PutUint16(out[12:], 0x0800)
	ip := out[14:34]
	ip[0] = 0x45
	be.PutUint16(ip[2:], uint16(20+8+len(payload)))
	ip[8] = 64
	ip[9] = 17
	copy(ip[12:], []byte{127, 0, 0, 1})
	copy(ip[16:], []byte{127, 0, 0, 1})
	var sum uint32
	for i := 0; i < 20; i += 2 {
		sum += uint32(be.Uint16(ip[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	be.PutUint16(ip[10:], ^uint16(sum))
	udp := out[34:42]
	be.PutUint16(udp[0:], 6000)
	be.PutUint16(udp[2:], 6000)
	be.PutUint16(udp[4:], uint16(8+len(payload)))
	copy(out[42:], payload)
	return out
}
