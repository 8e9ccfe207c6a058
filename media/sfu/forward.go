package sfu

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// maxPacketBytes bounds one forwarded RTP packet (above pion's receive
// MTU of 1460 bytes).
const maxPacketBytes = 1500

// packet is a pooled copy of one RTP packet on its way to a subscriber.
type packet struct {
	n  int
	sw bool // the first packet of a new simulcast layer
	b  [maxPacketBytes]byte
}

var packets = sync.Pool{New: func() any { return new(packet) }}

// published is one track a participant publishes, with its simulcast
// layers (one, rid "", without simulcast) and its subscribers.
type published struct {
	room   *Room
	pub    *Participant
	remote *webrtc.TrackRemote // the first layer received: id, kind, codec
	video  bool
	// lays are the layers, lowest rank first, replaced whole on change.
	lays  atomic.Pointer[[]*layer]
	first *layer // the first layer received (the one recorded)
	// live counts the layers still read; the track ends at zero.
	live atomic.Int32
	// done is closed when the track is unpublished.
	done     chan struct{}
	doneOnce sync.Once
	// subs is the subscribers' list, replaced whole on change (copy on
	// write) so the forwarding loops read it without a lock.
	subs   atomic.Pointer[[]*downTrack]
	subsMu sync.Mutex
	// rec writes the track to a file while the room records.
	rec    atomic.Pointer[trackRecorder]
	every  int64 // least ns between two PLIs
	detect keyframeDetector
	clock  uint32 // RTP clock rate (Hz)
}

func newPublished(r *Room, p *Participant, t *webrtc.TrackRemote) *published {
	pt := &published{room: r, pub: p, remote: t, video: t.Kind() == webrtc.RTPCodecTypeVideo, every: int64(r.sfu.cfg.KeyframeInterval),
		done: make(chan struct{}), detect: detectorFor(t.Codec().MimeType), clock: t.Codec().ClockRate}
	pt.subs.Store(&[]*downTrack{})
	pt.lays.Store(&[]*layer{})
	pt.first, _ = pt.addLayer(t)
	return pt
}

func (pt *published) downs() []*downTrack { return *pt.subs.Load() }

func (pt *published) addDown(d *downTrack) {
	pt.subsMu.Lock()
	defer pt.subsMu.Unlock()
	old := *pt.subs.Load()
	next := make([]*downTrack, len(old), len(old)+1)
	copy(next, old)
	next = append(next, d)
	pt.subs.Store(&next)
}

func (pt *published) removeDown(d *downTrack) {
	pt.subsMu.Lock()
	defer pt.subsMu.Unlock()
	old := *pt.subs.Load()
	next := make([]*downTrack, 0, len(old))
	for _, x := range old {
		if x != d {
			next = append(next, x)
		}
	}
	pt.subs.Store(&next)
}

// forward reads one layer's packets and queues a copy for each
// subscriber receiving that layer (or switching to it at this key frame)
// until the layer ends; the last layer to end unpublishes the track.
func (l *layer) forward() {
	pt := l.pt
	var buf [maxPacketBytes]byte
	for {
		n, _, err := l.remote.Read(buf[:])
		if err != nil {
			break
		}
		l.last.Store(time.Now().UnixNano())
		key := -1 // not looked at yet
		for _, d := range *pt.subs.Load() {
			if d.cur.Load() == l {
				d.push(buf[:n], false)
				continue
			}
			if d.want.Load() != l {
				continue
			}
			if key < 0 {
				key = 0
				if startsKeyframe(buf[:n], pt.detect) {
					key = 1
				}
			}
			if key == 1 {
				d.cur.Store(l)
				d.push(buf[:n], true)
			}
		}
		if l == pt.first {
			if rc := pt.rec.Load(); rc != nil {
				rc.push(buf[:n])
			}
		}
	}
	if pt.live.Add(-1) == 0 {
		pt.room.unpublish(pt)
	}
}

// keyframe asks the publisher for a key frame on every layer (see
// layer.keyframe).
func (pt *published) keyframe() {
	for _, l := range pt.layers() {
		l.keyframe()
	}
}

// keyframeNow asks for a key frame at once (a recording starts).
func (pt *published) keyframeNow() {
	for _, l := range pt.layers() {
		l.lastPLI.Store(0)
	}
	pt.keyframe()
}

// end closes done (once).
func (pt *published) end() { pt.doneOnce.Do(func() { close(pt.done) }) }

// drain reads and drops a track's packets until it ends.
func drain(t *webrtc.TrackRemote) {
	var buf [maxPacketBytes]byte
	for {
		if _, _, err := t.Read(buf[:]); err != nil {
			return
		}
	}
}

