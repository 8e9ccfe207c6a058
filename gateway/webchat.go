package gateway

import (
	"context"
	"log/slog"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/channels/identity"
	"github.com/airbranch/airbranch/channels/webchat"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/inbox"
	"github.com/airbranch/airbranch/gateway/router"
	"github.com/airbranch/airbranch/gateway/state"
)

// DevWebChatSecret signs web-chat client tokens (and anonymous ones) in
// the embedded demo only, as DevJWTSecret does RMs' tokens; `airbranch
// token -role client` uses it there.
const DevWebChatSecret = "airbranch-development-webchat-secret-not-for-production"

// chatStreams gives the web chat adapter the store's named streams.
type chatStreams struct{ state.Store }

var (
	_ webchat.Streams       = chatStreams{}
	_ webchat.Sink          = (*inbox.Inbox)(nil)
	_ webchat.Conversations = state.Store(nil)
	_ webchat.Customers     = (*identity.Resolver)(nil)
	_ webchat.RMs           = directory.Directory(nil)
)

// AppendStreamEvent implements webchat.Streams.
func (s chatStreams) AppendStreamEvent(ctx context.Context, stream, typ string, data []byte, at time.Time) (webchat.StreamEvent, error) {
	e, err := s.Store.AppendStreamEvent(ctx, stream, typ, data, at)
	return webchat.StreamEvent(e), err
}

// StreamEvents implements webchat.Streams.
func (s chatStreams) StreamEvents(ctx context.Context, stream string, after int64, limit int) (webchat.StreamPage, error) {
	p, err := s.Store.StreamEvents(ctx, stream, after, limit)
	out := webchat.StreamPage{Gap: p.Gap, Last: p.Last, Items: make([]webchat.StreamEvent, len(p.Items))}
	for i, e := range p.Items {
		out.Items[i] = webchat.StreamEvent(e)
	}
	return out, err
}

// webChatEnabled reports whether cfg turns web chat on: webchat.enabled,
// or the embedded demo.
func webChatEnabled(cfg *configs.Config) bool { return cfg.WebChat.Enabled || cfg.Demo() }

// newWebChat builds the web chat adapter when cfg enables it (nil, nil
// otherwise), with the inbox as its Sink and the store's streams, and its
// attachments on the store's Redis when there is one.
func newWebChat(cfg *configs.Config, store state.Store, in *inbox.Inbox, resolver *identity.Resolver, dir directory.Directory, log *slog.Logger) (*webchat.Adapter, error) {
	if !webChatEnabled(cfg) {
		return nil, nil
	}
	wc := cfg.WebChatAdapter()
	if cfg.Demo() && !cfg.WebChat.Enabled {
		log.Warn("DEMO MODE: web chat is on with the public development secret and anonymous chat; set webchat.enabled and AIRBRANCH_WEBCHAT_TOKEN_SECRET outside demos")
		wc.Token.Secret = []byte(DevWebChatSecret)
		wc.Anonymous.Enabled, wc.Anonymous.Secret = true, []byte(DevWebChatSecret)
	}
	deps := webchat.Deps{
		Sink: in, Streams: chatStreams{store}, Conversations: store, Customers: resolver, RMs: dir,
		Waiting: func(ctx context.Context, limit int) ([]conversation.ConversationID, error) {
			entries, err := store.Queue(ctx, router.WaitingQueue, limit)
			ids := make([]conversation.ConversationID, len(entries))
			for i, e := range entries {
				ids[i] = e.ConversationID
			}
			return ids, err
		},
		Logger: log.With("component", "webchat"),
		Now:    time.Now,
	}
	if rdb, prefix := redisOf(store); rdb != nil {
		deps.Attachments = webchat.NewRedisAttachments(rdb, prefix)
	}
	return webchat.New(wc, deps)
}
