package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sms"
	"github.com/airbranch/airbranch/channels/sms/smpp"
	"github.com/airbranch/airbranch/gateway/outbox"
	"github.com/airbranch/airbranch/gateway/state"
)

// Timing of the SMPP hold.
const (
	// holdPoll is how often a bound instance looks for held messages it
	// was not told about (held by another instance, or before a restart).
	holdPoll = 2 * time.Second
	// holdBatch is how many held messages one store read takes.
	holdBatch = 32
	// heldCountCap bounds the held messages /readyz counts.
	heldCountCap = 10000
)

// smppHold keeps the replies of the SMPP account while its bind is down,
// so that none is lost: a reply written while the bind is down (or while
// older replies are still held, so that none overtakes them) is left
// queued in the store and put on the account's held queue there (score:
// the message's creation time, ties by message id, so in the order the
// RMs wrote them). When a bind is up, run sends the held messages one at
// a time in that order, within the provider's window and throughput
// limit, settles each (sent or failed) through the outbox and tells the
// RM's desk. The queue and the message statuses are in the store, so a
// restart, or another instance bound to the same account, takes over
// what is still held; one instance drains at a time (a claim in the store
// with a deadline). A message is taken off the queue only after its
// outcome is stored: an instance that dies between the SMSC's answer and
// that record leaves it to be sent again (at least once).
type smppHold struct {
	p     *smpp.Provider
	store state.Store
	log   *slog.Logger
	queue string // the store queue of held message ids
	lock  string // the store claim of the instance draining
	// lockTTL bounds a dead drainer's claim; a drainer gives the claim
	// up and takes it again after half of it.
	lockTTL time.Duration
	poll    time.Duration
	kick    chan struct{}
	// settle records a held message's outcome (outbox.Outbox.Settle);
	// notify tells its sender's desk (desk.Hub.MessageStatus). Set by
	// attach before run.
	settle func(ctx context.Context, m conversation.Message, sent conversation.Sent, err error) (conversation.Message, error)
	notify func(ctx context.Context, m conversation.Message)
	// count is the number of held messages as last counted in the store,
	// moved by this instance's holds and sends in between (for the metric).
	count atomic.Int64
}

// newSMPPHold returns the hold of p's account over store.
func newSMPPHold(p *smpp.Provider, store state.Store, log *slog.Logger) *smppHold {
	return &smppHold{
		p: p, store: store, log: log.With("channel", "sms", "provider", "smpp"),
		queue:   "outbox.held.sms." + p.Account(),
		lock:    "outbox.held.drain.sms." + p.Account(),
		lockTTL: time.Minute,
		poll:    holdPoll,
		kick:    make(chan struct{}, 1),
	}
}

// errLinkDown: the bind went down while draining; the message stays held.
var errLinkDown = errors.New("gateway: the SMPP bind is down")

// holdable reports whether a send's failure is the bind's (none bound, or
// the link lost before the SMSC took any part): the message is then held
// rather than failed. A part the SMSC took (an id in sent) means the
// message went at least in part, and is settled as the provider says.
func holdable(sent conversation.Sent, err error) bool {
	return err != nil && len(sent.ProviderIDs) == 0 && (errors.Is(err, smpp.ErrNotBound) || errors.Is(err, smpp.ErrLinkLost))
}

// send is the SMPP route of the SMS Sender: out goes at once when the
// bind is up and nothing is held; otherwise, or when the bind is lost
// before the SMSC took it, m is held and the error wraps outbox.ErrHeld.
// Errors of the store (reading or writing the held queue) pass through:
// the message then fails as unreachable rather than be held unrecorded.
func (h *smppHold) send(ctx context.Context, m conversation.Message, out sms.Outbound) (conversation.Sent, error) {
	waiting, err := h.store.Queue(ctx, h.queue, 1)
	if err != nil {
		return conversation.Sent{}, fmt.Errorf("gateway: sms hold: %w", err)
	}
	if len(waiting) > 0 || !h.p.Bound() {
		return h.hold(ctx, m)
	}
	sent, err := h.p.Send(ctx, out)
	if holdable(sent, err) {
		return h.hold(ctx, m)
	}
	return sent, err
}

