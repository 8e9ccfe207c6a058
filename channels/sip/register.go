package sip

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/airbranch/airbranch/channels/conversation"
)

// handleRegister is the registrar for RM phones (RFC 3261 §10.3): digest
// authentication with the RM's credentials (the authenticated user must
// be the To user), then adding, refreshing or removing contacts; expiries
// below RegisterMinExpires get 423 with Min-Expires, above the max are cut.
// The 200 OK lists every current contact with its remaining expiry.
func (s *Server) handleRegister(req *sip.Request, tx sip.ServerTransaction) {
	aor := req.To().Address.User
	hdr := ""
	if h := req.GetHeader("Authorization"); h != nil {
		hdr = h.Value()
	}
	res, user := s.auth.check(hdr, string(req.Method), func(user string) (string, bool) {
		p, ok := s.rmByUser[user]
		return p.Password, ok && user == aor
	})
	switch res {
	case authMissing, authStale:
		s.respond(req, tx, 401, "Unauthorized", sip.NewHeader("WWW-Authenticate", s.auth.challenge(res == authStale)))
		return
	case authWrong:
		s.log.Info("register refused", "username", conversation.MaskOpaque(user), "source_ip", sourceAddr(req.Source()).String())
		s.respond(req, tx, 403, "Forbidden")
		return
	}
	rm := s.rmByUser[user].RM
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	now := s.now()

	defExpires := s.cfg.RegisterDefaultExpires
	if h := req.GetHeader("Expires"); h != nil {
		n, err := strconv.Atoi(strings.TrimSpace(h.Value()))
		if err != nil || n < 0 {
			s.respond(req, tx, 400, "Bad Expires")
			return
		}
		defExpires = time.Duration(n) * time.Second
	}
	var contacts []*sip.ContactHeader
	for _, h := range req.GetHeaders("Contact") {
		if c, ok := h.(*sip.ContactHeader); ok {
			contacts = append(contacts, c)
		}
	}
	for _, c := range contacts {
		if c.Address.Wildcard {
			if len(contacts) != 1 || defExpires != 0 {
				s.respond(req, tx, 400, "Wildcard Contact Needs Expires 0")
				return
			}
			if err := s.reg.RemoveAll(ctx, rm); err != nil {
				s.registrarFailed(req, tx, err)
				return
			}
			s.log.Info("rm phone unregistered all", "rm_id", string(rm))
			s.respondBindings(req, tx, ctx, rm, now)
			return
		}
	}
	type change struct {
		uri     string
		expires time.Duration
	}
	changes := make([]change, 0, len(contacts))
	for _, c := range contacts {
		exp := defExpires
		if v, ok := c.Params.Get("expires"); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				s.respond(req, tx, 400, "Bad Contact Expires")
				return
			}
			exp = time.Duration(n) * time.Second
		}
		if exp != 0 && exp < s.cfg.RegisterMinExpires {
			s.respond(req, tx, 423, "Interval Too Brief", sip.NewHeader("Min-Expires", strconv.Itoa(int(s.cfg.RegisterMinExpires.Seconds()))))
			return
		}
		changes = append(changes, change{uri: c.Address.String(), expires: min(exp, s.cfg.RegisterMaxExpires)})
	}
	existing, err := s.reg.Bindings(ctx, rm, now)
	if err != nil {
		s.registrarFailed(req, tx, err)
		return
	}
	callID, cseq := req.CallID().Value(), req.CSeq().SeqNo
	for _, ch := range changes {
		var old *Binding
		for i := range existing {
			if existing[i].Contact == ch.uri {
				old = &existing[i]
			}
		}
		if old != nil && old.CallID == callID && old.CSeq >= cseq {
			continue // an older REGISTER arriving late (RFC 3261 §10.3 step 7)
		}
		if ch.expires == 0 {
			err = s.reg.Remove(ctx, rm, ch.uri)
		} else {
			err = s.reg.Put(ctx, Binding{RM: rm, Contact: ch.uri, Source: req.Source(), Transport: req.Transport(),
				CallID: callID, CSeq: cseq, Expires: now.Add(ch.expires), UpdatedAt: now})
		}
		if err != nil {
			s.registrarFailed(req, tx, err)
			return
		}
	}
	if len(changes) > 0 {
		s.log.Info("rm phone registered", "rm_id", string(rm), "contacts", len(changes))
	}
	s.respondBindings(req, tx, ctx, rm, now)
}

func (s *Server) registrarFailed(req *sip.Request, tx sip.ServerTransaction, err error) {
	s.log.Error("registrar unavailable", "error", err)
	s.respond(req, tx, 500, "Server Internal Error", s.retryAfter())
}

// respondBindings answers 200 OK with rm's current contacts, each with its
// remaining expires parameter (RFC 3261 §10.3 step 8).
func (s *Server) respondBindings(req *sip.Request, tx sip.ServerTransaction, ctx context.Context, rm conversation.RMID, now time.Time) {
	bs, err := s.reg.Bindings(ctx, rm, now)
	if err != nil {
		s.registrarFailed(req, tx, err)
		return
	}
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	for _, b := range bs {
		var uri sip.Uri
		if err := sip.ParseUri(b.Contact, &uri); err != nil {
			continue
		}
		secs := int(b.Expires.Sub(now).Round(time.Second).Seconds())
		params := sip.NewParams()
		params.Add("expires", strconv.Itoa(secs))
		res.AppendHeader(&sip.ContactHeader{Address: uri, Params: params})
	}
	res.AppendHeader(sip.NewHeader("Date", now.UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT")))
	_ = tx.Respond(res)
}
