package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Compare-and-set retries of UpdateConversation across instances (updates
// within one instance take turns and do not conflict).
const (
	updateAttempts   = 8
	updateBackoffMin = 2 * time.Millisecond
	updateBackoffMax = 64 * time.Millisecond
)

func (r *Redis) convKey(id conversation.ConversationID) string {
	return r.prefix + "conv:" + string(id)
}

// indexNames returns the names, after the key prefix, of the sorted sets
// listing c: all, and by status, channel, customer, team and assignee (the
// last two when set).
func indexNames(c *conversation.Conversation) []string {
	names := make([]string, 0, 6)
	names = append(names,
		"cidx:all",
		"cidx:status:"+string(c.Status),
		"cidx:channel:"+string(c.Channel),
		"cidx:customer:"+string(c.CustomerID))
	if c.TeamID != "" {
		names = append(names, "cidx:team:"+string(c.TeamID))
	}
	if c.AssigneeID != "" {
		names = append(names, "cidx:assignee:"+string(c.AssigneeID))
	}
	return names
}

// indexKeys returns the keys of indexNames(c).
func (r *Redis) indexKeys(c *conversation.Conversation) []string {
	names := indexNames(c)
	for i, n := range names {
		names[i] = r.prefix + n
	}
	return names
}

// indexField returns the conversation hash's field x: indexNames(c) as a
// JSON array, which tells a later compare-and-set script which sets to
// leave without decoding the record.
func indexField(c *conversation.Conversation) string {
	data, _ := json.Marshal(indexNames(c)) // a []string always encodes
	return string(data)
}

// CreateConversation stores c with Version 1 in one round trip (one
// script writes the record and joins its index sets). Errors: ErrExists
// for a taken id, a conversation.ErrInvalid error if c does not validate,
// ErrUnavailable.
func (r *Redis) CreateConversation(ctx context.Context, c conversation.Conversation) (conversation.Conversation, error) {
	if err := c.Validate(); err != nil {
		return conversation.Conversation{}, fmt.Errorf("redis create conversation: %w", err)
	}
	c = cloneConversation(c)
	c.Version = 1
	data, err := json.Marshal(c)
	if err != nil {
		return conversation.Conversation{}, fmt.Errorf("redis create conversation %s: encode: %w", c.ID, err)
	}
	keys := append([]string{r.convKey(c.ID)}, r.indexKeys(&c)...)
	token := writeToken()
	res, err := r.scripts.createConversation.Run(ctx, r.client, keys, string(c.ID), data, token, indexField(&c)).Result()
	if err != nil {
		return conversation.Conversation{}, redisErr("create conversation "+string(c.ID), err)
	}
	arr, err := scriptReply("create conversation", res)
	if err != nil {
		return conversation.Conversation{}, err
	}
	if replyInt(arr, 0) == 0 && replyString(arr, 1) != token {
		return conversation.Conversation{}, fmt.Errorf("redis create conversation %s: %w", c.ID, ErrExists)
	}
	return c, nil
}

// Conversation returns the conversation with id, or ErrNotFound.
func (r *Redis) Conversation(ctx context.Context, id conversation.ConversationID) (conversation.Conversation, error) {
	data, err := r.client.HGet(ctx, r.convKey(id), "j").Bytes()
	if err != nil {
		return conversation.Conversation{}, redisErr("conversation "+string(id), err)
	}
	return decodeConversation(data)
}

func decodeConversation(data []byte) (conversation.Conversation, error) {
	var c conversation.Conversation
	if err := json.Unmarshal(data, &c); err != nil {
		return conversation.Conversation{}, fmt.Errorf("redis conversation: decode: %w", err)
	}
	return c, nil
}

// UpdateConversation reads the conversation (GET), applies fn to it and
// writes the result with a compare-and-set script on Version, which also
// moves the conversation between index sets when an indexed field
// changed. Updates of one conversation from this instance take turns (fn
// must not call UpdateConversation for the same conversation); a write by
// another instance in between makes it re-read and re-apply fn, up to 8
// attempts with jittered backoff (2–64 ms), then ErrConflict. An error
// from fn is returned as is; a result that changes the id or does not
// validate is refused with a conversation.ErrInvalid error.
func (r *Redis) UpdateConversation(ctx context.Context, id conversation.ConversationID, fn func(*conversation.Conversation) error) (conversation.Conversation, error) {
	release, err := r.locks.lock(ctx, string(id))
	if err != nil {
		return conversation.Conversation{}, fmt.Errorf("redis update conversation %s: %w", id, err)
	}
	defer release()
	for attempt := range updateAttempts {
		if attempt > 0 {
			if err := sleepBackoff(ctx, attempt); err != nil {
				return conversation.Conversation{}, fmt.Errorf("redis update conversation %s: %w", id, err)
			}
		}
		cur, err := r.Conversation(ctx, id)
		if err != nil {
			return conversation.Conversation{}, err
		}
		next := cloneConversation(cur)
		if err := fn(&next); err != nil {
			return conversation.Conversation{}, err
		}
		if err := checkUpdate(id, next); err != nil {
			return conversation.Conversation{}, fmt.Errorf("redis update conversation: %w", err)
		}
		next.Version = cur.Version + 1
		written, err := r.compareAndSet(ctx, &cur, &next)
		if err != nil {
			return conversation.Conversation{}, err
		}
		if written {
			return next, nil
		}
	}
	return conversation.Conversation{}, fmt.Errorf("redis update conversation %s: %d attempts lost to other writers: %w", id, updateAttempts, ErrConflict)
}

// compareAndSet writes next over cur if the stored version is still
// cur.Version, reporting false if it is not.
func (r *Redis) compareAndSet(ctx context.Context, cur, next *conversation.Conversation) (bool, error) {
	data, err := json.Marshal(next)
	if err != nil {
		return false, fmt.Errorf("redis update conversation %s: encode: %w", next.ID, err)
	}
	oldKeys, newKeys := r.indexKeys(cur), r.indexKeys(next)
	keys := []string{r.convKey(next.ID)}
	leave := 0
	for _, k := range oldKeys {
		if !slices.Contains(newKeys, k) {
			keys = append(keys, k)
			leave++
		}
	}
	for _, k := range newKeys {
		if !slices.Contains(oldKeys, k) {
			keys = append(keys, k)
		}
	}
	token := writeToken()
	res, err := r.scripts.updateConversation.Run(ctx, r.client, keys, string(next.ID),
		strconv.FormatInt(cur.Version, 10), strconv.FormatInt(next.Version, 10), data, leave, token, indexField(next)).Result()
	if err != nil {
		return false, redisErr("update conversation "+string(next.ID), err)
	}
	arr, err := scriptReply("update conversation", res)
	if err != nil {
		return false, err
	}
	switch replyInt(arr, 0) {
	case 1:
		return true, nil
	case 0:
		return false, fmt.Errorf("redis update conversation %s: %w", next.ID, ErrNotFound)
	default:
		return replyString(arr, 1) == token, nil
	}
}

// sleepBackoff waits a random time up to min(2ms·2^(attempt-1), 64ms), or
// until ctx ends.
func sleepBackoff(ctx context.Context, attempt int) error {
	d := min(updateBackoffMin<<(attempt-1), updateBackoffMax)
	t := time.NewTimer(rand.N(d) + 1)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ListConversations returns conversations matching f, newest (highest id)
// first. It reads the narrowest index set for the filter (one ZCARD each
// when several fields are set), newest first with ZREVRANGEBYLEX below the
// cursor, fetches the records in one pipeline per batch and filters them
// by every field, so a record whose index entry is stale is never
// returned. Errors: a conversation.ErrInvalid error for a bad filter,
// ErrUnavailable.
func (r *Redis) ListConversations(ctx context.Context, f ConversationFilter) (ConversationPage, error) {
	f, err := f.normalize()
	if err != nil {
		return ConversationPage{}, fmt.Errorf("redis list conversations: %w", err)
	}
	index, exact, err := r.narrowestIndex(ctx, f)
	if err != nil {
		return ConversationPage{}, err
	}
	need := f.Limit + 1
	batch := need
	if !exact {
		batch = min(max(4*need, 100), 1000)
	}
	maxBound := "+"
	if f.Cursor != "" {
		maxBound = "(" + f.Cursor
	}
	items := make([]conversation.Conversation, 0, need)
	for len(items) < need {
		ids, err := r.client.ZRevRangeByLex(ctx, index, &redis.ZRangeBy{Max: maxBound, Min: "-", Count: int64(batch)}).Result()
		if err != nil {
			return ConversationPage{}, redisErr("list conversations", err)
		}
		if len(ids) == 0 {
			break
		}
		convs, err := r.conversations(ctx, ids)
		if err != nil {
			return ConversationPage{}, err
		}
		for i := range convs {
			if convs[i].ID != "" && f.matches(&convs[i]) {
				items = append(items, convs[i])
				if len(items) == need {
					break
				}
			}
		}
		if len(ids) < batch {
			break
		}
		maxBound = "(" + ids[len(ids)-1]
	}
	var page ConversationPage
	if len(items) > f.Limit {
		items = items[:f.Limit]
		page.NextCursor = string(items[f.Limit-1].ID)
	}
	page.Items = items
	return page, nil
}

// narrowestIndex picks the index set to read for f: the smallest of the
// sets of its fields, or the set of all conversations. exact reports
// whether the set alone decides membership (at most one field is set).
func (r *Redis) narrowestIndex(ctx context.Context, f ConversationFilter) (string, bool, error) {
	var cands []string
	for _, c := range []struct{ name, value string }{
		{"customer", string(f.CustomerID)},
		{"assignee", string(f.AssigneeID)},
		{"team", string(f.TeamID)},
		{"status", string(f.Status)},
		{"channel", string(f.Channel)},
	} {
		if c.value != "" {
			cands = append(cands, r.prefix+"cidx:"+c.name+":"+c.value)
		}
	}
	switch len(cands) {
	case 0:
		return r.prefix + "cidx:all", true, nil
	case 1:
		return cands[0], true, nil
	}
	cmds := make([]*redis.IntCmd, len(cands))
	if _, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range cands {
			cmds[i] = p.ZCard(ctx, k)
		}
		return nil
	}); err != nil {
		return "", false, redisErr("list conversations: index sizes", err)
	}
	best := 0
	for i := range cmds {
		if cmds[i].Val() < cmds[best].Val() {
			best = i
		}
	}
	return cands[best], false, nil
}

// conversations fetches the records of ids in one pipeline; a missing one
// is left zero.
func (r *Redis) conversations(ctx context.Context, ids []string) ([]conversation.Conversation, error) {
	cmds := make([]*redis.StringCmd, len(ids))
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGet(ctx, r.convKey(conversation.ConversationID(id)), "j")
		}
		return nil
	})
	if err != nil && !isNil(err) {
		return nil, redisErr("list conversations: records", err)
	}
	out := make([]conversation.Conversation, len(ids))
	for i, cmd := range cmds {
		data, err := cmd.Bytes()
		if isNil(err) {
			continue
		}
		if err != nil {
			return nil, redisErr("list conversations: records", err)
		}
		if out[i], err = decodeConversation(data); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func isNil(err error) bool { return errors.Is(err, redis.Nil) }
