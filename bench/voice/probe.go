package main

import (
	"encoding/binary"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// probe is the RTP endpoint of every RM phone of a step (the phone sipp's
// SDP points at it): it echoes each packet back to its source, as sipp's
// -rtp_echo does, so media flows both ways through the relay, and measures
// the stream the relay delivers from each caller: packets received, their
// sequence-number span (for loss) and their delay variation (RFC 3550
// §6.4.1 transit, arrival minus RTP timestamp, less the stream's smallest
// transit in the window).
type probe struct {
	conn *net.UDPConn

	mu        sync.Mutex
	measuring bool
	streams   map[netip.AddrPort]*stream
	delays    []float64 // ms, every packet of every stream in the window
	done      chan struct{}
}

// stream is what the probe saw of one relayed caller stream in the window.
type stream struct {
	received         int
	firstSeq, maxSeq int64 // extended (unwrapped) sequence numbers
	lastSeq          uint16
	minTransit       float64
	transits         []float64
}

func newProbe() (*probe, error) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	_ = c.SetReadBuffer(8 << 20)
	_ = c.SetWriteBuffer(8 << 20)
	p := &probe{conn: c, streams: map[netip.AddrPort]*stream{}, done: make(chan struct{})}
	go p.run()
	return p, nil
}

func (p *probe) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

func (p *probe) close() {
	_ = p.conn.Close()
	<-p.done
}

func (p *probe) run() {
	defer close(p.done)
	buf := make([]byte, 2048)
	start := time.Now()
	for {
		n, from, err := p.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			return
		}
		now := time.Since(start).Seconds() * 1000
		_, _ = p.conn.WriteToUDPAddrPort(buf[:n], from)
		if n < 12 || buf[0]>>6 != 2 || buf[1]&0x7f != 0 {
			continue // not PCMU RTP (an RFC 4733 event, RTCP)
		}
		seq := binary.BigEndian.Uint16(buf[2:])
		ts := binary.BigEndian.Uint32(buf[4:])
		p.mu.Lock()
		if p.measuring {
			p.add(from, seq, ts, now)
		}
		p.mu.Unlock()
	}
}

func (p *probe) add(from netip.AddrPort, seq uint16, ts uint32, nowMS float64) {
	s := p.streams[from]
	transit := nowMS - float64(ts)/8 // ms; the timestamp's origin cancels out
	if s == nil {
		s = &stream{firstSeq: int64(seq), maxSeq: int64(seq), lastSeq: seq, minTransit: transit}
		p.streams[from] = s
	}
	ext := s.maxSeq + int64(int16(seq-s.lastSeq))
	if ext > s.maxSeq {
		s.maxSeq, s.lastSeq = ext, seq
	}
	if ext < s.firstSeq {
		s.firstSeq = ext
	}
	s.received++
	s.minTransit = min(s.minTransit, transit)
	s.transits = append(s.transits, transit)
}

// start opens the measurement window, forgetting what came before.
func (p *probe) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.streams = map[netip.AddrPort]*stream{}
	p.measuring = true
}

// mediaResult is the probe's account of a window.
type mediaResult struct {
	Streams  int     `json:"streams"`  // callers' streams seen in the window
	Received int     `json:"received"` // packets
	Expected int     `json:"expected"` // packets: each stream's span, plus 50/s for each expected stream never seen
	LossPct  float64 `json:"loss_pct"`
	P50DVms  float64 `json:"p50_dv_ms"` // delay variation percentiles over every packet
	P99DVms  float64 `json:"p99_dv_ms"`
}

// stop closes the window; wantStreams streams were expected to flow for
// window, so a missing one counts as all its packets lost.
func (p *probe) stop(wantStreams int, window time.Duration) mediaResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.measuring = false
	var r mediaResult
	var dv []float64
	for _, s := range p.streams {
		r.Streams++
		r.Received += s.received
		r.Expected += int(s.maxSeq - s.firstSeq + 1)
		for _, t := range s.transits {
			dv = append(dv, t-s.minTransit)
		}
	}
	if missing := wantStreams - r.Streams; missing > 0 {
		r.Expected += missing * int(window.Seconds()*50)
	}
	if r.Expected > 0 {
		r.LossPct = 100 * float64(r.Expected-min(r.Received, r.Expected)) / float64(r.Expected)
	}
	slices.Sort(dv)
	r.P50DVms, r.P99DVms = percentile(dv, 0.50), percentile(dv, 0.99)
	return r
}

// percentile returns the q quantile of sorted (nearest rank), 0 if empty.
func percentile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
