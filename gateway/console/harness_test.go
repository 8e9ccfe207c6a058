package console_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/channels/identity"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/api"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/console"
	"github.com/airbranch/airbranch/gateway/desk"
	"github.com/airbranch/airbranch/gateway/inbox"
	"github.com/airbranch/airbranch/gateway/outbox"
	"github.com/airbranch/airbranch/gateway/router"
	"github.com/airbranch/airbranch/gateway/state"
)

var secret = []byte("console-test-secret-of-at-least-32-bytes")

// monday is the gateway's clock: 10:00 on a Monday in Hong Kong, when the
// demo teams work. The browser keeps its own clock.
var monday = func() time.Time { return time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC) }

// The demo directory's private-bank client and their own RM.
const (
	clientID    = conversation.CustomerID("cus-pb-0001")
	clientPhone = "+85255500001"
	bankNumber  = "+85230000000"
)

var rmPB01 = auth.Principal{Subject: "rm-pb-01", Role: auth.RoleRM, Team: "private_bank"}

// sentSMS is what the recording SMS provider was handed.
type sentSMS struct {
	msg conversation.Message
	to  conversation.Address
}

// gateway is the desk side of one gateway on a real HTTP server, composed
// as the gateway composes it: memory store, demo directory, router with
// the desk hub as its Observer, inbox, outbox with a recording SMS sender,
// the desk WebSocket at /ws/desk, the REST API at /api/ and the console
// at /desk/.
type gateway struct {
	store  state.Store
	dir    directory.Directory
	router *router.Router
	inbox  *inbox.Inbox
	srv    *httptest.Server

	mu    sync.Mutex
	sent  []sentSMS
	dials []string   // the raw query of every /ws/desk request
	conns []net.Conn // the desk connections, to cut them as a network would
}

func newGateway(t *testing.T) *gateway {
	t.Helper()
	cfg, err := configs.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := configs.LoadDirectory(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := configs.CompileRouting(cfg, dir)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	store := state.NewMemory()
	resolver := identity.NewResolver(dir, store, "HK")
	g := &gateway{store: store, dir: dir}
	hub := desk.NewHub(store, resolver, log, monday)
	g.router, err = router.New(router.Options{Store: store, Directory: dir, Customers: resolver, Policies: pol, Observer: hub, Instance: "console-test", Now: monday})
	if err != nil {
		t.Fatal(err)
	}
	g.inbox, err = inbox.New(inbox.Options{Store: store, Resolver: resolver, Router: g.router, Observer: hub, Now: monday})
	if err != nil {
		t.Fatal(err)
	}
	sms := senderFunc(func(_ context.Context, m conversation.Message, to conversation.Address) (conversation.Sent, error) {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.sent = append(g.sent, sentSMS{msg: m, to: to})
		return conversation.Sent{ProviderIDs: []string{"SM-out-" + strconv.Itoa(len(g.sent))}, Status: conversation.DeliverySent}, nil
	})
	ob := outbox.New(store, map[conversation.Channel]outbox.Sender{conversation.ChannelSMS: sms}, log, monday)
	v, err := auth.NewVerifier(auth.VerifierOptions{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	hubDone := make(chan struct{})
	go func() {
		defer close(hubDone)
		_ = hub.Run(ctx)
	}()
	ds, err := desk.NewServer(ctx, desk.Options{Hub: hub, Store: store, Directory: dir, Verifier: v, Routing: g.router, Messages: ob, Logger: log, Now: monday})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(desk.Path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		g.dials = append(g.dials, r.URL.RawQuery)
		g.mu.Unlock()
		ds.ServeHTTP(hijackRecorder{ResponseWriter: w, g: g}, r)
	}))
	mux.Handle("/api/", api.New(api.Deps{Store: store, Directory: dir, Resolver: resolver, Verifier: v,
		Routing: g.router, Transfers: g.router, Messages: ob, Logger: log, Now: monday}))
	mux.Handle(console.Prefix, console.Handler())
	g.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		cancel() // sessions close with 1001, the hub stops listening
		g.dropDesks()
		g.srv.Close()
		<-hubDone
	})
	return g
}

// senderFunc is an outbox.Sender made of a function.
type senderFunc func(ctx context.Context, m conversation.Message, to conversation.Address) (conversation.Sent, error)

func (f senderFunc) Send(ctx context.Context, m conversation.Message, to conversation.Address) (conversation.Sent, error) {
	return f(ctx, m, to)
}

// hijackRecorder keeps the connections the desk server takes over.
type hijackRecorder struct {
	http.ResponseWriter
	g *gateway
}

func (w hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.g.mu.Lock()
		w.g.conns = append(w.g.conns, c)
		w.g.mu.Unlock()
	}
	return c, rw, err
}

// dropDesks cuts every desk connection as a lost network would: no close
// frame, the browser sees 1006.
func (g *gateway) dropDesks() {
	g.mu.Lock()
	conns := g.conns
	g.conns = nil
	g.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
}

// deskDials returns the raw queries of the /ws/desk requests so far.
func (g *gateway) deskDials() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.dials...)
}

// smsSent returns what the SMS provider was handed so far.
func (g *gateway) smsSent() []sentSMS {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]sentSMS(nil), g.sent...)
}

// smsFromClient stores an inbound SMS of the demo client, as the SMS
// adapter hands it to the inbox, and returns the receipt.
func (g *gateway) smsFromClient(t *testing.T, sid, text string) conversation.Receipt {
	t.Helper()
	r, err := g.inbox.Receive(context.Background(), conversation.Incoming{Kind: conversation.IncomingMessage, Channel: conversation.ChannelSMS,
		ChannelAccount: bankNumber, From: conversation.Address{Kind: conversation.AddressPhone, Value: clientPhone},
		ProviderID: sid, Text: text, ReceivedAt: monday()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// route queues the new conversation and runs a routing pass, as the
// inbox's worker and the router's loop do in the gateway.
func (g *gateway) route(t *testing.T, id conversation.ConversationID) {
	t.Helper()
	ctx := context.Background()
	if _, err := g.router.Route(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := g.router.Evaluate(ctx); err != nil {
		t.Fatal(err)
	}
}

// messageID returns the id of the conversation's stored message with text.
func (g *gateway) messageID(t *testing.T, id conversation.ConversationID, text string) conversation.MessageID {
	t.Helper()
	msgs, err := g.store.Messages(context.Background(), id, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if m.Text == text {
			return m.ID
		}
	}
	t.Fatalf("conversation %s has no message %q", id, text)
	return ""
}

func tokenFor(t *testing.T, p auth.Principal) string {
	t.Helper()
	tok, err := auth.Issue(secret, p, time.Hour, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
