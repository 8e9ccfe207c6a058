package sip

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/airbranch/airbranch/media"
)

// TestBaresipRMPhone: Debian's baresip registers as RM phone rm-pb-02 with
// digest authentication, auto-answers the bridged leg in PCMA and sends a
// 440 Hz sine; a PCMU caller talks too. RTP flows both ways through the
// gateway (packet counts checked on the RM leg in each direction and at
// the caller), and the caller's BYE ends the phone's leg.
func TestBaresipRMPhone(t *testing.T) {
	bin, err := exec.LookPath("baresip")
	if err != nil {
		if os.Getenv("AIRBRANCH_TEST_REQUIRE_TOOLS") == "1" {
			t.Fatal("baresip not installed (apt-get install baresip-core)")
		}
		t.Skip("baresip not installed (apt-get install baresip-core)")
	}
	sink := newFakeSink()
	reg := NewMemoryRegistrar()
	s := startServer(t, testConfig(), sink, reg)
	dir := t.TempDir()
	gwPort := s.Addr("udp").(interface{ String() string }).String()
	phonePort := freeUDPTCPPort(t)
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
audio_source ausine,440
audio_player aufile,%s
audio_alert aufile,%s
net_interface 127.0.0.1
ausrc_srate 48000
auplay_srate 48000
ausrc_channels 2
auplay_channels 2
rtp_ports 30000-39998
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aufile.so
module_app account.so
`, phonePort, filepath.Join(dir, "heard.wav"), filepath.Join(dir, "alert.wav"))
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	account := fmt.Sprintf("<sip:rm-pb-02@%s;transport=udp>;auth_pass=secret-2;answermode=auto;regint=300;audio_codecs=PCMA\n", gwPort)
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(account), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "-f", dir)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("baresip output:\n%s", out.String())
		}
	})

	deadline := time.Now().Add(15 * time.Second)
	for {
		bs, err := reg.Bindings(context.Background(), "rm-pb-02", time.Now())
		if err == nil && len(bs) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("baresip did not register: %v %v", bs, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	caller := newPeer(t, "caller")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	d, n, id := callQueued(t, ctx, s, sink, caller, "0")
	if err := s.Bridge(ctx, id, "rm-pb-02"); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	s.mu.Lock()
	c := s.byConv[id]
	s.mu.Unlock()
	c.mu.Lock()
	rmLeg := c.rm.leg
	c.mu.Unlock()
	if neg, _ := rmLeg.Negotiation(); neg.Codec != media.CodecPCMA {
		t.Errorf("rm leg codec %s, want PCMA", neg.Codec)
	}

	// The caller talks for a second while the phone's sine comes back as
	// PCMU (the first frames read may still be music on hold sent before
	// the bridge; the leg's counters are the gateway's own measure).
	fromPhone := 0
	audio := bytes.Repeat([]byte{0x7f}, media.FrameSamples)
	for i := range 50 {
		caller.sendRTP(n.Remote, 0, uint16(i), uint32(i*media.FrameSamples), i == 0, audio)
		h, payload, _ := caller.readRTP()
		if h.PayloadType == 0 && len(payload) == media.FrameSamples && !bytes.Equal(payload, bytes.Repeat([]byte{0xff}, media.FrameSamples)) {
			fromPhone++
		}
	}
	st := rmLeg.Stats()
	if st.PacketsIn < 10 || st.PacketsOut < 10 || fromPhone < 10 {
		t.Errorf("rtp from phone %d, to phone %d, at caller %d: want at least 10 each", st.PacketsIn, st.PacketsOut, fromPhone)
	}
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	if got := sink.waitEvent(t, "ended:"); got != "ended:completed" {
		t.Fatalf("end %q", got)
	}
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
