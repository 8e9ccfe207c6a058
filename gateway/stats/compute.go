package stats

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/gateway/router"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/routing"
)

// MaxConversations bounds how many conversations one computation reads
// per status: a window with more gives figures of the latest ones.
const MaxConversations = 20000

// Source computes figures from a store, the directory and the routing
// policies (for the segments' wait budgets).
type Source struct {
	Store     state.Store
	Directory directory.Directory
	Policies  *routing.Policies
}

// windowStatuses are the statuses a conversation of the window may be in.
var windowStatuses = []conversation.Status{
	conversation.StatusQueued, conversation.StatusOffered, conversation.StatusActive,
	conversation.StatusWrapUp, conversation.StatusClosed, conversation.StatusAbandoned,
}

// Board computes the figures of every team for which team(id) is true
// (nil: all) and of every segment, for conversations queued between since
// and now. Segments are computed over the same teams' conversations when a
// filter is given (waiting ones without a team count in every segment
// board). Errors are the store's and the directory's.
func (s *Source) Board(ctx context.Context, since, now time.Time, team func(conversation.TeamID) bool) (Board, error) {
	if team == nil {
		team = func(conversation.TeamID) bool { return true }
	}
	b := Board{At: now, Since: since, Teams: []Figures{}, Segments: []Figures{}}
	teams, err := s.Directory.Teams(ctx)
	if err != nil {
		return b, fmt.Errorf("stats: teams: %w", err)
	}
	byTeam := map[conversation.TeamID]*Figures{}
	segTeams := map[conversation.Segment][]*Figures{} // the segment teams serving each segment
	for _, t := range teams {
		if team(t.ID) {
			f := &Figures{Key: string(t.ID), Group: t.Group, RMs: map[string]int{}}
			if t.Kind == conversation.TeamSegment {
				if wb, ok := s.Policies.WaitBudget(t.Segment); ok {
					f.BudgetSeconds, f.BudgetPercent = wb.Within.Seconds(), wb.Percent
				}
				segTeams[t.Segment] = append(segTeams[t.Segment], f)
			}
			byTeam[t.ID] = f
		}
	}
	bySeg := map[conversation.Segment]*Figures{}
	seg := func(sg conversation.Segment) *Figures {
		if bySeg[sg] == nil {
			f := &Figures{Key: string(sg)}
			if wb, ok := s.Policies.WaitBudget(sg); ok {
				f.BudgetSeconds, f.BudgetPercent = wb.Within.Seconds(), wb.Percent
			}
			bySeg[sg] = f
		}
		return bySeg[sg]
	}
	acc := map[*Figures]*sums{}
	add := func(f *Figures, c *conversation.Conversation, wb routing.WaitBudget, hasBudget bool) {
		if acc[f] == nil {
			acc[f] = &sums{}
		}
		acc[f].add(f, c, wb, hasBudget)
	}
	convs, err := s.window(ctx, since, now)
	if err != nil {
		return b, err
	}
	for i := range convs {
		c := &convs[i]
		if c.TeamID != "" && !team(c.TeamID) {
			continue
		}
		wb, ok := s.Policies.WaitBudget(c.Segment)
		if f := byTeam[c.TeamID]; f != nil {
			add(f, c, wb, ok)
		}
		add(seg(c.Segment), c, wb, ok)
	}
	if err := s.waiting(ctx, now, byTeam, segTeams, seg, team); err != nil {
		return b, err
	}
	if err := s.rms(ctx, now, byTeam); err != nil {
		return b, err
	}
	for f, sm := range acc {
		sm.finish(f)
	}
	for _, t := range teams {
		if f := byTeam[t.ID]; f != nil {
			b.Teams = append(b.Teams, *f)
		}
	}
	for _, sg := range conversation.Segments {
		if f := bySeg[sg]; f != nil {
			b.Segments = append(b.Segments, *f)
		}
	}
	return b, nil
}

// sums accumulates one Figures' averages.
type sums struct{ wait, handle time.Duration }

