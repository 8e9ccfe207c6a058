package media

import (
	"context"
	"net"
	"sync"
	"testing"
)

// BenchmarkRelay measures one direction of a bridge on loopback: a phone
// sends PCMU packets to leg a, bridged to leg b (PCMA, so every packet is
// transcoded), which sends them to the other phone. It reports packets per
// second and allocations per packet of the whole path, kernel included.
func BenchmarkRelay(b *testing.B) {
	caller, rm := newPhone(b), newPhone(b)
	var r PortRange
	mk := func(n Negotiation) *Leg {
		c, err := r.Listen(caller.addr().Addr())
		if err != nil {
			b.Fatal(err)
		}
		l := NewLeg(c, nil)
		l.SetNegotiation(n)
		return l
	}
	la := mk(Negotiation{Codec: CodecPCMU, AudioPT: 0, Remote: caller.addr()})
	lb := mk(Negotiation{Codec: CodecPCMA, AudioPT: 8, Remote: rm.addr()})
	Bridge(la, lb)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = la.Run(ctx) })
	wg.Go(func() { _ = lb.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()

	pkt := rtpPacket(0, 0, 0, 42, false, make([]byte, FrameSamples))
	buf := make([]byte, 2048)
	dst := la.LocalAddr()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		PutRTPHeader(pkt, false, 0, uint16(i), uint32(i*FrameSamples), 42)
		if _, err := caller.conn.WriteToUDPAddrPort(pkt, dst); err != nil {
			b.Fatal(err)
		}
		if _, _, err := rm.conn.ReadFromUDPAddrPort(buf); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// TestRelayPathDoesNotAllocate checks the per-packet receive-and-forward
// path directly, without the kernel.
func TestRelayPathDoesNotAllocate(t *testing.T) {
	rm := newPhone(t)
	var r PortRange
	mk := func(n Negotiation) *Leg {
		c, err := r.Listen(rm.addr().Addr())
		if err != nil {
			t.Fatal(err)
		}
		l := NewLeg(c, func(byte) {})
		l.SetNegotiation(n)
		t.Cleanup(func() { l.Close() })
		return l
	}
	la := mk(Negotiation{Codec: CodecPCMU, AudioPT: 0, EventPT: 101})
	lb := mk(Negotiation{Codec: CodecPCMA, AudioPT: 8, EventPT: 96, Remote: rm.addr()})
	Bridge(la, lb)
	src := net.UDPAddrFromAddrPort(rm.addr()).AddrPort()
	pkt := rtpPacket(0, 1, 160, 42, false, make([]byte, FrameSamples))
	ev := rtpPacket(101, 2, 320, 42, false, []byte{1, 0x80, 0, 160})
	var d DTMFDetector
	allocs := testing.AllocsPerRun(200, func() {
		la.receive(pkt, src, &d)
		la.receive(ev, src, &d)
	})
	if allocs != 0 {
		t.Errorf("relay path allocates %v times per two packets", allocs)
	}
}
