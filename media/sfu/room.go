package sfu

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/pion/webrtc/v4"
)

// Room is a set of participants whose tracks are forwarded to each other.
// Its methods are safe for concurrent use.
type Room struct {
	id  string
	sfu *SFU
	log *slog.Logger

	mu     sync.Mutex
	parts  map[string]*Participant
	tracks map[*published]struct{}
	closed bool
	// rec is the recording in progress, if any (record.go).
	rec *recording
	// wg counts the room's goroutines (forwarders, subscriber writers and
	// RTCP readers); Add happens under mu while not closed.
	wg sync.WaitGroup
}

// ID returns the room's id.
func (r *Room) ID() string { return r.id }

// Join adds a participant with a new PeerConnection; the client's offer
// goes to Participant.Offer. Errors: ErrClosed, ErrDuplicate, or pion's.
func (r *Room) Join(o ParticipantOptions) (*Participant, error) {
	if o.OnDescription == nil || o.OnCandidate == nil {
		return nil, errors.New("sfu: OnDescription and OnCandidate are required")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	if _, ok := r.parts[o.ID]; ok {
		return nil, ErrDuplicate
	}
	pc, err := r.sfu.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("sfu: peer connection: %w", err)
	}
	p := &Participant{id: o.ID, room: r, pc: pc, opts: o, log: r.log.With("participant_id", o.ID), downs: map[*published]*downTrack{}}
	pc.OnICECandidate(p.emitCandidate)
	pc.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { r.publish(p, t) })
	if o.OnDataChannel != nil {
		pc.OnDataChannel(o.OnDataChannel)
	}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		p.log.Debug("peer connection state", "state", s.String())
		if s == webrtc.PeerConnectionStateConnected {
			// Now the participant can receive: the tracks it gets start
			// with a key frame.
			r.keyframesFor(p)
		}
		if o.OnConnectionState != nil {
			o.OnConnectionState(s)
		}
	})
	r.parts[o.ID] = p
	p.log.Debug("participant joined the sfu room")
	return p, nil
}

// Leave removes the participant id and closes its PeerConnection; the
// others stop receiving its tracks (their PeerConnections renegotiate).
// ErrNotFound when it is not in the room.
func (r *Room) Leave(id string) error {
	r.mu.Lock()
	p, ok := r.parts[id]
	if !ok {
		r.mu.Unlock()
		return ErrNotFound
	}
	delete(r.parts, id)
	r.dropDownsLocked(p)
	r.mu.Unlock()
	p.closed.Store(true)
	return p.pc.Close()
}

// Participant returns the participant id, if in the room.
func (r *Room) Participant(id string) (*Participant, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.parts[id]
	return p, ok
}

// Len is the number of participants in the room.
func (r *Room) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.parts)
}

// Close closes every PeerConnection and waits for the room's goroutines.
// It is idempotent.
func (r *Room) Close() {
	r.StopRecording()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	parts := make([]*Participant, 0, len(r.parts))
	for _, p := range r.parts {
		parts = append(parts, p)
		r.dropDownsLocked(p)
	}
	clear(r.parts)
	r.mu.Unlock()
	for _, p := range parts {
		p.closed.Store(true)
		_ = p.pc.Close()
	}
	r.wg.Wait()
	r.sfu.forget(r)
}

// dropDownsLocked stops every track p receives.
func (r *Room) dropDownsLocked(p *Participant) {
	for pt, d := range p.downs {
		pt.removeDown(d)
		d.stop()
	}
	clear(p.downs)
}

