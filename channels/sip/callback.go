package sip

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media"
	"github.com/airbranch/airbranch/media/prompts"
)

// CallbackRequest asks for a callback: the call of conversation
// ConversationID between RM and the client at To (E.164).
type CallbackRequest struct {
	ConversationID conversation.ConversationID
	RM             conversation.RMID
	To             string
	// KeepOnNoAnswer: a client who does not answer is not reported to
	// the sink (the conversation stays as it is, for the caller of
	// Callback to settle, e.g. an escalation that goes back to its
	// previous channel); Callback still returns ErrClientNoAnswer.
	KeepOnNoAnswer bool
}

// Callback calls a client back for an RM (a callback task the RM
// accepted): it rings the RM's registered phone first (as Bridge does,
// most recent contact first, each for RMRingTimeout); once the RM answers
// they hear music on hold while the gateway calls the client over the
// outbound trunk (Config.Outbound: INVITE sip:<To>@<trunk> with From and
// P-Asserted-Identity the bank's CallerID, RFC 3325; digest answered
// when challenged, RFC 3261 §22.2; ringing at most Outbound.RingTimeout).
// When the client answers, a recorded call first hears the consent
// announcement, then the two legs are bridged as an inbound call would
// be (media relay, transcoding, hold, transfer, recording; a BYE on
// either leg ends both). The call is then live on this server like an
// inbound one: its end is reported to the sink (EndCompleted), and a
// client who does not answer ends it with EndNoAnswer (the RM's phone
// gets a BYE), reported unless r.KeepOnNoAnswer.
//
// Callback blocks until the client answered or the attempt failed.
// Errors: ErrNoOutbound without an outbound trunk; ErrCallInProgress when
// the conversation has a live call here; ErrNotRegistered, or ErrNoAnswer
// (with a *RejectError when refused) when no RM phone answered (nothing
// is reported to the sink); ErrClientNoAnswer when the client did not
// answer (reported as EndNoAnswer unless KeepOnNoAnswer); ErrCallerGone
// when the RM hung up or the call was hung up meanwhile (reported);
// ErrUnavailable when the server is stopping.
func (s *Server) Callback(ctx context.Context, r CallbackRequest) error {
	return s.callback(ctx, r, func(c *call) (*rmLeg, error) { return s.callbackRM(ctx, c, r.RM) })
}

