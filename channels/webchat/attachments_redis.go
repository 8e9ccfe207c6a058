package webchat

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
)

// DefaultKeyPrefix is the key prefix of RedisAttachments when none is
// given: the gateway store's hash tag, so every key of the gateway sits in
// one Cluster slot.
const DefaultKeyPrefix = "{airbranch}"

// RedisAttachments is an AttachmentStore on Redis, shared by every
// instance: one hash per upload, "<prefix>:webchat:att:<id>", with the
// fields owner, type, name, size, created and expires (Unix ms) and data
// (the bytes), written in one MULTI with a PEXPIREAT at its expiry. Meant
// for small files (Config.Attachments.MaxBytes, 2 MiB by default).
type RedisAttachments struct {
	c      redis.UniversalClient
	prefix string
}

var _ AttachmentStore = (*RedisAttachments)(nil)

// NewRedisAttachments returns the store on c with keys under prefix
// (DefaultKeyPrefix when empty).
func NewRedisAttachments(c redis.UniversalClient, prefix string) *RedisAttachments {
	if prefix == "" {
		prefix = DefaultKeyPrefix
	}
	return &RedisAttachments{c: c, prefix: prefix}
}

func (r *RedisAttachments) key(id string) string { return r.prefix + ":webchat:att:" + id }

// Put implements AttachmentStore.
func (r *RedisAttachments) Put(ctx context.Context, a Attachment, data []byte) error {
	k := r.key(a.ID)
	_, err := r.c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, k)
		p.HSet(ctx, k, "owner", string(a.Owner), "type", a.Type, "name", a.Name, "size", a.Size,
			"created", a.CreatedAt.UnixMilli(), "expires", a.ExpiresAt.UnixMilli(), "data", data)
		p.PExpireAt(ctx, k, a.ExpiresAt)
		return nil
	})
	if err != nil {
		return fmt.Errorf("webchat: redis put attachment: %w: %w", conversation.ErrUnavailable, err)
	}
	return nil
}

// Get implements AttachmentStore.
func (r *RedisAttachments) Get(ctx context.Context, id string) (Attachment, []byte, error) {
	vals, err := r.c.HMGet(ctx, r.key(id), "owner", "type", "name", "size", "created", "expires", "data").Result()
	if err != nil {
		return Attachment{}, nil, fmt.Errorf("webchat: redis get attachment: %w: %w", conversation.ErrUnavailable, err)
	}
	a, err := parseAttachment(id, vals[:6])
	if err != nil {
		return Attachment{}, nil, err
	}
	data, _ := vals[6].(string)
	return a, []byte(data), nil
}

// Stat implements AttachmentStore.
func (r *RedisAttachments) Stat(ctx context.Context, id string) (Attachment, error) {
	vals, err := r.c.HMGet(ctx, r.key(id), "owner", "type", "name", "size", "created", "expires").Result()
	if err != nil {
		return Attachment{}, fmt.Errorf("webchat: redis stat attachment: %w: %w", conversation.ErrUnavailable, err)
	}
	return parseAttachment(id, vals)
}

// parseAttachment reads the record fields HMGET returned (nil when the
// key is gone).
func parseAttachment(id string, vals []any) (Attachment, error) {
	s := make([]string, len(vals))
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			return Attachment{}, ErrAttachmentNotFound
		}
		s[i] = str
	}
	size, err1 := strconv.ParseInt(s[3], 10, 64)
	created, err2 := strconv.ParseInt(s[4], 10, 64)
	expires, err3 := strconv.ParseInt(s[5], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return Attachment{}, fmt.Errorf("webchat: attachment %s: corrupt record: %w", id, err)
	}
	return Attachment{ID: id, Owner: conversation.CustomerID(s[0]), Type: s[1], Name: s[2], Size: size,
		CreatedAt: time.UnixMilli(created).UTC(), ExpiresAt: time.UnixMilli(expires).UTC()}, nil
}
