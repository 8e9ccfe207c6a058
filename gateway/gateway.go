// Package gateway is Airbranch's composition root: it opens the state store,
// loads the directory, wires the API, channels and routing to each other, and
// runs the HTTP server with health, readiness and metrics, draining on
// shutdown. Nothing imports gateway; cmd/airbranch calls Run.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/channels/identity"
	"github.com/airbranch/airbranch/channels/webchat"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/api"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/console"
	"github.com/airbranch/airbranch/gateway/desk"
	"github.com/airbranch/airbranch/gateway/inbox"
	"github.com/airbranch/airbranch/gateway/outbox"
	"github.com/airbranch/airbranch/gateway/router"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/stats"
	"github.com/airbranch/airbranch/gateway/wallboard"
)

// HTTP server timeouts beyond the configured header timeout.
const (
	readTimeout = 60 * time.Second
	idleTimeout = 120 * time.Second
)

// DevJWTSecret signs and verifies HS256 tokens when AIRBRANCH_JWT_SECRET is
// not set. It is public: a gateway using it logs a warning at start, and it
// must never be used outside a demo.
const DevJWTSecret = "airbranch-development-secret-not-for-production"

// Gateway is one running Airbranch instance.
type Gateway struct {
	cfg      *configs.Config
	log      *slog.Logger
	instance string
	store    state.Store
	dir      directory.Directory
	router   *router.Router
	inbox    *inbox.Inbox
	channels *channels
	// voice is the voice channel (SIP); nil when it is off.
	voice *voice
	chat  *webchat.Adapter
	// video is the video channel; nil when it is off.
	video    *videoChannel
	hub      *desk.Hub
	outbox   *outbox.Outbox
	desk     *desk.Server
	stopDesk context.CancelFunc
	// live is this instance's liveness lease and reaper of lost ones
	// (instance_lease.go, voice_reaper.go).
	live     *liveness
	metrics  *metrics
	handler  http.Handler
	draining atomic.Bool
	ready    atomic.Bool
}

