package wallboard_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/channels/identity"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/api"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/router"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/stats"
	"github.com/airbranch/airbranch/gateway/wallboard"
)

var secret = []byte("wallboard-test-secret-of-at-least-32-bytes")

// streamPath is the figures' stream of the REST API.
const streamPath = "/api/v1/stats/stream"

// The private-bank supervisor, an admin (every team), and the demo
// directory's private-bank client with their own RM.
var (
	supPB  = auth.Principal{Subject: "sup-pb", Role: auth.RoleSupervisor, Team: "private_bank"}
	admin  = auth.Principal{Subject: "ops-1", Role: auth.RoleAdmin}
	rmPB01 = auth.Principal{Subject: "rm-pb-01", Role: auth.RoleRM, Team: "private_bank"}
)

const (
	clientID = conversation.CustomerID("cus-pb-0001")
	ownRM    = conversation.RMID("rm-pb-01")
)

// clock is the gateway's clock, moved by the test; it starts at 10:00 on
// a Monday in Hong Kong, when the demo teams work. The browser keeps its
// own clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// streamRequest is what one request of the figures' stream carried.
type streamRequest struct {
	rawQuery      string
	authorization string
}

// gateway is the supervisor side of one gateway on a real HTTP server,
// composed as the gateway composes it: memory store, demo directory,
// router, the REST API with its figures (stats.Source) at /api/ and the
// wallboard at /supervisor/. Requests of the figures' stream are recorded
// and can be ended as the gateway's 5-minute limit ends them.
type gateway struct {
	store  state.Store
	dir    directory.Directory
	router *router.Router
	stats  *stats.Source
	clk    *clock
	srv    *httptest.Server

	mu      sync.Mutex
	streams []streamRequest
	open    map[int]context.CancelFunc // the streams being served, by index in streams
	changed chan struct{}              // closed and replaced whenever open changes
}

func newGateway(t *testing.T) *gateway { return newGatewayFigures(t, true) }

// newGatewayFigures is newGateway; without figures (withStats false) the
// API's stats routes answer 503, as on an instance that has none.
func newGatewayFigures(t *testing.T, withStats bool) *gateway {
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
	clk := &clock{t: time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)}
	g := &gateway{store: store, dir: dir, clk: clk, open: map[int]context.CancelFunc{}, changed: make(chan struct{})}
	resolver := identity.NewResolver(dir, store, "HK")
	g.router, err = router.New(router.Options{Store: store, Directory: dir, Customers: resolver, Policies: pol, Instance: "wallboard-test", Now: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.VerifierOptions{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	g.stats = &stats.Source{Store: store, Directory: dir, Policies: pol}
	var figures api.Stats
	if withStats {
		figures = g.stats
	}
	apiHandler := api.New(api.Deps{Store: store, Directory: dir, Resolver: resolver, Verifier: v,
		Routing: g.router, Transfers: g.router, Stats: figures,
		Logger: log, Now: clk.now})
	mux := http.NewServeMux()
	mux.Handle(streamPath, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		i := g.streamOpened(r, cancel)
		defer g.streamClosed(i)
		apiHandler.ServeHTTP(w, r.WithContext(ctx))
	}))
	mux.Handle("/api/", apiHandler)
	mux.Handle(wallboard.Prefix, wallboard.Handler())
	g.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		g.endStreams()
		g.srv.CloseClientConnections()
		g.srv.Close()
	})
	return g
}

func (g *gateway) streamOpened(r *http.Request, cancel context.CancelFunc) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.streams = append(g.streams, streamRequest{rawQuery: r.URL.RawQuery, authorization: r.Header.Get("Authorization")})
	i := len(g.streams) - 1
	g.open[i] = cancel
	g.signal()
	return i
}

func (g *gateway) streamClosed(i int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.open, i)
	g.signal()
}

// signal wakes waitOpenStreams; g.mu is held.
func (g *gateway) signal() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// endStreams ends every figures' stream being served, as the gateway ends
// them after 5 minutes: the handler returns and the response completes.
func (g *gateway) endStreams() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, cancel := range g.open {
		cancel()
	}
}

// streamRequests returns the figures' stream requests so far.
func (g *gateway) streamRequests() []streamRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]streamRequest(nil), g.streams...)
}

