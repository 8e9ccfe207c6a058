package desk_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/identity"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/desk"
	"github.com/airbranch/airbranch/gateway/inbox"
	"github.com/airbranch/airbranch/gateway/outbox"
	"github.com/airbranch/airbranch/gateway/router"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/state/statetest"
	"github.com/airbranch/airbranch/gateway/stats"
)

var secret = []byte("desk-test-secret-of-at-least-32-bytes")

// monday is the instances' clock: 10:00 on a Monday in Hong Kong, when
// the demo teams work.
var monday = func() time.Time { return time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC) }

// senderFunc is an outbox.Sender made of a function.
type senderFunc func(ctx context.Context, m conversation.Message, to conversation.Address) (conversation.Sent, error)

func (f senderFunc) Send(ctx context.Context, m conversation.Message, to conversation.Address) (conversation.Sent, error) {
	return f(ctx, m, to)
}

// instance is one gateway's desk side: router, inbox, outbox, hub and the
// desk server on a real HTTP server.
type instance struct {
	store  state.Store
	router *router.Router
	inbox  *inbox.Inbox
	hub    *desk.Hub
	srv    *httptest.Server
	mu     sync.Mutex
	sent   []conversation.Message // what the SMS "provider" got
}

// newInstance starts an instance on store with the demo directory and
// policies; its hub listens until the test ends.
func newInstance(t *testing.T, store state.Store) *instance {
	t.Helper()
	return newInstanceAt(t, store, monday)
}

// newInstanceAt is newInstance on clock now.
func newInstanceAt(t *testing.T, store state.Store, monday func() time.Time) *instance {
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
	resolver := identity.NewResolver(dir, store, "HK")
	in := &instance{store: store}
	in.hub = desk.NewHub(store, resolver, log, monday)
	in.hub.SetQueues((&stats.Source{Store: store, Directory: dir, Policies: pol}).Queues)
	in.router, err = router.New(router.Options{Store: store, Directory: dir, Customers: resolver, Policies: pol, Observer: in.hub, Instance: "desk-test", Now: monday})
	if err != nil {
		t.Fatal(err)
	}
	in.hub.SetPresenceRenewal(in.router)
	in.inbox, err = inbox.New(inbox.Options{Store: store, Resolver: resolver, Router: in.router, Observer: in.hub, Now: monday})
	if err != nil {
		t.Fatal(err)
	}
	sms := senderFunc(func(_ context.Context, m conversation.Message, _ conversation.Address) (conversation.Sent, error) {
		in.mu.Lock()
		defer in.mu.Unlock()
		in.sent = append(in.sent, m)
		return conversation.Sent{ProviderIDs: []string{"SM-out-" + strconv.Itoa(len(in.sent))}, Status: conversation.DeliverySent}, nil
	})
	ob := outbox.New(store, map[conversation.Channel]outbox.Sender{conversation.ChannelSMS: sms}, log, monday)
	v, err := auth.NewVerifier(auth.VerifierOptions{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = in.hub.Run(ctx) }()
	ds, err := desk.NewServer(ctx, desk.Options{Hub: in.hub, Store: store, Directory: dir, Verifier: v, Routing: in.router, Messages: ob, Logger: log, Now: monday})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(desk.Path, ds)
	in.srv = httptest.NewServer(mux)
	t.Cleanup(in.srv.Close)
	return in
}

// stores runs fn on the memory store and on Redis (real when
// AIRBRANCH_TEST_REDIS_URL is set, else miniredis). newStore returns the
// store of one more instance: on Redis a client of its own on the same
// Redis and key prefix, as another gateway instance has.
func stores(t *testing.T, fn func(t *testing.T, newStore func() state.Store)) {
	t.Run("memory", func(t *testing.T) {
		s := state.NewMemory()
		fn(t, func() state.Store { return s })
	})
	t.Run("redis", func(t *testing.T) {
		pool := statetest.OpenRedisInstances(t, "abdesk", 2)
		n := 0
		fn(t, func() state.Store {
			s := pool[n%len(pool)]
			n++
			return s
		})
	})
}

func tokenFor(t *testing.T, p auth.Principal) string {
	t.Helper()
	tok, err := auth.Issue(secret, p, time.Hour, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

var rmPB01 = auth.Principal{Subject: "rm-pb-01", Role: auth.RoleRM, Team: "private_bank"}

// client is a desk connection of a test.
type client struct {
	t       *testing.T
	conn    *websocket.Conn
	last    int64
	n       int
	pending []desk.Frame // frames read while waiting for an answer
}

// dial opens a desk session for p (after < 0: afresh) with the token as
// a subprotocol, as a browser sends it.
func (in *instance) dial(t *testing.T, p auth.Principal, after int64) (*client, desk.Welcome) {
	t.Helper()
	u := "ws" + strings.TrimPrefix(in.srv.URL, "http") + desk.Path
	if after >= 0 {
		u += "?after=" + strconv.FormatInt(after, 10)
	}
	d := websocket.Dialer{Subprotocols: []string{desk.Subprotocol, "bearer." + tokenFor(t, p)}}
	conn, res, err := d.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, res)
	}
	if conn.Subprotocol() != desk.Subprotocol {
		t.Fatalf("subprotocol %q", conn.Subprotocol())
	}
	t.Cleanup(func() { _ = conn.Close() })
	c := &client{t: t, conn: conn}
	f := c.next()
	if f.Type != desk.TypeWelcome {
		t.Fatalf("first frame %s, want welcome", f.Type)
	}
	var w desk.Welcome
	if err := json.Unmarshal(f.Data, &w); err != nil {
		t.Fatal(err)
	}
	c.last = w.LastSeq
	return c, w
}

// next returns the next frame: one read earlier while waiting for an
// answer, else one read now (5 s at most).
func (c *client) next() desk.Frame {
	c.t.Helper()
	if len(c.pending) > 0 {
		f := c.pending[0]
		c.pending = c.pending[1:]
		return f
	}
	return c.read()
}

func (c *client) read() desk.Frame {
	c.t.Helper()
	_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var f desk.Frame
	if err := c.conn.ReadJSON(&f); err != nil {
		c.t.Fatalf("read: %v", err)
	}
	if f.Seq > 0 {
		if f.Seq != c.last+1 {
			c.t.Fatalf("event seq %d after %d: a gap or a repeat", f.Seq, c.last)
		}
		c.last = f.Seq
	}
	return f
}

// until reads frames until one of type typ (skipping others) and returns it.
func (c *client) until(typ string) desk.Frame {
	c.t.Helper()
	for i := 0; i < 50; i++ {
		if f := c.next(); f.Type == typ {
			return f
		}
	}
	c.t.Fatalf("no %s frame in 50", typ)
	return desk.Frame{}
}

// request sends a request and returns its answer (ack or error),
// skipping stream events read meanwhile.
func (c *client) request(typ string, data any) desk.Frame {
	c.t.Helper()
	c.n++
	id := "r" + strconv.Itoa(c.n)
	raw, _ := json.Marshal(data)
	if err := c.conn.WriteJSON(desk.Frame{V: 1, Type: typ, ID: id, Data: raw}); err != nil {
		c.t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		f := c.read()
		if f.ID == id {
			return f
		}
		c.pending = append(c.pending, f)
	}
	c.t.Fatalf("no answer to %s", typ)
	return desk.Frame{}
}

func decode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}
