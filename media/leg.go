package media

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// maxPacket is the largest RTP datagram a leg reads, in bytes; longer ones
// are truncated by the kernel and dropped as malformed.
const maxPacket = 1500

// Leg is one RTP endpoint of the gateway on one call leg: a UDP socket in
// the configured port range, the codec and payload types negotiated for it,
// and the remote address, latched to the source of the first packet
// received (symmetric RTP, RFC 4961 §4; until then RTP goes to the address
// in the remote SDP). A Leg plays prompts (WriteAudio), reports DTMF digits
// (RFC 4733), writes the audio it receives to a recording (Record; the
// recorder's lock is per call) and, once bridged, relays what it receives
// to its peer leg.
//
// Run reads the socket and must be running for latching, DTMF and relaying.
// The per-packet path does not allocate, log or take locks shared with
// other calls.
type Leg struct {
	conn    *net.UDPConn
	local   netip.AddrPort
	ssrc    uint32
	onDigit func(digit byte)

	params  atomic.Pointer[Negotiation]
	remote  atomic.Pointer[netip.AddrPort]
	latched atomic.Bool
	relay   atomic.Pointer[relayTo]
	tap     legTap       // recorder of the received audio, see Record
	lastRx  atomic.Int64 // Unix ns of the last packet accepted

	// counters, read with Stats.
	packetsIn, packetsOut, dropped atomic.Uint64

	// outbound stream state of WriteAudio; the relay reads it once when a
	// bridge starts, to continue the sequence.
	outMu   sync.Mutex
	seq     uint16
	ts      uint32
	started bool
	outBuf  [RTPHeaderLen + maxPacket]byte

	closeOnce sync.Once
}

// LegStats are a leg's packet counters since it was created.
type LegStats struct {
	// PacketsIn counts RTP packets accepted from the latched remote.
	PacketsIn uint64
	// PacketsOut counts RTP packets sent (played or relayed).
	PacketsOut uint64
	// Dropped counts datagrams ignored: malformed, from another source
	// than the latched one, or of an unknown payload type.
	Dropped uint64
}

// NewLeg wraps conn (from PortRange.Listen) as a leg. onDigit, if not nil,
// is called from Run's goroutine with each DTMF digit received as RFC 4733
// telephone-events ('0'-'9', '*', '#', 'A'-'D'); it must not block.
func NewLeg(conn *net.UDPConn, onDigit func(digit byte)) *Leg {
	var b [4]byte
	_, _ = rand.Read(b[:])
	l := &Leg{conn: conn, ssrc: binary.BigEndian.Uint32(b[:]), onDigit: onDigit}
	l.local = conn.LocalAddr().(*net.UDPAddr).AddrPort()
	_, _ = rand.Read(b[:])
	l.seq = binary.BigEndian.Uint16(b[:2])
	l.ts = binary.BigEndian.Uint32(b[:])
	return l
}

// LocalAddr returns the socket's local address and port.
func (l *Leg) LocalAddr() netip.AddrPort { return l.local }

// SSRC returns the synchronisation source of the stream the leg sends.
func (l *Leg) SSRC() uint32 { return l.ssrc }

// SetNegotiation sets the codec, payload types and remote address agreed
// in SDP. It may be called again after a re-negotiation; a remote already
// latched from received packets is kept.
func (l *Leg) SetNegotiation(n Negotiation) {
	l.params.Store(&n)
	if !l.latched.Load() && n.Remote.IsValid() {
		r := n.Remote
		l.remote.Store(&r)
	}
}

// Negotiation returns what SetNegotiation stored, ok false before.
func (l *Leg) Negotiation() (Negotiation, bool) {
	if p := l.params.Load(); p != nil {
		return *p, true
	}
	return Negotiation{}, false
}

// Remote returns where the leg sends RTP now: the latched source, or the
// SDP address before any packet arrived.
func (l *Leg) Remote() (netip.AddrPort, bool) {
	if r := l.remote.Load(); r != nil {
		return *r, true
	}
	return netip.AddrPort{}, false
}

