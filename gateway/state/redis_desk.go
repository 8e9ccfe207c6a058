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

func (r *Redis) deskStreamKey(rm conversation.RMID) string { return r.prefix + "desk:" + string(rm) }
func (r *Redis) deskSeqKey(rm conversation.RMID) string    { return r.prefix + "deskseq:" + string(rm) }
func (r *Redis) listenChannel(topic string) string         { return r.prefix + "listen:" + topic }

// appendDeskLua: KEYS[1] the RM's seq counter (kept without expiry, so a
// seq never repeats), KEYS[2] the stream; ARGV type, time (RFC 3339),
// data, max kept, ttl ms. The stream entry's id is 0-<seq>.
const appendDeskLua = `
local n = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', ARGV[4], '0-' .. n, 't', ARGV[1], 'a', ARGV[2], 'd', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return n
`

var appendDeskScript = redis.NewScript(appendDeskLua)

// AppendDeskEvent appends to rm's stream in one script (see Store).
func (r *Redis) AppendDeskEvent(ctx context.Context, rm conversation.RMID, typ string, data []byte, at time.Time) (DeskEvent, error) {
	if !validDeskEvent(rm, typ, data) {
		return DeskEvent{}, fmt.Errorf("redis append desk event: %w: needs an rm, a type and JSON data", conversation.ErrInvalid)
	}
	at = conversation.Millis(at)
	stamp, err := at.MarshalText()
	if err != nil {
		return DeskEvent{}, fmt.Errorf("redis append desk event: %w: time: %w", conversation.ErrInvalid, err)
	}
	n, err := appendDeskScript.Run(ctx, r.client, []string{r.deskSeqKey(rm), r.deskStreamKey(rm)},
		typ, stamp, data, MaxDeskEventsKept, DeskEventTTL.Milliseconds()).Int64()
	if err != nil {
		return DeskEvent{}, redisErr("append desk event", err)
	}
	return DeskEvent{Seq: n, Type: typ, At: at, Data: append([]byte(nil), data...)}, nil
}

// DeskEvents reads rm's stream after a seq in one pipeline: the counter,
// the oldest kept entry and the page (see Store).
func (r *Redis) DeskEvents(ctx context.Context, rm conversation.RMID, after int64, limit int) (DeskPage, error) {
	if limit < 1 || limit > MaxDeskEventsKept {
		return DeskPage{}, fmt.Errorf("redis desk events: %w: limit %d (allowed 1 to %d)", conversation.ErrInvalid, limit, MaxDeskEventsKept)
	}
	var last *redis.StringCmd
	var first, items *redis.XMessageSliceCmd
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		last = p.Get(ctx, r.deskSeqKey(rm))
		first = p.XRangeN(ctx, r.deskStreamKey(rm), "-", "+", 1)
		items = p.XRangeN(ctx, r.deskStreamKey(rm), "(0-"+strconv.FormatInt(max(after, 0), 10), "+", int64(limit))
		return nil
	})
	if err != nil && err != redis.Nil {
		return DeskPage{}, redisErr("desk events", err)
	}
	page := DeskPage{Items: []DeskEvent{}}
	page.Last, _ = last.Int64()
	if f := first.Val(); len(f) > 0 && entrySeq(f[0].ID) > after+1 {
		page.Gap = true
	} else if len(f) == 0 && page.Last > after {
		page.Gap = true // the stream expired with events the reader never saw
	}
	for _, x := range items.Val() {
		e := DeskEvent{Seq: entrySeq(x.ID), Type: fmt.Sprint(x.Values["t"])}
		if err := e.At.UnmarshalText([]byte(fmt.Sprint(x.Values["a"]))); err != nil {
			return DeskPage{}, fmt.Errorf("redis desk events of %s: decode time: %w", rm, err)
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
