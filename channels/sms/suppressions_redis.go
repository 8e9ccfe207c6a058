package sms

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// Redis is the Suppressions shared by every gateway instance on one
// Redis (single node, Sentinel or Cluster, through redis.UniversalClient).
// Each channel account is one set:
//
//	<prefix>:sms_suppressed:<account>   set of E.164 numbers
//
// written with SADD / SREM and read with SISMEMBER, one round trip each.
// Give the gateway's key prefix, hash tag included (e.g. "{airbranch}"), so
// the keys live in the gateway's slot on Cluster. Any Redis error (network,
// timeout, a server loading or read-only) wraps ErrStoreUnavailable.
type Redis struct {
	client redis.UniversalClient
	prefix string
}

var _ Suppressions = (*Redis)(nil)

// NewRedis returns the suppression list on client under keyPrefix. The
// caller owns client and closes it.
func NewRedis(client redis.UniversalClient, keyPrefix string) *Redis {
	return &Redis{client: client, prefix: keyPrefix + ":sms_suppressed:"}
}

func (r *Redis) key(account string) string { return r.prefix + account }

// Suppress implements Suppressions.
func (r *Redis) Suppress(ctx context.Context, account, number string) error {
	if err := checkKey(account, number); err != nil {
		return err
	}
	if err := r.client.SAdd(ctx, r.key(account), number).Err(); err != nil {
		return fmt.Errorf("suppress: %w: %v", ErrStoreUnavailable, err)
	}
	return nil
}

// Unsuppress implements Suppressions.
func (r *Redis) Unsuppress(ctx context.Context, account, number string) error {
	if err := checkKey(account, number); err != nil {
		return err
	}
	if err := r.client.SRem(ctx, r.key(account), number).Err(); err != nil {
		return fmt.Errorf("unsuppress: %w: %v", ErrStoreUnavailable, err)
	}
	return nil
}

// Suppressed implements Suppressions.
func (r *Redis) Suppressed(ctx context.Context, account, number string) (bool, error) {
	if err := checkKey(account, number); err != nil {
		return false, err
	}
	ok, err := r.client.SIsMember(ctx, r.key(account), number).Result()
	if err != nil {
		return false, fmt.Errorf("suppressed: %w: %v", ErrStoreUnavailable, err)
	}
	return ok, nil
}
