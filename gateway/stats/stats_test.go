package stats_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/router"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/state/statetest"
	"github.com/airbranch/airbranch/gateway/stats"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A private-bank morning: one conversation answered in 5 s and closed
// with a mortgage lead after 4 min, one abandoned after 30 s, one still
// waiting for 40 s.
func TestBoardAndScorecard(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) state.Store{
		"memory": func(*testing.T) state.Store { return state.NewMemory() },
		"redis":  func(t *testing.T) state.Store { return statetest.OpenRedis(t, "abstats") },
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			store := open(t)
			cfg, err := configs.Load("", nil)
			must(t, err)
			dir, err := configs.LoadDirectory(cfg)
			must(t, err)
			pol, err := configs.CompileRouting(cfg, dir)
			must(t, err)
			clk := &clock{t: time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)} // 10:00 Monday in Hong Kong
			rt, err := router.New(router.Options{Store: store, Directory: dir, Customers: dir, Policies: pol, Now: clk.now})
			must(t, err)
			start := clk.now()
			cust, err := dir.Customer(ctx, "cus-pb-0001")
			must(t, err)
			openConv := func() conversation.Conversation {
				c := conversation.New(cust, conversation.ChannelWebChat, cust.Addresses[0], clk.now())
				_, err := store.CreateConversation(ctx, c)
				must(t, err)
				c, err = rt.Route(ctx, c.ID)
				must(t, err)
				return c
			}
			_, err = rt.SetPresence(ctx, "rm-pb-01", conversation.PresenceAvailable, "", 8*time.Hour)
			must(t, err)

			a := openConv()
			must(t, rt.Evaluate(ctx))
			o, err := store.OfferFor(ctx, a.ID, clk.now())
			must(t, err)
			clk.advance(5 * time.Second)
			_, err = rt.Accept(ctx, o.ID, "rm-pb-01")
			must(t, err)
			clk.advance(4 * time.Minute)
			_, err = rt.Close(ctx, a.ID, "rm-pb-01", "lead:mortgage")
			must(t, err)

			_, err = rt.SetPresence(ctx, "rm-pb-01", conversation.PresenceAway, "meeting", time.Hour)
			must(t, err)
			b := openConv()
			clk.advance(30 * time.Second)
			_, err = rt.Abandon(ctx, b.ID)
			must(t, err)
			openConv()
			clk.advance(40 * time.Second)

			src := &stats.Source{Store: store, Directory: dir, Policies: pol}
			board, err := src.Board(ctx, start, clk.now(), nil)
			must(t, err)
			var private stats.Figures
			for _, f := range board.Segments {
				if f.Key == "private" {
					private = f
				}
			}
			want := stats.Figures{Key: "private", Waiting: 1, LongestWaitSeconds: 40, Offered: 3, Answered: 1, AnsweredInTarget: 1,
				Abandoned: 1, Handled: 1, BudgetSeconds: private.BudgetSeconds, BudgetPercent: private.BudgetPercent,
				SLAPercent: 33.3, ASASeconds: 5, AHTSeconds: 240, AbandonPercent: 33.3}
			if private.BudgetSeconds != 20 || private.BudgetPercent != 80 {
				t.Fatalf("private wait budget %v s at %d%%, want the default 80%% in 20 s", private.BudgetSeconds, private.BudgetPercent)
			}
			if private.Key != want.Key || private.Waiting != want.Waiting || private.LongestWaitSeconds != want.LongestWaitSeconds ||
				private.Offered != want.Offered || private.Answered != want.Answered || private.AnsweredInTarget != want.AnsweredInTarget ||
				private.Abandoned != want.Abandoned || private.Handled != want.Handled || private.SLAPercent != want.SLAPercent ||
				private.ASASeconds != want.ASASeconds || private.AHTSeconds != want.AHTSeconds || private.AbandonPercent != want.AbandonPercent {
				t.Fatalf("private segment\n got %+v\nwant %+v", private, want)
			}
			var team stats.Figures
			for _, f := range board.Teams {
				if f.Key == "private_bank" {
					team = f
				}
			}
			if team.Handled != 1 || team.RMs["away"] != 1 || team.RMs["offline"] == 0 || team.Waiting != 1 || team.BudgetSeconds != 20 || team.BudgetPercent != 80 {
				t.Fatalf("private_bank team %+v", team)
			}

			onlyMass, err := src.Board(ctx, start, clk.now(), func(id conversation.TeamID) bool { return id == "mass" })
			must(t, err)
			if len(onlyMass.Teams) != 1 || onlyMass.Teams[0].Key != "mass" {
				t.Fatalf("a mass supervisor's board shows teams %+v", onlyMass.Teams)
			}

			queues, err := src.Queues(ctx, clk.now())
			must(t, err)
			if q := queues["private_bank"]; q.Waiting != 1 || q.LongestWaitSeconds != 40 {
				t.Fatalf("private_bank queue %+v, want 1 waiting for 40 s", q)
			}
			if q := queues["mass"]; q.Waiting != 0 {
				t.Fatalf("mass queue %+v, want none", q)
			}

			sc, err := src.Scorecard(ctx, "rm-pb-01", start, clk.now())
			must(t, err)
			if sc.Handled != 1 || sc.AHTSeconds != 240 || sc.Leads != 1 || sc.Dispositions["lead:mortgage"] != 1 || sc.TeamID != "private_bank" {
				t.Fatalf("scorecard %+v", sc)
			}
			if _, err := src.Scorecard(ctx, "rm-nobody", start, clk.now()); err == nil {
				t.Fatal("scorecard of an unknown RM")
			}
		})
	}
}
