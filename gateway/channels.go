package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/errgroup"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/sms"
	"github.com/airbranch/airbranch/channels/sms/smpp"
	"github.com/airbranch/airbranch/channels/sms/twilio"
	"github.com/airbranch/airbranch/channels/wechat"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/inbox"
	"github.com/airbranch/airbranch/gateway/outbox"
	"github.com/airbranch/airbranch/gateway/state"
)

// The inbox is every channel adapter's Sink: it stores before the adapter
// acknowledges.
var (
	_ sms.Sink    = (*inbox.Inbox)(nil)
	_ wechat.Sink = (*inbox.Inbox)(nil)
)

// channels holds the messaging channel adapters the configuration enables
// (cfg.SMS.Twilio, cfg.SMS.SMPP, cfg.WeChat): their webhook handlers, their
// outbound side as the outbox's Senders, and the SMPP bind that Run keeps
// up. A nil adapter is a channel that is off.
type channels struct {
	twilio *twilio.Provider
	smpp   *smpp.Provider
	wechat *wechat.Adapter
	// hold keeps the SMPP account's replies while its bind is down.
	hold *smppHold
}

// newChannels builds the enabled adapters with sink as their Sink. With a
// Redis store their own state (the SMS suppression list; WeChat service
// windows, opt-outs and the shared access token) lives on the same Redis
// under the store's key prefix, so every instance shares it; with the
// memory store it lives in memory. Errors name the channel and wrap the
// adapter's configuration error.
func newChannels(cfg *configs.Config, store state.Store, sink *inbox.Inbox, log *slog.Logger) (*channels, error) {
	ch := &channels{}
	rdb, prefix := redisOf(store)
	if cfg.SMS.Twilio.Enabled() || cfg.SMS.SMPP.Enabled() {
		var sup sms.Suppressions = sms.NewMemory()
		if rdb != nil {
			sup = sms.NewRedis(rdb, prefix)
		}
		if cfg.SMS.Twilio.Enabled() {
			p, err := twilio.New(cfg.TwilioAdapter(), sink, sup, log)
			if err != nil {
				return nil, fmt.Errorf("gateway: sms twilio: %w", err)
			}
			ch.twilio = p
		}
		if cfg.SMS.SMPP.Enabled() {
			p, err := smpp.New(cfg.SMPPAdapter(), sink, sup, log)
			if err != nil {
				return nil, fmt.Errorf("gateway: sms smpp: %w", err)
			}
			ch.smpp = p
			ch.hold = newSMPPHold(p, store, log)
		}
	}
	if cfg.WeChat.Enabled() {
		deps := wechat.Deps{Sink: sink, Logger: log}
		if rdb != nil {
			deps.Windows = wechat.NewRedisWindows(rdb, prefix)
			deps.Suppressions = wechat.NewRedisSuppressions(rdb, prefix)
			deps.Tokens = wechat.NewRedisCache(rdb, prefix)
		}
		a, err := wechat.New(cfg.WeChatAdapter(), deps)
		if err != nil {
			return nil, fmt.Errorf("gateway: %w", err)
		}
		ch.wechat = a
	}
	return ch, nil
}

// redisOf returns the Redis client and key prefix (without its trailing
// colon) of a Redis store, or nil for any other store.
func redisOf(store state.Store) (redis.UniversalClient, string) {
	r, ok := store.(*state.Redis)
	if !ok {
		return nil, ""
	}
	return r.Client(), strings.TrimSuffix(r.KeyPrefix(), ":")
}

// mount adds the enabled adapters' webhooks to mux, outside /api/ and
// without bearer tokens: each request is authenticated by its provider's
// signature (X-Twilio-Signature; WeChat's signature and msg_signature).
// They stay open while the instance drains: a webhook is stored before it
// is answered, and a conversation it opens that this instance does not
// route before it stops is routed by another instance's sweep.
func (c *channels) mount(mux *http.ServeMux) {
	if c.twilio != nil {
		mux.Handle(twilio.PathPrefix, c.twilio.Handler())
	}
	if c.wechat != nil {
		h := c.wechat.Handler()
		mux.Handle(wechat.WebhookPath, h)
		mux.Handle(wechat.WebhookPath+"/", h)
	}
}

// senders returns the outbox's Sender of each enabled messaging channel.
func (c *channels) senders() map[conversation.Channel]outbox.Sender {
	out := map[conversation.Channel]outbox.Sender{}
	if s := c.smsSender(); s != nil {
		out[conversation.ChannelSMS] = s
	}
	if c.wechat != nil {
		out[conversation.ChannelWeChat] = wechatSender{adapter: c.wechat}
	}
	return out
}

// attach gives the SMPP hold the outbox that settles the messages it
// held and the desk hub that tells their senders; before run.
func (c *channels) attach(o *outbox.Outbox, statuses func(ctx context.Context, m conversation.Message)) {
	if c.hold != nil {
		c.hold.settle, c.hold.notify = o.Settle, statuses
	}
}

// run keeps the SMPP bind up (smpp.Provider.Run) and sends the replies
// held while it was down until ctx ends; it returns at once when SMPP is
// off.
func (c *channels) run(ctx context.Context) error {
	if c.smpp == nil {
		return nil
	}
	eg, ctx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		if err := c.smpp.Run(ctx); err != nil {
			return fmt.Errorf("gateway: sms smpp: %w", err)
		}
		return nil
	})
	eg.Go(func() error { return c.hold.run(ctx) })
	return eg.Wait()
}
