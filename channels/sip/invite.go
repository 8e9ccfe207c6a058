package sip

import (
	"context"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media"
	"github.com/airbranch/airbranch/media/prompts"
)

// handleInvite takes an inbound call (RFC 3261 §13.3): trunk check, 100
// Trying, offer check (488 without PCMU/PCMA), the sink's conversation,
// optional ringing, then 200 OK with the SDP answer (or, for an INVITE
// without SDP, the gateway's offer, answered in the ACK, RFC 3261 §13.2.1).
func (s *Server) handleInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil && to.Params.Has("tag") {
		s.handleReinvite(req, tx)
		return
	}
	trunk := s.admit(req, tx)
	if trunk == nil {
		return
	}
	s.respond(req, tx, 100, "Trying")

	var offer media.Negotiation
	late := len(req.Body()) == 0
	if !late {
		sd, err := media.ParseSDP(req.Body())
		if err != nil {
			s.respond(req, tx, 400, "Malformed SDP")
			return
		}
		if offer, err = media.Negotiate(sd, media.CodecNone); err != nil {
			s.respond(req, tx, 488, "Not Acceptable Here", sip.NewHeader("Warning", `305 airbranch "PCMU or PCMA over RTP/AVP required"`))
			return
		}
	}
	from, asserted, err := callerAddress(req, s.cfg.DefaultRegion)
	if err != nil {
		s.respond(req, tx, 400, "Bad From")
		return
	}
	dialog, err := s.dialog.ReadInvite(req, tx)
	if err != nil {
		s.respond(req, tx, 400, "Bad Request")
		return
	}
	conn, err := s.ports.Listen(s.mediaIP)
	if err != nil {
		s.log.Error("no rtp port for call", "error", err)
		s.respond(req, tx, 503, "Service Unavailable", s.retryAfter())
		return
	}
	callID := req.CallID().Value()
	c := &call{s: s, callID: callID, dialog: dialog, lateOffer: late, digits: make(chan byte, 16), answered: make(chan struct{}),
		lang: prompts.Language(s.cfg.DefaultLanguage)}
	c.leg = media.NewLeg(conn, c.digit)
	if !late {
		c.leg.SetNegotiation(offer)
	}
	c.log = s.log.With("sip_call_id", conversation.MaskOpaque(callID), "trunk", trunk.Name)

	s.mu.Lock()
	if s.stopped || s.draining || s.runCtx == nil {
		s.mu.Unlock()
		_ = c.leg.Close()
		s.respond(req, tx, 503, "Service Unavailable", s.retryAfter())
		return
	}
	c.ctx, c.cancel = context.WithCancel(s.runCtx)
	s.calls[callID] = c
	s.wg.Add(1)
	s.mu.Unlock()
	handedOver := false
	defer func() {
		close(c.answered)
		if !handedOver {
			c.cancel()
			_ = c.leg.Close()
			s.forget(c)
			s.wg.Done()
		}
	}()

	in := conversation.Incoming{
		Kind: conversation.IncomingEvent, Channel: conversation.ChannelVoice, ChannelAccount: s.channelAccount(req),
		From: from, ProviderID: callID, Event: "incoming_call", StartConversation: true,
		// No Language: the conversation keeps the client's preferred one
		// (the prompts play in the default language until 1 is pressed).
		Verification: conversation.VerificationNone, ReceivedAt: s.now(),
	}
	if asserted && trunk.TrustIdentity && from.Kind == conversation.AddressPhone {
		in.Verification = conversation.VerificationBasic
	}
	sctx, cancel := s.sinkCtx()
	receipt, err := s.sink.IncomingCall(sctx, in)
	cancel()
	if err != nil {
		c.log.Warn("call not taken", "error", err)
		if errors.Is(err, conversation.ErrUnavailable) {
			s.respond(req, tx, 503, "Service Unavailable", s.retryAfter())
		} else {
			s.respond(req, tx, 480, "Temporarily Unavailable")
		}
		return
	}
	c.mu.Lock()
	c.id = receipt.ConversationID
	c.mu.Unlock()
	c.log = c.log.With("conversation_id", string(receipt.ConversationID))
	s.mu.Lock()
	s.byConv[receipt.ConversationID] = c
	s.mu.Unlock()
	c.log.Info("incoming call", "from", from, "late_offer", late)
	reportEnd := func(reason EndReason) {
		ctx, cancel := s.sinkCtx()
		defer cancel()
		if err := s.sink.CallEnded(ctx, receipt.ConversationID, reason); err != nil {
			c.log.Warn("call end not recorded", "error", err)
		}
		c.log.Info("call ended before answer", "reason", string(reason))
	}

	if d := s.cfg.RingBeforeAnswer; d > 0 {
		if err := dialog.Respond(180, "Ringing", nil); err != nil {
			reportEnd(EndAbandoned)
			return
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-dialog.Context().Done(): // CANCEL: the transaction layer sent 487
			t.Stop()
			reportEnd(EndAbandoned)
			return
		case <-c.ctx.Done():
			t.Stop()
			s.respond(req, tx, 503, "Service Unavailable", s.retryAfter())
			reportEnd(EndFailed)
			return
		}
	}

	local := netip.AddrPortFrom(s.publicMediaIP, c.leg.LocalAddr().Port())
	var answer []byte
	if late {
		answer = media.BuildSDP(media.SDPParams{Addr: local, Codecs: []media.Codec{media.CodecPCMU, media.CodecPCMA}, EventPT: media.DefaultEventPayloadType})
	} else {
		answer = media.BuildSDP(media.SDPParams{Addr: local, Codecs: []media.Codec{offer.Codec}, EventPT: offer.EventPT})
	}
	c.mu.Lock()
	c.answer = answer
	c.mu.Unlock()
	if err := dialog.RespondSDP(answer); err != nil {
		if dialog.Context().Err() != nil {
			reportEnd(EndAbandoned)
		} else {
			c.log.Warn("answer not acknowledged", "error", err)
			reportEnd(EndFailed)
		}
		return
	}
	c.mu.Lock()
	ackErr := c.ackErr
	c.state = stateQueued
	c.mu.Unlock()
	handedOver = true
	if ackErr != nil {
		c.log.Warn("late offer answer unusable", "error", ackErr)
		c.hangup(EndFailed)
	}
	// The welcome starts before Bridge may run (it waits for answered).
	c.startPlayback(c.queueAudio(prompts.Welcome))
	go c.run()
}

