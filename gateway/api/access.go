package api

import (
	"context"
	"errors"
	"fmt"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/state"
)

// Access rules. An admin sees everything. A supervisor with a team claim
// sees that team's conversations, without one every team's. An RM sees the
// conversations of their team, those assigned to them, and those they take
// or took part in (as specialist or observer too). Customers: supervisors
// and admins see all; an RM sees a customer whose own or deputy RM is in
// their team (or is them), whose segment is their team's segment, or who
// has a conversation assigned to them.

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
// directory for the RMs' and p's team, and the store for a conversation of
// c assigned to p; their errors (other than not found) are returned.
func (s *server) canSeeCustomer(ctx context.Context, p auth.Principal, c conversation.Customer) (bool, error) {
	switch p.Role {
	case auth.RoleAdmin, auth.RoleSupervisor:
		return true, nil
	case auth.RoleRM:
	default:
		return false, nil
	}
	me := p.RMID()
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
		if rm.TeamID == p.Team {
			return true, nil
		}
	}
	team, err := s.dir.Team(ctx, p.Team)
	switch {
	case errors.Is(err, conversation.ErrNotFound):
	case err != nil:
		return false, fmt.Errorf("api: customer %s access: team %s: %w", c.ID, p.Team, err)
	case team.Segment != "" && team.Segment == c.Segment:
		return true, nil
	}
	page, err := s.store.ListConversations(ctx, state.ConversationFilter{CustomerID: c.ID, AssigneeID: me, Limit: 1})
	if err != nil {
		return false, fmt.Errorf("api: customer %s access: conversations assigned to %s: %w", c.ID, me, err)
	}
	return len(page.Items) > 0, nil
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