// LastReceived returns when the last RTP packet was accepted, the zero time
// if none was.
func (l *Leg) LastReceived() time.Time {
	if ns := l.lastRx.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// Stats returns the leg's counters.
func (l *Leg) Stats() LegStats {
	return LegStats{PacketsIn: l.packetsIn.Load(), PacketsOut: l.packetsOut.Load(), Dropped: l.dropped.Load()}
}

// Close closes the socket; Run then returns. It is safe to call twice.
func (l *Leg) Close() error {
	var err error
	l.closeOnce.Do(func() { err = l.conn.Close() })
	return err
}

// Run reads RTP until ctx ends or the leg is closed, then closes the leg
// and returns nil. It returns the read error if the socket fails otherwise.
func (l *Leg) Run(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() { _ = l.Close() })
	defer stop()
	var buf [maxPacket]byte
	var dtmf DTMFDetector
	for {
		n, src, err := l.conn.ReadFromUDPAddrPort(buf[:])
		if err != nil {
			_ = l.Close()
			if errors.Is(err, net.ErrClosed) || ctx.Err() != nil {
				return nil
			}
			return err
		}
		l.receive(buf[:n], src, &dtmf)
	}
}

// receive handles one datagram; it is the per-packet path.
func (l *Leg) receive(pkt []byte, src netip.AddrPort, dtmf *DTMFDetector) {
	h, err := ParseRTPHeader(pkt)
	p := l.params.Load()
	if err != nil || p == nil {
		l.dropped.Add(1)
		return
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	if !l.latched.Load() {
		r := src
		l.remote.Store(&r)
		l.latched.Store(true)
	} else if r := l.remote.Load(); r == nil || *r != src {
		l.dropped.Add(1)
		return
	}
	l.packetsIn.Add(1)
	now := time.Now()
	l.lastRx.Store(now.UnixNano())
	isEvent := p.EventPT != 0 && h.PayloadType == p.EventPT
	if isEvent && l.onDigit != nil {
		if d := dtmf.Packet(h.Timestamp, pkt[h.PayloadOffset:h.PayloadEnd]); d != 0 {
			l.onDigit(d)
		}
	}
	if !isEvent && h.PayloadType != p.AudioPT {
		l.dropped.Add(1)
		return
	}
	if t := l.tap.Load(); t != nil && !isEvent { // before the relay transcodes in place
		t.rec.write(t.ch, h.SSRC, h.Timestamp, pkt[h.PayloadOffset:h.PayloadEnd], p.Codec, now)
	}
	if r := l.relay.Load(); r != nil {
		r.forward(pkt, h, isEvent)
	}
}

// WriteAudio sends one frame of µ-law samples (normally FrameSamples bytes,
// 20 ms) to the remote, encoded in the leg's codec, with the leg's SSRC and
// the next sequence number; the timestamp advances by len(ulaw) samples.
// The first frame carries the marker bit (RFC 3551 §4.1). Nothing is sent
// before a negotiation and a remote address are known. It does not
// allocate.
func (l *Leg) WriteAudio(ulaw []byte) error {
	p := l.params.Load()
	r := l.remote.Load()
	if p == nil || r == nil {
		return nil
	}
	if len(ulaw) > maxPacket {
		ulaw = ulaw[:maxPacket]
	}
	l.outMu.Lock()
	defer l.outMu.Unlock()
	l.seq++
	l.ts += uint32(len(ulaw))
	PutRTPHeader(l.outBuf[:], !l.started, p.AudioPT, l.seq, l.ts, l.ssrc)
	l.started = true
	payload := l.outBuf[RTPHeaderLen : RTPHeaderLen+len(ulaw)]
	copy(payload, ulaw)
	Transcode(payload, CodecPCMU, p.Codec)
	if _, err := l.conn.WriteToUDPAddrPort(l.outBuf[:RTPHeaderLen+len(ulaw)], *r); err != nil {
		if errors.Is(err, net.ErrClosed) {
			return ErrLegClosed
		}
		return err
	}
	l.packetsOut.Add(1)
	return nil
}
