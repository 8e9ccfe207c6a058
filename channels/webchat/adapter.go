package webchat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Adapter is the web chat channel: Handler serves the client WebSocket,
// the chat page and the upload endpoint; Send is the outbox's Sender for
// the channel; Typing and ConversationChanged carry the desk's typing and
// the conversation's state to the client; Run listens for other
// instances' events. It is safe for concurrent use.
type Adapter struct {
	cfg      Config
	sink     Sink
	streams  Streams
	convs    Conversations
	custs    Customers
	rms      RMs
	waiting  func(ctx context.Context, limit int) ([]conversation.ConversationID, error)
	hours    func(ctx context.Context, segment conversation.Segment, now time.Time) (bool, string)
	onTyping func(ctx context.Context, customer conversation.CustomerID, conv conversation.ConversationID)
	atts     AttachmentStore
	log      *slog.Logger
	now      func() time.Time

	verifier *verifier
	upgrader websocket.Upgrader
	pool     sync.Pool
	hub      *hub
	queue    *queueView
	waits    *waitStats
	changes  *stateMemo
	anonRate *bucket
	anonMu   sync.Mutex

	// mu guards closing and the sessions' count: no session starts once
	// Run has begun closing them.
	mu       sync.Mutex
	closing  bool
	stop     chan struct{}
	sessions sync.WaitGroup
}

// New validates cfg (after filling defaults), reads the token key files,
// and returns the adapter. Errors wrap ErrConfig or ErrKeys.
func New(cfg Config, deps Deps) (*Adapter, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("webchat: %w", err)
	}
	if deps.Sink == nil || deps.Streams == nil || deps.Conversations == nil || deps.Customers == nil {
		return nil, fmt.Errorf("webchat: %w: sink, streams, conversations and customers are required", ErrConfig)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Attachments == nil {
		deps.Attachments = NewMemoryAttachments(0, deps.Now)
	}
	v, err := newVerifier(cfg.Token, cfg.Anonymous, deps.Now)
	if err != nil {
		return nil, err
	}
	a := &Adapter{
		cfg: cfg, sink: deps.Sink, streams: deps.Streams, convs: deps.Conversations, custs: deps.Customers,
		rms: deps.RMs, waiting: deps.Waiting, hours: deps.BusinessHours, onTyping: deps.OnTyping,
		atts: deps.Attachments, log: deps.Logger.With("channel", "webchat"), now: deps.Now,
		verifier: v, stop: make(chan struct{}),
		waits:    newWaitStats(),
		changes:  newStateMemo(4096),
		anonRate: newBucket(float64(cfg.Anonymous.PerMinute)/60, float64(cfg.Anonymous.PerMinute), deps.Now()),
	}
	a.hub = newHub(a.streams, a.log, a.now)
	a.queue = newQueueView(a.waiting, a.convs, time.Second)
	a.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
		WriteBufferPool:  &a.pool,
		Subprotocols:     []string{Subprotocol},
		CheckOrigin:      a.originAllowed,
	}
	return a, nil
}

// Handler serves WSPath (the client WebSocket) and everything under
// PagePrefix: the chat page, ConfigPath, AnonymousPath and
// AttachmentsPath. Mount it at both: mux.Handle(webchat.WSPath, h);
// mux.Handle(webchat.PagePrefix, h).
func (a *Adapter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+WSPath, a.serveWS)
	mux.HandleFunc("GET "+ConfigPath, a.serveConfig)
	mux.HandleFunc("POST "+AnonymousPath, a.serveAnonymous)
	mux.HandleFunc("POST "+AttachmentsPath, a.serveUpload)
	mux.HandleFunc("GET "+AttachmentsPath+"/{id}", a.serveAttachment)
	mux.HandleFunc("OPTIONS "+AttachmentsPath, a.servePreflight)
	mux.HandleFunc("OPTIONS "+AnonymousPath, a.servePreflight)
	mux.Handle("GET "+PagePrefix, pageHandler())
	return mux
}

