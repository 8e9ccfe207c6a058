package api

import (
	"context"
	"net/http"
	"slices"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/state"
)

// Transfers is what the API asks of the routing runtime for transfer and
// consult (router.Router).
type Transfers interface {
	TransferToQueue(ctx context.Context, id conversation.ConversationID, by conversation.RMID, reason string) (conversation.Conversation, error)
	TransferToRM(ctx context.Context, id conversation.ConversationID, by, to conversation.RMID, reason string) (conversation.Conversation, error)
	TransferToTeam(ctx context.Context, id conversation.ConversationID, by conversation.RMID, team conversation.TeamID, reason string) (conversation.Conversation, error)
	Invite(ctx context.Context, id conversation.ConversationID, by, specialist conversation.RMID) (conversation.Conversation, error)
	LeaveConversation(ctx context.Context, id conversation.ConversationID, specialist conversation.RMID) (conversation.Conversation, error)
}

// transferTargets are the allowed values of transferRequest.To.
var transferTargets = []string{"queue", "rm", "team"}

type transferRequest struct {
	// To is "queue" (back to routing), "rm" (straight to RMID) or "team"
	// (back to the queue for TeamID's RMs only, until the routing
	// transfer_timeout passes).
	To     string              `json:"to"`
	RMID   conversation.RMID   `json:"rm_id"`
	TeamID conversation.TeamID `json:"team_id"`
	Reason string              `json:"reason"`
}

// transfer serves POST /api/v1/conversations/{id}/transfer (the assignee):
// to the queue, to an RM, or to a team (404 for a team the directory does
// not know).
func (s *server) transfer(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	c, err := s.visibleConversation(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req transferRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	switch {
	case !slices.Contains(transferTargets, req.To):
		s.fail(w, r, badRequest("to %q (allowed: %s)", req.To, joinValues(transferTargets)))
		return
	case req.To == "rm" && !sane(string(req.RMID)):
		s.fail(w, r, badRequest("rm_id is required with to \"rm\""))
		return
	case req.To == "team" && !sane(string(req.TeamID)):
		s.fail(w, r, badRequest("team_id is required with to \"team\""))
		return
	case req.To != "team" && req.TeamID != "":
		s.fail(w, r, badRequest("team_id is allowed only with to \"team\" (to is %q)", req.To))
		return
	}
	switch req.To {
	case "queue":
		c, err = s.transfers.TransferToQueue(r.Context(), c.ID, p.RMID(), req.Reason)
	case "rm":
		c, err = s.transfers.TransferToRM(r.Context(), c.ID, p.RMID(), req.RMID, req.Reason)
	default:
		c, err = s.transfers.TransferToTeam(r.Context(), c.ID, p.RMID(), req.TeamID, req.Reason)
	}
	if err != nil {
		s.fail(w, r, routingError(err))
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

type inviteRequest struct {
	RMID conversation.RMID `json:"rm_id"`
}

// invite serves POST /api/v1/conversations/{id}/invite: the assignee adds
// a specialist.
func (s *server) invite(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	c, err := s.visibleConversation(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req inviteRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if !sane(string(req.RMID)) {
		s.fail(w, r, badRequest("rm_id is required"))
		return
	}
	if c, err = s.transfers.Invite(r.Context(), c.ID, p.RMID(), req.RMID); err != nil {
		s.fail(w, r, routingError(err))
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

// leave serves POST /api/v1/conversations/{id}/leave: a specialist leaves.
func (s *server) leave(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	c, err := s.visibleConversation(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if c, err = s.transfers.LeaveConversation(r.Context(), c.ID, p.RMID()); err != nil {
		s.fail(w, r, routingError(err))
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

// rmPresence is one row of GET /api/v1/presence.
type rmPresence struct {
	conversation.Presence
	TeamID      conversation.TeamID `json:"team_id"`
	Load        int                 `json:"load"`
	Capacity    int                 `json:"capacity"`
	MissedInRow int                 `json:"missed_in_row"`
}

// listPresence serves GET /api/v1/presence: every RM's presence, load (cost
// units) and missed offers in a row; a supervisor with a team claim sees
// their team, an RM only themselves.
func (s *server) listPresence(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	ctx := r.Context()
	now := s.now()
	rms, err := s.dir.RMs(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	presences, err := s.store.Presences(ctx, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	counters, err := s.store.RMStates(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	byRM := map[conversation.RMID]conversation.Presence{}
	for _, pr := range presences {
		byRM[pr.RMID] = pr
	}
	counterOf := map[conversation.RMID]state.RMState{}
	for _, c := range counters {
		counterOf[c.RMID] = c
	}
	out := []rmPresence{}
	for _, rm := range rms {
		switch {
		case p.Role == auth.RoleRM && rm.ID != p.RMID():
			continue
		case p.Role == auth.RoleSupervisor && p.Team != "" && rm.TeamID != p.Team:
			continue
		}
		pr, ok := byRM[rm.ID]
		if !ok {
			pr = conversation.Presence{RMID: rm.ID, State: conversation.PresenceOffline}
		}
		row := rmPresence{Presence: pr, TeamID: rm.TeamID, Capacity: rm.Capacity}
		if row.Capacity == 0 {
			row.Capacity = 100
		}
		c := counterOf[rm.ID]
		row.Load, row.MissedInRow = c.Load, c.MissedInRow
		out = append(out, row)
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"items": out})
}
