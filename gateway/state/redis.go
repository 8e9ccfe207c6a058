package state

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
)

// DefaultKeyPrefix is the key prefix of the Redis store when none is given.
const DefaultKeyPrefix = "{airbranch}"

// defaultDialTimeout bounds connecting when RedisOptions.DialTimeout is 0.
const defaultDialTimeout = 2 * time.Second

// Redis is the Store on Redis, for several gateway instances sharing one
// Redis server, Sentinel-managed primary or Cluster, through a
// redis.UniversalClient. Records are JSON; every write that must be atomic
// is one Lua script (see redis_scripts.go and redis_txn_script.go), so
// CreateConversation, AppendMessage and a routing Commit each take one
// round trip.
//
// Every key starts with the key prefix, which carries a hash tag such as
// "{airbranch}": Redis Cluster places a key by the text between the first
// braces only, so all of the store's keys share one hash slot and every
// multi-key script and MULTI runs on one node, which Cluster requires
// (keys of a script in different slots fail with CROSSSLOT). The cost is
// that one gateway's state lives on one Cluster shard; run another prefix
// (another tag) for another tenant to use other shards.
//
// Key layout, after the prefix and a colon:
//
//	conv:<id>              hash: j JSON, v version, n write token, x the
//	                       names of its index sets (JSON array, after the prefix)
//	cidx:all               sorted set of conversation ids, score 0, by id text
//	cidx:status:<status>   the same per status; also channel:, team:,
//	cidx:channel:<ch> …    customer: and assignee: (ids in lexical order,
//	                       which for UUIDv7 ids is creation order)
//	msg:<id>               hash: j JSON, s status, e error code, u updated at, n write token
//	msgs:<conversation id> list of message ids, append order
//	idem:<ch|account|pid>  message id of the first copy
//	events:<conversation>  list of event JSON, append order
//	presence:<rm id>       presence JSON;  rms: set of RM ids with a presence
//	presstate              hash: RM id → "<lease expiry µs, 0 for none> <state>"
//	queue:<name>           sorted set: conversation id by score
//	offer:<id>             offer JSON
//	offers:expiry          sorted set: offer id by expiry (Unix µs)
//	convoffers:<conv id>   sorted set: the conversation's offer ids by expiry
//	rmoffers:<rm id>       sorted set: the RM's offer ids by creation (Unix µs)
//	rm:<rm id>             hash: l last offer, i idle since (Unix µs), m missed
//	                       in a row, h:<conversation id> cost units held
//	rmstates               set of RM ids with routing counters
//	wakes                  sorted set: conversation id by wake time (Unix µs)
//	cursors                hash: round-robin cursor key → RM id
//	decisions:<conv id>    list of decision record JSON, newest first,
//	                       at most MaxDecisionsKept, expiring after DecisionTTL
//	customer:<id>          customer JSON;  addr:<kind:value>: customer id
//	instances              sorted set: gateway instance id by lease end (Unix µs)
//	holdings:<instance>    set of the conversation ids whose media it holds
//
// and the pub/sub channels notify:<topic> (Notify, Subscribe).
//
// Errors: connection and network failures, timeouts and a server that is
// loading, read-only, or has its cluster or primary down wrap
// ErrUnavailable; a missing key is ErrNotFound.
type Redis struct {
	client  redis.UniversalClient
	prefix  string // the key prefix followed by ":"
	scripts redisScripts
	locks   keyLocks
}

var _ Store = (*Redis)(nil)

// NewRedis returns a store on client whose keys start with keyPrefix
// ("" means DefaultKeyPrefix). keyPrefix must hold a hash tag ("{name}")
// for the store to work on Redis Cluster; OpenRedis checks that, NewRedis
// takes it as given. The store owns client and closes it in Close. A
// client that retries commands after a lost reply may run a script twice:
// creates, updates and appends recognise their own earlier run by a write
// token, but DeleteOffer would then report false; OpenRedis turns those
// retries off.
func NewRedis(client redis.UniversalClient, keyPrefix string) *Redis {
	if keyPrefix == "" {
		keyPrefix = DefaultKeyPrefix
	}
	return &Redis{
		client:  client,
		prefix:  strings.TrimSuffix(keyPrefix, ":") + ":",
		scripts: newRedisScripts(),
	}
}