func (s *sums) add(f *Figures, c *conversation.Conversation, wb routing.WaitBudget, hasBudget bool) {
	f.Offered++
	if !c.AnsweredAt.IsZero() {
		f.Answered++
		w := c.AnsweredAt.Sub(c.QueuedAt)
		s.wait += w
		if hasBudget && w <= wb.Within {
			f.AnsweredInTarget++
		}
		if c.Status == conversation.StatusClosed && !c.ClosedAt.IsZero() {
			f.Handled++
			s.handle += c.ClosedAt.Sub(c.AnsweredAt)
		}
	}
	if c.Status == conversation.StatusAbandoned {
		f.Abandoned++
	}
}

func (s *sums) finish(f *Figures) {
	if f.Offered > 0 {
		f.SLAPercent = round1(100 * float64(f.AnsweredInTarget) / float64(f.Offered))
		f.AbandonPercent = round1(100 * float64(f.Abandoned) / float64(f.Offered))
	}
	if f.Answered > 0 {
		f.ASASeconds = round1((s.wait / time.Duration(f.Answered)).Seconds())
	}
	if f.Handled > 0 {
		f.AHTSeconds = round1((s.handle / time.Duration(f.Handled)).Seconds())
	}
}

func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }

// window reads the conversations queued between since and now, newest
// first per status, at most MaxConversations per status.
func (s *Source) window(ctx context.Context, since, now time.Time) ([]conversation.Conversation, error) {
	var out []conversation.Conversation
	for _, st := range windowStatuses {
		f := state.ConversationFilter{Status: st, Limit: 500}
		n := 0
	pages:
		for {
			page, err := s.Store.ListConversations(ctx, f)
			if err != nil {
				return nil, fmt.Errorf("stats: %s conversations: %w", st, err)
			}
			for _, c := range page.Items {
				if c.CreatedAt.Before(since) || n >= MaxConversations {
					break pages
				}
				n++
				if !c.QueuedAt.IsZero() && !c.QueuedAt.Before(since) && !c.QueuedAt.After(now) {
					out = append(out, c)
				}
			}
			if page.NextCursor == "" {
				break
			}
			f.Cursor = page.NextCursor
		}
	}
	return out, nil
}

// waiting counts the queue: per segment, and per team, as Queues does:
// for the team a conversation carries (a transfer to a team, a requeue),
// else for the segment teams of its segment.
func (s *Source) waiting(ctx context.Context, now time.Time, byTeam map[conversation.TeamID]*Figures, segTeams map[conversation.Segment][]*Figures,
	seg func(conversation.Segment) *Figures, team func(conversation.TeamID) bool) error {
	convs, err := s.queued(ctx)
	if err != nil {
		return err
	}
	for _, c := range convs {
		if c.TeamID != "" && !team(c.TeamID) {
			continue
		}
		wait := now.Sub(c.QueuedAt).Seconds()
		counted := []*Figures{seg(c.Segment), byTeam[c.TeamID]}
		if c.TeamID == "" {
			counted = append(counted, segTeams[c.Segment]...)
		}
		for _, f := range counted {
			if f == nil {
				continue
			}
			f.Waiting++
			f.LongestWaitSeconds = max(f.LongestWaitSeconds, round1(wait))
		}
	}
	return nil
}

// rms counts each team's RMs by state and its occupancy now.
func (s *Source) rms(ctx context.Context, now time.Time, byTeam map[conversation.TeamID]*Figures) error {
	rms, err := s.Directory.RMs(ctx)
	if err != nil {
		return fmt.Errorf("stats: rms: %w", err)
	}
	pres, err := s.Store.Presences(ctx, now)
	if err != nil {
		return fmt.Errorf("stats: presences: %w", err)
	}
	loads, err := s.Store.RMStates(ctx)
	if err != nil {
		return fmt.Errorf("stats: rm states: %w", err)
	}
	presOf := map[conversation.RMID]conversation.PresenceState{}
	for _, p := range pres {
		presOf[p.RMID] = p.State
	}
	loadOf := map[conversation.RMID]int{}
	for _, l := range loads {
		loadOf[l.RMID] = l.Load
	}
	load, capacity := map[*Figures]int{}, map[*Figures]int{}
	for _, rm := range rms {
		f := byTeam[rm.TeamID]
		if f == nil {
			continue
		}
		st := presOf[rm.ID]
		if st == "" {
			st = conversation.PresenceOffline
		}
		name := string(st)
		if st == conversation.PresenceAvailable && loadOf[rm.ID] >= rm.Capacity {
			name = "busy"
		}
		f.RMs[name]++
		if st != conversation.PresenceOffline {
			load[f] += loadOf[rm.ID]
			capacity[f] += rm.Capacity
		}
	}
	for f, c := range capacity {
		if c > 0 {
			f.OccupancyPercent = round1(100 * float64(load[f]) / float64(c))
		}
	}
	return nil
}

