package sip

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media"
)

// Bridge connects the queued call of conversation id to RM rm's phone as a
// back-to-back user agent (RFC 3261 §6 B2BUA; RFC 7092 §3.1.3 media
// relay): it sends an INVITE with the gateway's SDP offer (the caller's
// codec first, then the other G.711 codec, telephone-event) to rm's
// registered contacts, most recent first, each ringing at most
// RMRingTimeout; when one answers it stops the music on hold and relays RTP
// between the legs through the gateway (media.Bridge: symmetric RTP,
// µ-law/A-law transcoding when the legs differ, telephone-events passed
// through). From then a BYE on either leg ends both, and the call ends
// EndCompleted.
//
// Bridge blocks until the RM answers or every contact failed, so it also
// serves phone-first offers: nil means the RM answered (accepted); an error
// wrapping ErrNoAnswer (with a *RejectError when the phone refused, e.g.
// 486 or 603) means declined or not answered. Other errors: ErrUnknownCall,
// ErrNotQueued (it waits for the answer of a call still being
// answered), ErrNotRegistered, ErrCallerGone (the caller hung up while
// the phone rang; the call ends EndAbandoned), or a registrar error. On
// failure the caller stays queued with music on hold. Cancelling ctx stops
// ringing (CANCEL, RFC 3261 §9.1).
func (s *Server) Bridge(ctx context.Context, id conversation.ConversationID, rm conversation.RMID) error {
	s.mu.Lock()
	c := s.byConv[id]
	s.mu.Unlock()
	if c == nil {
		return fmt.Errorf("bridge %s: %w", id, ErrUnknownCall)
	}
	select { // routing may pick an RM before the caller's ACK arrived
	case <-c.answered:
	case <-ctx.Done():
		return fmt.Errorf("bridge %s: %w", id, ctx.Err())
	}
	c.mu.Lock()
	if c.state != stateQueued || c.ctx.Err() != nil {
		c.mu.Unlock()
		return fmt.Errorf("bridge %s: %w", id, ErrNotQueued)
	}
	c.state = stateBridging
	c.mu.Unlock()
	requeue := func() {
		c.mu.Lock()
		if c.state == stateBridging {
			c.state = stateQueued
		}
		c.mu.Unlock()
	}
	bindings, err := s.reg.Bindings(ctx, rm, s.now())
	if err != nil {
		requeue()
		return fmt.Errorf("bridge %s: %w", id, err)
	}
	if len(bindings) == 0 {
		requeue()
		return fmt.Errorf("bridge %s to %s: %w", id, rm, ErrNotRegistered)
	}
	consent := c.decideRecording()
	var lastErr error
	for _, b := range bindings {
		err := s.dialRM(ctx, c, b, consent)
		if err == nil {
			return nil
		}
		if errors.Is(err, ErrCallerGone) || c.ctx.Err() != nil {
			return fmt.Errorf("bridge %s: %w", id, ErrCallerGone)
		}
		c.log.Info("rm phone contact failed", "rm_id", string(rm), "error", err)
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	requeue()
	return fmt.Errorf("bridge %s to %s: %w", id, rm, lastErr)
}

// dialRM rings one contact and, when it answers, bridges it to c, once
// the consent announcement has played when consent is not nil.
func (s *Server) dialRM(ctx context.Context, c *call, b Binding, consent chan struct{}) error {
	var uri sip.Uri
	if err := sip.ParseUri(b.Contact, &uri); err != nil {
		return fmt.Errorf("contact %q: %w", b.Contact, err)
	}
	callerN, _ := c.leg.Negotiation()
	conn, err := s.ports.Listen(s.mediaIP)
	if err != nil {
		return err
	}
	leg := media.NewLeg(conn, nil)
	codecs := []media.Codec{media.CodecPCMU, media.CodecPCMA}
	if callerN.Codec == media.CodecPCMA {
		codecs = []media.Codec{media.CodecPCMA, media.CodecPCMU}
	}
	offer := media.BuildSDP(media.SDPParams{Addr: netip.AddrPortFrom(s.publicMediaIP, leg.LocalAddr().Port()), Codecs: codecs, EventPT: media.DefaultEventPayloadType})

	req := sip.NewRequest(sip.INVITE, uri)
	req.SetBody(offer)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	if tp := strings.ToLower(b.Transport); tp != "" {
		req.SetTransport(strings.ToUpper(tp))
	}
	if dst := natDestination(uri, b.Source); dst != "" {
		req.SetDestination(dst) // a phone behind NAT: where it registered from
	}
	dlg, err := s.ring(ctx, c, req, s.cfg.RMRingTimeout, sipgo.AnswerOptions{})
	if err != nil {
		_ = leg.Close()
		return err
	}
	rmN, err := negotiateAnswer(dlg.InviteResponse.Body(), callerN.Codec)
	if err != nil {
		_ = dlg.Ack(context.WithoutCancel(ctx))
		_ = dlg.Bye(context.WithoutCancel(ctx))
		_ = leg.Close()
		return err
	}
	leg.SetNegotiation(rmN)
	if err := dlg.Ack(context.WithoutCancel(ctx)); err != nil {
		_ = leg.Close()
		return fmt.Errorf("ack rm: %w", err)
	}
	rmCallID := req.CallID().Value()
	if !c.waitConsent(context.WithoutCancel(ctx), consent) {
		_ = dlg.Bye(context.WithoutCancel(ctx))
		_ = leg.Close()
		return ErrCallerGone
	}

	s.mu.Lock()
	c.mu.Lock()
	if c.state != stateBridging || s.stopped {
		c.mu.Unlock()
		s.mu.Unlock()
		_ = dlg.Bye(context.WithoutCancel(ctx))
		_ = leg.Close()
		return ErrCallerGone
	}
	c.rm = &rmLeg{rm: b.RM, callID: rmCallID, dialog: dlg, leg: leg, offer: offer}
	c.state = stateBridged
	c.mu.Unlock()
	s.calls[rmCallID] = c
	s.wg.Add(1)
	s.mu.Unlock()

	c.stopPlayback()
	c.startRecording(leg)
	media.Bridge(c.leg, leg)
	go func() {
		defer s.wg.Done()
		if err := leg.Run(c.ctx); err != nil {
			c.log.Warn("rm rtp failed", "error", err)
			c.hangup(EndCompleted)
		}
	}()
	c.log.Info("call bridged", "rm_id", string(b.RM), "client_leg_codec", callerN.Codec.String(), "rm_leg_codec", rmN.Codec.String())
	return nil
}

// ring sends the INVITE req and waits for its final response (RFC 3261
// §13.2.2), giving up after timeout, when ctx ends or when the call c
// ends. Giving up sends a CANCEL (RFC 3261 §9.1), which may only follow a
// provisional response: until one came, giving up is remembered and the
// CANCEL goes when it comes (a peer that never answers anything is given
// up after forceCancelAfter, without a CANCEL). opts may carry digest
// credentials for a 401/407 challenge. It returns the answered dialog,
// not yet acknowledged. Errors: ErrCallerGone when c ended; ErrNoAnswer,
// with a *RejectError when the peer refused (e.g. 486, 603), otherwise.
func (s *Server) ring(ctx context.Context, c *call, req *sip.Request, timeout time.Duration, opts sipgo.AnswerOptions) (*sipgo.DialogClientSession, error) {
	ringCtx, cancel := context.WithCancelCause(c.ctx)
	defer cancel(nil)
	var provisional, gaveUp atomic.Bool
	var forceMu sync.Mutex
	var force *time.Timer
	defer func() {
		forceMu.Lock()
		if force != nil {
			force.Stop()
		}
		forceMu.Unlock()
	}()
	giveUp := func() {
		gaveUp.Store(true)
		if provisional.Load() {
			cancel(ErrNoAnswer)
			return
		}
		forceMu.Lock()
		if force == nil {
			force = time.AfterFunc(forceCancelAfter, func() { cancel(sipgo.WaitAnswerForceCancelErr) })
		}
		forceMu.Unlock()
	}
	timer := time.AfterFunc(timeout, giveUp)
	defer timer.Stop()
	stop := context.AfterFunc(ctx, giveUp)
	defer stop()

	dlg, err := s.dialog.WriteInvite(ringCtx, req)
	if err != nil {
		return nil, fmt.Errorf("%w: invite: %v", ErrNoAnswer, err)
	}
	opts.OnResponse = func(res *sip.Response) error {
		if res.IsProvisional() {
			provisional.Store(true)
			if gaveUp.Load() {
				cancel(ErrNoAnswer) // the CANCEL held back by giveUp
			}
		}
		return nil
	}
	if err := dlg.WaitAnswer(ringCtx, opts); err != nil {
		_ = dlg.Close()
		var rej *sipgo.ErrDialogResponse
		switch {
		case c.ctx.Err() != nil:
			return nil, ErrCallerGone
		case errors.As(err, &rej):
			return nil, fmt.Errorf("%w: %w", ErrNoAnswer, &RejectError{Status: rej.Res.StatusCode, Reason: rej.Res.Reason})
		default:
			return nil, fmt.Errorf("%w: %v", ErrNoAnswer, err)
		}
	}
	if gaveUp.Load() {
		// Answered after the ring ended, before the held-back CANCEL could
		// go: end that leg (RFC 3261 §9.1: ACK, then BYE).
		_ = dlg.Ack(context.WithoutCancel(ctx))
		_ = dlg.Bye(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("%w: answered after the ring ended", ErrNoAnswer)
	}
	return dlg, nil
}

// forceCancelAfter bounds how long Bridge waits for a phone's first
// provisional response once it gave up ringing, before it abandons the
// INVITE transaction without a CANCEL (RFC 3261 §9.1 forbids one before
// a provisional response).
const forceCancelAfter = 2 * time.Second

// negotiateAnswer reads an RM phone's SDP answer.
func negotiateAnswer(body []byte, prefer media.Codec) (media.Negotiation, error) {
	sd, err := media.ParseSDP(body)
	if err != nil {
		return media.Negotiation{}, fmt.Errorf("rm answer: %w", err)
	}
	n, err := media.Negotiate(sd, prefer)
	if err != nil {
		return n, fmt.Errorf("rm answer: %w", err)
	}
	return n, nil
}

// Hangup ends the live call of conversation id from the gateway's side
// (BYE to every leg), reported as EndCompleted when bridged, else
// EndFailed. It returns ErrUnknownCall when there is none.
func (s *Server) Hangup(_ context.Context, id conversation.ConversationID) error {
	s.mu.Lock()
	c := s.byConv[id]
	s.mu.Unlock()
	if c == nil {
		return fmt.Errorf("hangup %s: %w", id, ErrUnknownCall)
	}
	reason := EndFailed
	if c.getState() == stateBridged {
		reason = EndCompleted
	}
	c.hangup(reason)
	return nil
}

// natDestination returns where to send requests to a registered phone:
// its registration source ("ip:port") when the contact's host is not that
// source's IP (the phone is behind NAT), else "" to follow the contact URI.
func natDestination(contact sip.Uri, source string) string {
	if source == "" {
		return ""
	}
	host, err := netip.ParseAddr(contact.Host)
	if err == nil && host.Unmap() == sourceAddr(source) {
		return ""
	}
	return source
}