// RedisOptions selects a Redis deployment for OpenRedis. Set URL, or
// Addrs (with MasterName for Sentinel), not both.
type RedisOptions struct {
	// URL is a redis:// or rediss:// URL (redis.ParseURL), for one server.
	URL string
	// Addrs are host:port seeds: Sentinels when MasterName is set, else
	// Cluster nodes when there are several, else one server.
	Addrs []string
	// MasterName is the Sentinel master name.
	MasterName string
	// KeyPrefix starts every key and must hold a hash tag, e.g.
	// "{airbranch}" (the default) or "{airbranch}:eu".
	KeyPrefix string
	// DialTimeout bounds connecting and the first PING; default 2s.
	DialTimeout time.Duration
	// Username and Password authenticate to Redis (ACL, Redis 6+) when the
	// servers are given as Addrs; a URL carries its own. SentinelPassword
	// authenticates to the Sentinels when they require it.
	Username, Password, SentinelPassword string
	// DB selects the database on a single server or Sentinel-managed
	// primary given as Addrs (Cluster has only db 0).
	DB int
	// TLS connects to Addrs over TLS (1.2 or later), verifying the servers'
	// certificates against the system roots.
	TLS bool
}

// OpenRedis builds the client o selects, PINGs it within o.DialTimeout and
// returns the store. Errors: a conversation.ErrInvalid error for options
// that select nothing or both a URL and addresses, a bad URL, a negative
// timeout or a key prefix without a hash tag; ErrUnavailable when the PING
// fails. Commands are not retried by the client (MaxRetries -1): a lost
// reply surfaces as ErrUnavailable rather than a second run.
func OpenRedis(ctx context.Context, o RedisOptions) (*Redis, error) {
	if err := o.validate(); err != nil {
		return nil, fmt.Errorf("state: redis options: %w", err)
	}
	dial := o.DialTimeout
	if dial == 0 {
		dial = defaultDialTimeout
	}
	var client redis.UniversalClient
	if o.URL != "" {
		opts, err := redis.ParseURL(o.URL)
		if err != nil {
			// The URL may hold a password: say what is allowed, not what was given.
			return nil, fmt.Errorf("state: redis url: %w (allowed: redis://[user:password@]host:port[/db] or rediss://…)", conversation.ErrInvalid)
		}
		opts.DialTimeout = dial
		opts.MaxRetries = -1
		client = redis.NewClient(opts)
	} else {
		uo := &redis.UniversalOptions{
			Addrs:            o.Addrs,
			MasterName:       o.MasterName,
			Username:         o.Username,
			Password:         o.Password,
			SentinelPassword: o.SentinelPassword,
			DB:               o.DB,
			DialTimeout:      dial,
			MaxRetries:       -1,
		}
		if o.TLS {
			uo.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		client = redis.NewUniversalClient(uo)
	}
	r := NewRedis(client, o.KeyPrefix)
	pctx, cancel := context.WithTimeout(ctx, dial)
	defer cancel()
	if err := r.Ping(pctx); err != nil {
		_ = client.Close()
		return nil, err
	}
	return r, nil
}

func (o RedisOptions) validate() error {
	var errs []error
	switch {
	case o.URL != "" && len(o.Addrs) > 0:
		errs = append(errs, fmt.Errorf("url and addrs: %w: set one, not both", conversation.ErrInvalid))
	case o.URL == "" && len(o.Addrs) == 0:
		errs = append(errs, fmt.Errorf("%w: no url and no addrs (allowed: a redis:// url, or host:port addrs)", conversation.ErrInvalid))
	case o.MasterName != "" && len(o.Addrs) == 0:
		errs = append(errs, fmt.Errorf("master name %q: %w: needs the Sentinel addrs", o.MasterName, conversation.ErrInvalid))
	}
	for _, a := range o.Addrs {
		if _, _, err := splitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("addr %q: %w (allowed: host:port)", a, conversation.ErrInvalid))
		}
	}
	if o.DB < 0 || (o.DB > 0 && len(o.Addrs) > 1 && o.MasterName == "") {
		errs = append(errs, fmt.Errorf("db %d: %w (allowed: 0 or more on one server or a Sentinel primary; Cluster has only db 0)", o.DB, conversation.ErrInvalid))
	}
	if o.URL != "" && (o.Username != "" || o.Password != "" || o.TLS || o.DB != 0) {
		errs = append(errs, fmt.Errorf("url with username, password, db or tls: %w: put them in the URL (rediss:// for TLS)", conversation.ErrInvalid))
	}
	if o.DialTimeout < 0 {
		errs = append(errs, fmt.Errorf("dial timeout %s: %w (allowed: > 0, or 0 for %s)", o.DialTimeout, conversation.ErrInvalid, defaultDialTimeout))
	}
	if o.KeyPrefix != "" && !hasHashTag(o.KeyPrefix) {
		errs = append(errs, fmt.Errorf("key prefix %q: %w (allowed: a prefix with a non-empty hash tag such as %q, so every key shares one Cluster slot)", o.KeyPrefix, conversation.ErrInvalid, DefaultKeyPrefix))
	}
	return errors.Join(errs...)
}