// handleReinvite answers an in-dialog INVITE: the caller's (session
// refresh, RFC 4028) with the SDP already agreed; the RM's with
// rmReinvite (refresh, hold, resume).
func (s *Server) handleReinvite(req *sip.Request, tx sip.ServerTransaction) {
	c := s.callByID(req.CallID().Value())
	if c == nil {
		s.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	c.mu.Lock()
	rm, answer, state := c.rm, c.answer, c.state
	c.mu.Unlock()
	if state == stateAnswering {
		s.respond(req, tx, 491, "Request Pending") // RFC 3261 §14.2
		return
	}
	if rm != nil && req.CallID().Value() == rm.callID {
		s.rmReinvite(c, rm, req, tx) // hold.go
		return
	}
	res := sip.NewSDPResponseFromRequest(req, answer)
	res.AppendHeader(&s.dialog.ContactHDR)
	addSessionTimer(req, res)
	_ = tx.Respond(res)
}

// handleAck confirms an answered call; for a late offer it reads the
// caller's SDP answer from the ACK body (RFC 3264 §5).
func (s *Server) handleAck(req *sip.Request, tx sip.ServerTransaction) {
	c := s.callByID(req.CallID().Value())
	if c == nil || c.dialog == nil {
		return
	}
	if c.lateOffer && c.getState() == stateAnswering {
		var err error
		var n media.Negotiation
		if len(req.Body()) == 0 {
			err = errors.New("ack without sdp answer")
		} else {
			var sd media.SessionDescription
			if sd, err = media.ParseSDP(req.Body()); err == nil {
				n, err = media.Negotiate(sd, media.CodecNone)
			}
		}
		if err == nil {
			c.leg.SetNegotiation(n)
		}
		c.mu.Lock()
		c.ackErr = err
		c.mu.Unlock()
	}
	if err := c.dialog.ReadAck(req, tx); err != nil {
		c.log.Debug("ack not matched", "error", err)
	}
}

// handleCancel answers a CANCEL that matched no INVITE transaction (those
// that match are answered by the transaction layer with 200 and 487).
func (s *Server) handleCancel(req *sip.Request, tx sip.ServerTransaction) {
	s.respond(req, tx, 481, "Call/Transaction Does Not Exist")
}

// handleBye ends a call from either leg (RFC 3261 §15.1.2): a caller's BYE
// while queued or while the RM's phone rings is an abandonment; after the
// bridge it completes the call; an RM's BYE completes it and hangs up the
// caller.
func (s *Server) handleBye(req *sip.Request, tx sip.ServerTransaction) {
	id := req.CallID().Value()
	c := s.callByID(id)
	if c == nil {
		s.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	c.mu.Lock()
	rm, state := c.rm, c.state
	c.mu.Unlock()
	if rm != nil && id == rm.callID {
		s.respond(req, tx, 200, "OK")
		c.end(EndCompleted, true, false)
		return
	}
	if err := c.readClientBye(req, tx); err != nil {
		s.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	reason := EndAbandoned
	if state == stateBridged {
		reason = EndCompleted
	} else if state == stateLeaving {
		reason = EndCallback
	}
	c.end(reason, false, true)
}

// handleInfo takes DTMF sent as SIP INFO (RFC 6086) with an
// application/dtmf-relay body ("Signal=5") or application/dtmf ("5").
func (s *Server) handleInfo(req *sip.Request, tx sip.ServerTransaction) {
	c := s.callByID(req.CallID().Value())
	if c == nil {
		s.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(strings.TrimSpace(strings.SplitN(h.Value(), ";", 2)[0]))
	}
	body := strings.TrimSpace(string(req.Body()))
	var signal string
	switch ct {
	case "application/dtmf-relay":
		for line := range strings.Lines(body) {
			k, v, ok := strings.Cut(line, "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "signal") {
				signal = strings.TrimSpace(v)
			}
		}
	case "application/dtmf":
		signal = body
	case "":
		s.respond(req, tx, 200, "OK") // an empty INFO probes the dialog
		return
	default:
		s.respond(req, tx, 415, "Unsupported Media Type", sip.NewHeader("Accept", "application/dtmf-relay, application/dtmf"))
		return
	}
	s.respond(req, tx, 200, "OK")
	if d := infoDigit(signal); d != 0 && req.CallID().Value() == c.callID {
		c.digit(d)
	}
}

// infoDigit maps an INFO signal ("0"-"9", "*", "#", "A"-"D", or the event
// codes "10" and "11" some phones send for * and #) to a digit, 0 if none.
func infoDigit(sig string) byte {
	if len(sig) == 1 && strings.ContainsRune("0123456789*#ABCDabcd", rune(sig[0])) {
		return strings.ToUpper(sig)[0]
	}
	if n, err := strconv.Atoi(sig); err == nil && n >= 10 && n <= 15 {
		return media.DTMFDigit(uint8(n))
	}
	return 0
}

func (s *Server) retryAfter() sip.Header {
	return sip.NewHeader("Retry-After", strconv.Itoa(int(s.cfg.RetryAfter.Seconds())))
}

// channelAccount is the configured bank number, else the dialled number of
// the Request-URI or To when it is a telephone number.
func (s *Server) channelAccount(req *sip.Request) string {
	if s.cfg.ChannelAccount != "" {
		return s.cfg.ChannelAccount
	}
	if n, err := normalisePhone(req.Recipient.User, s.cfg.DefaultRegion); err == nil {
		return n
	}
	return req.Recipient.User
}