// downTrack is one subscriber's copy of a published track: its own
// TrackLocalStaticRTP and RTPSender, a bounded queue and a writer. It
// receives one layer at a time (cur), and moves to want at want's next
// key frame.
type downTrack struct {
	pt     *published
	sub    *Participant
	local  *webrtc.TrackLocalStaticRTP
	sender *webrtc.RTPSender
	queue  chan *packet
	done   chan struct{}
	once   sync.Once

	cur, want atomic.Pointer[layer]
	req       atomic.Pointer[string] // the RID asked for; "" for the best

	// The writer's rewriting state (only write touches it): the source
	// SSRC forwarded, the offsets added to its sequence numbers and
	// timestamps, and the last values sent.
	started         bool
	srcSSRC         uint32
	seqOff          uint16
	tsOff           uint32
	lastSeq, lastTS uint32
	lastAt          time.Time

	sent, dropped atomic.Uint64
}

func newDownTrack(pt *published, sub *Participant, local *webrtc.TrackLocalStaticRTP, sender *webrtc.RTPSender, queue int) *downTrack {
	d := &downTrack{pt: pt, sub: sub, local: local, sender: sender, queue: make(chan *packet, queue), done: make(chan struct{})}
	none := ""
	d.req.Store(&none)
	w := pt.pick("", time.Now().UnixNano())
	d.want.Store(w)
	if len(pt.layers()) == 1 {
		// No simulcast: forward from the first packet, as it comes.
		d.cur.Store(w)
	}
	return d
}

// push queues a copy of b (sw: the first packet of a new layer); a full
// queue drops it (the subscriber is slow).
func (d *downTrack) push(b []byte, sw bool) {
	pk := packets.Get().(*packet)
	pk.n = copy(pk.b[:], b)
	pk.sw = sw
	select {
	case d.queue <- pk:
	default:
		packets.Put(pk)
		d.dropped.Add(1)
	}
}

// stop ends the writer; queued packets are dropped.
func (d *downTrack) stop() { d.once.Do(func() { close(d.done) }) }

// write sends queued packets with header extensions stripped, until stop.
func (d *downTrack) write() {
	var p rtp.Packet
	for {
		select {
		case <-d.done:
			return
		case pk := <-d.queue:
			if p.Unmarshal(pk.b[:pk.n]) == nil && d.rewrite(&p, pk.sw) {
				p.Extension = false
				p.Extensions = p.Extensions[:0]
				p.ExtensionProfile = 0
				if err := d.local.WriteRTP(&p); err == nil {
					d.sent.Add(1)
				} else if errors.Is(err, io.ErrClosedPipe) {
					packets.Put(pk)
					return
				}
			}
			packets.Put(pk)
		}
	}
}

// rewrite maps p's sequence number and timestamp into the subscriber's
// one continuous stream (RFC 3550 §5.1): the first packet of a layer (sw)
// follows the last one sent, its timestamp advanced by the wall time
// elapsed (at least 1); packets of a layer left behind are dropped
// (false).
func (d *downTrack) rewrite(p *rtp.Packet, sw bool) bool {
	now := time.Now()
	switch {
	case !d.started:
		d.started, d.srcSSRC, d.seqOff, d.tsOff = true, p.SSRC, 0, 0
	case sw && p.SSRC != d.srcSSRC:
		step := uint32(now.Sub(d.lastAt).Seconds() * float64(d.pt.clock))
		step = max(step, 1)
		d.srcSSRC = p.SSRC
		d.seqOff = uint16(d.lastSeq) + 1 - p.SequenceNumber
		d.tsOff = d.lastTS + step - p.Timestamp
	case p.SSRC != d.srcSSRC:
		return false
	}
	p.SequenceNumber += d.seqOff
	p.Timestamp += d.tsOff
	if int16(p.SequenceNumber-uint16(d.lastSeq)) > 0 || d.lastAt.IsZero() {
		d.lastSeq, d.lastTS, d.lastAt = uint32(p.SequenceNumber), p.Timestamp, now
	}
	return true
}

// keyframe asks for a key frame of the layer the subscriber receives, or
// of the one it waits to switch to.
func (d *downTrack) keyframe() {
	w, c := d.want.Load(), d.cur.Load()
	if w != nil {
		w.keyframe()
	}
	if c != nil && c != w {
		c.keyframe()
	}
}

// readRTCP reads the subscriber's RTCP for this track (which also feeds
// the NACK responder and reports) and forwards key-frame requests.
func (d *downTrack) readRTCP() {
	for {
		pkts, _, err := d.sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				d.keyframe()
			}
		}
	}
}
