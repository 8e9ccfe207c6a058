package sfu

import (
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// layerTimeout: a simulcast layer that has sent nothing for this long is
// taken for stopped (the publisher's encoder dropped it, e.g. for lack of
// bandwidth); its subscribers move to the best layer still arriving.
const layerTimeout = time.Second

// reselectEvery is how often a simulcast track's subscribers' layers are
// chosen again (layers that stopped or came back).
const reselectEvery = 250 * time.Millisecond

// layer is one simulcast encoding (RID, RFC 8851) of a published track,
// or the track itself when it is not simulcast (rid "").
type layer struct {
	pt   *published
	rid  string
	rank atomic.Int32 // higher is better (more pixels, more bits); set again as layers arrive
	// arrival is the layer's place in the order the SFU received them.
	arrival int
	remote  *webrtc.TrackRemote
	// last is the unix ns of the layer's last packet.
	last    atomic.Int64
	lastPLI atomic.Int64 // unix ns of the last PLI sent
	// pliWaits: a key-frame request waits for the interval to end.
	pliWaits atomic.Bool
}

// layerRank orders the RIDs browsers and SDKs commonly give simulcast
// encodings: "q" < "h" < "f" (quarter, half, full), "l"/"low" < "m"/"mid" <
// "h"/"hi"/"high" when the track has no "q" nor "f", and "0" < "1" < "2".
// Other RIDs rank below those, the first the SFU received highest.
func layerRank(rid string, all []*layer, arrival int) int {
	qhf := false
	for _, l := range all {
		if l.rid == "q" || l.rid == "f" {
			qhf = true
		}
	}
	switch rid {
	case "", "q", "l", "low", "0":
		return 0
	case "m", "mid", "1":
		return 1
	case "h":
		if qhf {
			return 1
		}
		return 2
	case "f", "hi", "high", "2":
		return 2
	}
	return -1 - arrival
}

// keyframe asks the publisher for a key frame on this layer (RFC 4585
// §6.3.1 PLI), at most once per Config.KeyframeInterval; a request within
// the interval is sent when it ends (one at most waits). Audio is skipped.
func (l *layer) keyframe() {
	if l == nil || !l.pt.video || l.pt.pub.closed.Load() {
		return
	}
	pt := l.pt
	now := time.Now().UnixNano()
	last := l.lastPLI.Load()
	if wait := last + pt.every - now; wait > 0 {
		if l.pliWaits.CompareAndSwap(false, true) {
			time.AfterFunc(time.Duration(wait), func() {
				l.pliWaits.Store(false)
				l.keyframe()
			})
		}
		return
	}
	if !l.lastPLI.CompareAndSwap(last, now) {
		return
	}
	_ = pt.pub.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(l.remote.SSRC())}})
}

// arriving reports whether the layer has sent a packet within
// layerTimeout of now (unix ns).
func (l *layer) arriving(now int64) bool {
	last := l.last.Load()
	return last != 0 && now-last < int64(layerTimeout)
}

// pick chooses the layer a subscriber that asked for rid ("" for the
// best) should receive: the highest layer arriving that ranks no higher
// than the one asked for, else the lowest arriving, else (nothing arrives
// yet) the same among every layer.
func (pt *published) pick(rid string, now int64) *layer {
	ls := pt.layers()
	limit := int(^uint(0) >> 1)
	if rid != "" {
		for _, l := range ls {
			if l.rid == rid {
				limit = int(l.rank.Load())
			}
		}
	}
	var arriving []*layer
	for _, l := range ls {
		if l.arriving(now) {
			arriving = append(arriving, l)
		}
	}
	if len(arriving) == 0 {
		arriving = ls
	}
	var best, lowest *layer
	for _, l := range arriving {
		if r := int(l.rank.Load()); r <= limit && (best == nil || r > int(best.rank.Load())) {
			best = l
		}
		if lowest == nil || l.rank.Load() < lowest.rank.Load() {
			lowest = l
		}
	}
	if best == nil {
		return lowest
	}
	return best
}

