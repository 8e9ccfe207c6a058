package gateway

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/video"
)

// videoSweepEvery is how often scheduled sessions are checked for expiry.
const videoSweepEvery = 30 * time.Second

// scheduledSessions remembers, on the instance that opened them (as its
// rooms and invitations), the scheduled sessions nobody has joined yet,
// with the time their invitations expire.
type scheduledSessions struct {
	mu      sync.Mutex
	expires map[conversation.ConversationID]time.Time
}

// add remembers a session whose invitations expire at t.
func (s *scheduledSessions) add(id conversation.ConversationID, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.expires == nil {
		s.expires = map[conversation.ConversationID]time.Time{}
	}
	s.expires[id] = t
}

// used forgets a session someone joined: it is no longer unused.
func (s *scheduledSessions) used(id conversation.ConversationID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.expires, id)
}

// due returns (and forgets) the sessions whose invitations expired by now.
func (s *scheduledSessions) due(now time.Time) []conversation.ConversationID {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []conversation.ConversationID
	for id, t := range s.expires {
		if !now.Before(t) {
			out = append(out, id)
			delete(s.expires, id)
		}
	}
	return out
}

// sweepLoop runs sweep every videoSweepEvery until ctx ends.
func (v *videoChannel) sweepLoop(ctx context.Context) error {
	tick := time.NewTicker(videoSweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case now := <-tick.C:
			v.sweep(ctx, now)
		}
	}
}

// sweep ends the scheduled sessions nobody joined before every invitation
// expired: the conversation, still new, becomes abandoned (the
// conversation model's status for a contact that ended before anyone
// served it; there is no "expired"), which ends its room through the
// routing observer; the room is ended here too when routing is off.
func (v *videoChannel) sweep(ctx context.Context, now time.Time) {
	for _, id := range v.scheduled.due(now) {
		log := v.log.With("conversation_id", id)
		if v.router != nil {
			_, err := v.router.Abandon(ctx, id)
			switch {
			case errors.Is(err, conversation.ErrIllegalTransition):
				// Not new any more: someone took it on meanwhile.
				log.Info("expired scheduled session left as it is", "error", err)
				continue
			case err != nil:
				log.Warn("expired scheduled session not abandoned", "error", err)
				continue
			}
		}
		_ = v.srv.EndRoom(video.RoomID(id))
		log.Info("scheduled video session expired unused: abandoned")
	}
}