// waitOpenStreams waits until n figures' streams are being served.
func (g *gateway) waitOpenStreams(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(stepTimeout)
	for {
		g.mu.Lock()
		got, changed := len(g.open), g.changed
		g.mu.Unlock()
		if got == n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%d figures' streams open, want %d", got, n)
		}
	}
}

// waitStreamRequests waits until n figures' stream requests have come.
func (g *gateway) waitStreamRequests(t *testing.T, n int) {
	t.Helper()
	deadline := time.After(stepTimeout)
	for {
		g.mu.Lock()
		got, changed := len(g.streams), g.changed
		g.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("%d figures' stream requests, want %d", got, n)
		}
	}
}

// play runs a private-bank morning through the router on the gateway's
// clock, from 10:00:
//
//	A: offered to the client's own RM rm-pb-01, answered after 5 s, closed
//	   after 4 min with lead:mortgage;
//	B: queued while the RM is in a meeting, offered and answered after
//	   30 s (over the private segment's 20 s budget), closed after 2 min
//	   as resolved;
//	C: offered to rm-pb-01, abandoned by the client after 10 s;
//	E: offered and answered after 2 s, still active (25 of rm-pb-01's 100
//	   units);
//	D: queued while rm-pb-01 is away again, waiting for 40 s.
//
// The private_bank team (A, B, C, E; D has no team while it waits):
// offered 4, answered 3, 2 within 20 s: SLA 50 % (below 80 %); ASA
// (5+30+2)/3 = 12.3 s; AHT (240+120)/2 = 3 min 00 s; abandoned 1 (25 %);
// handled 2; RMs: 1 away, 2 offline; occupancy 25 %. The private segment
// (all five): waiting 1, longest 40 s, offered 5, SLA 40 %. rm-pb-01's
// scorecard: handled 2, AHT 3 min 00 s, active 1, leads 1.
func (g *gateway) play(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	rt := g.router
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	cust, err := g.dir.Customer(ctx, clientID)
	must(err)
	open := func() conversation.ConversationID {
		t.Helper()
		c := conversation.New(cust, conversation.ChannelWebChat, cust.Addresses[0], g.clk.now())
		_, err := g.store.CreateConversation(ctx, c)
		must(err)
		_, err = rt.Route(ctx, c.ID)
		must(err)
		return c.ID
	}
	offered := func(id conversation.ConversationID) conversation.OfferID {
		t.Helper()
		must(rt.Evaluate(ctx))
		o, err := g.store.OfferFor(ctx, id, g.clk.now())
		must(err)
		if o.RMID != ownRM {
			t.Fatalf("conversation %s offered to %s, want %s", id, o.RMID, ownRM)
		}
		return o.ID
	}
	presence := func(st conversation.PresenceState, reason string) {
		t.Helper()
		_, err := rt.SetPresence(ctx, ownRM, st, reason, 8*time.Hour)
		must(err)
	}
	accept := func(o conversation.OfferID) {
		t.Helper()
		_, err := rt.Accept(ctx, o, ownRM)
		must(err)
	}
	closeAs := func(id conversation.ConversationID, disposition string) {
		t.Helper()
		_, err := rt.Close(ctx, id, ownRM, disposition)
		must(err)
	}

	presence(conversation.PresenceAvailable, "")
	a := open()
	oa := offered(a)
	g.clk.advance(5 * time.Second)
	accept(oa)
	g.clk.advance(4 * time.Minute)
	closeAs(a, "lead:mortgage")

	presence(conversation.PresenceAway, "meeting")
	b := open()
	g.clk.advance(30 * time.Second)
	presence(conversation.PresenceAvailable, "")
	accept(offered(b))
	g.clk.advance(2 * time.Minute)
	closeAs(b, "resolved")

	c := open()
	offered(c)
	g.clk.advance(10 * time.Second)
	_, err = rt.Abandon(ctx, c)
	must(err)

	e := open()
	oe := offered(e)
	g.clk.advance(2 * time.Second)
	accept(oe)

	presence(conversation.PresenceAway, "meeting")
	open()
	g.clk.advance(40 * time.Second)
}

func tokenFor(t *testing.T, p auth.Principal) string {
	t.Helper()
	tok, err := auth.Issue(secret, p, time.Hour, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
