package router

import (
	"context"
	"errors"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// RenewPresence extends rm's presence lease to now + ttl, keeping its
// state, reason, since and wrap-up end: the heartbeat of a connected desk,
// so an RM whose desks all went away (browser closed, network lost) drops
// to offline when the lease runs out instead of receiving offers nobody
// answers. It is a compare-and-set (state.GuardPresence): a presence that
// changed since it was read is left as it is. It does nothing, and
// reports false, for an RM who is offline, whose lease has already run
// out (the desk sets presence again) or whose lease already lasts longer.
// No observer is told: the presence did not change. Errors: the store's
// (state.ErrUnavailable); a lost race is not an error (false).
func (r *Router) RenewPresence(ctx context.Context, rm conversation.RMID, ttl time.Duration) (bool, error) {
	now := conversation.Millis(r.now())
	p, err := r.store.Presence(ctx, rm, now)
	if err != nil {
		return false, err
	}
	until := now.Add(ttl)
	if p.State == conversation.PresenceOffline || p.ExpiresAt.IsZero() || !p.ExpiresAt.After(now) || !p.ExpiresAt.Before(until) {
		return false, nil
	}
	renewed := p
	renewed.ExpiresAt = until
	err = r.store.Commit(ctx, state.Txn{
		Now:       now,
		Guards:    []state.Guard{{Kind: state.GuardPresence, RMID: rm, State: p.State, ExpiresAt: p.ExpiresAt}},
		Presences: []conversation.Presence{renewed},
	})
	if err != nil {
		if isConflict(err) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// isConflict reports whether err is a lost compare-and-set (a failed
// guard or a version mismatch).
func isConflict(err error) bool { return errors.Is(err, state.ErrConflict) }
