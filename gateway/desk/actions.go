package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/outbox"
	"github.com/airbranch/airbranch/gateway/router"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/routing"
)

// Routing is what the desk asks of the routing runtime (router.Router).
type Routing interface {
	Accept(ctx context.Context, offer conversation.OfferID, rm conversation.RMID) (conversation.Conversation, error)
	Decline(ctx context.Context, offer conversation.OfferID, rm conversation.RMID, reason string) error
	WrapUp(ctx context.Context, id conversation.ConversationID, rm conversation.RMID) (conversation.Conversation, error)
	Close(ctx context.Context, id conversation.ConversationID, rm conversation.RMID, disposition string) (conversation.Conversation, error)
	SetPresence(ctx context.Context, rm conversation.RMID, st conversation.PresenceState, reason string, ttl time.Duration) (conversation.Presence, error)
	TransferToQueue(ctx context.Context, id conversation.ConversationID, by conversation.RMID, reason string) (conversation.Conversation, error)
	TransferToTeam(ctx context.Context, id conversation.ConversationID, by conversation.RMID, team conversation.TeamID, reason string) (conversation.Conversation, error)
	TransferToRM(ctx context.Context, id conversation.ConversationID, by, to conversation.RMID, reason string) (conversation.Conversation, error)
	Invite(ctx context.Context, id conversation.ConversationID, by, specialist conversation.RMID) (conversation.Conversation, error)
	Escalate(ctx context.Context, id conversation.ConversationID, rm conversation.RMID, to conversation.Channel, addr conversation.Address) (conversation.Conversation, error)
}

// Messages sends an RM's message on the conversation's channel
// (outbox.Outbox).
type Messages interface {
	Send(ctx context.Context, id conversation.ConversationID, sender conversation.RMID, text string, attachments []conversation.Attachment) (conversation.Message, error)
}

var (
	_ Routing  = (*router.Router)(nil)
	_ Messages = (*outbox.Outbox)(nil)
)

// DeskPresenceTTL is the lease of a presence set from the desk. The hub
// renews it while a desk of the RM is open (Hub.RenewPresences, every
// PresenceRenewEvery), so an RM whose desks all closed or lost their
// network drops to offline within this time, instead of being offered
// conversations nobody answers.
const DeskPresenceTTL = 2 * time.Minute

// request is the data of every client request; each type reads the
// fields it needs.
type request struct {
	State          conversation.PresenceState  `json:"state"`
	Reason         string                      `json:"reason"`
	OfferID        conversation.OfferID        `json:"offer_id"`
	ConversationID conversation.ConversationID `json:"conversation_id"`
	Text           string                      `json:"text"`
	Attachments    []conversation.Attachment   `json:"attachments"`
	To             string                      `json:"to"`
	RMID           conversation.RMID           `json:"rm_id"`
	TeamID         conversation.TeamID         `json:"team_id"`
	Channel        conversation.Channel        `json:"channel"`
	Disposition    string                      `json:"disposition"`
}

// handle answers one client frame with an ack or an error frame.
func (s *Server) handle(ctx context.Context, sess *session, f Frame) Frame {
	if strings.HasPrefix(f.Type, "phone.") {
		return s.phoneFrame(ctx, sess, f)
	}
	var req request
	if len(f.Data) > 0 {
		if err := json.Unmarshal(f.Data, &req); err != nil {
			return errorFrame(f.ID, "bad_request", http.StatusBadRequest, "data: "+err.Error())
		}
	}
	rm := sess.rm
	result, err := s.act(ctx, rm, f.Type, req)
	if err != nil {
		code, status, msg := classify(err)
		if status >= 500 {
			sess.log.Warn("desk request failed", "type", f.Type, "error", err)
		}
		return errorFrame(f.ID, code, status, msg)
	}
	return ack(f.ID, result)
}

// errUnknownType marks a frame type the server does not know.
var errUnknownType = errors.New("unknown frame type")

// act carries out one request of rm.
func (s *Server) act(ctx context.Context, rm conversation.RMID, typ string, req request) (any, error) {
	switch typ {
	case "presence":
		return s.routing.SetPresence(ctx, rm, req.State, req.Reason, DeskPresenceTTL)
	case "accept":
		return s.routing.Accept(ctx, req.OfferID, rm)
	case "decline":
		return map[string]string{"offer_id": string(req.OfferID)}, s.routing.Decline(ctx, req.OfferID, rm, req.Reason)
	case "send":
		return s.send(ctx, rm, req)
	case "typing":
		// Typing is shown to the client by channels that carry it (web
		// chat); it is checked like a message and not stored.
		_, err := s.writable(ctx, rm, req.ConversationID)
		return map[string]string{"conversation_id": string(req.ConversationID)}, err
	case "transfer":
		switch req.To {
		case "queue":
			return s.routing.TransferToQueue(ctx, req.ConversationID, rm, req.Reason)
		case "team":
			return s.routing.TransferToTeam(ctx, req.ConversationID, rm, req.TeamID, req.Reason)
		case "rm":
			return s.routing.TransferToRM(ctx, req.ConversationID, rm, req.RMID, req.Reason)
		}
		return nil, fmt.Errorf("transfer to %q: %w (allowed: queue, team, rm)", req.To, conversation.ErrInvalid)
	case "invite":
		return s.routing.Invite(ctx, req.ConversationID, rm, req.RMID)
	case "escalate":
		return s.escalate(ctx, rm, req)
	case "wrap_up":
		return s.routing.WrapUp(ctx, req.ConversationID, rm)
	case "close":
		return s.routing.Close(ctx, req.ConversationID, rm, req.Disposition)
	}
	return nil, fmt.Errorf("%q: %w (allowed: presence, accept, decline, send, typing, transfer, invite, escalate, wrap_up, close)", typ, errUnknownType)
}

