package desk_test

import (
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/desk"
	"github.com/airbranch/airbranch/gateway/state"
)

// movable is a settable clock.
type movable struct {
	mu sync.Mutex
	t  time.Time
}

func (m *movable) now() time.Time { m.mu.Lock(); defer m.mu.Unlock(); return m.t }
func (m *movable) advance(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.t = m.t.Add(d)
}

// TestPresenceLeaseFollowsTheDesk: a presence set from the desk is a
// lease of DeskPresenceTTL that the hub renews while the RM's desk is
// open; once the desk is closed nothing renews it and the RM is offline
// when it runs out. An RM who went offline is not made available again.
func TestPresenceLeaseFollowsTheDesk(t *testing.T) {
	stores(t, func(t *testing.T, newStore func() state.Store) {
		clk := &movable{t: monday()}
		store := newStore()
		in := newInstanceAt(t, store, clk.now)
		c, _ := in.dial(t, rmPB01, -1)
		if f := c.request("presence", map[string]string{"state": "available"}); f.Type != desk.TypeAck {
			t.Fatalf("presence: %s %s", f.Type, f.Data)
		}
		set, err := store.Presence(t.Context(), "rm-pb-01", clk.now())
		if err != nil || set.State != conversation.PresenceAvailable || !set.ExpiresAt.Equal(clk.now().Add(desk.DeskPresenceTTL)) {
			t.Fatalf("presence set from the desk: %+v %v, want a lease of %s", set, err, desk.DeskPresenceTTL)
		}
		for range 8 { // four leases' worth, renewed every quarter
			clk.advance(desk.PresenceRenewEvery)
			if n := in.hub.RenewPresences(t.Context()); n != 1 {
				t.Fatalf("renewed %d leases with the desk open, want 1", n)
			}
		}
		p, err := store.Presence(t.Context(), "rm-pb-01", clk.now())
		if err != nil || p.State != conversation.PresenceAvailable || !p.Since.Equal(set.Since) || !p.ExpiresAt.Equal(clk.now().Add(desk.DeskPresenceTTL)) {
			t.Fatalf("after renewals: %+v %v (set %+v)", p, err, set)
		}

		_ = c.conn.Close()
		deadline := time.Now().Add(5 * time.Second)
		for in.hub.RenewPresences(t.Context()) != 0 {
			if time.Now().After(deadline) {
				t.Fatal("the hub still renews the lease of a closed desk")
			}
			time.Sleep(20 * time.Millisecond)
		}
		clk.advance(desk.DeskPresenceTTL)
		if p, err := store.Presence(t.Context(), "rm-pb-01", clk.now()); err != nil || p.State != conversation.PresenceOffline {
			t.Fatalf("lease of a closed desk: %+v %v, want offline", p, err)
		}

		c2, _ := in.dial(t, rmPB01, -1)
		defer func() { _ = c2.conn.Close() }()
		if n := in.hub.RenewPresences(t.Context()); n != 0 {
			t.Fatalf("renewed %d leases of an RM who is offline", n)
		}
	})
}
