package state

import (
	"cmp"
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

// RMStates returns the counters of every RM in the rmstates set, by RM
// id: SMEMBERS, then one HGETALL per RM in one pipeline (two round
// trips).
func (r *Redis) RMStates(ctx context.Context) ([]RMState, error) {
	ids, err := r.client.SMembers(ctx, r.rmStatesKey()).Result()
	if err != nil {
		return nil, redisErr("rm states", err)
	}
	slices.Sort(ids)
	out := make([]RMState, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	if _, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, r.rmKey(conversation.RMID(id)))
		}
		return nil
	}); err != nil {
		return nil, redisErr("rm states", err)
	}
	for i, id := range ids {
		s, err := decodeRMState(conversation.RMID(id), cmds[i].Val())
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// RMState returns one RM's counters (HGETALL; zero counters if none).
func (r *Redis) RMState(ctx context.Context, id conversation.RMID) (RMState, error) {
	fields, err := r.client.HGetAll(ctx, r.rmKey(id)).Result()
	if err != nil {
		return RMState{}, redisErr("rm state "+string(id), err)
	}
	return decodeRMState(id, fields)
}

// decodeRMState reads an RM hash: l last offer, i idle since (Unix µs), m
// missed in a row, h:<conversation id> cost of a holding.
func decodeRMState(id conversation.RMID, fields map[string]string) (RMState, error) {
	s := RMState{RMID: id}
	for f, v := range fields {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return RMState{}, fmt.Errorf("redis rm state %s: field %s: %w", id, f, err)
		}
		switch {
		case f == "l":
			s.LastOfferAt = fromMicros(n)
		case f == "i":
			s.IdleSince = fromMicros(n)
		case f == "m":
			s.MissedInRow = int(n)
		case strings.HasPrefix(f, "h:"):
			s.Holds = append(s.Holds, Hold{RMID: id, ConversationID: conversation.ConversationID(f[2:]), Cost: int(n)})
			s.Load += int(n)
		}
	}
	slices.SortFunc(s.Holds, func(a, b Hold) int { return strings.Compare(string(a.ConversationID), string(b.ConversationID)) })
	return s, nil
}

// OfferFor returns the conversation's latest-created offer whose lease is
// live at now (ties by greater id), or ErrNotFound; one read-only script.
func (r *Redis) OfferFor(ctx context.Context, id conversation.ConversationID, now time.Time) (conversation.Offer, error) {
	live, err := r.liveOffers(ctx, r.convOffersKey(id), now)
	if err != nil {
		return conversation.Offer{}, fmt.Errorf("redis offer for %s: %w", id, err)
	}
	if len(live) == 0 {
		return conversation.Offer{}, fmt.Errorf("redis offer for %s: %w", id, ErrNotFound)
	}
	return live[len(live)-1], nil
}

// OffersOf returns the RM's offers whose leases are live at now, oldest
// first (by creation, ties by id); one read-only script.
func (r *Redis) OffersOf(ctx context.Context, id conversation.RMID, now time.Time) ([]conversation.Offer, error) {
	live, err := r.liveOffers(ctx, r.rmOffersKey(id), now)
	if err != nil {
		return nil, fmt.Errorf("redis offers of %s: %w", id, err)
	}
	return live, nil
}

// liveOffers returns the offers of set live at now (to the µs), by
// creation time, ties by id.
func (r *Redis) liveOffers(ctx context.Context, set string, now time.Time) ([]conversation.Offer, error) {
	raw, err := r.scripts.liveOffers.Run(ctx, r.client, []string{set, r.offerExpiryKey()}, micros(now), r.prefix+"offer:").StringSlice()
	if err != nil && !isNil(err) {
		return nil, redisErr("live offers", err)
	}
	out := make([]conversation.Offer, len(raw))
	for i, s := range raw {
		if err := json.Unmarshal([]byte(s), &out[i]); err != nil {
			return nil, fmt.Errorf("decode offer: %w", err)
		}
	}
	slices.SortFunc(out, func(a, b conversation.Offer) int {
		return cmp.Or(cmp.Compare(micros(a.CreatedAt), micros(b.CreatedAt)), strings.Compare(string(a.ID), string(b.ID)))
	})
	return out, nil
}

// DueWakes returns up to limit conversations (all when limit <= 0) whose
// wake time is at or before now (ZRANGEBYSCORE), earliest first, ties by id.
func (r *Redis) DueWakes(ctx context.Context, now time.Time, limit int) ([]conversation.ConversationID, error) {
	by := &redis.ZRangeBy{Min: "-inf", Max: strconv.FormatInt(micros(now), 10)}
	if limit > 0 {
		by.Count = int64(limit)
	}
	ids, err := r.client.ZRangeByScore(ctx, r.wakesKey(), by).Result()
	if err != nil {
		return nil, redisErr("due wakes", err)
	}
	out := make([]conversation.ConversationID, len(ids))
	for i, id := range ids {
		out[i] = conversation.ConversationID(id)
	}
	return out, nil
}

// NextDeadline returns the earliest wake time or offer expiry (the first
// entry of each sorted set, in one pipeline), false when there is none.
func (r *Redis) NextDeadline(ctx context.Context) (time.Time, bool, error) {
	var wake, exp *redis.ZSliceCmd
	if _, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		wake = p.ZRangeWithScores(ctx, r.wakesKey(), 0, 0)
		exp = p.ZRangeWithScores(ctx, r.offerExpiryKey(), 0, 0)
		return nil
	}); err != nil {
		return time.Time{}, false, redisErr("next deadline", err)
	}
	var next float64
	found := false
	for _, cmd := range []*redis.ZSliceCmd{wake, exp} {
		if zs := cmd.Val(); len(zs) > 0 && (!found || zs[0].Score < next) {
			next, found = zs[0].Score, true
		}
	}
	if !found {
		return time.Time{}, false, nil
	}
	return fromMicros(int64(next)), true, nil
}

// Cursors returns the round-robin cursors (HGETALL).
func (r *Redis) Cursors(ctx context.Context) (map[string]conversation.RMID, error) {
	fields, err := r.client.HGetAll(ctx, r.cursorsKey()).Result()
	if err != nil {
		return nil, redisErr("cursors", err)
	}
	out := make(map[string]conversation.RMID, len(fields))
	for k, v := range fields {
		out[k] = conversation.RMID(v)
	}
	return out, nil
}
