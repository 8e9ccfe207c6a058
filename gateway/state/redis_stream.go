package state

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
)

func (r *Redis) streamKey(stream string) string    { return r.prefix + "stream:" + stream }
func (r *Redis) streamSeqKey(stream string) string { return r.prefix + "streamseq:" + stream }
func (r *Redis) listenChannel(topic string) string { return r.prefix + "listen:" + topic }

// appendStreamLua: KEYS[1] the RM's seq counter (kept without expiry, so a
// seq never repeats), KEYS[2] the stream; ARGV type, time (RFC 3339),
// data, max kept, ttl ms. The stream entry's id is 0-<seq>.
const appendStreamLua = `
local n = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[4], '0-' .. n, 't', ARGV[1], 'a', ARGV[2], 'd', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return n
`

var appendStreamScript = redis.NewScript(appendStreamLua)

// AppendStreamEvent appends to the stream in one script (see Store).
func (r *Redis) AppendStreamEvent(ctx context.Context, stream, typ string, data []byte, at time.Time) (StreamEvent, error) {
	if !validStreamEvent(stream, typ, data) {
		return StreamEvent{}, fmt.Errorf("redis append stream event: %w: needs a stream, a type and JSON data", conversation.ErrInvalid)
	}
	at = conversation.Millis(at)
	stamp, err := at.MarshalText()
	if err != nil {
		return StreamEvent{}, fmt.Errorf("redis append desk event: %w: time: %w", conversation.ErrInvalid, err)
	}
	n, err := appendStreamScript.Run(ctx, r.client, []string{r.streamSeqKey(stream), r.streamKey(stream)},
		typ, stamp, data, MaxStreamEventsKept, StreamEventTTL.Milliseconds()).Int64()
	if err != nil {
		return StreamEvent{}, redisErr("append desk event", err)
	}
	return StreamEvent{Seq: n, Type: typ, At: at, Data: append([]byte(nil), data...)}, nil
}

// StreamEvents reads a stream after a seq in one pipeline: the counter,
// the oldest kept entry and the page (see Store).
func (r *Redis) StreamEvents(ctx context.Context, stream string, after int64, limit int) (StreamPage, error) {
	if limit < 1 || limit > MaxStreamEventsKept {
		return StreamPage{}, fmt.Errorf("redis desk events: %w: limit %d (allowed 1 to %d)", conversation.ErrInvalid, limit, MaxStreamEventsKept)
	}
	var last *redis.StringCmd
	var first, items *redis.XMessageSliceCmd
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		last = p.Get(ctx, r.streamSeqKey(stream))
		first = p.XRangeN(ctx, r.streamKey(stream), "-", "+", 1)
		items = p.XRangeN(ctx, r.streamKey(stream), "(0-"+strconv.FormatInt(max(after, 0), 10), "+", int64(limit))
		return nil
	})
	if err != nil && err != redis.Nil {
		return StreamPage{}, redisErr("desk events", err)
	}
	page := StreamPage{Items: []StreamEvent{}}
	page.Last, _ = last.Int64()
	if f := first.Val(); len(f) > 0 && entrySeq(f[0].ID) > after+1 {
		page.Gap = true
	} else if len(f) == 0 && page.Last > after {
		page.Gap = true // the stream expired with events the reader never saw
	}
	for _, x := range items.Val() {
		e := StreamEvent{Seq: entrySeq(x.ID), Type: fmt.Sprint(x.Values["t"])}
		if err := e.At.UnmarshalText([]byte(fmt.Sprint(x.Values["a"]))); err != nil {
			return StreamPage{}, fmt.Errorf("redis stream %s: decode time: %w", stream, err)
		}
		if d, _ := x.Values["d"].(string); d != "" {
			e.Data = []byte(d)
		}
		page.Items = append(page.Items, e)
	}
	return page, nil
}

// entrySeq reads the seq of a stream id "0-<seq>".
func entrySeq(id string) int64 {
	_, s, _ := strings.Cut(id, "-")
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// Broadcast is PUBLISH of payload on topic's channel (see Store).
func (r *Redis) Broadcast(ctx context.Context, topic, payload string) error {
	if topic == "" {
		return fmt.Errorf("redis broadcast: %w: empty topic", conversation.ErrInvalid)
	}
	return redisErr("broadcast "+topic, r.client.Publish(ctx, r.listenChannel(topic), payload).Err())
}

// Listen subscribes to topic's channel on a connection of its own, waits
// for Redis to confirm, and forwards payloads to a buffered channel from
// one goroutine, which delivers "" after an overflow or a re-made
// connection (see Store) and closes the channel when ctx ends.
func (r *Redis) Listen(ctx context.Context, topic string) (<-chan string, error) {
	if topic == "" {
		return nil, fmt.Errorf("redis listen: %w: empty topic", conversation.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis listen %s: %w", topic, err)
	}
	ps := r.client.Subscribe(ctx, r.listenChannel(topic))
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return nil, redisErr("listen "+topic, err)
	}
	out := make(chan string, listenBuffer)
	msgs := ps.ChannelWithSubscriptions()
	go func() {
		defer close(out)
		l := &listener{}
		for {
			select {
			case <-ctx.Done():
				_ = ps.Close()
				for range msgs {
				}
				return
			case m, ok := <-msgs:
				if !ok {
					return
				}
				switch m := m.(type) {
				case *redis.Subscription:
					if m.Kind == "subscribe" { // re-subscribed after a lost connection
						l.overflowed = true
						deliver(out, l, "")
					}
				case *redis.Message:
					deliver(out, l, m.Payload)
				}
			}
		}
	}()
	return out, nil
}