// CallbackLocal is Callback with the RM on an RTP endpoint of this host
// instead of a SIP phone (a browser softphone's WebRTC leg, as
// BridgeLocal): the RM's side is a media.Leg on 127.0.0.1 speaking PCMU
// to remote, which hears music on hold while the client's phone rings
// and is bridged to the client once they answer. It returns the bridge
// (Done, Hangup, Stats as for BridgeLocal). Errors: Callback's, except
// those of ringing an RM phone.
func (s *Server) CallbackLocal(ctx context.Context, r CallbackRequest, remote netip.AddrPort) (*LocalBridge, error) {
	var b *LocalBridge
	err := s.callback(ctx, r, func(c *call) (*rmLeg, error) {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return nil, err
		}
		leg := media.NewLeg(conn, nil)
		leg.SetNegotiation(media.Negotiation{Codec: media.CodecPCMU, AudioPT: media.PayloadPCMU, Remote: remote})
		l := &rmLeg{rm: r.RM, leg: leg} // no dialog: finish sends it no BYE
		b = &LocalBridge{c: c, leg: leg, done: make(chan struct{})}
		s.mu.Lock()
		c.mu.Lock()
		c.rm = l
		c.mu.Unlock()
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer close(b.done)
			if err := leg.Run(c.ctx); err != nil {
				c.log.Warn("softphone rtp failed", "error", err)
				c.hangup(EndCompleted)
			}
		}()
		return l, nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// callback carries out Callback with answerRM, which gives the call its
// RM leg, answered and running, or the error that nothing answered.
func (s *Server) callback(ctx context.Context, r CallbackRequest, answerRM func(c *call) (*rmLeg, error)) error {
	o := s.cfg.Outbound
	if o.Addr == "" {
		return fmt.Errorf("callback %s: %w", r.ConversationID, ErrNoOutbound)
	}
	if !conversation.IsE164(r.To) {
		return fmt.Errorf("callback %s: client number: %w", r.ConversationID, conversation.ErrInvalid)
	}
	conn, err := s.ports.Listen(s.mediaIP)
	if err != nil {
		return fmt.Errorf("callback %s: %w", r.ConversationID, err)
	}
	c := &call{s: s, id: r.ConversationID, digits: make(chan byte, 16), answered: make(chan struct{}),
		lang: prompts.Language(s.cfg.DefaultLanguage), state: stateBridging}
	close(c.answered)
	c.leg = media.NewLeg(conn, c.digit)
	c.log = s.log.With("conversation_id", string(r.ConversationID), "callback", true)
	s.mu.Lock()
	switch {
	case s.stopped || s.draining || s.runCtx == nil:
		s.mu.Unlock()
		_ = c.leg.Close()
		return fmt.Errorf("callback %s: %w", r.ConversationID, ErrUnavailable)
	case s.byConv[r.ConversationID] != nil:
		s.mu.Unlock()
		_ = c.leg.Close()
		return fmt.Errorf("callback %s: %w", r.ConversationID, ErrCallInProgress)
	}
	c.ctx, c.cancel = context.WithCancel(s.runCtx)
	s.byConv[r.ConversationID] = c
	s.wg.Add(1)
	s.mu.Unlock()

	rm, err := answerRM(c)
	if err != nil { // nothing answered: forget the attempt
		c.cancel()
		_ = c.leg.Close()
		s.forget(c)
		s.wg.Done()
		return fmt.Errorf("callback %s: %w", r.ConversationID, err)
	}
	// From here the call is live: every way out goes through finish.
	fail := func(reason EndReason, err error) error {
		c.end(reason, true, true)
		c.stopPlayback()
		c.finish()
		s.wg.Done()
		return fmt.Errorf("callback %s: %w", r.ConversationID, err)
	}
	c.startPlaybackTo(rm)
	dlg, n, offer, err := s.dialClient(ctx, c, r.To, rm)
	if err != nil {
		if errors.Is(err, ErrCallerGone) {
			return fail(EndCompleted, err)
		}
		c.log.Info("client did not answer the callback", "error", err)
		var rej *RejectError
		if errors.As(err, &rej) {
			err = rej
		}
		if r.KeepOnNoAnswer { // finish reports nothing for a call with no conversation
			s.forget(c)
			c.mu.Lock()
			c.id = ""
			c.mu.Unlock()
		}
		return fail(EndNoAnswer, fmt.Errorf("%w: %w", ErrClientNoAnswer, err))
	}
	c.leg.SetNegotiation(n)
	clientCallID := dlg.InviteRequest.CallID().Value()
	s.mu.Lock()
	c.mu.Lock()
	c.out, c.callID, c.answer = dlg, clientCallID, offer
	c.log = c.log.With("sip_call_id", conversation.MaskOpaque(clientCallID))
	c.mu.Unlock()
	s.calls[clientCallID] = c
	s.mu.Unlock()
	c.stopPlayback()
	if consent := c.decideRecording(); !c.waitConsent(ctx, consent) {
		return fail(EndCompleted, ErrCallerGone)
	}
	c.mu.Lock()
	if c.ctx.Err() != nil || c.rm != rm {
		c.mu.Unlock()
		return fail(EndCompleted, ErrCallerGone)
	}
	c.state = stateBridged
	c.mu.Unlock()
	c.stopPlayback()
	c.startRecording(rm.leg)
	media.Bridge(c.leg, rm.leg)
	rmN, _ := rm.leg.Negotiation()
	c.log.Info("callback bridged", "rm_id", string(r.RM), "client_leg_codec", n.Codec.String(), "rm_leg_codec", rmN.Codec.String())
	go c.run()
	return nil
}

// callbackRM rings rm's phone for a callback and returns its leg,
// answered and running, set as c's RM leg.
func (s *Server) callbackRM(ctx context.Context, c *call, rm conversation.RMID) (*rmLeg, error) {
	bindings, err := s.reg.Bindings(ctx, rm, s.now())
	if err != nil {
		return nil, err
	}
	if len(bindings) == 0 {
		return nil, fmt.Errorf("%s: %w", rm, ErrNotRegistered)
	}
	lastErr := error(nil)
	for _, b := range bindings {
		var uri sip.Uri
		if err := sip.ParseUri(b.Contact, &uri); err != nil {
			lastErr = fmt.Errorf("contact %q: %w", b.Contact, err)
			continue
		}
		dest := natDestination(uri, b.Source)
		leg, dlg, n, offer, err := s.dialLeg(ctx, c, uri, dest, b.Transport, media.CodecPCMU, s.cfg.RMRingTimeout, sipgo.AnswerOptions{})
		if err != nil {
			if errors.Is(err, ErrCallerGone) {
				return nil, err
			}
			c.log.Info("rm phone contact failed", "rm_id", string(rm), "error", err)
			lastErr = err
			continue
		}
		leg.SetNegotiation(n)
		l := &rmLeg{rm: rm, callID: dlg.InviteRequest.CallID().Value(), dialog: dlg, leg: leg, offer: offer}
		s.mu.Lock()
		c.mu.Lock()
		c.rm = l
		c.mu.Unlock()
		s.calls[l.callID] = c
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			if err := leg.Run(c.ctx); err != nil {
				c.log.Warn("rm rtp failed", "error", err)
				c.hangup(EndCompleted)
			}
		}()
		return l, nil
	}
	return nil, lastErr
}

