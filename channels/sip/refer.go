package sip

import (
	"context"
	"strings"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/airbranch/airbranch/channels/conversation"
)

// TransferRequester is implemented by a CallSink that carries out blind
// transfers asked by RM phones (REFER, RFC 3515): CallTransfer asks that
// the bridged call of conversation id be transferred by RM rm to target,
// the user part of the REFER's Refer-To ("rm-pb-02", a team id, or
// "queue"). The sink decides and acts; the gateway moves the conversation
// in routing, which ends with Server.Transfer taking the call off the
// RM's phone. An error declines the transfer and the call stays bridged.
type TransferRequester interface {
	CallTransfer(ctx context.Context, id conversation.ConversationID, rm conversation.RMID, target string) error
}

// handleRefer takes a REFER from the RM's phone on a bridged call (RFC
// 3515 §2.4): 202 Accepted, then the sink's CallTransfer; the implicit
// subscription's NOTIFY (message/sipfrag, RFC 3420) says "200 OK" just
// before the transfer's BYE to the phone, or "603 Declined" when the sink
// refused (the call stays bridged). A REFER from the client's side, or on
// a call not bridged, gets 403; a Refer-To without a user part 400; a
// sink without transfers 501.
func (s *Server) handleRefer(req *sip.Request, tx sip.ServerTransaction) {
	c := s.callByID(req.CallID().Value())
	if c == nil {
		s.respond(req, tx, 481, "Call/Transaction Does Not Exist")
		return
	}
	c.mu.Lock()
	rm, state, id := c.rm, c.state, c.id
	c.mu.Unlock()
	if rm == nil || rm.dialog == nil || req.CallID().Value() != rm.callID || state != stateBridged {
		s.respond(req, tx, 403, "Forbidden")
		return
	}
	tr, ok := s.sink.(TransferRequester)
	if !ok {
		s.respond(req, tx, 501, "Not Implemented")
		return
	}
	target := ""
	if h := req.GetHeader("Refer-To"); h != nil {
		target = referTarget(h.Value())
	}
	if target == "" {
		s.respond(req, tx, 400, "Bad Refer-To")
		return
	}
	s.respond(req, tx, 202, "Accepted")
	c.mu.Lock()
	c.referFrom = rm
	c.mu.Unlock()
	c.log.Info("rm phone asked for a transfer", "rm_id", string(rm.rm), "target", target)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := s.sinkCtx()
		err := tr.CallTransfer(ctx, id, rm.rm, target)
		cancel()
		if err == nil {
			return
		}
		c.log.Info("transfer declined", "target", target, "error", err)
		c.mu.Lock()
		pending := c.referFrom == rm
		if pending {
			c.referFrom = nil
		}
		c.mu.Unlock()
		if pending {
			s.notifyRefer(rm, "SIP/2.0 603 Declined")
		}
	}()
}

// referTarget returns the user part of a Refer-To value ("<sip:rm-pb-02@
// host>", "sip:queue@host;transport=udp"), "" when there is none.
func referTarget(v string) string {
	v = strings.TrimSpace(v)
	if i, j := strings.Index(v, "<"), strings.LastIndex(v, ">"); i >= 0 && j > i {
		v = v[i+1 : j]
	}
	user, _ := uriUser(v)
	if i := strings.IndexByte(user, '?'); i >= 0 {
		user = user[:i]
	}
	return user
}

// notifyRefer sends the REFER's final NOTIFY to the RM's phone in its
// dialog (RFC 3515 §2.4.5): frag as message/sipfrag, the subscription
// terminated.
func (s *Server) notifyRefer(rm *rmLeg, frag string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := sip.NewRequest(sip.NOTIFY, rm.dialog.InviteResponse.Contact().Address)
	req.AppendHeader(sip.NewHeader("Event", "refer"))
	req.AppendHeader(sip.NewHeader("Subscription-State", "terminated;reason=noresource"))
	req.AppendHeader(sip.NewHeader("Content-Type", "message/sipfrag;version=2.0"))
	req.SetBody([]byte(frag + "\r\n"))
	if _, err := rm.dialog.Do(ctx, req); err != nil {
		s.log.Debug("refer notify failed", "error", err)
	}
}