// layers returns the track's layers, lowest rank first.
func (pt *published) layers() []*layer { return *pt.lays.Load() }

// addLayer adds a further simulcast layer of the track and starts reading
// it (the caller holds room.mu). It reports false when that RID is known.
func (pt *published) addLayer(t *webrtc.TrackRemote) (*layer, bool) {
	old := pt.layers()
	for _, l := range old {
		if l.rid == t.RID() {
			return nil, false
		}
	}
	l := &layer{pt: pt, rid: t.RID(), remote: t, arrival: len(old)}
	next := append(append(make([]*layer, 0, len(old)+1), old...), l)
	// Ranks depend on the whole set ("h" is half beside "q"/"f", high
	// beside "l"/"m").
	for _, x := range next {
		x.rank.Store(int32(layerRank(x.rid, next, x.arrival)))
	}
	sort.SliceStable(next, func(i, j int) bool { return next[i].rank.Load() < next[j].rank.Load() })
	pt.lays.Store(&next)
	pt.live.Add(1)
	return l, true
}

// reselect chooses again each subscriber's layer and asks for a key frame
// of every layer a subscriber waits to switch to.
func (pt *published) reselect() {
	now := time.Now().UnixNano()
	for _, d := range pt.downs() {
		w := pt.pick(*d.req.Load(), now)
		d.want.Store(w)
		if w != d.cur.Load() {
			w.keyframe()
		}
	}
}

// reselectLoop runs reselect every reselectEvery until the track ends.
func (pt *published) reselectLoop() {
	tick := time.NewTicker(reselectEvery)
	defer tick.Stop()
	for {
		select {
		case <-pt.done:
			return
		case <-tick.C:
			pt.reselect()
		}
	}
}

// SelectLayer chooses which simulcast layer (RID, RFC 8851 / RFC 8853) of
// the track trackID published by publisher this participant receives:
// rid "" lets the SFU choose (the highest layer arriving, the default);
// a RID asks for that layer, or while it is not arriving, the highest
// lower layer that is. The subscriber keeps receiving its current layer
// until the new one's next key frame, which is asked for at once (PLI);
// sequence numbers and timestamps are rewritten so that the subscriber
// sees one continuous stream. A track without simulcast has one layer,
// rid "". Errors: ErrNotFound (p receives no such track), ErrNoLayer (the
// track has no layer rid).
func (p *Participant) SelectLayer(publisher, trackID, rid string) error {
	d, err := p.down(publisher, trackID)
	if err != nil {
		return err
	}
	if rid != "" {
		known := false
		for _, l := range d.pt.layers() {
			known = known || l.rid == rid
		}
		if !known {
			return fmt.Errorf("%w: %q of %s/%s", ErrNoLayer, rid, publisher, trackID)
		}
	}
	d.req.Store(&rid)
	w := d.pt.pick(rid, time.Now().UnixNano())
	d.want.Store(w)
	if w != d.cur.Load() {
		w.keyframe()
	}
	return nil
}

// Layer returns the RID of the layer of publisher's track trackID that p
// receives now ("" before the first packet, or without simulcast) and
// every RID the track has, lowest first. ErrNotFound when p receives no
// such track.
func (p *Participant) Layer(publisher, trackID string) (current string, all []string, err error) {
	d, err := p.down(publisher, trackID)
	if err != nil {
		return "", nil, err
	}
	if c := d.cur.Load(); c != nil {
		current = c.rid
	}
	for _, l := range d.pt.layers() {
		all = append(all, l.rid)
	}
	return current, all, nil
}

// down finds the downTrack of publisher's trackID that p receives.
func (p *Participant) down(publisher, trackID string) (*downTrack, error) {
	r := p.room
	r.mu.Lock()
	defer r.mu.Unlock()
	for pt, d := range p.downs {
		if pt.pub.id == publisher && pt.remote.ID() == trackID {
			return d, nil
		}
	}
	return nil, fmt.Errorf("%w: %s receives no track %s/%s", ErrNotFound, p.id, publisher, trackID)
}
