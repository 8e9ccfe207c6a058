package sfu

import (
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/pion/webrtc/v4"
)

// ParticipantOptions describe a participant joining a Room. The callbacks
// are called from pion's and the SFU's goroutines, one at a time per kind;
// they must not block (queue the frame) and must not call back into the
// Participant.
type ParticipantOptions struct {
	// ID names the participant in the room (the signalling layer's
	// identity); it is the stream id (msid, RFC 8830) of every track the
	// others receive from this participant.
	ID string
	// ReceiveOnly: the participant's own tracks are not forwarded (an
	// observer); it still receives everyone else's.
	ReceiveOnly bool
	// OnDescription receives each local description to send to the
	// client, in order: the answer to the client's offer, or the server's
	// own offer (the client answers it with Answer). Required.
	OnDescription func(webrtc.SessionDescription)
	// OnCandidate receives the server's ICE candidates (trickle ICE, RFC
	// 8838), never before the description they belong to. Required.
	OnCandidate func(webrtc.ICECandidateInit)
	// OnDataChannel is told of each data channel the client opens.
	OnDataChannel func(*webrtc.DataChannel)
	// OnConnectionState is told of the PeerConnection's state changes.
	OnConnectionState func(webrtc.PeerConnectionState)
}

// Participant is one client's PeerConnection in a Room.
type Participant struct {
	id   string
	room *Room
	pc   *webrtc.PeerConnection
	opts ParticipantOptions
	log  *slog.Logger

	// negMu serialises negotiation; emitMu keeps a description and the
	// candidates gathered for it in order.
	negMu    sync.Mutex
	awaiting bool // the server's offer waits for the client's answer
	pending  bool // the server must offer again when it can
	restart  bool // the next server offer restarts ICE
	emitMu   sync.Mutex

	// ready: the client's first offer has been answered.
	ready  atomic.Bool
	closed atomic.Bool
	// downs are the tracks this participant receives (guarded by room.mu).
	downs map[*published]*downTrack
}

// ID returns the participant's id.
func (p *Participant) ID() string { return p.id }

// PeerConnection returns the participant's PeerConnection (for stats).
func (p *Participant) PeerConnection() *webrtc.PeerConnection { return p.pc }

// Offer applies the client's offer (its first one, a renegotiation, or an
// ICE restart) and sends the answer through OnDescription (RFC 8829
// §5.3). A server offer waiting for its answer is rolled back and made
// again later (the server is the polite peer). Errors wrap ErrBadSDP; the
// participant stays as it was.
func (p *Participant) Offer(sd webrtc.SessionDescription) error {
	if sd.Type != webrtc.SDPTypeOffer {
		return fmt.Errorf("%w: type %q, want offer", ErrBadSDP, sd.Type)
	}
	if _, err := sd.Unmarshal(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	p.negMu.Lock()
	if p.closed.Load() {
		p.negMu.Unlock()
		return ErrClosed
	}
	if p.awaiting {
		if err := p.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback}); err != nil {
			p.negMu.Unlock()
			return fmt.Errorf("sfu: rollback: %w", err)
		}
		p.awaiting, p.pending = false, true
	}
	// emitMu from here: a remote ICE restart starts gathering in
	// SetRemoteDescription, and those candidates must follow the answer.
	p.emitMu.Lock()
	if err := p.pc.SetRemoteDescription(sd); err != nil {
		p.emitMu.Unlock()
		p.negMu.Unlock()
		return p.sdpError(err)
	}
	answer, err := p.pc.CreateAnswer(nil)
	if err == nil {
		if err = p.pc.SetLocalDescription(answer); err == nil {
			p.opts.OnDescription(answer)
		}
	}
	if err != nil {
		_ = p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
	}
	p.emitMu.Unlock()
	if err != nil {
		p.negMu.Unlock()
		return p.sdpError(err)
	}
	first := !p.ready.Swap(true)
	again := p.pending
	p.negMu.Unlock()
	if first {
		p.room.subscribeAll(p)
	} else if again {
		p.negotiate()
	}
	return nil
}

// Answer applies the client's answer to the server's offer. Errors wrap
// ErrNoOffer (none waits: e.g. it was rolled back after a collision) or
// ErrBadSDP (the offer keeps waiting).
func (p *Participant) Answer(sd webrtc.SessionDescription) error {
	if sd.Type != webrtc.SDPTypeAnswer {
		return fmt.Errorf("%w: type %q, want answer", ErrBadSDP, sd.Type)
	}
	if _, err := sd.Unmarshal(); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	p.negMu.Lock()
	defer p.negMu.Unlock()
	if p.closed.Load() {
		return ErrClosed
	}
	if !p.awaiting {
		return ErrNoOffer
	}
	if err := p.pc.SetRemoteDescription(sd); err != nil {
		return p.sdpError(err)
	}
	p.awaiting = false
	if p.pending {
		p.negotiateLocked()
	}
	if p.pc.ConnectionState() == webrtc.PeerConnectionStateConnected {
		// Tracks this answer added can be received now.
		p.room.keyframesFor(p)
	}
	return nil
}

// AddCandidate adds a client's ICE candidate (RFC 8838 trickle ICE).
// Errors wrap ErrBadCandidate.
func (p *Participant) AddCandidate(c webrtc.ICECandidateInit) error {
	if p.pc.RemoteDescription() == nil {
		return fmt.Errorf("%w: no offer yet", ErrBadCandidate)
	}
	if err := p.pc.AddICECandidate(c); err != nil {
		return fmt.Errorf("%w: %w", ErrBadCandidate, err)
	}
	return nil
}

// RestartICE makes the server offer again with new ICE credentials (RFC
// 8445 §9), e.g. when the client has reconnected from another network;
// the offer goes out through OnDescription as soon as no other offer
// waits.
func (p *Participant) RestartICE() {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	p.restart = true
	p.negotiateLocked()
}

// negotiate sends a server offer now, or as soon as the signalling state
// allows.
func (p *Participant) negotiate() {
	p.negMu.Lock()
	defer p.negMu.Unlock()
	p.negotiateLocked()
}

func (p *Participant) negotiateLocked() {
	if p.closed.Load() {
		return
	}
	if !p.ready.Load() || p.awaiting || p.pc.SignalingState() != webrtc.SignalingStateStable {
		p.pending = true
		return
	}
	restart := p.restart
	p.pending, p.restart = false, false
	offer, err := p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: restart})
	if err != nil {
		p.log.Warn("server offer not created", "error", err)
		return
	}
	p.emitMu.Lock()
	defer p.emitMu.Unlock()
	if err := p.pc.SetLocalDescription(offer); err != nil {
		p.log.Warn("server offer not applied", "error", err)
		return
	}
	p.awaiting = true
	p.opts.OnDescription(offer)
}

// sdpError wraps a failure to apply a description: ErrClosed when the
// participant has left meanwhile, else ErrBadSDP.
func (p *Participant) sdpError(err error) error {
	if p.closed.Load() {
		return ErrClosed
	}
	return fmt.Errorf("%w: %w", ErrBadSDP, err)
}

// emitCandidate sends a gathered candidate after its description.
func (p *Participant) emitCandidate(c *webrtc.ICECandidate) {
	if c == nil || p.closed.Load() {
		return
	}
	p.emitMu.Lock()
	defer p.emitMu.Unlock()
	p.opts.OnCandidate(c.ToJSON())
}