// dialClient calls the client at to over the outbound trunk, offering the
// RM leg's codec first.
func (s *Server) dialClient(ctx context.Context, c *call, to string, rm *rmLeg) (*sipgo.DialogClientSession, media.Negotiation, []byte, error) {
	o := s.cfg.Outbound
	host, portStr, _ := net.SplitHostPort(o.Addr)
	uri := sip.Uri{Scheme: "sip", User: to, Host: host}
	if p, err := strconv.Atoi(portStr); err == nil {
		uri.Port = p
	}
	rmN, _ := rm.leg.Negotiation()
	codecs := []media.Codec{media.CodecPCMU, media.CodecPCMA}
	if rmN.Codec == media.CodecPCMA {
		codecs = []media.Codec{media.CodecPCMA, media.CodecPCMU}
	}
	offer := media.BuildSDP(media.SDPParams{Addr: netip.AddrPortFrom(s.publicMediaIP, c.leg.LocalAddr().Port()), Codecs: codecs, EventPT: media.DefaultEventPayloadType})
	req := sip.NewRequest(sip.INVITE, uri)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: o.CallerID, Host: s.cfg.PublicHost}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: to, Host: host}, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("P-Asserted-Identity", "<sip:"+o.CallerID+"@"+s.cfg.PublicHost+">"))
	req.SetBody(offer)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetTransport(strings.ToUpper(o.Transport))
	req.SetDestination(o.Addr)
	dlg, err := s.ring(ctx, c, req, o.RingTimeout, sipgo.AnswerOptions{Username: o.Username, Password: o.Password})
	if err != nil {
		return nil, media.Negotiation{}, nil, err
	}
	n, err := negotiateAnswer(dlg.InviteResponse.Body(), rmN.Codec)
	if err != nil {
		_ = dlg.Ack(context.WithoutCancel(ctx))
		_ = dlg.Bye(context.WithoutCancel(ctx))
		return nil, n, nil, err
	}
	if err := dlg.Ack(context.WithoutCancel(ctx)); err != nil {
		return nil, n, nil, fmt.Errorf("ack client: %w", err)
	}
	return dlg, n, offer, nil
}

