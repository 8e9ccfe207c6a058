package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// Timing of an instance's liveness lease: renewed every
// instanceLeaseRenew, it lapses instanceLeaseTTL after the last renewal,
// so the other instances end the calls and rooms of an instance that died
// (kill -9, a lost host or network) within instanceLeaseTTL plus one
// renewal period. A stall (GC, a Redis outage seen by this instance only)
// shorter than instanceLeaseTTL costs nothing.
const (
	instanceLeaseRenew = 2 * time.Second
	instanceLeaseTTL   = 10 * time.Second
)

// instanceStoreTimeout bounds one store operation of the lease loop.
const instanceStoreTimeout = 2 * time.Second

// liveness keeps this instance's liveness lease in the store
// (state.Instances), records the live media (SIP calls, video rooms) this
// instance holds, and, on every renewal, reaps the instances whose lease
// has lapsed: their conversations are ended (voice_reaper.go), since the
// calls and rooms they held died with them.
type liveness struct {
	store state.Store
	// id is the lease id: the instance id and a suffix of this process,
	// so a gateway restarted with the same instance id does not renew
	// the lease of its previous life, whose calls are gone.
	id         string
	every, ttl time.Duration
	log        *slog.Logger
	now        func() time.Time
	// reap ends what a lost instance held; set before Run.
	reap func(ctx context.Context, lost string)
}

// newLiveness returns the liveness lease of instance (not yet renewed).
func newLiveness(store state.Store, instance string, log *slog.Logger) *liveness {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &liveness{store: store, id: instance + "/" + hex.EncodeToString(b[:]), every: instanceLeaseRenew, ttl: instanceLeaseTTL,
		log: log, now: time.Now}
}

// renew extends the lease to now + ttl; a failure is logged (the next
// renewal tries again; past ttl the other instances reap this one).
func (l *liveness) renew(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, instanceStoreTimeout)
	defer cancel()
	if err := l.store.RenewInstance(ctx, l.id, l.now().Add(l.ttl)); err != nil {
		l.log.Warn("instance lease not renewed", "lease_id", l.id, "error", err)
	}
}

// Run renews the lease every l.every and reaps lost instances after each
// renewal, until ctx ends. It returns nil.
func (l *liveness) Run(ctx context.Context) error {
	l.log.Info("instance lease held", "lease_id", l.id, "renew_every", l.every.String(), "ttl", l.ttl.String())
	tick := time.NewTicker(l.every)
	defer tick.Stop()
	for {
		l.renew(ctx)
		l.reapLost(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// reapLost reaps every instance whose lease lapsed (this one excepted: a
// lapse of its own lease means the others may have ended its calls, which
// is logged).
func (l *liveness) reapLost(ctx context.Context) {
	lctx, cancel := context.WithTimeout(ctx, instanceStoreTimeout)
	lost, err := l.store.LostInstances(lctx, l.now(), 100)
	cancel()
	if err != nil {
		l.log.Warn("lost instances not read", "error", err)
		return
	}
	for _, id := range lost {
		if ctx.Err() != nil {
			return
		}
		if id == l.id {
			l.log.Error("this instance's lease lapsed: other instances may end the calls it holds", "lease_id", l.id)
			continue
		}
		if l.reap != nil {
			l.reap(ctx, id)
		}
	}
}

// stop ends the lease at once, at a clean stop once the calls and rooms
// have ended: any holding left (a call end the store did not take) is
// reaped by the other instances right away.
func (l *liveness) stop(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), instanceStoreTimeout)
	defer cancel()
	if err := l.store.RenewInstance(ctx, l.id, l.now()); err != nil {
		l.log.Warn("instance lease not ended", "lease_id", l.id, "error", err)
	}
}

// hold records that this instance holds the live media of conversation
// id; a failure is logged (the media's end is then not reaped should
// this instance die).
func (l *liveness) hold(ctx context.Context, id conversation.ConversationID) {
	if l == nil || id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), instanceStoreTimeout)
	defer cancel()
	if err := l.store.AddHolding(ctx, l.id, id); err != nil {
		l.log.Warn("live media not recorded as this instance's", "conversation_id", id, "error", err)
	}
}

// release forgets that this instance holds the media of id (it ended).
func (l *liveness) release(ctx context.Context, id conversation.ConversationID) {
	if l == nil || id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), instanceStoreTimeout)
	defer cancel()
	if _, err := l.store.RemoveHolding(ctx, l.id, id); err != nil {
		l.log.Warn("ended media not removed from this instance's", "conversation_id", id, "error", err)
	}
}
