package api

import (
	"fmt"
	"net/http"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
)

// Kinds of an invitable RM (specialist.Pool): a member of a specialist
// pool (a team of kind "specialist": wealth advisers, portfolio managers),
// or a colleague of the caller's own team.
const (
	poolSpecialist = "specialist"
	poolTeam       = "team"
)

// specialist is one row of GET /api/v1/specialists: an RM the caller may
// invite into a conversation, their team, and their presence now (an
// invitation succeeds only while they are available with capacity).
type specialist struct {
	ID        conversation.RMID          `json:"id"`
	Name      string                     `json:"name"`
	TeamID    conversation.TeamID        `json:"team_id"`
	TeamName  string                     `json:"team_name"`
	Pool      string                     `json:"pool"`
	Skills    map[string]int             `json:"skills,omitempty"`
	Languages []string                   `json:"languages"`
	State     conversation.PresenceState `json:"state"`
}

// listSpecialists serves GET /api/v1/specialists (role rm): the RMs the
// caller may invite as specialists, i.e. every RM of a specialist pool and
// the other RMs of the caller's own team, with their presence state
// (offline when they have none). Rows come by team (specialist pools
// first), then by RM id as the directory lists them; the caller is never
// listed. Other teams' segment RMs are not listed: an RM sees no more of
// the bank's staff than the rest of the API shows them.
func (s *server) listSpecialists(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx := r.Context()
	teams, err := s.dir.Teams(ctx)
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: specialists: teams: %w", err))
		return
	}
	rms, err := s.dir.RMs(ctx)
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: specialists: rms: %w", err))
		return
	}
	presences, err := s.store.Presences(ctx, s.now())
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: specialists: presences: %w", err))
		return
	}
	stateOf := map[conversation.RMID]conversation.PresenceState{}
	for _, pr := range presences {
		stateOf[pr.RMID] = pr.State
	}
	pools := map[conversation.TeamID]conversation.Team{}
	for _, t := range teams {
		if t.Kind == conversation.TeamSpecialist || t.ID == p.Team {
			pools[t.ID] = t
		}
	}
	out := []specialist{}
	for _, pass := range []string{poolSpecialist, poolTeam} {
		for _, rm := range rms {
			t, ok := pools[rm.TeamID]
			if !ok || rm.ID == p.RMID() || poolOf(t) != pass {
				continue
			}
			st, ok := stateOf[rm.ID]
			if !ok {
				st = conversation.PresenceOffline
			}
			langs := rm.Languages
			if langs == nil {
				langs = []string{}
			}
			out = append(out, specialist{ID: rm.ID, Name: rm.Name, TeamID: t.ID, TeamName: t.Name, Pool: pass,
				Skills: rm.Skills, Languages: langs, State: st})
		}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"items": out})
}

// poolOf says how a listed team's RMs are invitable: as a specialist pool,
// or as the caller's own team.
func poolOf(t conversation.Team) string {
	if t.Kind == conversation.TeamSpecialist {
		return poolSpecialist
	}
	return poolTeam
}

// specialistsRoute is the route of listSpecialists, for New.
const specialistsRoute = "GET /api/v1/specialists"

// registerSpecialists adds the invitable-specialists listing (role rm) to
// s; authn has already made sure there is a caller.
func (s *server) registerSpecialists(authn func(http.Handler) http.Handler) {
	s.handle(specialistsRoute, authn(auth.RequireRole(auth.RoleRM)(http.HandlerFunc(s.listSpecialists))))
}
