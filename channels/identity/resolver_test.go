package identity_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/channels/identity"
)

var now = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func testDirectory(t *testing.T) *directory.Static {
	t.Helper()
	teams := []conversation.Team{{ID: "private_bank", Name: "Private bank", Kind: conversation.TeamSegment, Segment: conversation.SegmentPrivate, TimeZone: "Asia/Hong_Kong"}}
	rms := []conversation.RM{{ID: "rm-pb-01", Name: "Mei", TeamID: "private_bank", Languages: []string{"yue", "en"}, Capacity: 100}}
	customers := []conversation.Customer{{
		ID: "cus-0001", DisplayName: "Chan Tai Man", Segment: conversation.SegmentPrivate, OwnRM: "rm-pb-01",
		Verification: conversation.VerificationBasic,
		Addresses: []conversation.Address{
			{Kind: conversation.AddressPhone, Value: "+85291234567"},
			{Kind: conversation.AddressWeChat, Value: "oJlus55nABCDEF0001"},
			{Kind: conversation.AddressSIP, Value: "sip:chan@clients.example.com"},
		},
	}}
	d, err := directory.NewStatic(teams, rms, customers)
	if err != nil {
		t.Fatalf("directory: %v", err)
	}
	return d
}

func TestResolveFindsDirectoryCustomer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		addr conversation.Address
	}{
		{"phone as written", conversation.Address{Kind: conversation.AddressPhone, Value: "+852 9123 4567"}},
		{"national phone", conversation.Address{Kind: conversation.AddressPhone, Value: "91234567"}},
		{"SIP trunk caller ID", conversation.Address{Kind: conversation.AddressSIP, Value: "sip:+85291234567@trunk.example.com;user=phone"}},
		{"SIP caller ID with user=phone", conversation.Address{Kind: conversation.AddressSIP, Value: "sip:91234567@trunk.example.com;user=phone"}},
		{"SIP URI with upper-case host and parameters", conversation.Address{Kind: conversation.AddressSIP, Value: "SIP:chan@Clients.Example.COM;transport=tcp"}},
		{"WeChat openid with surrounding space", conversation.Address{Kind: conversation.AddressWeChat, Value: " oJlus55nABCDEF0001 "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := newProspectStore()
			r := identity.NewResolver(testDirectory(t), store, "HK")
			c, created, err := r.Resolve(context.Background(), tc.addr, now)
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			if created || c.ID != "cus-0001" {
				t.Fatalf("Resolve = %s created=%v, want cus-0001 not created", c.ID, created)
			}
			if store.createCalls() != 0 {
				t.Fatalf("a directory customer made %d CreateProspect calls", store.createCalls())
			}
		})
	}
}

func TestResolveCreatesOneProspect(t *testing.T) {
	t.Parallel()
	store := newProspectStore()
	r := identity.NewResolver(testDirectory(t), store, "HK")
	ctx := context.Background()

	c, created, err := r.Resolve(ctx, conversation.Address{Kind: conversation.AddressPhone, Value: "5550 1234"}, now)
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	if !created {
		t.Fatal("first contact from an unknown address did not create a prospect")
	}
	want := conversation.Address{Kind: conversation.AddressPhone, Value: "+85255501234"}
	if !c.Prospect || c.Segment != conversation.SegmentMass || c.Verification != conversation.VerificationNone || !c.HasAddress(want) || !c.CreatedAt.Equal(now) {
		t.Fatalf("prospect = %+v, want an unverified mass prospect at %s created at %s", c, want, now)
	}

	again, created, err := r.Resolve(ctx, conversation.Address{Kind: conversation.AddressSIP, Value: "sip:+85255501234@trunk.example.com"}, now.Add(time.Minute))
	if err != nil {
		t.Fatalf("second Resolve: %v", err)
	}
	if created || again.ID != c.ID {
		t.Fatalf("second Resolve = %s created=%v, want %s not created", again.ID, created, c.ID)
	}

	byID, err := r.Customer(ctx, c.ID)
	if err != nil || byID.ID != c.ID {
		t.Fatalf("Customer(%s) = %s, %v", c.ID, byID.ID, err)
	}
	looked, err := r.Lookup(ctx, want)
	if err != nil || looked.ID != c.ID {
		t.Fatalf("Lookup(%s) = %s, %v", want, looked.ID, err)
	}
}

