package router

import (
	"context"
	"sync"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/routing"
)

// assign decides every waiting conversation against one snapshot and
// commits the offers, fallbacks and wait records. Deciding and committing
// overlap: the decisions are made in serving order here while a committer
// goroutine stores the batches already made, in the same order, so one
// CPU decides while the other (or Redis) applies.
func (r *Router) assign(ctx context.Context, now time.Time) error {
	entries, err := r.store.Queue(ctx, WaitingQueue, 0)
	if err != nil || len(entries) == 0 {
		return err
	}
	ids := make([]conversation.ConversationID, len(entries))
	for i, e := range entries {
		ids[i] = e.ConversationID
	}
	found, err := r.store.Conversations(ctx, ids)
	if err != nil {
		return err
	}
	views := make([]routing.ConversationView, 0, len(found))
	convs := make(map[conversation.ConversationID]conversation.Conversation, len(found))
	customers := make(map[conversation.CustomerID]conversation.Customer)
	for _, c := range found {
		if c.Status != conversation.StatusQueued {
			continue
		}
		cust, ok := customers[c.CustomerID]
		if !ok {
			if cust, err = r.customers.Customer(ctx, c.CustomerID); err != nil {
				cust = conversation.Customer{ID: c.CustomerID, Segment: c.Segment, Verification: conversation.VerificationNone, Prospect: true}
			}
			customers[c.CustomerID] = cust
		}
		convs[c.ID] = c
		views = append(views, routing.ViewOf(c, cust))
	}
	// Entries of conversations that are gone or ended (which can never be
	// queued again) are stale: drop them. Others not waiting now may be
	// queued again by a concurrent decline or transfer, so they stay.
	ended := make(map[conversation.ConversationID]bool, len(found))
	for _, c := range found {
		ended[c.ID] = c.Status.Terminal()
	}
	for _, id := range ids {
		if isEnded, exists := ended[id]; !exists || isEnded {
			_, _ = r.store.Dequeue(ctx, WaitingQueue, id)
		}
	}
	snap, err := r.snapshot(ctx, now)
	if err != nil {
		return err
	}
	r.lastWait.keepOnly(func(id conversation.ConversationID) bool { _, waiting := convs[id]; return waiting })
	commits := startCommitter(ctx, r.store, &r.cands)
	defer commits.wait()
	var batch []pendingCommit
	for d := range routing.AssignedWith(r.policies, snap, views, now, r.cands.get) {
		if ctx.Err() != nil {
			break
		}
		c := convs[d.ConversationID]
		var p pendingCommit
		var ok bool
		switch d.Outcome {
		case routing.OutcomeOffer:
			team := c.TeamID
			if st, found := snap.RM(d.Choice.RMID); found {
				team = st.RM.TeamID
			}
			p, ok = r.offerCommit(ctx, c, team, d, now)
		case routing.OutcomeFallback:
			p, ok = r.fallbackCommit(c, d, now)
		default:
			p, ok = r.waitCommit(c, d, now)
		}
		if !ok {
			continue
		}
		if batch = append(batch, p); len(batch) == passBatchSize {
			commits.send(batch)
			batch = make([]pendingCommit, 0, passBatchSize)
		}
	}
	commits.send(batch)
	return nil
}

// passBatchSize is how many Txns of a routing pass go to the store in one
// CommitBatch (one EVALSHA on Redis). With full decision records (a few KB
// each packed, tens of KB as JSON for a large team) 32 keeps a batch well
// under a megabyte, and Redis busy for a few milliseconds at most.
const passBatchSize = 32

// passQueue is how many full batches may wait for the committer: enough
// to keep it busy while the next batch is decided, few enough that a pass
// holds at most a few hundred decisions in memory.
const passQueue = 4

// pendingCommit is one Txn of a routing pass and what to do with its
// outcome (nil when applied).
type pendingCommit struct {
	txn  state.Txn
	done func(error)
}

// committer stores a pass's batches in the order they are sent, on its own
// goroutine. The decisions were made on one snapshot, each assuming the
// ones before it applied, so the Txns go to the store in that order; each
// is still checked on its own (guards, version), and a refused one is
// decided again next pass.
type committer struct {
	batches chan []pendingCommit
	done    chan struct{}
}

// candidatePool recycles full decision records' candidate slices from
// one routing decision to the next: a decision's slice goes back once its
// batch is committed (both stores encode the record inside CommitBatch and
// keep nothing of the Decision), so a pass of 10,000 full records does not
// leave hundreds of MB to the garbage collector.
type candidatePool struct{ p sync.Pool }

// get returns an empty slice with room for n candidates
// (routing.CandidateBuffer).
func (c *candidatePool) get(n int) []routing.Candidate {
	if v, ok := c.p.Get().(*[]routing.Candidate); ok && cap(*v) >= n {
		return (*v)[:0]
	}
	return make([]routing.Candidate, 0, n)
}

// put hands a committed record's slice back.
func (c *candidatePool) put(s []routing.Candidate) {
	if cap(s) == 0 {
		return
	}
	s = s[:0]
	c.p.Put(&s)
}

// startCommitter starts the goroutine that commits the batches sent to it
// until wait; with ctx ended, CommitBatch fails fast and every outcome is
// reported as that error.
func startCommitter(ctx context.Context, store state.Store, pool *candidatePool) *committer {
	c := &committer{batches: make(chan []pendingCommit, passQueue), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for b := range c.batches {
			commitBatch(ctx, store, b)
			for _, p := range b {
				if rec := p.txn.Decision; rec != nil && rec.Decision != nil {
					pool.put(rec.Decision.Candidates)
				}
			}
		}
	}()
	return c
}

// send queues a batch (nothing for an empty one), waiting while passQueue
// batches are queued. The caller must not touch b afterwards.
func (c *committer) send(b []pendingCommit) {
	if len(b) > 0 {
		c.batches <- b
	}
}

// wait returns once every batch sent has been committed and reported.
func (c *committer) wait() {
	close(c.batches)
	<-c.done
}

// commitBatch commits one batch with CommitBatch and reports each outcome.
func commitBatch(ctx context.Context, store state.Store, b []pendingCommit) {
	txns := make([]state.Txn, len(b))
	for i, p := range b {
		txns[i] = p.txn
	}
	errs, err := store.CommitBatch(ctx, txns)
	for i, p := range b {
		if err != nil {
			p.done(err)
		} else {
			p.done(errs[i])
		}
	}
}