// dialLeg rings uri (sent to dest when not empty, over transport) with an
// offer from a new media leg, prefer first, and returns the leg, the
// answered and acknowledged dialog, the negotiation and the offer.
func (s *Server) dialLeg(ctx context.Context, c *call, uri sip.Uri, dest, transport string, prefer media.Codec, timeout time.Duration, opts sipgo.AnswerOptions) (*media.Leg, *sipgo.DialogClientSession, media.Negotiation, []byte, error) {
	var n media.Negotiation
	conn, err := s.ports.Listen(s.mediaIP)
	if err != nil {
		return nil, nil, n, nil, err
	}
	leg := media.NewLeg(conn, nil)
	codecs := []media.Codec{media.CodecPCMU, media.CodecPCMA}
	if prefer == media.CodecPCMA {
		codecs = []media.Codec{media.CodecPCMA, media.CodecPCMU}
	}
	offer := media.BuildSDP(media.SDPParams{Addr: netip.AddrPortFrom(s.publicMediaIP, leg.LocalAddr().Port()), Codecs: codecs, EventPT: media.DefaultEventPayloadType})
	req := sip.NewRequest(sip.INVITE, uri)
	req.SetBody(offer)
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	if tp := strings.ToLower(transport); tp != "" {
		req.SetTransport(strings.ToUpper(tp))
	}
	if dest != "" {
		req.SetDestination(dest)
	}
	dlg, err := s.ring(ctx, c, req, timeout, opts)
	if err != nil {
		_ = leg.Close()
		return nil, nil, n, nil, err
	}
	if n, err = negotiateAnswer(dlg.InviteResponse.Body(), prefer); err != nil {
		_ = dlg.Ack(context.WithoutCancel(ctx))
		_ = dlg.Bye(context.WithoutCancel(ctx))
		_ = leg.Close()
		return nil, nil, n, nil, err
	}
	if err := dlg.Ack(context.WithoutCancel(ctx)); err != nil {
		_ = leg.Close()
		return nil, nil, n, nil, fmt.Errorf("ack: %w", err)
	}
	return leg, dlg, n, offer, nil
}

// startPlaybackTo plays music on hold to the RM's leg while the client's
// phone rings, as the call's playback (stopped by stopPlayback).
func (c *call) startPlaybackTo(rm *rmLeg) {
	c.startPlayback(func(ctx context.Context) {
		for {
			if media.PlayFor(ctx, rm.leg, prompts.HoldMusic(), time.Minute) != nil {
				return
			}
		}
	})
}

// byeClient sends the client's leg a BYE: the inbound dialog's, or the
// outbound one of a callback.
func (c *call) byeClient(ctx context.Context) error {
	if c.dialog != nil {
		return c.dialog.Bye(ctx)
	}
	if c.out != nil {
		return c.out.Bye(ctx)
	}
	return nil
}

// readClientBye takes a BYE on the client's leg (RFC 3261 §15.1.2).
func (c *call) readClientBye(req *sip.Request, tx sip.ServerTransaction) error {
	if c.dialog != nil {
		return c.dialog.ReadBye(req, tx)
	}
	if c.out != nil {
		return c.out.ReadBye(req, tx)
	}
	return errors.New("no client dialog")
}

// Goodbye ends a waiting call whose wait routing ended (its fallback
// closed the conversation, e.g. as a callback task after hours): the
// caller hears that the bank will call back, then the gateway hangs up;
// the end is reported as EndCallback. Errors: ErrUnknownCall when the call
// is not on this instance, ErrNotQueued when it is not waiting in queue.
func (s *Server) Goodbye(_ context.Context, id conversation.ConversationID) error {
	s.mu.Lock()
	c := s.byConv[id]
	s.mu.Unlock()
	if c == nil {
		return fmt.Errorf("goodbye %s: %w", id, ErrUnknownCall)
	}
	<-c.answered
	c.mu.Lock()
	if c.state != stateQueued || c.ctx.Err() != nil {
		c.mu.Unlock()
		return fmt.Errorf("goodbye %s: %w", id, ErrNotQueued)
	}
	c.state = stateLeaving
	lang := c.lang
	c.mu.Unlock()
	c.startPlayback(func(ctx context.Context) {
		if media.Play(ctx, c.leg, prompts.Get(lang, prompts.Callback)) == nil {
			c.end(EndCallback, true, true)
		}
	})
	c.log.Info("routing ended the wait; saying goodbye")
	return nil
}