// hold puts m on the held queue and wakes run.
func (h *smppHold) hold(ctx context.Context, m conversation.Message) (conversation.Sent, error) {
	ctx = context.WithoutCancel(ctx)
	if err := h.store.Enqueue(ctx, h.queue, conversation.ConversationID(m.ID), float64(m.CreatedAt.UnixMilli())); err != nil {
		return conversation.Sent{}, fmt.Errorf("gateway: sms hold: %w", err)
	}
	h.count.Add(1)
	h.wake()
	h.log.Info("sms held until the SMPP bind is back", "message", m, "bound", h.p.Bound())
	return conversation.Sent{}, fmt.Errorf("gateway: sms via smpp: %w", outbox.ErrHeld)
}

func (h *smppHold) wake() {
	select {
	case h.kick <- struct{}{}:
	default:
	}
}

// held returns how many messages are held (at most heldCountCap).
func (h *smppHold) held(ctx context.Context) (int, error) {
	entries, err := h.store.Queue(ctx, h.queue, heldCountCap)
	if err != nil {
		return 0, err
	}
	h.count.Store(int64(len(entries)))
	return len(entries), nil
}

// run sends the held messages whenever a bind is up, until ctx ends: on
// each bind, when a message is held, and every poll interval. It returns
// nil when ctx ends.
func (h *smppHold) run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-h.p.Up():
		}
		again, err := h.drain(ctx)
		if err != nil && ctx.Err() == nil {
			h.log.Warn("held sms not sent yet", "err", err)
		}
		if again {
			continue
		}
		t := time.NewTimer(h.poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-h.kick:
		case <-t.C:
		}
		t.Stop()
	}
}

// drain sends held messages, oldest first, while this instance holds the
// drain claim and the bind is up. again: go on at once (the claim's half
// life is over, or the bind went down and the next one is awaited).
func (h *smppHold) drain(ctx context.Context) (again bool, err error) {
	ok, err := h.store.ClaimOnce(ctx, h.lock, h.lockTTL)
	if err != nil || !ok {
		return false, err
	}
	defer func() {
		if err := h.store.ForgetOnce(context.WithoutCancel(ctx), h.lock); err != nil {
			h.log.Warn("sms hold: drain claim not released; it expires", "ttl", h.lockTTL, "err", err)
		}
	}()
	deadline := time.Now().Add(h.lockTTL / 2)
	for ctx.Err() == nil {
		entries, err := h.store.Queue(ctx, h.queue, holdBatch)
		if err != nil {
			return false, err
		}
		if len(entries) == 0 {
			h.count.Store(0)
			return false, nil
		}
		for _, e := range entries {
			if time.Now().After(deadline) {
				return true, nil
			}
			switch err := h.deliver(ctx, conversation.MessageID(e.ConversationID)); {
			case errors.Is(err, errLinkDown):
				return true, nil
			case err != nil:
				return false, err
			}
		}
	}
	return false, nil
}

// deliver sends one held message and settles it; errLinkDown leaves it
// held. A message no longer queued (settled before a crash took its
// queue entry, or gone) only leaves the queue.
func (h *smppHold) deliver(ctx context.Context, id conversation.MessageID) error {
	m, err := h.store.Message(ctx, id)
	switch {
	case errors.Is(err, state.ErrNotFound):
		_, err = h.store.Dequeue(ctx, h.queue, conversation.ConversationID(id))
		return err
	case err != nil:
		return err
	case m.Status != conversation.DeliveryQueued:
		_, err = h.store.Dequeue(ctx, h.queue, conversation.ConversationID(id))
		return err
	}
	c, err := h.store.Conversation(ctx, m.ConversationID)
	if err != nil {
		return err
	}
	sent, sendErr := h.p.Send(ctx, sms.Outbound{Account: m.ChannelAccount, To: c.Address.Value, Text: m.Text})
	if holdable(sent, sendErr) {
		return errLinkDown
	}
	if sendErr != nil && ctx.Err() != nil {
		// Stopping: the SMSC may not have answered yet; the next run
		// sends it again rather than call it failed.
		return ctx.Err()
	}
	settled, _ := h.settle(ctx, m, sent, sendErr) // a failure is the message's status, logged by the outbox
	if _, err := h.store.Dequeue(context.WithoutCancel(ctx), h.queue, conversation.ConversationID(id)); err != nil {
		return err
	}
	if h.count.Add(-1) < 0 {
		h.count.Store(0)
	}
	h.notify(ctx, settled)
	h.log.Info("held sms settled", "message", settled)
	return nil
}
