package state

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
)

// notifyChannel is the pub/sub channel of topic: "<prefix>notify:<topic>".
// Channels are not keys, but the prefix keeps stores with different
// prefixes apart.
func (r *Redis) notifyChannel(topic string) string { return r.prefix + "notify:" + topic }

// Notify publishes an empty message on topic's channel (PUBLISH), which
// every subscriber on every instance receives. Errors: an empty topic
// (conversation.ErrInvalid), ErrUnavailable.
func (r *Redis) Notify(ctx context.Context, topic string) error {
	if topic == "" {
		return fmt.Errorf("redis notify: %w: empty topic", conversation.ErrInvalid)
	}
	return redisErr("notify "+topic, r.client.Publish(ctx, r.notifyChannel(topic), "").Err())
}

// Subscribe subscribes to topic's channel on a connection of its own and
// waits for Redis to confirm, so a Notify after it returns is delivered.
// One goroutine then forwards each message to the returned one-slot
// channel with a non-blocking send (so one pending notification stands
// for any number). go-redis re-establishes a lost connection and
// re-subscribes by itself (it pings an idle connection every 3 s and
// retries every 100 ms); messages published meanwhile are lost, so each
// re-subscription is forwarded as one more notification. When ctx ends
// the goroutine closes the subscription, waits for go-redis's own
// goroutine to finish, closes the channel and returns. Errors: an empty
// topic (conversation.ErrInvalid), ctx's error if it has already ended,
// ErrUnavailable when the subscription cannot be confirmed.
func (r *Redis) Subscribe(ctx context.Context, topic string) (<-chan struct{}, error) {
	if topic == "" {
		return nil, fmt.Errorf("redis subscribe: %w: empty topic", conversation.ErrInvalid)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("redis subscribe %s: %w", topic, err)
	}
	ps := r.client.Subscribe(ctx, r.notifyChannel(topic))
	if _, err := ps.Receive(ctx); err != nil { // the subscribe confirmation
		_ = ps.Close()
		return nil, redisErr("subscribe "+topic, err)
	}
	out := make(chan struct{}, 1)
	msgs := ps.ChannelWithSubscriptions()
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				_ = ps.Close()
				for range msgs { // go-redis closes it once its reader has stopped
				}
				return
			case m, ok := <-msgs:
				if !ok {
					return
				}
				if s, isSub := m.(*redis.Subscription); isSub && s.Kind != "subscribe" {
					continue
				}
				select {
				case out <- struct{}{}:
				default:
				}
			}
		}
	}()
	return out, nil
}
