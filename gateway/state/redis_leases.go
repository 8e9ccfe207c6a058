package state

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
)

func (r *Redis) presenceKey(id conversation.RMID) string { return r.prefix + "presence:" + string(id) }
func (r *Redis) rmsKey() string                          { return r.prefix + "rms" }
func (r *Redis) queueKey(q string) string                { return r.prefix + "queue:" + q }
func (r *Redis) offerKey(id conversation.OfferID) string { return r.prefix + "offer:" + string(id) }

func (r *Redis) offerExpiryKey() string { return r.prefix + "offers:expiry" }

func (r *Redis) convOffersKey(id conversation.ConversationID) string {
	return r.prefix + "convoffers:" + string(id)
}

func (r *Redis) rmOffersKey(id conversation.RMID) string { return r.prefix + "rmoffers:" + string(id) }

// presenceStateKey is the hash RM id → "<lease expiry in Unix µs, 0 for
// none> <state>" that the commit script checks GuardRMAvailable against.
func (r *Redis) presenceStateKey() string { return r.prefix + "presstate" }

// presenceState is the value of p in presenceStateKey.
func presenceState(p conversation.Presence) string {
	return strconv.FormatInt(micros(p.ExpiresAt), 10) + " " + string(p.State)
}

// SetPresence stores p (its key, the RM id in the set of RMs, and its
// state and lease expiry in the hash the commit script checks) in one
// MULTI/EXEC. Errors: a conversation.ErrInvalid error if p does not
// validate, ErrUnavailable.
func (r *Redis) SetPresence(ctx context.Context, p conversation.Presence) error {
	if err := p.Validate(); err != nil {
		return fmt.Errorf("redis set presence: %w", err)
	}
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("redis set presence %s: encode: %w", p.RMID, err)
	}
	_, err = r.client.TxPipelined(ctx, func(tx redis.Pipeliner) error {
		tx.Set(ctx, r.presenceKey(p.RMID), data, 0)
		tx.SAdd(ctx, r.rmsKey(), string(p.RMID))
		tx.HSet(ctx, r.presenceStateKey(), string(p.RMID), presenceState(p))
		return nil
	})
	return redisErr("set presence "+string(p.RMID), err)
}

// Presence returns the RM's presence as it stands at now: offline when
// never set or when the lease has expired (conversation.Presence.At).
func (r *Redis) Presence(ctx context.Context, id conversation.RMID, now time.Time) (conversation.Presence, error) {
	data, err := r.client.Get(ctx, r.presenceKey(id)).Bytes()
	if isNil(err) {
		return conversation.Presence{RMID: id, State: conversation.PresenceOffline}, nil
	}
	if err != nil {
		return conversation.Presence{}, redisErr("presence "+string(id), err)
	}
	var p conversation.Presence
	if err := json.Unmarshal(data, &p); err != nil {
		return conversation.Presence{}, fmt.Errorf("redis presence %s: decode: %w", id, err)
	}
	return p.At(now), nil
}

// Presences returns every stored presence as it stands at now, sorted by
// RM id (SMEMBERS, then MGET).
func (r *Redis) Presences(ctx context.Context, now time.Time) ([]conversation.Presence, error) {
	ids, err := r.client.SMembers(ctx, r.rmsKey()).Result()
	if err != nil {
		return nil, redisErr("presences", err)
	}
	out := make([]conversation.Presence, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = r.presenceKey(conversation.RMID(id))
	}
	vals, err := r.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, redisErr("presences", err)
	}
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue
		}
		var p conversation.Presence
		if err := json.Unmarshal([]byte(s), &p); err != nil {
			return nil, fmt.Errorf("redis presences: decode: %w", err)
		}
		out = append(out, p.At(now))
	}
	slices.SortFunc(out, func(a, b conversation.Presence) int { return strings.Compare(string(a.RMID), string(b.RMID)) })
	return out, nil
}

// Enqueue puts id on queue q with score (ZADD), or gives it the new score.
// Errors: a conversation.ErrInvalid error for an empty queue name or id,
// or a score that is not a finite number; ErrUnavailable.
func (r *Redis) Enqueue(ctx context.Context, q string, id conversation.ConversationID, score float64) error {
	if err := validateQueueEntry(q, id, score); err != nil {
		return fmt.Errorf("redis enqueue: %w", err)
	}
	return redisErr("enqueue on "+q, r.client.ZAdd(ctx, r.queueKey(q), redis.Z{Score: score, Member: string(id)}).Err())
}

// Dequeue removes id from q (ZREM), reporting whether it was there.
func (r *Redis) Dequeue(ctx context.Context, q string, id conversation.ConversationID) (bool, error) {
	if err := validateQueueName(q); err != nil {
		return false, fmt.Errorf("redis dequeue: %w", err)
	}
	n, err := r.client.ZRem(ctx, r.queueKey(q), string(id)).Result()
	if err != nil {
		return false, redisErr("dequeue from "+q, err)
	}
	return n == 1, nil
}

