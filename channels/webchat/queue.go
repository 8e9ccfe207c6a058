package webchat

import (
	"context"
	"sync"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Queue reading limits.
const (
	// maxQueueRead is how many waiting conversations one read of the queue
	// takes; a client further back is told it waits behind at least that.
	maxQueueRead = 1000
	// waitWindow is how far back answered waits count for the estimate.
	waitWindow = 30 * time.Minute
	// waitSamples is how many answered waits are kept per segment.
	waitSamples = 100
)

// queuePlace returns the queue position and estimated wait of conversation
// id; false when it is not waiting on the queue (or no Waiting is wired).
func (a *Adapter) queuePlace(ctx context.Context, id conversation.ConversationID) (QueueData, bool, error) {
	now := a.now()
	sp, ok, err := a.queue.spot(ctx, id, now)
	if err != nil || !ok {
		return QueueData{}, false, err
	}
	est := a.waits.estimate(sp.segment, sp.position, sp.waiting, a.cfg.WaitPerPosition, now)
	return QueueData{ConversationID: id, Position: sp.position, Waiting: sp.waiting, EstimatedWaitSeconds: int64(est.Round(time.Second) / time.Second)}, true, nil
}

// spot is one waiting conversation's place among those of its segment.
type spot struct {
	segment  conversation.Segment
	position int
	waiting  int
}

// queueView reads the waiting queue at most once per ttl for every
// session of the instance: the queue in order, then its conversations
// (one round trip on Redis) for their segments. A conversation's
// position counts those of its own segment ahead of it (its segment's
// team serves it; routing may reorder by priority).
type queueView struct {
	waiting func(ctx context.Context, limit int) ([]conversation.ConversationID, error)
	convs   Conversations
	ttl     time.Duration

	mu     sync.Mutex
	at     time.Time
	spots  map[conversation.ConversationID]spot
	counts map[conversation.Segment]int
}

func newQueueView(waiting func(ctx context.Context, limit int) ([]conversation.ConversationID, error), convs Conversations, ttl time.Duration) *queueView {
	return &queueView{waiting: waiting, convs: convs, ttl: ttl}
}

// spot returns id's place, reading the queue again when the last read is
// older than ttl.
func (q *queueView) spot(ctx context.Context, id conversation.ConversationID, now time.Time) (spot, bool, error) {
	if q.waiting == nil {
		return spot{}, false, nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.spots == nil || now.Sub(q.at) >= q.ttl || now.Before(q.at) {
		if err := q.read(ctx, now); err != nil {
			return spot{}, false, err
		}
	}
	sp, ok := q.spots[id]
	if ok {
		sp.waiting = q.counts[sp.segment]
	}
	return sp, ok, nil
}

// read loads the queue and the segments of its conversations.
func (q *queueView) read(ctx context.Context, now time.Time) error {
	ids, err := q.waiting(ctx, maxQueueRead)
	if err != nil {
		return err
	}
	convs, err := q.convs.Conversations(ctx, ids)
	if err != nil {
		return err
	}
	seg := make(map[conversation.ConversationID]conversation.Segment, len(convs))
	for _, c := range convs {
		seg[c.ID] = c.Segment
	}
	q.spots = make(map[conversation.ConversationID]spot, len(ids))
	q.counts = map[conversation.Segment]int{}
	for _, id := range ids {
		s, ok := seg[id]
		if !ok {
			continue // gone meanwhile
		}
		q.counts[s]++
		q.spots[id] = spot{segment: s, position: q.counts[s]}
	}
	q.at = now
	return nil
}

// waitStats keeps the recent answered waits per segment (queued until an
// RM accepted), as this instance observed them, for the estimate.
type waitStats struct {
	mu   sync.Mutex
	seen map[conversation.ConversationID]bool
	by   map[conversation.Segment][]waitSample
}

type waitSample struct {
	at   time.Time
	wait time.Duration
}

func newWaitStats() *waitStats {
	return &waitStats{seen: map[conversation.ConversationID]bool{}, by: map[conversation.Segment][]waitSample{}}
}

// observe records c's wait when c was answered within the last minute
// (an active conversation seen for the first time).
func (w *waitStats) observe(c conversation.Conversation, now time.Time) {
	if c.Status != conversation.StatusActive || c.AnsweredAt.IsZero() || c.QueuedAt.IsZero() || now.Sub(c.AnsweredAt) > time.Minute {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen[c.ID] {
		return
	}
	if len(w.seen) > 4*waitSamples*len(conversation.Segments) {
		clear(w.seen)
	}
	w.seen[c.ID] = true
	s := append(w.by[c.Segment], waitSample{at: c.AnsweredAt, wait: max(c.AnsweredAt.Sub(c.QueuedAt), 0)})
	if len(s) > waitSamples {
		s = s[len(s)-waitSamples:]
	}
	w.by[c.Segment] = s
}

// estimate is the expected wait of the conversation at position (1 =
// next) among waiting ones of segment. By Little's law the segment
// serves waiting/W conversations per unit of time, W being the mean wait
// of those answered within waitWindow, so position p is reached in about
// p·W/waiting. Without answered waits: p·perPosition.
func (w *waitStats) estimate(segment conversation.Segment, position, waiting int, perPosition time.Duration, now time.Time) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var sum time.Duration
	n := 0
	for _, s := range w.by[segment] {
		if now.Sub(s.at) <= waitWindow {
			sum += s.wait
			n++
		}
	}
	if n == 0 || waiting < 1 {
		return time.Duration(position) * perPosition
	}
	mean := sum / time.Duration(n)
	return mean * time.Duration(position) / time.Duration(max(waiting, position))
}
