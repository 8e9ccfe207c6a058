package statetest

import (
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// testInstanceLeases: leases end at their expiry (to the µs), a renewal
// moves them, lost ones come earliest first, and an instance is forgotten
// only once its lease has ended and it holds nothing.
func testInstanceLeases(t *testing.T, s state.Store) {
	ctx := t.Context()
	lease := 10 * time.Second
	must(t, "RenewInstance gw-b", s.RenewInstance(ctx, "gw-b", at(0).Add(lease)))
	must(t, "RenewInstance gw-a", s.RenewInstance(ctx, "gw-a", at(0).Add(lease)))
	must(t, "RenewInstance gw-c", s.RenewInstance(ctx, "gw-c", at(0).Add(2*lease)))

	lost, err := s.LostInstances(ctx, at(0).Add(lease-time.Microsecond), 0)
	must(t, "LostInstances before the end", err)
	equal(t, "lost before the end", lost, []string{})
	lost, err = s.LostInstances(ctx, at(0).Add(lease), 0)
	must(t, "LostInstances", err)
	equal(t, "lost at the end, ties by id", lost, []string{"gw-a", "gw-b"})
	lost, err = s.LostInstances(ctx, at(0).Add(3*lease), 2)
	must(t, "LostInstances limit", err)
	equal(t, "lost with a limit", lost, []string{"gw-a", "gw-b"})

	// A renewal takes gw-a out of the lost ones.
	must(t, "RenewInstance gw-a again", s.RenewInstance(ctx, "gw-a", at(0).Add(4*lease)))
	lost, err = s.LostInstances(ctx, at(0).Add(3*lease), 0)
	must(t, "LostInstances after renewal", err)
	equal(t, "lost after gw-a renewed", lost, []string{"gw-b", "gw-c"})

	// Holdings.
	must(t, "AddHolding", s.AddHolding(ctx, "gw-b", "conv-2"))
	must(t, "AddHolding", s.AddHolding(ctx, "gw-b", "conv-1"))
	must(t, "AddHolding twice", s.AddHolding(ctx, "gw-b", "conv-1"))
	must(t, "AddHolding gw-a", s.AddHolding(ctx, "gw-a", "conv-3"))
	held, err := s.Holdings(ctx, "gw-b")
	must(t, "Holdings", err)
	equal(t, "gw-b holds", held, []conversation.ConversationID{"conv-1", "conv-2"})
	none, err := s.Holdings(ctx, "gw-none")
	must(t, "Holdings of nobody", err)
	equal(t, "holdings of an unknown instance", none, []conversation.ConversationID{})

	// Not forgotten while it holds something, nor while its lease runs.
	ok, err := s.ForgetInstance(ctx, "gw-b", at(0).Add(lease))
	must(t, "ForgetInstance holding", err)
	if ok {
		t.Fatal("gw-b forgotten while it holds two conversations")
	}
	for _, id := range []conversation.ConversationID{"conv-1", "conv-2"} {
		removed, err := s.RemoveHolding(ctx, "gw-b", id)
		must(t, "RemoveHolding", err)
		if !removed {
			t.Fatalf("RemoveHolding %s: false, want true", id)
		}
	}
	removed, err := s.RemoveHolding(ctx, "gw-b", "conv-1")
	must(t, "RemoveHolding again", err)
	if removed {
		t.Fatal("RemoveHolding of a removed holding: true, want false")
	}
	ok, err = s.ForgetInstance(ctx, "gw-b", at(0).Add(lease-time.Microsecond))
	must(t, "ForgetInstance before the end", err)
	if ok {
		t.Fatal("gw-b forgotten before its lease ended")
	}
	ok, err = s.ForgetInstance(ctx, "gw-b", at(0).Add(lease))
	must(t, "ForgetInstance", err)
	if !ok {
		t.Fatal("gw-b not forgotten: its lease ended and it holds nothing")
	}
	ok, err = s.ForgetInstance(ctx, "gw-b", at(0).Add(lease))
	must(t, "ForgetInstance again", err)
	if ok {
		t.Fatal("gw-b forgotten twice")
	}
	lost, err = s.LostInstances(ctx, at(0).Add(3*lease), 0)
	must(t, "LostInstances after forgetting", err)
	equal(t, "lost after gw-b was forgotten", lost, []string{"gw-c"})
	ok, err = s.ForgetInstance(ctx, "gw-a", at(0).Add(5*lease))
	must(t, "ForgetInstance gw-a", err)
	if ok {
		t.Fatal("gw-a forgotten while it holds conv-3")
	}

	// A clean stop: a lease that ends now is lost at once.
	must(t, "RenewInstance to now", s.RenewInstance(ctx, "gw-d", at(0)))
	lost, err = s.LostInstances(ctx, at(0), 0)
	must(t, "LostInstances at a clean stop", err)
	equal(t, "lost at a clean stop", lost, []string{"gw-d"})

	wantErr(t, "empty instance id", s.RenewInstance(ctx, "", at(0)), conversation.ErrInvalid)
	wantErr(t, "zero expiry", s.RenewInstance(ctx, "gw-e", time.Time{}), conversation.ErrInvalid)
	wantErr(t, "empty holding instance", s.AddHolding(ctx, "", "conv-1"), conversation.ErrInvalid)
	wantErr(t, "empty holding conversation", s.AddHolding(ctx, "gw-a", ""), conversation.ErrInvalid)
}

// testForgetInstanceRace: reapers on several instances forgetting one
// lost instance at once forget it once.
func testForgetInstanceRace(t *testing.T, s state.Store) {
	ctx := t.Context()
	must(t, "RenewInstance", s.RenewInstance(ctx, "gw-lost", at(0)))
	var wg sync.WaitGroup
	var mu sync.Mutex
	forgotten := 0
	for range 8 {
		wg.Go(func() {
			ok, err := s.ForgetInstance(ctx, "gw-lost", at(1))
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				forgotten++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if forgotten != 1 {
		t.Fatalf("forgotten %d times, want once", forgotten)
	}
}
