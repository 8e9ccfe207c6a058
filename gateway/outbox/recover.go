package outbox

import (
	"context"
	"errors"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// SendingQueue is the store queue of the messages in flight: stored
// (queued) and handed to their channel, outcome not stored yet. Members
// are message ids; the score is the time (Unix ms) after which another
// instance may take the message over.
const SendingQueue = "outbox.sending"

// SendLease is how long an instance has to send a message and store its
// outcome before another may send it again. It exceeds every provider's
// request limit (Twilio and WeChat 10 s by default, an SMPP submit 30 s).
const SendLease = time.Minute

// recoverBatch is how many overdue messages one Recover takes.
const recoverBatch = 64

// recoverEvery is how often Run looks for overdue messages.
const recoverEvery = 5 * time.Second

// done takes a message off the in-flight queue (best effort: a leftover
// entry of a settled message is dropped by the next Recover).
func (o *Outbox) done(ctx context.Context, id conversation.MessageID) {
	if _, err := o.store.Dequeue(context.WithoutCancel(ctx), SendingQueue, conversation.ConversationID(id)); err != nil {
		o.log.Warn("in-flight entry not removed (the next recovery drops it)", "message_id", id, "error", err)
	}
}

// Recover sends the messages whose sending instance died before storing
// their outcome (their in-flight lease ran out at now): each is claimed
// by one instance (for SendLease), sent again on its channel, settled,
// and reported to onSettled (the RM's desk) when set. A message settled
// already, or never stored, only leaves the queue. It returns how many
// messages it sent. Delivery is at least once: an instance that died
// after its provider took the message but before the outcome was stored
// leaves it to be sent twice. Errors: the store's.
func (o *Outbox) Recover(ctx context.Context, now time.Time, onSettled func(context.Context, conversation.Message)) (int, error) {
	entries, err := o.store.Queue(ctx, SendingQueue, recoverBatch)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, e := range entries {
		if e.Score > float64(now.UnixMilli()) {
			break // in score order: the rest are within their lease
		}
		id := conversation.MessageID(e.ConversationID)
		won, err := o.store.ClaimOnce(ctx, "outbox.resend."+string(id), SendLease)
		if err != nil {
			return sent, err
		}
		if !won {
			continue // another instance has it
		}
		ok, err := o.resend(ctx, id, onSettled)
		if err != nil {
			_ = o.store.ForgetOnce(context.WithoutCancel(ctx), "outbox.resend."+string(id))
			return sent, err
		}
		if ok {
			sent++
		}
	}
	return sent, nil
}

// resend sends one overdue message again, reporting whether it did.
func (o *Outbox) resend(ctx context.Context, id conversation.MessageID, onSettled func(context.Context, conversation.Message)) (bool, error) {
	m, err := o.store.Message(ctx, id)
	switch {
	case errors.Is(err, state.ErrNotFound), err == nil && m.Status != conversation.DeliveryQueued:
		o.done(ctx, id) // never stored, or its outcome was
		return false, nil
	case err != nil:
		return false, err
	}
	c, err := o.store.Conversation(ctx, m.ConversationID)
	if err != nil {
		return false, err
	}
	adapter, ok := o.senders[m.Channel]
	if !ok {
		settled, _ := o.Settle(ctx, m, conversation.Sent{}, ErrNoChannel)
		o.done(ctx, id)
		o.report(ctx, settled, onSettled)
		return false, nil
	}
	o.log.Warn("message left in flight by a stopped instance; sending it", "conversation_id", m.ConversationID, "channel", m.Channel, "message", m)
	out, sendErr := adapter.Send(ctx, m, c.Address)
	defer o.done(ctx, id)
	if errors.Is(sendErr, ErrHeld) {
		return false, nil
	}
	settled, _ := o.Settle(ctx, m, out, sendErr) // a failure is the message's status, logged by Settle
	o.report(ctx, settled, onSettled)
	return sendErr == nil, nil
}

func (o *Outbox) report(ctx context.Context, m conversation.Message, onSettled func(context.Context, conversation.Message)) {
	if onSettled != nil {
		onSettled(ctx, m)
	}
}

// Run calls Recover every 5 s until ctx ends, reporting what it settles
// to onSettled; store errors are logged and retried at the next tick.
func (o *Outbox) Run(ctx context.Context, onSettled func(context.Context, conversation.Message)) error {
	t := time.NewTicker(recoverEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if n, err := o.Recover(ctx, o.now(), onSettled); err != nil {
			o.log.Warn("recovery of messages in flight failed", "error", err)
		} else if n > 0 {
			o.log.Info("messages left in flight sent", "count", n)
		}
	}
}