// splitHostPort checks a host:port address with a numeric port.
func splitHostPort(addr string) (string, int, error) {
	i := strings.LastIndexByte(addr, ':')
	if i <= 0 {
		return "", 0, errors.New("no port")
	}
	port, err := strconv.Atoi(addr[i+1:])
	if err != nil || port < 1 || port > 65535 {
		return "", 0, errors.New("bad port")
	}
	return addr[:i], port, nil
}

// hasHashTag reports whether Redis Cluster would hash only part of s: a
// "{" followed later by "}" with at least one byte between them.
func hasHashTag(s string) bool {
	i := strings.IndexByte(s, '{')
	if i < 0 {
		return false
	}
	j := strings.IndexByte(s[i+1:], '}')
	return j > 0
}

// Ping checks the server answers; ErrUnavailable if not.
func (r *Redis) Ping(ctx context.Context) error {
	return redisErr("ping", r.client.Ping(ctx).Err())
}

// Close closes the client.
func (r *Redis) Close() error {
	if err := r.client.Close(); err != nil {
		return fmt.Errorf("state: redis close: %w", err)
	}
	return nil
}

// KeyPrefix returns the prefix every key of the store starts with,
// including the separating colon.
func (r *Redis) KeyPrefix() string { return r.prefix }

// Client returns the store's go-redis client, for components that keep
// state of their own on the same Redis under KeyPrefix (the channel
// adapters' suppression lists, service windows and token caches). The
// store owns it: callers must not close it, and must stop using it before
// Close.
func (r *Redis) Client() redis.UniversalClient { return r.client }

// redisErr maps a go-redis error: redis.Nil to ErrNotFound, a failure to
// reach the server to ErrUnavailable (keeping the cause), anything else
// (a script or protocol error) wrapped as is.
func redisErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, redis.Nil):
		return fmt.Errorf("redis %s: %w", op, ErrNotFound)
	case unavailable(err):
		return fmt.Errorf("redis %s: %w: %w", op, ErrUnavailable, err)
	default:
		return fmt.Errorf("redis %s: %w", op, err)
	}
}

// unavailable reports whether err means the server could not serve the
// command now: any error that is not a server reply (network, dial, pool,
// timeout, closed client), or a reply saying it is loading, read-only,
// out of its primary or cluster, or busy. A cancelled context is the
// caller's doing, not the server's.
func unavailable(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var rerr redis.Error
	if !errors.As(err, &rerr) {
		return true
	}
	for _, p := range []string{"LOADING", "READONLY", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY", "NOREPLICAS"} {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}

// writeToken returns a fresh token that marks one write (see
// redis_scripts.go).
func writeToken() string {
	return strconv.FormatUint(rand.Uint64(), 36)
}

// scriptReply returns the array a script returned, or an error for any
// other shape.
func scriptReply(op string, res any) ([]any, error) {
	arr, ok := res.([]any)
	if !ok || len(arr) == 0 {
		return nil, fmt.Errorf("redis %s: unexpected script reply %T", op, res)
	}
	return arr, nil
}

// replyInt returns element i of a script reply as an int64 (0 if absent).
func replyInt(arr []any, i int) int64 {
	if i < len(arr) {
		if n, ok := arr[i].(int64); ok {
			return n
		}
	}
	return 0
}

// replyString returns element i of a script reply as a string ("" if
// absent or nil).
func replyString(arr []any, i int) string {
	if i < len(arr) {
		if s, ok := arr[i].(string); ok {
			return s
		}
	}
	return ""
}