func TestResolveConcurrentInstancesMakeOneProspect(t *testing.T) {
	t.Parallel()
	store := newProspectStore()
	dir := testDirectory(t)
	// Two gateway instances share one store.
	instances := []*identity.Resolver{identity.NewResolver(dir, store, "HK"), identity.NewResolver(dir, store, "HK")}
	const perInstance = 16
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ids     = make(map[conversation.CustomerID]int)
		created int
		errs    []error
	)
	for _, r := range instances {
		for range perInstance {
			wg.Go(func() {
				c, made, err := r.Resolve(context.Background(), conversation.Address{Kind: conversation.AddressPhone, Value: "+852 5550 9876"}, now)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, err)
					return
				}
				ids[c.ID]++
				if made {
					created++
				}
			})
		}
	}
	wg.Wait()
	if len(errs) > 0 {
		t.Fatalf("Resolve errors: %v", errs)
	}
	if len(ids) != 1 || created != 1 {
		t.Fatalf("concurrent first contacts made customers %v with %d reported created, want one customer created once", ids, created)
	}
}

func TestResolveErrors(t *testing.T) {
	t.Parallel()
	unknown := conversation.Address{Kind: conversation.AddressPhone, Value: "+85255501234"}
	tests := []struct {
		name   string
		dir    func(t *testing.T) directory.Directory
		store  func() *prospectStore
		addr   conversation.Address
		wantIs error
	}{
		{
			name: "directory unreachable",
			dir: func(t *testing.T) directory.Directory {
				return failingDirectory{Static: testDirectory(t), err: errUnavailable}
			},
			store:  newProspectStore,
			addr:   unknown,
			wantIs: errUnavailable,
		},
		{
			name: "store lookup unavailable",
			dir:  func(t *testing.T) directory.Directory { return testDirectory(t) },
			store: func() *prospectStore {
				s := newProspectStore()
				s.customerByAddress = func(context.Context, conversation.Address) (conversation.Customer, error) {
					return conversation.Customer{}, errUnavailable
				}
				return s
			},
			addr:   unknown,
			wantIs: errUnavailable,
		},
		{
			name: "store create unavailable",
			dir:  func(t *testing.T) directory.Directory { return testDirectory(t) },
			store: func() *prospectStore {
				s := newProspectStore()
				s.createProspect = func(context.Context, conversation.Customer) (conversation.Customer, bool, error) {
					return conversation.Customer{}, false, errUnavailable
				}
				return s
			},
			addr:   unknown,
			wantIs: errUnavailable,
		},
		{
			name:   "invalid phone",
			dir:    func(t *testing.T) directory.Directory { return testDirectory(t) },
			store:  newProspectStore,
			addr:   conversation.Address{Kind: conversation.AddressPhone, Value: "+852 12"},
			wantIs: identity.ErrInvalidPhone,
		},
		{
			name:   "unknown address kind",
			dir:    func(t *testing.T) directory.Directory { return testDirectory(t) },
			store:  newProspectStore,
			addr:   conversation.Address{Kind: "email", Value: "a@example.com"},
			wantIs: identity.ErrInvalidAddress,
		},
		{
			name:   "empty value",
			dir:    func(t *testing.T) directory.Directory { return testDirectory(t) },
			store:  newProspectStore,
			addr:   conversation.Address{Kind: conversation.AddressApp, Value: "  "},
			wantIs: conversation.ErrInvalid,
		},
		{
			name:   "not a SIP URI",
			dir:    func(t *testing.T) directory.Directory { return testDirectory(t) },
			store:  newProspectStore,
			addr:   conversation.Address{Kind: conversation.AddressSIP, Value: "alice@example.com"},
			wantIs: identity.ErrInvalidAddress,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := tc.store()
			r := identity.NewResolver(tc.dir(t), store, "HK")
			c, created, err := r.Resolve(context.Background(), tc.addr, now)
			if !errors.Is(err, tc.wantIs) {
				t.Fatalf("Resolve = %s created=%v err=%v, want an error wrapping %v", c.ID, created, err, tc.wantIs)
			}
			if created || c.ID != "" {
				t.Fatalf("Resolve returned customer %q created=%v with an error", c.ID, created)
			}
			if errors.Is(tc.wantIs, errUnavailable) && errors.Is(err, conversation.ErrNotFound) {
				t.Fatalf("an unreachable backend was reported as not found: %v", err)
			}
		})
	}
}

