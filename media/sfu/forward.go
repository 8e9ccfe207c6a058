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
	n int
	b [maxPacketBytes]byte
}

var packets = sync.Pool{New: func() any { return new(packet) }}

// published is one track a participant publishes, with its subscribers.
type published struct {
	room   *Room
	pub    *Participant
	remote *webrtc.TrackRemote
	video  bool
	// subs is the subscribers' list, replaced whole on change (copy on
	// write) so the forwarding loop reads it without a lock.
	subs    atomic.Pointer[[]*downTrack]
	subsMu  sync.Mutex
	lastPLI atomic.Int64 // unix ns of the last PLI sent
	// pliWaits: a key-frame request waits for the interval to end.
	pliWaits atomic.Bool
	// rec writes the track to a file while the room records.
	rec   atomic.Pointer[trackRecorder]
	every int64 // least ns between two PLIs
}

func newPublished(r *Room, p *Participant, t *webrtc.TrackRemote) *published {
	pt := &published{room: r, pub: p, remote: t, video: t.Kind() == webrtc.RTPCodecTypeVideo, every: int64(r.sfu.cfg.KeyframeInterval)}
	pt.subs.Store(&[]*downTrack{})
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

// forward reads the publisher's packets and queues a copy for each
// subscriber until the track ends, then unpublishes it.
func (pt *published) forward() {
	var buf [maxPacketBytes]byte
	for {
		n, _, err := pt.remote.Read(buf[:])
		if err != nil {
			break
		}
		for _, d := range *pt.subs.Load() {
			d.push(buf[:n])
		}
		if rc := pt.rec.Load(); rc != nil {
			rc.push(buf[:n])
		}
	}
	pt.room.unpublish(pt)
}

// keyframe asks the publisher for a key frame (RFC 4585 §6.3.1 PLI), at
// most once per Config.KeyframeInterval; a request within the interval
// is sent when it ends (one at most waits), so a subscriber that joins
// just after another still gets its key frame within the interval.
// Audio tracks are skipped.
func (pt *published) keyframe() {
	if !pt.video || pt.pub.closed.Load() {
		return
	}
	now := time.Now().UnixNano()
	last := pt.lastPLI.Load()
	if wait := last + pt.every - now; wait > 0 {
		if pt.pliWaits.CompareAndSwap(false, true) {
			time.AfterFunc(time.Duration(wait), func() {
				pt.pliWaits.Store(false)
				pt.keyframe()
			})
		}
		return
	}
	if !pt.lastPLI.CompareAndSwap(last, now) {
		return
	}
	_ = pt.pub.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(pt.remote.SSRC())}})
}

// keyframeNow asks for a key frame at once (a recording starts).
func (pt *published) keyframeNow() {
	pt.lastPLI.Store(0)
	pt.keyframe()
}

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
// TrackLocalStaticRTP and RTPSender, a bounded queue and a writer.
type downTrack struct {
	pt     *published
	sub    *Participant
	local  *webrtc.TrackLocalStaticRTP
	sender *webrtc.RTPSender
	queue  chan *packet
	done   chan struct{}
	once   sync.Once

	sent, dropped atomic.Uint64
}

func newDownTrack(pt *published, sub *Participant, local *webrtc.TrackLocalStaticRTP, sender *webrtc.RTPSender, queue int) *downTrack {
	return &downTrack{pt: pt, sub: sub, local: local, sender: sender, queue: make(chan *packet, queue), done: make(chan struct{})}
}

// push queues a copy of b; a full queue drops it (the subscriber is slow).
func (d *downTrack) push(b []byte) {
	pk := packets.Get().(*packet)
	pk.n = copy(pk.b[:], b)
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
			if p.Unmarshal(pk.b[:pk.n]) == nil {
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
				d.pt.keyframe()
			}
		}
	}
}
