package state

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
)

func (r *Redis) msgKey(id conversation.MessageID) string { return r.prefix + "msg:" + string(id) }

func (r *Redis) msgListKey(id conversation.ConversationID) string {
	return r.prefix + "msgs:" + string(id)
}

func (r *Redis) idemKey(key string) string { return r.prefix + "idem:" + key }

func (r *Redis) eventsKey(id conversation.ConversationID) string {
	return r.prefix + "events:" + string(id)
}

// messageFields are the stored parts of a message: the JSON as appended
// and the delivery fields that AdvanceMessage changes.
type messageFields struct {
	j, s, e, u string
}

func (f messageFields) decode() (conversation.Message, error) {
	var m conversation.Message
	if err := json.Unmarshal([]byte(f.j), &m); err != nil {
		return conversation.Message{}, fmt.Errorf("redis message: decode: %w", err)
	}
	m.Status = conversation.DeliveryStatus(f.s)
	m.ErrorCode = f.e
	if err := m.UpdatedAt.UnmarshalText([]byte(f.u)); err != nil {
		return conversation.Message{}, fmt.Errorf("redis message %s: decode updated_at: %w", m.ID, err)
	}
	return m, nil
}

// fieldsAt reads messageFields from a script reply starting at index i.
func fieldsAt(arr []any, i int) messageFields {
	return messageFields{j: replyString(arr, i), s: replyString(arr, i+1), e: replyString(arr, i+2), u: replyString(arr, i+3)}
}

// AppendMessage stores m in one round trip: one script checks the
// idempotency key, stores the message, appends it to its conversation's
// list and records the key; when the key exists it returns the first copy
// and false instead. The conversation need not exist yet. Errors:
// ErrExists for a taken message id, a conversation.ErrInvalid error if m
// does not validate, ErrUnavailable.
func (r *Redis) AppendMessage(ctx context.Context, m conversation.Message) (conversation.Message, bool, error) {
	if err := m.Validate(); err != nil {
		return conversation.Message{}, false, fmt.Errorf("redis append message: %w", err)
	}
	data, err := json.Marshal(m)
	if err != nil {
		return conversation.Message{}, false, fmt.Errorf("redis append message %s: encode: %w", m.ID, err)
	}
	updated, err := m.UpdatedAt.MarshalText()
	if err != nil {
		return conversation.Message{}, false, fmt.Errorf("redis append message %s: updated_at: %w: %w", m.ID, conversation.ErrInvalid, err)
	}
	keys := []string{r.msgKey(m.ID), r.msgListKey(m.ConversationID)}
	if k := m.IdempotencyKey(); k != "" {
		keys = append(keys, r.idemKey(k))
	}
	token := writeToken()
	res, err := r.scripts.appendMessage.Run(ctx, r.client, keys,
		string(m.ID), data, string(m.Status), m.ErrorCode, updated, token, r.prefix+"msg:").Result()
	if err != nil {
		return conversation.Message{}, false, redisErr("append message "+string(m.ID), err)
	}
	arr, err := scriptReply("append message", res)
	if err != nil {
		return conversation.Message{}, false, err
	}
	switch replyInt(arr, 0) {
	case 1:
		return cloneMessage(m), true, nil
	case 0:
		first, err := fieldsAt(arr, 1).decode()
		if err != nil {
			return conversation.Message{}, false, err
		}
		// Our own write, found again by a command re-sent after a lost reply.
		ours := replyString(arr, 5) == token
		return first, ours, nil
	default:
		if replyString(arr, 1) == token {
			return cloneMessage(m), true, nil
		}
		return conversation.Message{}, false, fmt.Errorf("redis append message %s: %w", m.ID, ErrExists)
	}
}

// Message returns the message with id, or ErrNotFound.
func (r *Redis) Message(ctx context.Context, id conversation.MessageID) (conversation.Message, error) {
	vals, err := r.client.HMGet(ctx, r.msgKey(id), "j", "s", "e", "u").Result()
	if err != nil {
		return conversation.Message{}, redisErr("message "+string(id), err)
	}
	if vals[0] == nil {
		return conversation.Message{}, fmt.Errorf("redis message %s: %w", id, ErrNotFound)
	}
	return fieldsAt(vals, 0).decode()
}