func TestCustomer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name   string
		dir    func(t *testing.T) directory.Directory
		store  func() *prospectStore
		id     conversation.CustomerID
		wantID conversation.CustomerID
		wantIs error
	}{
		{
			name:   "directory customer",
			dir:    func(t *testing.T) directory.Directory { return testDirectory(t) },
			store:  newProspectStore,
			id:     "cus-0001",
			wantID: "cus-0001",
		},
		{
			name: "stored prospect",
			dir:  func(t *testing.T) directory.Directory { return testDirectory(t) },
			store: func() *prospectStore {
				s := newProspectStore()
				p := conversation.NewProspect(conversation.Address{Kind: conversation.AddressApp, Value: "app-user-42"}, now)
				p.ID = "prospect-42"
				if _, _, err := s.CreateProspect(context.Background(), p); err != nil {
					panic(err)
				}
				return s
			},
			id:     "prospect-42",
			wantID: "prospect-42",
		},
		{
			name:   "nobody",
			dir:    func(t *testing.T) directory.Directory { return testDirectory(t) },
			store:  newProspectStore,
			id:     "cus-9999",
			wantIs: identity.ErrNotFound,
		},
		{
			name: "directory unreachable",
			dir: func(t *testing.T) directory.Directory {
				return failingDirectory{Static: testDirectory(t), err: errUnavailable}
			},
			store:  newProspectStore,
			id:     "cus-0001",
			wantIs: errUnavailable,
		},
		{
			name: "store unreachable",
			dir:  func(t *testing.T) directory.Directory { return testDirectory(t) },
			store: func() *prospectStore {
				s := newProspectStore()
				s.customer = func(context.Context, conversation.CustomerID) (conversation.Customer, error) {
					return conversation.Customer{}, errUnavailable
				}
				return s
			},
			id:     "prospect-42",
			wantIs: errUnavailable,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := identity.NewResolver(tc.dir(t), tc.store(), "HK")
			c, err := r.Customer(ctx, tc.id)
			if tc.wantIs != nil {
				if !errors.Is(err, tc.wantIs) {
					t.Fatalf("Customer(%s) = %s, %v; want an error wrapping %v", tc.id, c.ID, err, tc.wantIs)
				}
				if tc.wantIs == identity.ErrNotFound && !errors.Is(err, conversation.ErrNotFound) {
					t.Fatalf("error %v does not wrap conversation.ErrNotFound", err)
				}
				return
			}
			if err != nil || c.ID != tc.wantID {
				t.Fatalf("Customer(%s) = %s, %v; want %s", tc.id, c.ID, err, tc.wantID)
			}
		})
	}
}

func TestLookupCreatesNothing(t *testing.T) {
	t.Parallel()
	store := newProspectStore()
	r := identity.NewResolver(testDirectory(t), store, "HK")
	_, err := r.Lookup(context.Background(), conversation.Address{Kind: conversation.AddressPhone, Value: "55501234"})
	if !errors.Is(err, identity.ErrNotFound) {
		t.Fatalf("Lookup of an unknown address: %v, want ErrNotFound", err)
	}
	if store.createCalls() != 0 {
		t.Fatalf("Lookup called CreateProspect %d times", store.createCalls())
	}
	if got, err := r.Lookup(context.Background(), conversation.Address{Kind: conversation.AddressPhone, Value: "9123 4567"}); err != nil || got.ID != "cus-0001" {
		t.Fatalf("Lookup of a directory phone = %s, %v", got.ID, err)
	}
}

func TestNormaliseAddress(t *testing.T) {
	t.Parallel()
	r := identity.NewResolver(testDirectory(t), newProspectStore(), "hk")
	tests := []struct {
		name string
		in   conversation.Address
		want conversation.Address
	}{
		{"phone", conversation.Address{Kind: conversation.AddressPhone, Value: "5550 1234"}, conversation.Address{Kind: conversation.AddressPhone, Value: "+85255501234"}},
		{"sip to phone", conversation.Address{Kind: conversation.AddressSIP, Value: "<sip:+85255501234@gw.example.com>"}, conversation.Address{Kind: conversation.AddressPhone, Value: "+85255501234"}},
		{"sip keeps user case, drops password and parameters", conversation.Address{Kind: conversation.AddressSIP, Value: "sips:Alice:secret@EXAMPLE.com:5061;transport=tls?subject=x"}, conversation.Address{Kind: conversation.AddressSIP, Value: "sips:Alice@example.com:5061"}},
		{"sip without user", conversation.Address{Kind: conversation.AddressSIP, Value: "sip:Example.com"}, conversation.Address{Kind: conversation.AddressSIP, Value: "sip:example.com"}},
		{"app user trimmed", conversation.Address{Kind: conversation.AddressApp, Value: " u-1 "}, conversation.Address{Kind: conversation.AddressApp, Value: "u-1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := r.Normalise(tc.in)
			if err != nil || got != tc.want {
				t.Fatalf("Normalise(%+v) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}
