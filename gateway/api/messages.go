package api

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/outbox"
)

// Messages is what the API asks of the outbound side (outbox.Outbox): send
// an RM's message on the conversation's own channel.
type Messages interface {
	Send(ctx context.Context, id conversation.ConversationID, sender conversation.RMID, text string, attachments []conversation.Attachment) (conversation.Message, error)
}

var _ Messages = (*outbox.Outbox)(nil)

// sendRequest is the body of POST /api/v1/conversations/{id}/messages.
type sendRequest struct {
	Text        string                    `json:"text"`
	Attachments []conversation.Attachment `json:"attachments"`
}

// sendResponse is the answer: the stored message, sent or failed.
type sendResponse struct {
	Message conversation.Message `json:"message"`
	Error   *errorDetail         `json:"error,omitempty"`
}

// sendMessage serves POST /api/v1/conversations/{id}/messages: the
// assignee (or an invited specialist still in the conversation) writes to
// the client. 201 with the message when the provider took it; when the
// provider refused it or could not be reached, the message is kept as
// failed with the provider's code and the answer is 409 (opted out) or
// 502 with both the message and the error.
func (s *server) sendMessage(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	if s.messages == nil {
		s.fail(w, r, errorf(http.StatusServiceUnavailable, codeUnavailable, "no messaging channel is configured on this instance"))
		return
	}
	c, err := s.visibleConversation(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !mayWrite(p, c) {
		s.fail(w, r, forbidden("only the conversation's assignee or an invited specialist may write to the client"))
		return
	}
	var req sendRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.messages.Send(r.Context(), c.ID, conversation.RMID(p.Subject), req.Text, req.Attachments)
	if err == nil {
		s.writeJSON(w, r, http.StatusCreated, sendResponse{Message: m})
		return
	}
	if !errors.Is(err, outbox.ErrNotSent) {
		s.fail(w, r, messageError(err))
		return
	}
	status, code := http.StatusBadGateway, "not_sent"
	if errors.Is(err, conversation.ErrOptedOut) {
		status, code = http.StatusConflict, "opted_out"
	}
	s.writeJSON(w, r, status, sendResponse{Message: m, Error: &errorDetail{Code: code, Message: err.Error()}})
}

// mayWrite reports whether p may write to c's client: its assignee, or a
// specialist invited into it who has not left.
func mayWrite(p auth.Principal, c conversation.Conversation) bool {
	if p.Role != auth.RoleRM {
		return false
	}
	if c.AssigneeID == conversation.RMID(p.Subject) {
		return true
	}
	return slices.ContainsFunc(c.Participants, func(pt conversation.Participant) bool {
		return pt.Role == conversation.RoleSpecialist && pt.ID == p.Subject && pt.LeftAt.IsZero()
	})
}

// messageError maps the outbox's refusals before sending to answers.
func messageError(err error) error {
	switch {
	case errors.Is(err, outbox.ErrClosed):
		return errorf(http.StatusConflict, "conversation_ended", "%v", err)
	case errors.Is(err, outbox.ErrNotMessaging):
		return errorf(http.StatusConflict, "not_messaging", "%v", err)
	case errors.Is(err, outbox.ErrNoChannel):
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "%v", err)
	case errors.Is(err, conversation.ErrInvalid):
		return badRequest("%v", err)
	case errors.Is(err, conversation.ErrNotFound):
		return notFound("%v", err)
	}
	return err
}
