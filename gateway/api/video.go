package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// VideoSessions schedules video sessions (the gateway's video channel).
type VideoSessions interface {
	// Schedule opens a video conversation for req.CustomerID organised by
	// rm (of team), opens its room, and invites the client and
	// req.Invitees with single-use invitations valid from now until the
	// session's start plus the configured invitation lifetime. Errors wrap
	// conversation.ErrInvalid (a bad request), conversation.ErrNotFound
	// (no such customer) or the store's.
	Schedule(ctx context.Context, rm conversation.RMID, team conversation.TeamID, req VideoSessionRequest) (VideoSession, error)
}

// VideoSessionRequest is the body of POST /api/v1/video/sessions.
type VideoSessionRequest struct {
	CustomerID conversation.CustomerID `json:"customer_id"`
	// StartsAt is when the session is planned (RFC 3339); zero: now.
	StartsAt time.Time `json:"starts_at,omitzero"`
	Intent   string    `json:"intent,omitempty"`
	// Invitees besides the client (who is always invited) and the
	// organising RM: roles specialist, observer or rm.
	Invitees []VideoInvitee `json:"invitees,omitempty"`
}

// VideoInvitee is one person invited to a session: Identity is an RM id
// for the bank's staff, or an external adviser's own id; Name is shown
// in the room.
type VideoInvitee struct {
	Role     string `json:"role"`
	Identity string `json:"identity"`
	Name     string `json:"name,omitempty"`
}

// VideoSession answers a scheduling: the conversation and its room, the
// organiser's join link (a token), and one single-use invitation link per
// invitee, the client's first.
type VideoSession struct {
	ConversationID conversation.ConversationID `json:"conversation_id"`
	Room           string                      `json:"room"`
	StartsAt       time.Time                   `json:"starts_at"`
	Organiser      VideoLink                   `json:"organiser"`
	Invitations    []VideoLink                 `json:"invitations"`
}

// VideoLink is a way into a room: a join token (the organiser's) or an
// invitation code, and the /video/ page URL carrying it in its fragment.
type VideoLink struct {
	Role      string    `json:"role"`
	Identity  string    `json:"identity"`
	Name      string    `json:"name,omitempty"`
	Token     string    `json:"token,omitempty"`
	Code      string    `json:"code,omitempty"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// scheduleVideo serves POST /api/v1/video/sessions for an RM: 201 with
// a VideoSession; 400 for a bad body, 404 for an unknown customer, 503
// without a video channel.
func (s *server) scheduleVideo(v VideoSessions) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if v == nil {
			s.fail(w, r, errorf(http.StatusServiceUnavailable, codeUnavailable, "video is not enabled on this instance"))
			return
		}
		p, err := principal(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if err := requireJSON(r); err != nil {
			s.fail(w, r, err)
			return
		}
		var req VideoSessionRequest
		if err := s.decodeJSON(w, r, &req); err != nil {
			s.fail(w, r, err)
			return
		}
		if req.CustomerID == "" {
			s.fail(w, r, badRequest("customer_id is required"))
			return
		}
		if len(req.Invitees) > 20 {
			s.fail(w, r, badRequest("invitees: at most 20"))
			return
		}
		for i, in := range req.Invitees {
			switch {
			case in.Role != "specialist" && in.Role != "observer" && in.Role != "rm":
				s.fail(w, r, badRequest("invitees[%d].role: %q (allowed: specialist, observer, rm; the client is invited from customer_id)", i, in.Role))
				return
			case in.Identity == "" || len(in.Identity) > 128:
				s.fail(w, r, badRequest("invitees[%d].identity: 1 to 128 bytes", i))
				return
			}
		}
		sess, err := v.Schedule(r.Context(), p.RMID(), p.Team, req)
		if errors.Is(err, conversation.ErrInvalid) {
			err = badRequest("%s", err.Error())
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.writeJSON(w, r, http.StatusCreated, sess)
	}
}
