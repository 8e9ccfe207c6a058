package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/stats"
)

// Stats is what the API asks of the supervisor figures (stats.Source).
type Stats interface {
	Board(ctx context.Context, since, now time.Time, team func(conversation.TeamID) bool) (stats.Board, error)
	Scorecard(ctx context.Context, rm conversation.RMID, since, now time.Time) (stats.Scorecard, error)
}

var _ Stats = (*stats.Source)(nil)

// Stats windows: the default is the last 24 hours; since may go back at
// most 31 days.
const (
	defaultStatsWindow = 24 * time.Hour
	maxStatsWindow     = 31 * 24 * time.Hour
)

// statsWindow reads ?since= (RFC 3339), or the default window.
func (s *server) statsWindow(r *http.Request) (time.Time, time.Time, error) {
	now := s.now()
	since := now.Add(-defaultStatsWindow)
	if v := r.URL.Query().Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return since, now, badRequest("since: %q is not an RFC 3339 time (e.g. 2026-11-30T00:00:00+08:00)", v)
		}
		if t.After(now) || now.Sub(t) > maxStatsWindow {
			return since, now, badRequest("since: %s (allowed: within the last 31 days)", v)
		}
		since = t
	}
	return since, now, nil
}

// boardQuery is a wallboard request read: its window and the teams the
// caller may see (nil: all).
type boardQuery struct {
	since, now time.Time
	only       func(conversation.TeamID) bool
}

// readBoardQuery checks that figures are available and reads the caller
// and the window. Supervisors with a team see their team only (and the
// segments over its conversations); supervisors without a team and
// admins see all (RMs are refused by the route).
func (s *server) readBoardQuery(r *http.Request) (boardQuery, error) {
	if s.stats == nil {
		return boardQuery{}, errorf(http.StatusServiceUnavailable, codeUnavailable, "figures are not available on this instance")
	}
	p, err := principal(r)
	if err != nil {
		return boardQuery{}, err
	}
	var q boardQuery
	if q.since, q.now, err = s.statsWindow(r); err != nil {
		return q, err
	}
	if p.Role == auth.RoleSupervisor && p.Team != "" {
		q.only = func(id conversation.TeamID) bool { return id == p.Team }
	}
	return q, nil
}

// getBoard serves GET /api/v1/stats: the wallboard figures, per team and
// per segment, scoped by readBoardQuery.
func (s *server) getBoard(w http.ResponseWriter, r *http.Request) {
	q, err := s.readBoardQuery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := s.stats.Board(r.Context(), q.since, q.now, q.only)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, b)
}

// getScorecard serves GET /api/v1/stats/rms/{id}: an RM's scorecard, for
// the RM themself, their team's supervisor, a supervisor without a team,
// or an admin.
func (s *server) getScorecard(w http.ResponseWriter, r *http.Request) {
	if s.stats == nil {
		s.fail(w, r, errorf(http.StatusServiceUnavailable, codeUnavailable, "figures are not available on this instance"))
		return
	}
	p, err := principal(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := conversation.RMID(r.PathValue("id"))
	if !sane(string(id)) {
		s.fail(w, r, notFound("no RM with that id"))
		return
	}
	info, err := s.dir.RM(r.Context(), id)
	if errors.Is(err, conversation.ErrNotFound) {
		s.fail(w, r, notFound("no RM %s", id))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	switch {
	case p.Role == auth.RoleAdmin, p.Role == auth.RoleSupervisor && (p.Team == "" || p.Team == info.TeamID), p.Role == auth.RoleRM && p.RMID() == id:
	default:
		s.fail(w, r, forbidden("role %s of team %q may not see the scorecard of %s", p.Role, p.Team, id))
		return
	}
	since, now, err := s.statsWindow(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sc, err := s.stats.Scorecard(r.Context(), id, since, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, sc)
}