// New builds a gateway from cfg: it loads the directory, opens the store
// (Redis when cfg.Redis is enabled, failing fast when it is unreachable;
// memory otherwise), builds the messaging channel adapters the
// configuration enables (SMS over a Twilio-compatible API and over SMPP,
// WeChat; see newChannels) with the inbox as their Sink and as the
// outbox's Senders, and the voice channel when sip is configured (binding
// its SIP listeners; see newVoice), and wires the HTTP handlers: the API under /api/, the
// providers' webhooks under /webhooks/. Errors name what failed: the
// directory file, the Redis connection (wrapping state.ErrUnavailable), the
// JWKS file or a channel's configuration. Close the gateway with Run's
// return or Close.
func New(ctx context.Context, cfg *configs.Config, log *slog.Logger) (*Gateway, error) {
	instance := cfg.InstanceID
	if instance == "" {
		instance = defaultInstanceID()
	}
	log = log.With("instance_id", instance)
	dir, err := configs.LoadDirectory(cfg)
	if err != nil {
		return nil, fmt.Errorf("gateway: directory: %w", err)
	}
	store, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	secret, err := jwtSecret(cfg, log)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	verifier, err := auth.NewVerifier(auth.VerifierOptions{
		Secret:   secret,
		JWKSFile: cfg.Auth.JWKSFile,
		Issuer:   cfg.Auth.Issuer,
		Audience: cfg.Auth.Audience,
		Now:      time.Now,
	})
	if err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("gateway: auth: %w", err)
	}
	policies, err := configs.CompileRouting(cfg, dir)
	if err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("gateway: routing: %w", err)
	}
	live := newLiveness(store, instance, log.With("component", "liveness"))
	resolver := identity.NewResolver(dir, store, cfg.Identity.DefaultRegion)
	hub := desk.NewHub(store, resolver, log.With("component", "desk"), time.Now)
	var voiceCh *voice
	observer := &routingObserver{hub: hub}
	vobs := &videoObserver{Observer: observer}
	if cfg.SIP.Enabled() {
		if voiceCh, err = newVoice(ctx, cfg, dir, store, instance, log.With("component", "voice")); err != nil {
			_ = store.Close()
			return nil, err
		}
		observer.voice = voiceCh
		voiceCh.events, voiceCh.live = newCallEvents(hub), live
		if voiceCh.soft, err = newSoftphones(cfg, voiceCh, log.With("component", "voice")); err != nil {
			_ = store.Close()
			return nil, err
		}
	}
	rt, err := router.New(router.Options{
		Store: store, Directory: dir, Customers: resolver, Policies: policies,
		Logger: log.With("component", "router"), Now: time.Now, Instance: instance, Observer: vobs,
	})
	if err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("gateway: %w", err)
	}
	in, err := inbox.New(inbox.Options{Store: store, Resolver: resolver, Router: rt, Logger: log.With("component", "inbox"), Now: time.Now, Observer: hub})
	if err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if voiceCh != nil {
		voiceCh.router, voiceCh.inbox = rt, in
	}
	chans, err := newChannels(cfg, store, in, log)
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	chat, err := newWebChat(cfg, store, in, resolver, dir, log)
	if err != nil {
		_ = store.Close()
		return nil, fmt.Errorf("gateway: web chat: %w", err)
	}
	observer.chat = chat
	vid, err := newVideo(cfg, store, hub, chat, resolver, dir, log.With("component", "video"))
	if err != nil {
		_ = store.Close()
		return nil, err
	}
	vobs.video = vid
	if vid != nil {
		vid.live = live
	}
	g := &Gateway{video: vid, cfg: cfg, log: log, instance: instance, store: store, dir: dir, router: rt, inbox: in, channels: chans, voice: voiceCh, chat: chat, hub: hub, live: live, metrics: newMetrics(instance)}
	live.reap = g.reapInstance
	chans.registerLinkMetrics(g.metrics)
	senders := chans.senders()
	if chat != nil {
		senders[conversation.ChannelWebChat] = chat
	}
	messages := outbox.New(store, senders, log.With("component", "outbox"), time.Now)
	chans.attach(messages, hub.MessageStatus)
	g.outbox = messages
	figures := &stats.Source{Store: store, Directory: dir, Policies: policies}
	hub.SetQueues(figures.Queues)
	hub.SetPresenceRenewal(rt)
	var deskCtx context.Context
	deskCtx, g.stopDesk = context.WithCancel(context.WithoutCancel(ctx))
	g.desk, err = desk.NewServer(deskCtx, desk.Options{Hub: hub, Store: store, Directory: dir, Verifier: verifier,
		Routing: rt, Messages: messages, Phones: deskPhones(voiceCh), Escalations: deskEscalations(voiceCh), Logger: log.With("component", "desk"), Now: time.Now})
	if err != nil {
		g.stopDesk()
		g.closeVideo()
		_ = store.Close()
		return nil, fmt.Errorf("gateway: %w", err)
	}
	apiHandler := api.New(api.Deps{
		Store:        store,
		Directory:    dir,
		Resolver:     resolver,
		Verifier:     verifier,
		Routing:      rt,
		Transfers:    rt,
		Messages:     messages,
		Stats:        figures,
		Video:        vid.sessions(),
		Logger:       log,
		MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
		Now:          time.Now,
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", g.healthz)
	mux.HandleFunc("GET /readyz", g.readyzWithLinks)
	mux.Handle("GET /metrics", g.metrics.handler())
	mux.Handle("/api/", g.refuseWhileDraining(apiHandler))
	mux.Handle("GET "+desk.Path, g.refuseWhileDraining(g.desk))
	mux.Handle(console.Prefix, console.Handler())
	mux.Handle(wallboard.Prefix, wallboard.Handler())
	if chat != nil {
		h := chat.Handler()
		mux.Handle(webchat.WSPath, g.refuseWhileDraining(h))
		mux.Handle(webchat.PagePrefix, h)
	}
	chans.mount(mux)
	if vid != nil {
		vid.router = rt
		vid.mount(mux, g.refuseWhileDraining)
	}
	g.handler = g.metrics.instrument(recoverPanics(log, mux), apiHandler.Pattern)
	if voiceCh != nil {
		// Last: the SIP listeners it binds are closed only by Serve.
		if err := voiceCh.listen(cfg); err != nil {
			g.stopDesk()
			g.closeVideo()
			_ = store.Close()
			return nil, err
		}
	}
	return g, nil
}

func openStore(ctx context.Context, cfg *configs.Config, log *slog.Logger) (state.Store, error) {
	if !cfg.Redis.Enabled() {
		log.Info("state store: memory (single instance; set AIRBRANCH_REDIS_URL to share state)")
		return state.NewMemory(), nil
	}
	store, err := state.OpenRedis(ctx, state.RedisOptions{
		URL:         cfg.Redis.URL,
		Addrs:       cfg.Redis.Addrs,
		MasterName:  cfg.Redis.MasterName,
		KeyPrefix:   cfg.Redis.KeyPrefix,
		DialTimeout: cfg.Redis.DialTimeout,
		Username:    cfg.Redis.Username,
		Password:    cfg.Secrets.RedisPassword,
		DB:          cfg.Redis.DB,
		TLS:         cfg.Redis.TLS,

		SentinelPassword: cfg.Secrets.RedisSentinelPassword,
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: redis: %w", err)
	}
	log.Info("state store: redis", "key_prefix", cfg.Redis.KeyPrefix)
	return store, nil
}

// Run listens on cfg.HTTP.Addr (failing at once, with the address, when the
// port is taken) and serves until ctx ends. Then it drains: /readyz answers
// 503 and requests that would start new work get 503 with Retry-After for
// cfg.HTTP.DrainDelay while the listener stays open; then the listener
// closes and in-flight requests have cfg.HTTP.ShutdownGrace to finish. It closes the
// store and returns nil after a clean drain.
func (g *Gateway) Run(ctx context.Context) error {
	defer g.store.Close()
	ln, err := net.Listen("tcp", g.cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("gateway: http listen %s: %w", g.cfg.HTTP.Addr, err)
	}
	return g.Serve(ctx, ln)
}

// Serve is Run on a listener the caller opened (e.g. 127.0.0.1:0 in tests).
// It does not close the store. Beside the HTTP server it runs the router,
// the inbox, the SMPP bind and the voice channel (when configured), which
// stop last, after the requests in flight, and the instance's liveness
// lease with the reaper of lost instances' calls and rooms
// (instance_lease.go), which outlives them and ends the lease at a clean
// stop.
func (g *Gateway) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           g.handler,
		ReadHeaderTimeout: g.cfg.HTTP.ReadHeaderTimeout,
		// A request body must arrive within ReadTimeout and an idle
		// keep-alive connection is closed after IdleTimeout, so slow or
		// idle clients cannot hold a drain for the whole grace period.
		ReadTimeout: readTimeout,
		IdleTimeout: idleTimeout,
		ErrorLog:    slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
	eg, egCtx := errgroup.WithContext(ctx)
	eg.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("gateway: http serve: %w", err)
		}
		return nil
	})
	routerCtx, stopRouter := context.WithCancel(context.WithoutCancel(egCtx))
	routerDone := make(chan struct{})
	// The liveness lease is held before the first call is taken and until
	// every call and room has ended (below); a clean stop then ends it.
	g.live.renew(ctx)
	eg.Go(func() error {
		defer close(routerDone)
		leaseCtx, stopLease := context.WithCancel(context.WithoutCancel(routerCtx))
		leaseDone := make(chan struct{})
		go func() {
			defer close(leaseDone)
			_ = g.live.Run(leaseCtx)
		}()
		defer func() {
			stopLease()
			<-leaseDone
			g.live.stop(ctx)
		}()
		ig, igCtx := errgroup.WithContext(routerCtx)
		ig.Go(func() error { return g.inbox.Run(igCtx) })
		ig.Go(func() error { return g.channels.run(igCtx) })
		ig.Go(func() error { return g.outbox.Run(igCtx, g.hub.MessageStatus) })
		if g.chat != nil {
			ig.Go(func() error { return g.chat.Run(igCtx) })
		}
		if g.video != nil {
			ig.Go(func() error { return g.video.Run(igCtx) })
		}
		if g.voice != nil {
			// Calls outlive the HTTP drain: they are hung up when routing
			// stops, and their ends are recorded before the store closes.
			ig.Go(func() error { return g.voice.Run(igCtx) })
		}
		ig.Go(func() error {
			if err := g.hub.Run(igCtx); err != nil {
				return fmt.Errorf("gateway: desk: %w", err)
			}
			return nil
		})
		ig.Go(func() error {
			if err := g.router.Run(igCtx); err != nil {
				return fmt.Errorf("gateway: routing: %w", err)
			}
			return nil
		})
		return ig.Wait()
	})
	g.ready.Store(true)
	g.metrics.ready.Set(1)
	g.log.Info("serving", "http_addr", ln.Addr().String())
	eg.Go(func() error {
		<-egCtx.Done()
		g.draining.Store(true)
		if g.voice != nil {
			// New calls go to other instances (503); live ones go on
			// until routing stops below.
			g.voice.server.Drain()
		}
		g.ready.Store(false)
		g.metrics.ready.Set(0)
		g.log.Info("draining", "delay", g.cfg.HTTP.DrainDelay.String(), "grace", g.cfg.HTTP.ShutdownGrace.String())
		time.Sleep(g.cfg.HTTP.DrainDelay) // keep serving, /readyz at 503, so load balancers see us leave
		// Desks are told to reconnect (to another instance) and resume.
		g.stopDesk()
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.cfg.HTTP.ShutdownGrace)
		defer cancel()
		if err := srv.Shutdown(shutdownCtx); err != nil {
			_ = srv.Close()
			g.log.Warn("grace period over: closed the connections still open", "grace", g.cfg.HTTP.ShutdownGrace.String(), "error", err)
		}
		// Routing stops last: requests still in flight above could queue
		// work, and offers already made stay leases in the store for any
		// instance to move on.
		g.desk.Wait()
		stopRouter()
		<-routerDone
		g.log.Info("stopped")
		return nil
	})
	return eg.Wait()
}