// Run listens on Topic for other instances' events and wakes the sessions
// they concern, until ctx ends; then it closes every session with 1001
// (they reconnect, to another instance, and resume), waits for them, and
// refuses new ones with 503. It returns the store's error, after the same
// closing, when it cannot listen. Without Run, sessions hear only this
// instance's events.
func (a *Adapter) Run(ctx context.Context) error {
	defer a.shutdown()
	ch, err := a.streams.Listen(ctx, Topic)
	if err != nil {
		return fmt.Errorf("webchat: listen %s: %w", Topic, err)
	}
	for payload := range ch {
		a.hub.deliver(payload)
	}
	return nil
}

// shutdown closes every session and waits for them; sessions arriving
// after it are refused with 503.
func (a *Adapter) shutdown() {
	a.mu.Lock()
	if !a.closing {
		a.closing = true
		close(a.stop)
	}
	a.mu.Unlock()
	a.sessions.Wait()
}

// Sessions returns how many client sessions are connected to this
// instance.
func (a *Adapter) Sessions() int { return a.hub.count() }

// originAllowed is the upgrader's CheckOrigin: no Origin (a native app),
// the gateway's own origin, or one of Config.AllowedOrigins.
func (a *Adapter) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return a.listedOrigin(origin)
}

// listedOrigin reports whether origin is one of Config.AllowedOrigins.
func (a *Adapter) listedOrigin(origin string) bool {
	return slices.ContainsFunc(a.cfg.AllowedOrigins, func(o string) bool { return o == "*" || strings.EqualFold(o, origin) })
}

// client is who a session or an HTTP request speaks for: the token's
// principal, the client's address (app_user) and customer.
type client struct {
	principal
	addr     conversation.Address
	customer conversation.Customer
}

// httpError is a refusal before the upgrade or of an HTTP request.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// authenticate verifies r's token and finds its client: 401 without a
// valid token, 403 for a customer without an app_user address, 503 when
// the customer cannot be resolved now.
func (a *Adapter) authenticate(r *http.Request) (client, error) {
	token, err := bearerToken(r)
	if err != nil {
		return client{}, &httpError{http.StatusUnauthorized, err.Error()}
	}
	p, err := a.verifier.verify(token)
	if err != nil {
		return client{}, &httpError{http.StatusUnauthorized, err.Error()}
	}
	c := client{principal: p}
	ctx := r.Context()
	if a.cfg.Token.Subject == SubjectCustomer && !p.Anonymous {
		cust, err := a.custs.Customer(ctx, conversation.CustomerID(p.Subject))
		switch {
		case errors.Is(err, conversation.ErrNotFound):
			return client{}, &httpError{http.StatusForbidden, "the token's subject is not a customer of the bank"}
		case err != nil:
			return client{}, err
		}
		addr, ok := cust.Address(conversation.AddressApp)
		if !ok {
			return client{}, &httpError{http.StatusForbidden, "the customer has no app_user address to chat from"}
		}
		c.addr = addr
	} else {
		c.addr = conversation.Address{Kind: conversation.AddressApp, Value: p.Subject}
	}
	cust, _, err := a.custs.Resolve(ctx, c.addr, a.now())
	if err != nil {
		if errors.Is(err, conversation.ErrInvalid) {
			return client{}, &httpError{http.StatusUnauthorized, "the token's subject is not a valid app user id"}
		}
		return client{}, err
	}
	c.customer = cust
	return c, nil
}

// refuse answers an authentication failure: its status, or 503 for a
// backend that cannot answer now.
func (a *Adapter) refuse(w http.ResponseWriter, err error) {
	var he *httpError
	if errors.As(err, &he) {
		if he.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="airbranch-chat"`)
		}
		http.Error(w, he.msg, he.status)
		return
	}
	a.log.Warn("webchat: client could not be resolved", "error", err)
	w.Header().Set("Retry-After", "2")
	http.Error(w, "the service is unavailable; retry", http.StatusServiceUnavailable)
}