// Scorecard computes rm's scorecard for conversations closed between
// since and now. Errors: conversation.ErrNotFound for an RM the directory
// does not know, and the store's.
func (s *Source) Scorecard(ctx context.Context, rm conversation.RMID, since, now time.Time) (Scorecard, error) {
	info, err := s.Directory.RM(ctx, rm)
	if err != nil {
		return Scorecard{}, err
	}
	sc := Scorecard{RMID: rm, TeamID: info.TeamID, Group: info.Group, Since: since, At: now, Dispositions: map[string]int{}}
	var handle time.Duration
	for _, st := range []conversation.Status{conversation.StatusClosed, conversation.StatusActive, conversation.StatusWrapUp} {
		f := state.ConversationFilter{Status: st, AssigneeID: rm, Limit: 500}
	pages:
		for {
			page, err := s.Store.ListConversations(ctx, f)
			if err != nil {
				return sc, fmt.Errorf("stats: conversations of %s: %w", rm, err)
			}
			for _, c := range page.Items {
				if st != conversation.StatusClosed {
					sc.Active++
					continue
				}
				if c.CreatedAt.Before(since) {
					break pages
				}
				if c.AnsweredAt.IsZero() || c.ClosedAt.Before(since) || c.ClosedAt.After(now) {
					continue
				}
				sc.Handled++
				handle += c.ClosedAt.Sub(c.AnsweredAt)
				d := c.Disposition
				if d == "" {
					d = "none"
				}
				sc.Dispositions[d]++
				if strings.HasPrefix(d, "lead:") {
					sc.Leads++
				}
			}
			if page.NextCursor == "" {
				break
			}
			f.Cursor = page.NextCursor
		}
	}
	if sc.Handled > 0 {
		sc.AHTSeconds = round1((handle / time.Duration(sc.Handled)).Seconds())
	}
	return sc, nil
}

// Queue is what waits for one team now: conversations queued for the
// team (a transfer or requeue to it) or of the segment it serves.
type Queue struct {
	TeamID             conversation.TeamID `json:"team_id"`
	Waiting            int                 `json:"waiting"`
	LongestWaitSeconds float64             `json:"longest_wait_seconds"`
}

// Queues returns every team's Queue now, by team id, from one read of
// the waiting queue: cheap enough to push to every desk every few
// seconds.
func (s *Source) Queues(ctx context.Context, now time.Time) (map[conversation.TeamID]Queue, error) {
	teams, err := s.Directory.Teams(ctx)
	if err != nil {
		return nil, fmt.Errorf("stats: teams: %w", err)
	}
	convs, err := s.queued(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[conversation.TeamID]Queue, len(teams))
	for _, t := range teams {
		q := Queue{TeamID: t.ID}
		for _, c := range convs {
			if c.TeamID == t.ID || (c.TeamID == "" && t.Kind == conversation.TeamSegment && c.Segment == t.Segment) {
				q.Waiting++
				q.LongestWaitSeconds = max(q.LongestWaitSeconds, round1(now.Sub(c.QueuedAt).Seconds()))
			}
		}
		out[t.ID] = q
	}
	return out, nil
}

// queued reads the conversations on the waiting queue that are queued
// now (one queue read and one batch read).
func (s *Source) queued(ctx context.Context) ([]conversation.Conversation, error) {
	entries, err := s.Store.Queue(ctx, router.WaitingQueue, 0)
	if err != nil {
		return nil, fmt.Errorf("stats: queue: %w", err)
	}
	ids := make([]conversation.ConversationID, len(entries))
	for i, e := range entries {
		ids[i] = e.ConversationID
	}
	convs, err := s.Store.Conversations(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("stats: queued conversations: %w", err)
	}
	out := convs[:0]
	for _, c := range convs {
		if c.Status == conversation.StatusQueued {
			out = append(out, c)
		}
	}
	return out, nil
}