// ErrNoTokenKey: the gateway runs with a configuration file or Redis but
// has neither AIRBRANCH_JWT_SECRET nor auth.jwks_file to verify tokens.
var ErrNoTokenKey = errors.New("gateway: set AIRBRANCH_JWT_SECRET (at least 32 bytes) or auth.jwks_file: the public development secret is only used by the embedded demo configuration without Redis")

// jwtSecret returns the HS256 secret: AIRBRANCH_JWT_SECRET; or, for the
// embedded demo only (no config file, no Redis, no JWKS), DevJWTSecret
// with a warning; or none when a JWKS file verifies tokens.
func jwtSecret(cfg *configs.Config, log *slog.Logger) ([]byte, error) {
	if cfg.Secrets.JWTSecret != "" {
		return []byte(cfg.Secrets.JWTSecret), nil
	}
	if cfg.Auth.JWKSFile != "" {
		return nil, nil
	}
	if !cfg.Demo() {
		return nil, ErrNoTokenKey
	}
	log.Warn("DEMO MODE: AIRBRANCH_JWT_SECRET is not set, so tokens are signed with the public development secret and anyone can mint them. Set AIRBRANCH_JWT_SECRET outside demos.")
	return []byte(DevJWTSecret), nil
}

func defaultInstanceID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "airbranch"
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return host + "-" + hex.EncodeToString(b[:])
}