// Queue returns up to limit entries of q (all when limit <= 0), lowest
// score first, ties by conversation id.
func (r *Redis) Queue(ctx context.Context, q string, limit int) ([]QueueEntry, error) {
	if err := validateQueueName(q); err != nil {
		return nil, fmt.Errorf("redis queue: %w", err)
	}
	stop := int64(-1)
	if limit > 0 {
		stop = int64(limit) - 1
	}
	zs, err := r.client.ZRangeWithScores(ctx, r.queueKey(q), 0, stop).Result()
	if err != nil {
		return nil, redisErr("queue "+q, err)
	}
	out := make([]QueueEntry, len(zs))
	for i, z := range zs {
		out[i] = QueueEntry{ConversationID: conversation.ConversationID(z.Member.(string)), Score: z.Score}
	}
	return out, nil
}

// CreateOffer stores o in one script that refuses it while an offer of
// the conversation is live at o.CreatedAt (compared to the microsecond),
// and indexes it by conversation, RM and expiry (for OfferFor, OffersOf,
// ExpiredOffers and the commit script). Errors: ErrConflict for a live offer,
// ErrExists for a taken offer id, a conversation.ErrInvalid error if o
// does not validate, ErrUnavailable.
func (r *Redis) CreateOffer(ctx context.Context, o conversation.Offer) error {
	if err := validateOffer(o); err != nil {
		return fmt.Errorf("redis create offer: %w", err)
	}
	data, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("redis create offer %s: encode: %w", o.ID, err)
	}
	keys := []string{r.offerKey(o.ID), r.offerExpiryKey(), r.convOffersKey(o.ConversationID), r.rmOffersKey(o.RMID)}
	res, err := r.scripts.createOffer.Run(ctx, r.client, keys,
		string(o.ID), data, o.CreatedAt.UnixMicro(), o.ExpiresAt.UnixMicro()).Result()
	if err != nil {
		return redisErr("create offer "+string(o.ID), err)
	}
	arr, err := scriptReply("create offer", res)
	if err != nil {
		return err
	}
	switch replyInt(arr, 0) {
	case 1:
		return nil
	case 0:
		return fmt.Errorf("redis create offer %s: %w", o.ID, ErrExists)
	default:
		until := replyString(arr, 2)
		if us, err := strconv.ParseFloat(until, 64); err == nil {
			until = time.UnixMicro(int64(us)).UTC().Format(time.RFC3339Nano)
		}
		return fmt.Errorf("redis create offer for %s: offer %s is live until %s: %w", o.ConversationID, replyString(arr, 1), until, ErrConflict)
	}
}

// Offer returns the offer with id, expired or not, or ErrNotFound.
func (r *Redis) Offer(ctx context.Context, id conversation.OfferID) (conversation.Offer, error) {
	data, err := r.client.Get(ctx, r.offerKey(id)).Bytes()
	if err != nil {
		return conversation.Offer{}, redisErr("offer "+string(id), err)
	}
	var o conversation.Offer
	if err := json.Unmarshal(data, &o); err != nil {
		return conversation.Offer{}, fmt.Errorf("redis offer %s: decode: %w", id, err)
	}
	return o, nil
}

// DeleteOffer removes the offer and its index entries in one script,
// reporting whether it was there.
func (r *Redis) DeleteOffer(ctx context.Context, id conversation.OfferID) (bool, error) {
	n, err := r.scripts.deleteOffer.Run(ctx, r.client, []string{r.offerKey(id), r.offerExpiryKey()}, string(id), r.prefix).Int64()
	if err != nil {
		return false, redisErr("delete offer "+string(id), err)
	}
	return n == 1, nil
}

// ExpiredOffers returns up to limit offers (all when limit <= 0) whose
// lease ended at or before now (to the microsecond), earliest expiry
// first, ties by offer id: ZRANGEBYSCORE on the expiry set, then MGET.
func (r *Redis) ExpiredOffers(ctx context.Context, now time.Time, limit int) ([]conversation.Offer, error) {
	by := &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(now.UnixMicro(), 10)}
	if limit > 0 {
		by.Count = int64(limit)
	}
	ids, err := r.client.ZRangeByScore(ctx, r.offerExpiryKey(), by).Result()
	if err != nil {
		return nil, redisErr("expired offers", err)
	}
	out := make([]conversation.Offer, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = r.offerKey(conversation.OfferID(id))
	}
	vals, err := r.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, redisErr("expired offers", err)
	}
	for _, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue // deleted since the range was read
		}
		var o conversation.Offer
		if err := json.Unmarshal([]byte(s), &o); err != nil {
			return nil, fmt.Errorf("redis expired offers: decode: %w", err)
		}
		out = append(out, o)
	}
	return out, nil
}