// publish starts forwarding a track p published (pion's OnTrack).
func (r *Room) publish(p *Participant, t *webrtc.TrackRemote) {
	r.mu.Lock()
	if r.closed || p.closed.Load() {
		r.mu.Unlock()
		return
	}
	if p.opts.ReceiveOnly {
		// Read and drop: an observer's media.
		r.wg.Go(func() { drain(t) })
		r.mu.Unlock()
		return
	}
	if pt := r.trackOfLocked(p, t); pt != nil {
		// A further simulcast layer of a track already published.
		l, ok := pt.addLayer(t)
		if !ok {
			r.wg.Go(func() { drain(t) })
			r.mu.Unlock()
			return
		}
		r.wg.Go(l.forward)
		if len(pt.layers()) == 2 {
			r.wg.Go(pt.reselectLoop)
		}
		r.mu.Unlock()
		p.log.Info("simulcast layer published", "track_id", t.ID(), "rid", t.RID())
		pt.reselect()
		return
	}
	pt := newPublished(r, p, t)
	r.tracks[pt] = struct{}{}
	var subs []*Participant
	for _, s := range r.parts {
		if s != p && s.ready.Load() {
			if r.subscribeLocked(s, pt) {
				subs = append(subs, s)
			}
		}
	}
	r.recordLocked(pt)
	r.wg.Go(pt.first.forward)
	r.mu.Unlock()
	p.log.Info("track published", "kind", t.Kind().String(), "track_id", t.ID(), "codec", t.Codec().MimeType, "rid", t.RID())
	for _, s := range subs {
		s.negotiate()
	}
	pt.keyframe()
}

// trackOfLocked returns the track p publishes of which t is a further
// simulcast layer (RID, RFC 8853), if any.
func (r *Room) trackOfLocked(p *Participant, t *webrtc.TrackRemote) *published {
	if t.RID() == "" {
		return nil
	}
	for pt := range r.tracks {
		if pt.pub == p && pt.remote.ID() == t.ID() && pt.remote.RID() != "" {
			return pt
		}
	}
	return nil
}

// unpublish stops forwarding pt (its publisher stopped it or left).
func (r *Room) unpublish(pt *published) {
	pt.end()
	r.mu.Lock()
	delete(r.tracks, pt)
	r.unrecordLocked(pt)
	var subs []*Participant
	for _, d := range pt.downs() {
		pt.removeDown(d)
		if _, ok := d.sub.downs[pt]; ok {
			delete(d.sub.downs, pt)
			if !d.sub.closed.Load() {
				_ = d.sub.pc.RemoveTrack(d.sender)
				subs = append(subs, d.sub)
			}
		}
		d.stop()
	}
	r.mu.Unlock()
	pt.pub.log.Info("track unpublished", "track_id", pt.remote.ID())
	for _, s := range subs {
		s.negotiate()
	}
}

// subscribeAll gives a participant that has just become ready every
// track already published, then offers them.
func (r *Room) subscribeAll(p *Participant) {
	r.mu.Lock()
	if r.closed || p.closed.Load() {
		r.mu.Unlock()
		return
	}
	var added []*published
	for pt := range r.tracks {
		if pt.pub != p && r.subscribeLocked(p, pt) {
			added = append(added, pt)
		}
	}
	r.mu.Unlock()
	if len(added) > 0 {
		p.negotiate()
	}
}

// keyframesFor asks the publishers of every track p receives for a key
// frame (once p can receive them: connected, or a renegotiation that
// added tracks has completed).
func (r *Room) keyframesFor(p *Participant) {
	r.mu.Lock()
	pts := make([]*published, 0, len(p.downs))
	for pt := range p.downs {
		pts = append(pts, pt)
	}
	r.mu.Unlock()
	for _, pt := range pts {
		pt.keyframe()
	}
}

// subscribeLocked adds to s a sender of its own for pt; it reports
// whether s must renegotiate.
func (r *Room) subscribeLocked(s *Participant, pt *published) bool {
	if _, ok := s.downs[pt]; ok {
		return false
	}
	local, err := webrtc.NewTrackLocalStaticRTP(pt.remote.Codec().RTPCodecCapability, pt.remote.ID(), pt.pub.id)
	if err != nil {
		s.log.Warn("track not subscribed", "track_id", pt.remote.ID(), "error", err)
		return false
	}
	sender, err := s.pc.AddTrack(local)
	if err != nil {
		s.log.Warn("track not subscribed", "track_id", pt.remote.ID(), "error", err)
		return false
	}
	d := newDownTrack(pt, s, local, sender, r.sfu.cfg.SubscriberQueue)
	s.downs[pt] = d
	pt.addDown(d)
	r.wg.Go(d.write)
	r.wg.Go(d.readRTCP)
	return true
}
