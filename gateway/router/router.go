// Package router is the routing runtime of one gateway instance. Package
// routing decides; router acts: it reads a snapshot from the state store,
// asks routing for decisions, and commits each one atomically through
// state.Router.Commit, which re-checks what the decision assumed (the
// conversation is still queued at the version read, the RM is still
// available with capacity, no other offer is live). A commit that loses a
// race changes nothing and the conversation is decided again, so several
// routers on several instances never offer one conversation twice nor put
// an RM over capacity.
//
// It is event-driven: it evaluates when a conversation is queued, an RM
// becomes available or frees capacity, an offer is declined or expires, or
// a policy step changes (a timer armed at the store's next deadline), and
// on notifications from other instances through the store.
package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/routing"
)

// WaitingQueue is the store queue of conversations waiting for an RM,
// scored by the time they were queued (Unix ms); routing.Order decides the
// serving order among them.
const WaitingQueue = "waiting"

// Topic is the store notification topic routers listen on.
const Topic = "routing"

// CustomerSource finds a conversation's customer (directory first, then
// prospects): identity.Resolver satisfies it.
type CustomerSource interface {
	Customer(ctx context.Context, id conversation.CustomerID) (conversation.Customer, error)
}

// Options configure a Router.
type Options struct {
	Store     state.Store
	Directory directory.Directory
	Customers CustomerSource
	Policies  *routing.Policies
	Logger    *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Instance is this gateway's id, recorded on offers.
	Instance string
	// Safety is the longest the loop sleeps without an event or deadline
	// (a guard against a lost notification); default 30 s.
	Safety time.Duration
	// Observer is told of offers, conversation changes and presence
	// changes after they are committed (the RM desk); nil: nobody.
	Observer Observer
}

// Router runs routing for one instance. Its methods are safe for concurrent
// use; Run drives the evaluation loop.
type Router struct {
	store     state.Store
	dir       directory.Directory
	customers CustomerSource
	policies  *routing.Policies
	log       *slog.Logger
	now       func() time.Time
	instance  string
	safety    time.Duration
	kick      chan struct{}
	observer  Observer
	// evalMu serialises Evaluate; lastWait remembers the last wait
	// recorded per waiting conversation.
	evalMu   sync.Mutex
	lastWait *waitMemo
	// cands recycles full records' candidate slices (pass.go).
	cands candidatePool
	// newDeadlines is set when this instance committed a deadline not
	// yet announced on DeadlineTopic (loop.go).
	newDeadlines atomic.Bool
}

// New returns a router; it does nothing until Run.
func New(o Options) (*Router, error) {
	if o.Store == nil || o.Directory == nil || o.Customers == nil || o.Policies == nil {
		return nil, errors.New("router: store, directory, customers and policies are required")
	}
	r := &Router{
		store: o.Store, dir: o.Directory, customers: o.Customers, policies: o.Policies,
		log: o.Logger, now: o.Now, instance: o.Instance, safety: o.Safety,
		kick:     make(chan struct{}, 1),
		lastWait: newWaitMemo(),
		observer: o.Observer,
	}
	if r.observer == nil {
		r.observer = nopObserver{}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.safety <= 0 {
		r.safety = 30 * time.Second
	}
	return r, nil
}

// Policies returns the compiled routing policies in use.
func (r *Router) Policies() *routing.Policies { return r.policies }

// Kick asks the loop on this instance, and through the store every other
// instance's, to evaluate soon.
func (r *Router) Kick(ctx context.Context) {
	r.kickLocal()
	if err := r.store.Notify(ctx, Topic); err != nil {
		r.log.Warn("routing notify failed", "error", err)
	}
}

func (r *Router) kickLocal() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// update applies fn to a fresh copy of the conversation and commits the
// Txn that build returns, re-reading and retrying when another writer won
// (up to 5 times, then ErrBusy). fn's error aborts without a write.
func (r *Router) update(ctx context.Context, id conversation.ConversationID, build func(c *conversation.Conversation, now time.Time) (*state.Txn, error)) (conversation.Conversation, error) {
	for attempt := 0; attempt < 5; attempt++ {
		c, err := r.store.Conversation(ctx, id)
		if err != nil {
			return conversation.Conversation{}, err
		}
		now := r.now()
		next := c
		txn, err := build(&next, now)
		if err != nil {
			return c, err
		}
		txn.Now = now
		txn.Conversation = &next
		err = r.store.Commit(ctx, *txn)
		if err == nil {
			next.Version++
			if armsDeadline(txn) {
				r.noteDeadline()
				r.announceDeadlines(ctx)
			}
			r.observer.Changed(ctx, next, txn.Events, concerned(&c, &next, txn))
			for _, p := range txn.Presences {
				r.observer.PresenceChanged(ctx, p)
			}
			return next, nil
		}
		var ge *state.GuardError
		if errors.As(err, &ge) || !errors.Is(err, state.ErrConflict) {
			return c, err
		}
	}
	return conversation.Conversation{}, fmt.Errorf("conversation %s: %w", id, ErrBusy)
}

func event(c *conversation.Conversation, t conversation.EventType, actor string, now time.Time) conversation.Event {
	return conversation.NewEvent(c.ID, t, actor, now)
}

func statusEvent(c *conversation.Conversation, from conversation.Status, actor string, now time.Time) conversation.Event {
	e := event(c, conversation.EventStatusChanged, actor, now)
	e.FromStatus, e.ToStatus = from, c.Status
	return e
}

// armsDeadline reports whether txn stores an offer lease or sets a wake:
// a deadline the other instances' routers must arm their timers for.
func armsDeadline(txn *state.Txn) bool {
	if txn.PutOffer != nil || len(txn.PutOffers) > 0 {
		return true
	}
	for _, w := range txn.Wakes {
		if !w.At.IsZero() {
			return true
		}
	}
	return false
}
