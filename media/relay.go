package media

// relayTo is one direction of a bridge, owned by the source leg's Run
// goroutine once published: where to send, how to rewrite.
type relayTo struct {
	dst *Leg
	// table transcodes the source codec into dst's, nil when equal.
	table   *[256]byte
	audioPT uint8
	eventPT uint8
	// sequence and timestamp mapping onto dst's outbound stream, set on the
	// first packet and again when the source SSRC changes.
	inited bool
	inSSRC uint32
	seqOff uint16
	tsOff  uint32
}

// Bridge relays RTP between legs a and b in both directions (RFC 3550 §7.2
// translator behaviour, media anchored at the gateway): each packet received
// on one leg is sent from the other leg's socket to that leg's latched
// remote, with the payload transcoded between µ-law and A-law when the
// legs' codecs differ, the payload type rewritten to the other leg's, and
// telephone-events (RFC 4733) passed through with the other leg's event
// payload type (dropped when it negotiated none). The stream keeps the
// receiving side's SSRC and continues its sequence numbers and timestamps,
// so a prompt played before the bridge and the relayed audio form one
// stream. Both legs must have a negotiation; stop playing to them first.
func Bridge(a, b *Leg) {
	a.relay.Store(newRelay(a, b))
	b.relay.Store(newRelay(b, a))
}

// Unbridge stops relaying between a and b; each leg keeps its socket.
func Unbridge(a, b *Leg) {
	a.relay.Store(nil)
	b.relay.Store(nil)
}

func newRelay(src, dst *Leg) *relayTo {
	sp, dp := src.params.Load(), dst.params.Load()
	r := &relayTo{dst: dst}
	if sp != nil && dp != nil {
		r.table = transcodeTable(sp.Codec, dp.Codec)
		r.audioPT, r.eventPT = dp.AudioPT, dp.EventPT
	}
	return r
}

// forward rewrites pkt in place and sends it from dst; it is the relay's
// per-packet path.
func (r *relayTo) forward(pkt []byte, h RTPHeader, isEvent bool) {
	d := r.dst
	if !r.inited || h.SSRC != r.inSSRC {
		d.outMu.Lock()
		r.seqOff = d.seq + 1 - h.SequenceNumber
		r.tsOff = d.ts + FrameSamples - h.Timestamp
		d.started = true
		d.outMu.Unlock()
		r.inited, r.inSSRC = true, h.SSRC
	}
	pt := r.audioPT
	if isEvent {
		if r.eventPT == 0 {
			return
		}
		pt = r.eventPT
	} else if r.table != nil {
		for i := h.PayloadOffset; i < h.PayloadEnd; i++ {
			pkt[i] = r.table[pkt[i]]
		}
	}
	PutRTPHeader(pkt, h.Marker, pt, h.SequenceNumber+r.seqOff, h.Timestamp+r.tsOff, d.ssrc)
	// PutRTPHeader clears padding, extension and CSRC count; send only
	// what follows the fixed header when the source had none, else rebuild.
	out := pkt
	if h.PayloadOffset != RTPHeaderLen || h.PayloadEnd != len(pkt) {
		n := copy(pkt[RTPHeaderLen:], pkt[h.PayloadOffset:h.PayloadEnd])
		out = pkt[:RTPHeaderLen+n]
	}
	rp := d.remote.Load()
	if rp == nil {
		return
	}
	if _, err := d.conn.WriteToUDPAddrPort(out, *rp); err == nil {
		d.packetsOut.Add(1)
	}
}
