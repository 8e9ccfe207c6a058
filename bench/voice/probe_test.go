package main

import (
	"encoding/binary"
	"math"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestProbeCountsLossAndEchoes: a stream of 100 PCMU packets with 5
// missing reads as 5 % lost over one stream, every packet comes back to
// its source, and a stream expected but never seen counts as lost.
func TestProbeCountsLossAndEchoes(t *testing.T) {
	p, err := newProbe()
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: p.port()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p.start()
	sent := 0
	for i := range 100 {
		if i%20 == 7 {
			continue // lost on the way
		}
		pkt := make([]byte, 12+160)
		pkt[0] = 0x80
		binary.BigEndian.PutUint16(pkt[2:], uint16(65500+i)) // wraps
		binary.BigEndian.PutUint32(pkt[4:], uint32(i*160))
		if _, err := c.Write(pkt); err != nil {
			t.Fatal(err)
		}
		sent++
		time.Sleep(time.Millisecond)
	}
	echoed := 0
	buf := make([]byte, 2048)
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	for echoed < sent {
		if _, err := c.Read(buf); err != nil {
			break
		}
		echoed++
	}
	if echoed != sent {
		t.Errorf("echoed %d of %d", echoed, sent)
	}
	r := p.stop(1, time.Second)
	if r.Streams != 1 || r.Received != 95 || r.Expected != 100 || math.Abs(r.LossPct-5) > 1e-9 {
		t.Errorf("got %+v, want 1 stream, 95 of 100 received, 5%% lost", r)
	}
	if r.P99DVms <= 0 {
		t.Errorf("p99 delay variation %v: packets were 1 ms apart against 20 ms of timestamp, so it must be positive", r.P99DVms)
	}
	p.start()
	if r := p.stop(2, 10*time.Second); r.Expected != 1000 || r.LossPct != 100 {
		t.Errorf("two streams expected, none seen: %+v, want 1000 packets expected and 100%% lost", r)
	}
}

func TestPercentile(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tt := range []struct{ q, want float64 }{{0.5, 5}, {0.99, 10}, {0.1, 1}} {
		if got := percentile(v, tt.q); got != tt.want {
			t.Errorf("percentile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}

// TestTalkPcap: the capture has the libpcap header and 50 records a second
// of Ethernet/IPv4/UDP/RTP with 160 bytes of PCMU, 20 ms apart.
func TestTalkPcap(t *testing.T) {
	path := filepath.Join(t.TempDir(), "talk.pcap")
	if err := writeTalkPcap(path, 2); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const frame = 14 + 20 + 8 + 12 + 160
	if binary.LittleEndian.Uint32(b) != 0xa1b2c3d4 || len(b) != 24+100*(16+frame) {
		t.Fatalf("pcap of %d bytes, want %d", len(b), 24+100*(16+frame))
	}
	second := b[24+16+frame:]
	if usec := binary.LittleEndian.Uint32(second[4:]); usec != 20000 {
		t.Errorf("second packet at %d µs, want 20000", usec)
	}
	rtp := second[16+42:]
	if rtp[0] != 0x80 || rtp[1] != 0 || binary.BigEndian.Uint16(rtp[2:]) != 1 {
		t.Errorf("second RTP header % x", rtp[:12])
	}
}

// TestSippStats reads sipp's statistics file: the last line's counters and
// the second at which the last call was created.
func TestSippStats(t *testing.T) {
	dir := t.TempDir()
	csv := "StartTime;OutgoingCall(C);SuccessfulCall(C);FailedCall(C);\n" +
		"t0;0;0;0;\nt1;50;10;0;\nt2;100;60;1;\nt3;100;99;1;\n"
	if err := os.WriteFile(filepath.Join(dir, "stats.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := (&sipp{name: "test", dir: dir}).stats()
	if err != nil {
		t.Fatal(err)
	}
	if st != (sippStats{Created: 100, Successful: 99, Failed: 1, Seconds: 2}) {
		t.Errorf("got %+v", st)
	}
}
