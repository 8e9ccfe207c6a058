package media

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/zaf/g711"
)

// phone is a loopback UDP peer standing in for a caller's or an RM's RTP
// endpoint.
type phone struct {
	t    testing.TB
	conn *net.UDPConn
}

func newPhone(t testing.TB) *phone {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &phone{t: t, conn: c}
}

func (p *phone) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (p *phone) send(to netip.AddrPort, pkt []byte) {
	p.t.Helper()
	if _, err := p.conn.WriteToUDPAddrPort(pkt, to); err != nil {
		p.t.Fatal(err)
	}
}

// recv reads one datagram, failing after 5 s.
func (p *phone) recv() ([]byte, netip.AddrPort) {
	p.t.Helper()
	buf := make([]byte, 2048)
	_ = p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := p.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		p.t.Fatalf("phone %s: %v", p.addr(), err)
	}
	return buf[:n], from
}

// startLeg makes a leg on loopback and runs it until the test ends.
func startLeg(t *testing.T, n Negotiation, onDigit func(byte)) *Leg {
	t.Helper()
	var r PortRange
	c, err := r.Listen(netip.MustParseAddr("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	l := NewLeg(c, onDigit)
	l.SetNegotiation(n)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		if err := l.Run(ctx); err != nil {
			t.Errorf("leg run: %v", err)
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return l
}

func rtpPacket(pt uint8, seq uint16, ts, ssrc uint32, marker bool, payload []byte) []byte {
	b := make([]byte, RTPHeaderLen+len(payload))
	PutRTPHeader(b, marker, pt, seq, ts, ssrc)
	copy(b[RTPHeaderLen:], payload)
	return b
}

func TestRelayTranscodesAndLatches(t *testing.T) {
	t.Parallel()
	caller, rm := newPhone(t), newPhone(t)
	unused := newPhone(t) // the RM's SDP names this port; its packets come from rm
	var mu sync.Mutex
	var digits []byte
	a := startLeg(t, Negotiation{Codec: CodecPCMU, AudioPT: 0, EventPT: 101, Remote: caller.addr()}, func(d byte) {
		mu.Lock()
		digits = append(digits, d)
		mu.Unlock()
	})
	b := startLeg(t, Negotiation{Codec: CodecPCMA, AudioPT: 8, EventPT: 96, Remote: unused.addr()}, nil)

	// The gateway played a frame to the RM before the bridge: the relayed
	// stream continues its sequence.
	if err := b.WriteAudio(bytes.Repeat([]byte{0xff}, FrameSamples)); err != nil {
		t.Fatal(err)
	}
	played, _ := unused.recv()
	ph, _ := ParseRTPHeader(played)
	if ph.PayloadType != 8 || !bytes.Equal(played[RTPHeaderLen:], bytes.Repeat([]byte{0xd5}, FrameSamples)) {
		t.Fatalf("played frame %v payload %x…, want PCMA silence", ph, played[RTPHeaderLen:RTPHeaderLen+4])
	}

	// The RM's phone sends first from its real socket: b latches to it.
	rmAudio := make([]byte, FrameSamples)
	for i := range rmAudio {
		rmAudio[i] = byte(i * 7)
	}
	Bridge(a, b)
	rm.send(b.LocalAddr(), rtpPacket(8, 500, 8000, 0x1111, true, rmAudio))
	got, from := caller.recv()
	if from != a.LocalAddr() {
		t.Errorf("relayed from %s, want leg a %s", from, a.LocalAddr())
	}
	want := rtpPacket(0, 0, 0, a.SSRC(), true, g711.Alaw2Ulaw(rmAudio))
	gh, err := ParseRTPHeader(got)
	if err != nil {
		t.Fatal(err)
	}
	PutRTPHeader(want, true, 0, gh.SequenceNumber, gh.Timestamp, a.SSRC())
	if !bytes.Equal(got, want) {
		t.Fatalf("rm→caller packet\n got %x\nwant %x", got, want)
	}

	// Caller audio in µ-law reaches the RM's latched address as A-law, with
	// the sequence continuing the played frame's.
	callerAudio := make([]byte, FrameSamples)
	for i := range callerAudio {
		callerAudio[i] = byte(255 - i)
	}
	caller.send(a.LocalAddr(), rtpPacket(0, 40000, 123456, 0x2222, true, callerAudio))
	got, _ = rm.recv()
	want = rtpPacket(8, ph.SequenceNumber+1, ph.Timestamp+FrameSamples, b.SSRC(), true, g711.Ulaw2Alaw(callerAudio))
	if !bytes.Equal(got, want) {
		t.Fatalf("caller→rm packet\n got %x\nwant %x", got, want)
	}
	caller.send(a.LocalAddr(), rtpPacket(0, 40001, 123456+FrameSamples, 0x2222, false, callerAudio))
	got, _ = rm.recv()
	want = rtpPacket(8, ph.SequenceNumber+2, ph.Timestamp+2*FrameSamples, b.SSRC(), false, g711.Ulaw2Alaw(callerAudio))
	if !bytes.Equal(got, want) {
		t.Fatalf("second caller→rm packet\n got %x\nwant %x", got, want)
	}

	// A telephone-event passes through unchanged but for its payload type,
	// and the caller's digit is reported once.
	event := []byte{9, 0x8a, 0x01, 0xe0}
	for range 3 {
		caller.send(a.LocalAddr(), rtpPacket(101, 40002, 123456+2*FrameSamples, 0x2222, false, event))
		got, _ = rm.recv()
		if h, _ := ParseRTPHeader(got); h.PayloadType != 96 || !bytes.Equal(got[RTPHeaderLen:], event) {
			t.Fatalf("event relayed as %v %x", h, got[RTPHeaderLen:])
		}
	}
	mu.Lock()
	if string(digits) != "9" {
		t.Errorf("digits %q, want \"9\"", digits)
	}
	mu.Unlock()

	// A packet from a stranger to a latched leg is dropped.
	stranger := newPhone(t)
	stranger.send(b.LocalAddr(), rtpPacket(8, 1, 1, 1, false, rmAudio))
	rm.send(b.LocalAddr(), rtpPacket(8, 501, 8160, 0x1111, false, rmAudio))
	got, _ = caller.recv()
	if h, _ := ParseRTPHeader(got); h.SequenceNumber != gh.SequenceNumber+1 {
		t.Errorf("after a stranger's packet, caller got %v, want seq %d", h, gh.SequenceNumber+1)
	}
	if s := b.Stats(); s.Dropped != 1 || s.PacketsIn != 2 {
		t.Errorf("leg b stats %+v, want 1 dropped and 2 in", s)
	}
}

func TestPlayPacesFrames(t *testing.T) {
	t.Parallel()
	caller := newPhone(t)
	l := startLeg(t, Negotiation{Codec: CodecPCMA, AudioPT: 8, Remote: caller.addr()}, nil)
	tone := make([]byte, 2*FrameSamples+10)
	for i := range tone {
		tone[i] = byte(i)
	}
	if err := Play(context.Background(), l, tone); err != nil {
		t.Fatal(err)
	}
	var prev RTPHeader
	for i := range 3 {
		got, _ := caller.recv()
		h, err := ParseRTPHeader(got)
		if err != nil {
			t.Fatal(err)
		}
		end := min(len(tone), (i+1)*FrameSamples)
		want := append([]byte(nil), tone[i*FrameSamples:end]...)
		for len(want) < FrameSamples {
			want = append(want, 0xff)
		}
		if !bytes.Equal(got[h.PayloadOffset:], g711.Ulaw2Alaw(want)) {
			t.Errorf("frame %d payload differs", i)
		}
		if i > 0 && (h.SequenceNumber != prev.SequenceNumber+1 || h.Timestamp != prev.Timestamp+FrameSamples || h.Marker) {
			t.Errorf("frame %d header %v after %v", i, h, prev)
		}
		if i == 0 && !h.Marker {
			t.Error("first frame without marker")
		}
		prev = h
	}
}
