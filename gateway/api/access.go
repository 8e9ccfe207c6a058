package api

import (
	"context"
	"errors"
	"fmt"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/state"
)

// Access rules: who may read which conversation and customer, and open a
// conversation with whom. openapi.yaml (info.description and the
// operations' descriptions) tells callers the same; keep them together.
// Every rm token's subject and team claim, and a supervisor's team claim,
// have been checked against the directory before these rules run
// (checkPrincipal), so Team is the caller's team as the bank has it now.
//
// Conversations (canSeeConversation): an admin sees every conversation. A
// supervisor with a team claim sees that team's conversations, one without
// a team claim every team's. An RM sees the conversations of their team,
// those assigned to them, and those they take or took part in (as
// specialist or observer too).
//
// Reading a customer (canSeeCustomer): an admin, and a supervisor without a
// team claim, see every customer. A supervisor with a team claim sees a
// customer whose own or deputy RM is in that team, whose segment is that
// team's segment, or who has a conversation held by that team (TeamID). An
// RM sees a customer whose own or deputy RM is them or in their team, whose
// segment is their team's segment, or who has a conversation assigned to
// them.
//
// Opening a conversation (canOpenFor): an admin may open one with anyone.
// An RM may open one only with a customer of their team's scope: whose own
// or deputy RM is them or in their team, or whose segment is their team's
// segment. Having been assigned a conversation of the customer, which lets
// an RM read the customer, is not enough: the new conversation is held by
// the RM's team, so every RM of that team (a specialist pool, say) could
// then read it and the customer's addresses. Supervisors do not open
// conversations.

// canSeeConversation reports whether p may read c.
func canSeeConversation(p auth.Principal, c conversation.Conversation) bool {
	switch p.Role {
	case auth.RoleAdmin:
		return true
	case auth.RoleSupervisor:
		return p.Team == "" || c.TeamID == p.Team
	case auth.RoleRM:
		if c.TeamID == p.Team || c.AssigneeID == p.RMID() {
			return true
		}
		for _, part := range c.Participants {
			if part.Role != conversation.RoleClient && part.ID == p.Subject {
				return true
			}
		}
	}
	return false
}

// canSeeCustomer reports whether p may read customer c. It asks the
// directory for the RMs' and the team's records, and the store for a
// conversation of c held by the supervisor's team or assigned to the RM;
// their errors (other than not found) are returned.
func (s *server) canSeeCustomer(ctx context.Context, p auth.Principal, c conversation.Customer) (bool, error) {
	var f state.ConversationFilter
	switch {
	case p.Role == auth.RoleAdmin, p.Role == auth.RoleSupervisor && p.Team == "":
		return true, nil
	case p.Role == auth.RoleSupervisor:
		ok, err := s.inTeamScope(ctx, "", p.Team, c)
		if ok || err != nil {
			return ok, err
		}
		f = state.ConversationFilter{CustomerID: c.ID, TeamID: p.Team, Limit: 1}
	case p.Role == auth.RoleRM:
		ok, err := s.inTeamScope(ctx, p.RMID(), p.Team, c)
		if ok || err != nil {
			return ok, err
		}
		f = state.ConversationFilter{CustomerID: c.ID, AssigneeID: p.RMID(), Limit: 1}
	default:
		return false, nil
	}
	page, err := s.store.ListConversations(ctx, f)
	if err != nil {
		return false, fmt.Errorf("api: customer %s access: conversations of team %q or rm %q: %w", c.ID, f.TeamID, f.AssigneeID, err)
	}
	return len(page.Items) > 0, nil
}

// canOpenFor reports whether p may open a conversation with customer c:
// an admin always, an RM when c is in their team's scope (inTeamScope),
// nobody else. Directory errors other than not found are returned.
func (s *server) canOpenFor(ctx context.Context, p auth.Principal, c conversation.Customer) (bool, error) {
	switch p.Role {
	case auth.RoleAdmin:
		return true, nil
	case auth.RoleRM:
		return s.inTeamScope(ctx, p.RMID(), p.Team, c)
	}
	return false, nil
}

// inTeamScope reports whether customer c belongs with team: their own or
// deputy RM is me (when me is not "") or an RM of team, or their segment is
// team's segment. RMs and teams the directory does not know count for
// nothing; other directory errors are returned.
func (s *server) inTeamScope(ctx context.Context, me conversation.RMID, team conversation.TeamID, c conversation.Customer) (bool, error) {
	for _, id := range []conversation.RMID{c.OwnRM, c.DeputyRM} {
		if id == "" {
			continue
		}
		if id == me {
			return true, nil
		}
		rm, err := s.dir.RM(ctx, id)
		switch {
		case errors.Is(err, conversation.ErrNotFound):
			continue
		case err != nil:
			return false, fmt.Errorf("api: customer %s access: rm %s: %w", c.ID, id, err)
		}
		if rm.TeamID == team {
			return true, nil
		}
	}
	t, err := s.dir.Team(ctx, team)
	switch {
	case errors.Is(err, conversation.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("api: customer %s access: team %s: %w", c.ID, team, err)
	}
	return t.Segment != "" && t.Segment == c.Segment, nil
}

// scopeList restricts a list filter to what p may see: a supervisor with a
// team and an RM get their team forced (asking for another team is
// forbidden), except that an RM asking for the conversations assigned to
// them sees those of every team.
func scopeList(p auth.Principal, f *state.ConversationFilter) error {
	switch {
	case p.Role == auth.RoleAdmin, p.Role == auth.RoleSupervisor && p.Team == "":
		return nil
	case p.Role == auth.RoleRM && f.AssigneeID == p.RMID():
		return nil
	case p.Role == auth.RoleRM, p.Role == auth.RoleSupervisor:
		if f.TeamID != "" && f.TeamID != p.Team {
			return forbidden("role %s of team %s may not list the conversations of team %s", p.Role, p.Team, f.TeamID)
		}
		f.TeamID = p.Team
		return nil
	}
	return forbidden("role %q may not list conversations", p.Role)
}
