package sip

import (
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/airbranch/airbranch/media"
)

// handleUpdate answers an in-dialog UPDATE (RFC 3311) on either leg of a
// live call: a session refresh (RFC 4028 §7.4) without a body gets 200
// OK; one with an SDP offer gets the SDP the gateway agreed for that leg
// (the media do not change). Unknown dialogs get 481.
func (s *Server) handleUpdate(req *sip.Request, tx sip.ServerTransaction) {
	c := s.callByID(req.CallID().Value())
	if c == nil {
		s.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	c.mu.Lock()
	rm, answer := c.rm, c.answer
	c.mu.Unlock()
	body := answer
	if rm != nil && req.CallID().Value() == rm.callID {
		body = rm.offer
	}
	if len(req.Body()) == 0 {
		body = nil
	} else if _, err := media.ParseSDP(req.Body()); err != nil {
		s.respond(req, tx, 488, "Not Acceptable Here")
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", body)
	if body != nil {
		res.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	}
	res.AppendHeader(&s.dialog.ContactHDR)
	addSessionTimer(req, res)
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip respond failed", "status", 200, "error", err)
	}
}

// addSessionTimer copies a refresh request's Session-Expires into its 2xx
// (RFC 4028 §9): the interval the peer asked for, with refresher=uac when
// it named none, and Require: timer.
func addSessionTimer(req *sip.Request, res *sip.Response) {
	h := req.GetHeader("Session-Expires")
	if h == nil {
		return
	}
	v := strings.TrimSpace(h.Value())
	if !strings.Contains(strings.ToLower(v), "refresher=") {
		v += ";refresher=uac"
	}
	res.AppendHeader(sip.NewHeader("Session-Expires", v))
	res.AppendHeader(sip.NewHeader("Require", "timer"))
}