// MessageByProviderID returns the message stored under the idempotency key
// (ch, account, providerID), or ErrNotFound.
func (r *Redis) MessageByProviderID(ctx context.Context, ch conversation.Channel, account, providerID string) (conversation.Message, error) {
	key := conversation.Message{Channel: ch, ChannelAccount: account, ProviderID: providerID}.IdempotencyKey()
	if key == "" {
		return conversation.Message{}, fmt.Errorf("redis message by provider id: %w: empty provider id", conversation.ErrInvalid)
	}
	id, err := r.client.Get(ctx, r.idemKey(key)).Result()
	if err != nil {
		return conversation.Message{}, redisErr("message by provider id on "+string(ch), err)
	}
	return r.Message(ctx, conversation.MessageID(id))
}

// AdvanceMessage moves the message's delivery status forward in one
// script that applies the rule of conversation.Message.Advance on the
// server, and returns the stored message and whether it changed. Errors:
// ErrNotFound, a conversation.ErrInvalid error for an unknown status,
// ErrUnavailable.
func (r *Redis) AdvanceMessage(ctx context.Context, id conversation.MessageID, to conversation.DeliveryStatus, errorCode string, now time.Time) (conversation.Message, bool, error) {
	if !to.Valid() {
		return conversation.Message{}, false, fmt.Errorf("redis advance message %s: delivery status %q: %w (allowed: %v)", id, to, conversation.ErrInvalid, conversation.DeliveryStatuses)
	}
	updated, err := conversation.Millis(now).MarshalText()
	if err != nil {
		return conversation.Message{}, false, fmt.Errorf("redis advance message %s: time: %w: %w", id, conversation.ErrInvalid, err)
	}
	res, err := r.scripts.advanceMessage.Run(ctx, r.client, []string{r.msgKey(id)}, string(to), errorCode, updated).Result()
	if err != nil {
		return conversation.Message{}, false, redisErr("advance message "+string(id), err)
	}
	arr, err := scriptReply("advance message", res)
	if err != nil {
		return conversation.Message{}, false, err
	}
	changed := replyInt(arr, 0)
	if changed < 0 {
		return conversation.Message{}, false, fmt.Errorf("redis advance message %s: %w", id, ErrNotFound)
	}
	m, err := fieldsAt(arr, 1).decode()
	if err != nil {
		return conversation.Message{}, false, err
	}
	return m, changed == 1, nil
}

// Messages returns up to limit of the conversation's messages, oldest
// first (the last limit when there are more; all when limit <= 0): the id
// list, then the records in one pipeline. An unknown conversation has no
// messages.
func (r *Redis) Messages(ctx context.Context, id conversation.ConversationID, limit int) ([]conversation.Message, error) {
	start := int64(0)
	if limit > 0 {
		start = -int64(limit)
	}
	ids, err := r.client.LRange(ctx, r.msgListKey(id), start, -1).Result()
	if err != nil {
		return nil, redisErr("messages of "+string(id), err)
	}
	cmds := make([]*redis.SliceCmd, len(ids))
	if len(ids) > 0 {
		if _, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, mid := range ids {
				cmds[i] = p.HMGet(ctx, r.msgKey(conversation.MessageID(mid)), "j", "s", "e", "u")
			}
			return nil
		}); err != nil {
			return nil, redisErr("messages of "+string(id), err)
		}
	}
	out := make([]conversation.Message, 0, len(ids))
	for _, cmd := range cmds {
		vals := cmd.Val()
		if len(vals) == 0 || vals[0] == nil {
			continue
		}
		m, err := fieldsAt(vals, 0).decode()
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// AppendEvent adds e to its conversation's timeline (RPUSH of its JSON).
// Errors: a conversation.ErrInvalid error for an event without id,
// conversation id, type or time; ErrUnavailable.
func (r *Redis) AppendEvent(ctx context.Context, e conversation.Event) error {
	if err := validateEvent(e); err != nil {
		return fmt.Errorf("redis append event: %w", err)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("redis append event %s: encode: %w", e.ID, err)
	}
	return redisErr("append event "+string(e.ID), r.client.RPush(ctx, r.eventsKey(e.ConversationID), data).Err())
}

// Events returns the conversation's events in append order.
func (r *Redis) Events(ctx context.Context, id conversation.ConversationID) ([]conversation.Event, error) {
	raw, err := r.client.LRange(ctx, r.eventsKey(id), 0, -1).Result()
	if err != nil {
		return nil, redisErr("events of "+string(id), err)
	}
	out := make([]conversation.Event, len(raw))
	for i, s := range raw {
		if err := json.Unmarshal([]byte(s), &out[i]); err != nil {
			return nil, fmt.Errorf("redis events of %s: decode: %w", id, err)
		}
	}
	return out, nil
}
