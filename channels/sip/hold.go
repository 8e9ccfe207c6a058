package sip

import (
	"context"
	"net/netip"

	"github.com/emiago/sipgo/sip"

	"github.com/airbranch/airbranch/media"
	"github.com/airbranch/airbranch/media/prompts"
)

// rmReinvite answers a re-INVITE from the RM's phone on a bridged call
// (RFC 3264 §8): without SDP, or with the same direction, it is a session
// refresh (RFC 4028) answered with the SDP agreed; an offer whose stream
// is sendonly or inactive, or whose connection address is 0.0.0.0 (RFC
// 2543 hold), puts the caller on hold: the relay stops and the caller
// hears music on hold until an offer with sendrecv (or recvonly) resumes
// the bridge. The answer mirrors the direction (recvonly to sendonly,
// inactive to inactive, RFC 3264 §6.1). A malformed offer gets 400, one
// without G.711 488; the call stays as it was.
func (s *Server) rmReinvite(c *call, rm *rmLeg, req *sip.Request, tx sip.ServerTransaction) {
	if len(req.Body()) == 0 {
		s.respondSDP(req, tx, rm.offer)
		return
	}
	sd, err := media.ParseSDP(req.Body())
	if err != nil {
		s.respond(req, tx, 400, "Malformed SDP")
		return
	}
	cur, _ := rm.leg.Negotiation()
	hold := sd.Direction == "sendonly" || sd.Direction == "inactive" || sd.Addr.Addr().IsUnspecified() || sd.Addr.Port() == 0
	n, err := media.Negotiate(sd, cur.Codec)
	switch {
	case err == nil:
		if n.Remote.Addr().IsUnspecified() {
			n.Remote = cur.Remote
		}
		rm.leg.SetNegotiation(n)
	case hold:
		n = cur // a held stream may carry port 0 (RFC 3264 §8.4)
	default:
		s.respond(req, tx, 488, "Not Acceptable Here")
		return
	}
	dir := "sendrecv"
	switch sd.Direction {
	case "sendonly":
		dir = "recvonly"
	case "inactive":
		dir = "inactive"
	case "recvonly":
		dir = "sendonly"
	}
	answer := media.BuildSDP(media.SDPParams{Addr: netip.AddrPortFrom(s.publicMediaIP, rm.leg.LocalAddr().Port()),
		Codecs: []media.Codec{n.Codec}, EventPT: n.EventPT, Direction: dir})
	s.respondSDP(req, tx, answer)
	if hold {
		c.hold(rm)
	} else {
		c.resume(rm)
	}
}

// respondSDP answers req with 200 OK, body as application/sdp and the
// gateway's Contact.
func (s *Server) respondSDP(req *sip.Request, tx sip.ServerTransaction, body []byte) {
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	res.AppendHeader(&s.dialog.ContactHDR)
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip respond failed", "status", 200, "error", err)
	}
}

// hold stops relaying between the caller and rm's leg and plays music on
// hold to the caller; nothing happens when the call is held already or rm
// is no longer its RM leg.
func (c *call) hold(rm *rmLeg) {
	c.mu.Lock()
	if c.rm != rm || c.held || c.state != stateBridged {
		c.mu.Unlock()
		return
	}
	c.held = true
	c.mu.Unlock()
	media.Unbridge(c.leg, rm.leg)
	c.startPlaybackWhen(func(ctx context.Context) {
		for {
			if media.PlayFor(ctx, c.leg, prompts.HoldMusic(), c.s.cfg.AnnounceEvery) != nil {
				return
			}
		}
	}, true)
	c.log.Info("rm put the call on hold")
	c.reportHold(true)
}

// resume ends a hold: the music stops and the relay starts again.
func (c *call) resume(rm *rmLeg) {
	c.mu.Lock()
	if c.rm != rm || !c.held {
		c.mu.Unlock()
		return
	}
	c.held = false
	c.mu.Unlock()
	c.stopPlayback()
	media.Bridge(c.leg, rm.leg)
	c.log.Info("rm resumed the call")
	c.reportHold(false)
}
