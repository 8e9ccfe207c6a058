package router

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/routing"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// A Monday morning in Hong Kong.
var monday = time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)

// world is a directory with every team the default policies name plus a
// wealth_advisers specialist pool (which no default policy reaches), RMs
// who all speak Cantonese, one private-bank and one mass client.
func world(t *testing.T) *directory.Static {
	t.Helper()
	var teams []conversation.Team
	for _, id := range []struct {
		id  conversation.TeamID
		seg conversation.Segment
	}{
		{"private_bank", conversation.SegmentPrivate}, {"affluent", conversation.SegmentAffluent},
		{"mass_affluent", conversation.SegmentMassAffluent}, {"mass", conversation.SegmentMass},
		{"small_business", conversation.SegmentSmallBusiness}, {"retail_lending", conversation.SegmentRetailLending},
		{"overflow", conversation.SegmentMass},
	} {
		teams = append(teams, conversation.Team{ID: id.id, Kind: conversation.TeamSegment, Segment: id.seg, TimeZone: "Asia/Hong_Kong"})
	}
	teams = append(teams, conversation.Team{ID: "wealth_advisers", Kind: conversation.TeamSpecialist, TimeZone: "Asia/Hong_Kong"})
	rm := func(id conversation.RMID, team conversation.TeamID, deputy conversation.RMID) conversation.RM {
		return conversation.RM{ID: id, TeamID: team, Deputy: deputy, Capacity: 100, Languages: []string{"en", "yue"},
			Skills:   map[string]int{"wealth": 5, "mortgage": 3},
			Licences: []conversation.Licence{{Name: "investment_advice"}}}
	}
	rms := []conversation.RM{
		rm("rm-pb-01", "private_bank", "rm-pb-02"), rm("rm-pb-02", "private_bank", ""), rm("rm-pb-03", "private_bank", ""),
		rm("rm-af-01", "affluent", ""), rm("rm-ma-01", "mass_affluent", ""), rm("rm-ms-01", "mass", ""),
		rm("rm-sb-01", "small_business", ""), rm("rm-rl-01", "retail_lending", ""), rm("rm-ov-01", "overflow", ""),
		rm("rm-wa-01", "wealth_advisers", ""), rm("rm-wa-02", "wealth_advisers", ""),
	}
	customers := []conversation.Customer{{
		ID: "cus-pb-0001", Segment: conversation.SegmentPrivate, OwnRM: "rm-pb-01", DeputyRM: "rm-pb-02",
		PreferredLanguage: "yue", Verification: conversation.VerificationBasic,
		Addresses: []conversation.Address{{Kind: conversation.AddressPhone, Value: "+85255500001"}},
	}, {
		ID: "cus-ms-0001", Segment: conversation.SegmentMass, Verification: conversation.VerificationBasic,
		Addresses: []conversation.Address{{Kind: conversation.AddressPhone, Value: "+85255500002"}},
	}}
	d, err := directory.NewStatic(teams, rms, customers)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type fixture struct {
	r     *Router
	store state.Store
	dir   *directory.Static
	clk   *clock
	ctx   context.Context
}

func newFixture(t *testing.T, store state.Store) *fixture {
	t.Helper()
	return newFixtureWith(t, store, routing.DefaultConfig())
}

// newFixtureWith is newFixture with routing configuration cfg.
func newFixtureWith(t *testing.T, store state.Store, cfg routing.Config) *fixture {
	t.Helper()
	dir := world(t)
	teams, _ := dir.Teams(context.Background())
	rms, _ := dir.RMs(context.Background())
	pol, err := routing.Compile(cfg, teams, rms)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: monday}
	r, err := New(Options{Store: store, Directory: dir, Customers: dir, Policies: pol, Now: clk.Now, Instance: "test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{r: r, store: store, dir: dir, clk: clk, ctx: context.Background()}
}

// open creates a conversation for customer on channel and queues it.
func (f *fixture) open(t *testing.T, customer conversation.CustomerID, ch conversation.Channel) conversation.Conversation {
	t.Helper()
	cust, err := f.dir.Customer(f.ctx, customer)
	if err != nil {
		t.Fatal(err)
	}
	c := conversation.New(cust, ch, cust.Addresses[0], f.clk.Now())
	if _, err := f.store.CreateConversation(f.ctx, c); err != nil {
		t.Fatal(err)
	}
	c, err = f.r.Route(f.ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) available(t *testing.T, ids ...conversation.RMID) {
	t.Helper()
	for _, id := range ids {
		if _, err := f.r.SetPresence(f.ctx, id, conversation.PresenceAvailable, "", 8*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) evaluate(t *testing.T) {
	t.Helper()
	if err := f.r.Evaluate(f.ctx); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) offerOf(t *testing.T, id conversation.ConversationID) (conversation.Offer, bool) {
	t.Helper()
	o, err := f.store.OfferFor(f.ctx, id, f.clk.Now())
	if errors.Is(err, state.ErrNotFound) {
		return o, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return o, true
}

func (f *fixture) load(t *testing.T, rm conversation.RMID) int {
	t.Helper()
	st, err := f.store.RMState(f.ctx, rm)
	if err != nil {
		t.Fatal(err)
	}
	return st.Load
}

func (f *fixture) status(t *testing.T, id conversation.ConversationID) conversation.Status {
	t.Helper()
	c, err := f.store.Conversation(f.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return c.Status
}

func stores(t *testing.T) map[string]func(t *testing.T) state.Store {
	return map[string]func(t *testing.T) state.Store{
		"memory": func(*testing.T) state.Store { return state.NewMemory() },
		"redis":  redisStore,
	}
}