// writable loads a conversation rm may write in: its assignee, or a
// specialist still in it.
func (s *Server) writable(ctx context.Context, rm conversation.RMID, id conversation.ConversationID) (conversation.Conversation, error) {
	c, err := s.store.Conversation(ctx, id)
	if err != nil {
		return c, err
	}
	if c.AssigneeID == rm || slices.Contains(participants(c), rm) {
		return c, nil
	}
	return c, router.ErrNotAssignee
}

func (s *Server) send(ctx context.Context, rm conversation.RMID, req request) (any, error) {
	if s.messages == nil {
		return nil, fmt.Errorf("desk: %w", outbox.ErrNoChannel)
	}
	if _, err := s.writable(ctx, rm, req.ConversationID); err != nil {
		return nil, err
	}
	m, err := s.messages.Send(ctx, req.ConversationID, rm, req.Text, req.Attachments)
	if err != nil {
		return nil, err
	}
	return MessageData{Message: m}, nil
}

// escalate moves the conversation to voice or video, at the client's
// address on it (escalationAddress), once the channels said they can take
// it (checkEscalation: a call must be possible for voice).
func (s *Server) escalate(ctx context.Context, rm conversation.RMID, req request) (any, error) {
	c, err := s.writable(ctx, rm, req.ConversationID)
	if err != nil {
		return nil, err
	}
	if req.Channel != conversation.ChannelVoice && req.Channel != conversation.ChannelVideo {
		return nil, fmt.Errorf("escalate to %q: %w (allowed: voice, video)", req.Channel, conversation.ErrInvalid)
	}
	cust, err := s.hub.customers.Customer(ctx, c.CustomerID)
	if err != nil {
		return nil, err
	}
	addr, err := escalationAddress(c, cust, req.Channel)
	if err != nil {
		return nil, err
	}
	if err := s.checkEscalation(ctx, c, rm, req.Channel, addr); err != nil {
		return nil, err
	}
	return s.routing.Escalate(ctx, c.ID, rm, req.Channel, addr)
}

// classify maps an error to an error frame's code, HTTP-like status and
// message.
func classify(err error) (string, int, string) {
	msg := err.Error()
	switch {
	case errors.Is(err, errUnknownType):
		return "unknown_type", http.StatusBadRequest, msg
	case errors.Is(err, router.ErrOfferGone):
		return "offer_gone", http.StatusConflict, msg
	case errors.Is(err, router.ErrNotYourOffer), errors.Is(err, router.ErrNotAssignee):
		return "forbidden", http.StatusForbidden, "only the conversation's assignee (or the offered RM) may do this"
	case errors.Is(err, router.ErrNoCapacity):
		return "no_capacity", http.StatusConflict, msg
	case errors.Is(err, ErrNoPhoneNumber):
		return "no_phone_number", http.StatusConflict, msg
	case errors.Is(err, ErrVoiceUnavailable):
		return "voice_unavailable", http.StatusServiceUnavailable, msg
	case errors.Is(err, conversation.ErrOptedOut):
		return "opted_out", http.StatusConflict, msg
	case errors.Is(err, outbox.ErrNotSent):
		return "not_sent", http.StatusBadGateway, msg
	case errors.Is(err, outbox.ErrClosed), errors.Is(err, outbox.ErrNotMessaging), errors.Is(err, conversation.ErrIllegalTransition):
		return "illegal_transition", http.StatusConflict, msg
	case errors.Is(err, routing.ErrUnknownDisposition), errors.Is(err, conversation.ErrInvalid):
		return "bad_request", http.StatusBadRequest, msg
	case errors.Is(err, conversation.ErrNotFound):
		return "not_found", http.StatusNotFound, msg
	case errors.Is(err, state.ErrUnavailable), errors.Is(err, router.ErrBusy), errors.Is(err, outbox.ErrNoChannel):
		return "unavailable", http.StatusServiceUnavailable, msg
	}
	return "internal", http.StatusInternalServerError, "internal error"
}
