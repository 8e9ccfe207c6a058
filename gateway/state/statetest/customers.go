package statetest

import (
	"sync"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

func testProspectConcurrent(t *testing.T, s state.Store) {
	ctx := t.Context()
	addr := conversation.Address{Kind: conversation.AddressWeChat, Value: "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
	const contacts = 10
	type result struct {
		c       conversation.Customer
		created bool
		err     error
	}
	results := make(chan result, contacts)
	var wg sync.WaitGroup
	for i := range contacts {
		wg.Go(func() {
			// Each first contact makes its own prospect (its own id) for the same address.
			c, created, err := s.CreateProspect(ctx, conversation.NewProspect(addr, at(i)))
			results <- result{c, created, err}
		})
	}
	wg.Wait()
	close(results)
	var winner conversation.Customer
	created := 0
	var all []conversation.Customer
	for r := range results {
		must(t, "CreateProspect", r.err)
		if r.created {
			created++
			winner = r.c
		}
		all = append(all, r.c)
	}
	if created != 1 {
		t.Fatalf("%d prospects created for one address, want 1", created)
	}
	for _, c := range all {
		equal(t, "every caller gets the one prospect", c, winner)
	}
	byAddr, err := s.CustomerByAddress(ctx, addr)
	must(t, "CustomerByAddress", err)
	equal(t, "CustomerByAddress", byAddr, winner)
	byID, err := s.Customer(ctx, winner.ID)
	must(t, "Customer", err)
	equal(t, "Customer", byID, winner)
}

func testProspectLookups(t *testing.T, s state.Store) {
	ctx := t.Context()
	phone := conversation.Address{Kind: conversation.AddressPhone, Value: "+8613912345678"}
	app := conversation.Address{Kind: conversation.AddressApp, Value: "app-user-42"}
	c := conversation.NewProspect(phone, at(0))
	c.Addresses = append(c.Addresses, app)
	got, created, err := s.CreateProspect(ctx, c)
	must(t, "CreateProspect", err)
	if !created {
		t.Fatal("first prospect reported as existing")
	}
	equal(t, "created", got, c)
	got.Addresses[0].Value = "changed by caller"
	for _, a := range []conversation.Address{phone, app} {
		read, err := s.CustomerByAddress(ctx, a)
		must(t, "CustomerByAddress "+string(a.Kind), err)
		equal(t, "by "+string(a.Kind), read, c)
	}

	_, err = s.CustomerByAddress(ctx, conversation.Address{Kind: conversation.AddressPhone, Value: "+8613900000000"})
	wantErr(t, "unknown address", err, state.ErrNotFound, conversation.ErrNotFound)
	_, err = s.Customer(ctx, "prospect-none")
	wantErr(t, "unknown customer", err, state.ErrNotFound)

	// The same customer id on other addresses is refused.
	other := c
	other.Addresses = []conversation.Address{{Kind: conversation.AddressPhone, Value: "+8613711112222"}}
	_, _, err = s.CreateProspect(ctx, other)
	wantErr(t, "taken customer id", err, state.ErrExists)
	_, err = s.CustomerByAddress(ctx, other.Addresses[0])
	wantErr(t, "address of the refused prospect", err, state.ErrNotFound)

	tests := []struct {
		name   string
		change func(*conversation.Customer)
	}{
		{"no_address", func(c *conversation.Customer) { c.Addresses = nil }},
		{"bad_phone", func(c *conversation.Customer) { c.Addresses[0].Value = "13800138000" }},
		{"no_id", func(c *conversation.Customer) { c.ID = "" }},
		{"segment", func(c *conversation.Customer) { c.Segment = "platinum" }},
	}
	for i, tc := range tests {
		p := conversation.NewProspect(conversation.Address{Kind: conversation.AddressPhone, Value: "+861380000000" + string(rune('0'+i))}, at(i))
		tc.change(&p)
		_, _, err := s.CreateProspect(ctx, p)
		wantErr(t, tc.name, err, conversation.ErrInvalid)
	}
}
