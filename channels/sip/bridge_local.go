package sip

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media"
)

// LocalBridge is a call bridged to an RTP endpoint of the gateway itself
// rather than to a SIP phone: a browser softphone's WebRTC leg
// (media.WebRTCLeg). The RM's side has no SIP dialog; its leg is a
// media.Leg on 127.0.0.1 that speaks PCMU (payload type 0, no
// telephone-event) with the endpoint, and is relayed to the caller's leg
// like a phone's (media.Bridge: no transcoding when the caller speaks
// PCMU, µ-law/A-law otherwise).
type LocalBridge struct {
	c    *call
	leg  *media.Leg
	done chan struct{}
}

// Holds reports whether this instance holds a live call for conversation
// id (answered or being answered).
func (s *Server) Holds(id conversation.ConversationID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byConv[id] != nil
}

// BridgeLocal bridges the queued call of conversation id, for RM rm, to
// the RTP endpoint at remote (on this host; RTP goes there until packets
// from it latch the leg, RFC 4961 §4): the music on hold stops and RTP is
// relayed between the caller's leg and a new leg whose address is
// LocalBridge.LocalAddr. The call is then bridged as with Bridge: the
// caller's BYE ends it (EndCompleted, ended by PartyClient) and Done is
// closed (also when Transfer takes the RM off the call); LocalBridge.Hangup
// is the RM hanging up (BYE to the caller).
// A recorded call (CallRecorder) first plays the consent announcement to
// the caller, then records both sides as a bridge to a SIP phone does.
// Errors: ErrUnknownCall, ErrNotQueued (also when ctx ends before the
// caller's answer completed), ErrCallerGone (the caller hung up during the
// consent announcement), the socket's.
func (s *Server) BridgeLocal(ctx context.Context, id conversation.ConversationID, rm conversation.RMID, remote netip.AddrPort) (*LocalBridge, error) {
	s.mu.Lock()
	c := s.byConv[id]
	s.mu.Unlock()
	if c == nil {
		return nil, fmt.Errorf("bridge %s locally: %w", id, ErrUnknownCall)
	}
	select {
	case <-c.answered:
	case <-ctx.Done():
		return nil, fmt.Errorf("bridge %s locally: %w", id, ErrNotQueued)
	}
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("bridge %s locally: %w", id, err)
	}
	leg := media.NewLeg(conn, nil)
	leg.SetNegotiation(media.Negotiation{Codec: media.CodecPCMU, AudioPT: media.PayloadPCMU, Remote: remote})
	// A recorded call plays its consent announcement to the caller before
	// the RM is put through, as on a SIP phone.
	if consent := c.decideRecording(); !c.waitConsent(context.WithoutCancel(ctx), consent) {
		_ = leg.Close()
		return nil, fmt.Errorf("bridge %s locally: %w", id, ErrCallerGone)
	}

	s.mu.Lock()
	c.mu.Lock()
	if c.state != stateQueued || c.ctx.Err() != nil || s.stopped {
		c.mu.Unlock()
		s.mu.Unlock()
		_ = leg.Close()
		return nil, fmt.Errorf("bridge %s locally: %w", id, ErrNotQueued)
	}
	// No callID: no SIP request can match this leg; finish closes its
	// media and sends no BYE for it (no dialog).
	c.rm = &rmLeg{rm: rm, leg: leg}
	c.state = stateBridged
	c.mu.Unlock()
	s.wg.Add(1)
	s.mu.Unlock()

	c.stopPlayback()
	c.startRecording(leg)
	media.Bridge(c.leg, leg)
	b := &LocalBridge{c: c, leg: leg, done: make(chan struct{})}
	go func() {
		defer s.wg.Done()
		defer close(b.done)
		if err := leg.Run(c.ctx); err != nil {
			c.log.Warn("softphone rtp failed", "error", err)
			c.hangup(EndCompleted)
		}
	}()
	callerN, _ := c.leg.Negotiation()
	c.log.Info("call bridged locally", "rm_id", string(rm), "client_leg_codec", callerN.Codec.String(), "rm_leg_codec", media.CodecPCMU.String())
	return b, nil
}

// LocalAddr is the RTP address of the RM's side of the bridge, where the
// endpoint sends what the caller must hear.
func (b *LocalBridge) LocalAddr() netip.AddrPort { return b.leg.LocalAddr() }

// Done is closed when the RM's side is over: the call ended, whoever
// ended it, or the RM was taken off it (Transfer).
func (b *LocalBridge) Done() <-chan struct{} { return b.done }

// Hangup ends the call from the RM's side: BYE to the caller, reported as
// EndCompleted ended by PartyRM. It is safe to call after the call ended.
func (b *LocalBridge) Hangup() { b.c.end(EndCompleted, true, false) }

// Stats returns the packet counters of the caller's leg and of the RM's
// side of the bridge.
func (b *LocalBridge) Stats() (caller, rm media.LegStats) { return b.c.leg.Stats(), b.leg.Stats() }
