package router

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/routing"
)

// Run evaluates until ctx ends: at start, whenever this or another instance
// kicks (a conversation queued, an RM available, capacity freed), and at
// the store's next deadline (an offer expiring, a policy step changing, a
// wrap-up timing out). Errors of one evaluation are logged and retried at
// the next event; Run returns nil when ctx ends, or an error if it cannot
// subscribe to notifications.
func (r *Router) Run(ctx context.Context) error {
	notes, err := r.store.Subscribe(ctx, Topic)
	if err != nil {
		return err
	}
	deadlines, err := r.store.Subscribe(ctx, DeadlineTopic)
	if err != nil {
		return err
	}
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		evaluate := true
		select {
		case <-ctx.Done():
			return nil
		case <-r.kick:
		case _, ok := <-notes:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				if notes, err = r.store.Subscribe(ctx, Topic); err != nil {
					return err
				}
			}
		case _, ok := <-deadlines:
			// Another instance made an offer or armed a wake: only
			// the timer is armed again, at the store's next deadline.
			evaluate = false
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				if deadlines, err = r.store.Subscribe(ctx, DeadlineTopic); err != nil {
					return err
				}
			}
		case <-timer.C:
		}
		if evaluate {
			if err := r.Evaluate(ctx); err != nil && ctx.Err() == nil {
				r.log.Warn("routing evaluation failed; retrying at the next event", "error", err)
			}
		}
		wait := r.safety
		if next, ok, err := r.store.NextDeadline(ctx); err == nil && ok {
			if d := next.Sub(r.now()); d < wait {
				wait = max(d, time.Millisecond)
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// DeadlineTopic is the store notification topic of new deadlines: a
// router that made an offer or armed a wake announces it there, and every
// router arms its timer again at the store's next deadline without
// evaluating. So an offer made by an instance that then dies (kill -9)
// still expires on time on the others, which were asleep until their
// safety wake-up before it existed.
const DeadlineTopic = "routing.deadlines"

// noteDeadline records that this instance committed a deadline (an
// offer's expiry, a wake) the other instances may not know of yet.
func (r *Router) noteDeadline() { r.newDeadlines.Store(true) }

// announceDeadlines tells every instance's router, through the store, to
// arm its timer again when this instance committed deadlines since the
// last announcement.
func (r *Router) announceDeadlines(ctx context.Context) {
	if !r.newDeadlines.Swap(false) {
		return
	}
	if err := r.store.Notify(ctx, DeadlineTopic); err != nil {
		r.log.Warn("deadline notify failed", "error", err)
	}
}

// Evaluate runs one routing pass at now: expired offers go back to the
// queue, wrap-ups past their timeout close, and every waiting conversation
// is decided in serving order against one snapshot; each offer is
// committed atomically (a lost race leaves the conversation for the next
// pass). New offers and wakes are announced on DeadlineTopic. It returns
// the first store error that stopped the pass.
func (r *Router) Evaluate(ctx context.Context) error {
	r.evalMu.Lock()
	defer r.evalMu.Unlock()
	now := r.now()
	if err := r.expireOffers(ctx, now); err != nil {
		return err
	}
	if err := r.handleWakes(ctx, now); err != nil {
		return err
	}
	defer r.announceDeadlines(ctx)
	return r.assign(ctx, now)
}

func (r *Router) expireOffers(ctx context.Context, now time.Time) error {
	offers, err := r.store.ExpiredOffers(ctx, now, 500)
	if err != nil {
		return err
	}
	for _, o := range offers {
		if _, err := r.requeueOffer(ctx, o, conversation.EventOfferExpired, "no answer within the offer timeout", state.MissedIncrement); err != nil && !errors.Is(err, state.ErrNotFound) {
			r.log.Warn("offer expiry failed", "offer_id", o.ID, "conversation_id", o.ConversationID, "error", err)
		}
	}
	return nil
}

// handleWakes closes wrap-ups whose timeout passed (Close clears their
// wake) and clears the other due wakes: a waiting conversation whose step
// changed needs nothing more than the assignment pass that follows, which
// arms its next wake.
func (r *Router) handleWakes(ctx context.Context, now time.Time) error {
	ids, err := r.store.DueWakes(ctx, now, 500)
	if err != nil {
		return err
	}
	var clear []state.Wake
	for _, id := range ids {
		if rm, ok := strings.CutPrefix(string(id), presenceWakePrefix); ok {
			r.endWrapUp(ctx, conversation.RMID(rm), now)
			clear = append(clear, state.Wake{ConversationID: id})
			continue
		}
		c, err := r.store.Conversation(ctx, id)
		if err == nil && c.Status == conversation.StatusWrapUp {
			if _, err := r.Close(ctx, id, "", "wrap_up_timeout"); err != nil {
				r.log.Warn("wrap-up timeout close failed", "conversation_id", id, "error", err)
			}
			continue
		}
		clear = append(clear, state.Wake{ConversationID: id})
		r.lastWait.forget(id)
	}
	if len(clear) == 0 {
		return nil
	}
	return r.store.Commit(ctx, state.Txn{Now: now, Wakes: clear})
}

// snapshot builds the routing snapshot: the directory's teams and RMs with
// their presence, holdings and counters from the store.
func (r *Router) snapshot(ctx context.Context, now time.Time) (*routing.Snapshot, error) {
	teams, err := r.dir.Teams(ctx)
	if err != nil {
		return nil, err
	}
	rms, err := r.dir.RMs(ctx)
	if err != nil {
		return nil, err
	}
	presences, err := r.store.Presences(ctx, now)
	if err != nil {
		return nil, err
	}
	counters, err := r.store.RMStates(ctx)
	if err != nil {
		return nil, err
	}
	cursors, err := r.store.Cursors(ctx)
	if err != nil {
		return nil, err
	}
	byRM := make(map[conversation.RMID]conversation.Presence, len(presences))
	for _, p := range presences {
		byRM[p.RMID] = p
	}
	counterOf := make(map[conversation.RMID]state.RMState, len(counters))
	for _, c := range counters {
		counterOf[c.RMID] = c
	}
	states := make([]routing.RMState, 0, len(rms))
	for _, rm := range rms {
		p, ok := byRM[rm.ID]
		if !ok {
			p = conversation.Presence{RMID: rm.ID, State: conversation.PresenceOffline}
		}
		c := counterOf[rm.ID]
		states = append(states, routing.RMState{
			RM: rm, Presence: p, Load: c.Load, IdleSince: c.IdleSince, LastOfferAt: c.LastOfferAt, MissedInRow: c.MissedInRow,
		})
	}
	return routing.NewSnapshot(r.policies, teams, states, cursors)
}
