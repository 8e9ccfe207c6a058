package desk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Softphone frame types (docs/desk-protocol.md, "Softphone"). The desk's
// requests are answered with ack or error like the others; the server's
// pushes carry no seq and are not kept in the RM's stream: they concern
// one live desk session (the one whose softphone is on), and a desk that
// reconnects has lost its peer connection anyway.
const (
	// TypePhoneRegister (desk → server): {"enabled": true|false} turns this
	// session's softphone on or off; the ack is {"enabled": ...}. While it
	// is on, the RM's accepted voice calls are bridged to this session
	// instead of ringing their SIP phone. The last session to turn it on
	// has it; it goes off when that session ends.
	TypePhoneRegister = "phone.register"
	// TypePhoneOffer (server → desk): {"call_id", "conversation_id",
	// "sdp"}: the gateway's SDP offer (PCMU audio, every ICE candidate);
	// the desk answers with TypePhoneAnswer.
	TypePhoneOffer = "phone.offer"
	// TypePhoneAnswer (desk → server): {"call_id", "sdp"}: the browser's
	// SDP answer, with its ICE candidates (no trickle).
	TypePhoneAnswer = "phone.answer"
	// TypePhoneHangup, either way: {"call_id"}. From the desk it ends the
	// call (BYE to the client) or refuses the offer; from the server it
	// says the call is over (the client hung up, the gateway ended it),
	// with "ended_by" and "reason".
	TypePhoneHangup = "phone.hangup"
)

// PhoneLine is one desk session as the softphone sees it.
type PhoneLine interface {
	// RMID is the session's RM.
	RMID() conversation.RMID
	// Push sends a frame without seq to this session only. An error means
	// the session is gone or did not take the frame in time (it is then
	// closed as slow).
	Push(typ string, data any) error
	// Closed is closed when the session has ended.
	Closed() <-chan struct{}
}

// Phones carries out softphone requests; the gateway's voice channel
// implements it.
type Phones interface {
	// PhoneFrame answers one request of type typ (a TypePhone* sent by the
	// desk) from line: a result for the ack, or an error classified as
	// other requests' errors are (conversation.ErrInvalid: bad_request,
	// conversation.ErrNotFound: not_found).
	PhoneFrame(ctx context.Context, line PhoneLine, typ string, data json.RawMessage) (any, error)
}

var _ PhoneLine = (*session)(nil)

// RMID implements PhoneLine.
func (s *session) RMID() conversation.RMID { return s.rm }

// Closed implements PhoneLine.
func (s *session) Closed() <-chan struct{} { return s.done }

// Push implements PhoneLine.
func (s *session) Push(typ string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	if err := s.send(Frame{V: Version, Type: typ, Data: raw}); err != nil {
		if err != errClosed {
			s.shut(CloseSlowClient, "the desk did not take frames in time; reconnect and resume")
		}
		return fmt.Errorf("desk: push %s: %w", typ, err)
	}
	return nil
}

// phoneFrame answers a phone.* request through the Phones handler.
func (s *Server) phoneFrame(ctx context.Context, sess *session, f Frame) Frame {
	if s.phones == nil {
		return errorFrame(f.ID, "unavailable", http.StatusServiceUnavailable, "the softphone is not available on this gateway (voice is off)")
	}
	result, err := s.phones.PhoneFrame(ctx, sess, f.Type, f.Data)
	if err != nil {
		code, status, msg := classify(err)
		if status >= 500 {
			sess.log.Warn("softphone request failed", "type", f.Type, "error", err)
		}
		return errorFrame(f.ID, code, status, msg)
	}
	return ack(f.ID, result)
}
