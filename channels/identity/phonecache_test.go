package identity

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
)

// The cache answers exactly as NormalisePhone does, the first time and
// from the cache, and keeps only the numbers that normalise.
func TestPhoneCacheAnswersAsNormalisePhone(t *testing.T) {
	t.Parallel()
	inputs := []struct {
		raw  string
		kept bool
	}{
		{"+85291234567", true},
		{"9123 4567", true},
		{"(+852) 5550-1234", true},
		{"tel:5550-1234;phone-context=+852", true},
		{"sip:+85255501234@trunk.example.com;user=phone", true},
		{"+44 20 7946 0958", true},
		{"+8529123456", false}, // a digit missing
		{"not a number", false},
		{"+999 5550 1234", false},
		{"", false},
	}
	c := NewPhoneCache("HK", 16)
	for _, in := range inputs {
		want, wantErr := NormalisePhone(in.raw, "HK")
		for pass := range 3 { // the second and third answers come from the cache when the first normalised
			got, err := c.Normalise(in.raw)
			if got != want || fmt.Sprint(err) != fmt.Sprint(wantErr) {
				t.Errorf("pass %d: Normalise(%q) = %q, %v; want %q, %v", pass, in.raw, got, err, want, wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalidPhone) {
				t.Errorf("Normalise(%q): %v does not wrap ErrInvalidPhone", in.raw, err)
			}
		}
		if _, kept := c.cur[in.raw]; kept != in.kept {
			t.Errorf("%q kept: %v, want %v", in.raw, kept, in.kept)
		}
	}
	if got, want := c.Len(), 6; got != want {
		t.Errorf("Len = %d, want %d", got, want)
	}
}

// A hit is the cached answer: an entry planted in the cache is what
// Normalise returns, so the second look-up does not parse again.
func TestPhoneCacheHitDoesNotParse(t *testing.T) {
	t.Parallel()
	c := NewPhoneCache("HK", 4)
	c.cur["+85291234567"] = "planted"
	if got, err := c.Normalise("+85291234567"); got != "planted" || err != nil {
		t.Fatalf("Normalise = %q, %v; want the cached entry", got, err)
	}
}

// The cache holds at most two generations of size numbers; a number in
// use survives the turn of a generation, and raw texts longer than
// maxCachedPhoneText are never kept.
func TestPhoneCacheBounds(t *testing.T) {
	t.Parallel()
	const size = 8
	c := NewPhoneCache("HK", size)
	hot := "+85291234567"
	for i := range 10 * size {
		if _, err := c.Normalise(hot); err != nil {
			t.Fatal(err)
		}
		raw := fmt.Sprintf("+8529%07d", i)
		got, err := c.Normalise(raw)
		if err != nil || got != raw {
			t.Fatalf("Normalise(%q) = %q, %v", raw, got, err)
		}
		if n := c.Len(); n > 2*size {
			t.Fatalf("after %d numbers the cache holds %d, more than 2×%d", i+1, n, size)
		}
		if len(c.cur) > size || len(c.old) > size {
			t.Fatalf("a generation holds more than %d: %d and %d", size, len(c.cur), len(c.old))
		}
	}
	if _, ok := c.cur[hot]; !ok {
		if _, ok := c.old[hot]; !ok {
			t.Errorf("the number in use was dropped")
		}
	}
	// The first numbers are gone: two generations later nothing of them
	// is left.
	if _, ok := c.cur["+85290000000"]; ok {
		t.Errorf("an old number is still in the current generation")
	}
	if _, ok := c.old["+85290000000"]; ok {
		t.Errorf("an old number is still in the previous generation")
	}

	long := "+852 " + strings.Repeat(" ", maxCachedPhoneText) + "9123 4567"
	want, err := NormalisePhone(long, "HK")
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Normalise(long)
	if err != nil || got != want {
		t.Fatalf("Normalise(long) = %q, %v; want %q", got, err, want)
	}
	_, inCur := c.cur[long]
	_, inOld := c.old[long]
	if inCur || inOld {
		t.Errorf("a raw text of %d bytes was kept", len(long))
	}
}

// NewPhoneCache with no size uses DefaultPhoneCacheSize.
func TestPhoneCacheDefaultSize(t *testing.T) {
	t.Parallel()
	if c := NewPhoneCache("HK", 0); c.size != DefaultPhoneCacheSize {
		t.Fatalf("size = %d, want %d", c.size, DefaultPhoneCacheSize)
	}
}

// Concurrent use agrees with NormalisePhone and stays bounded (run with
// -race).
func TestPhoneCacheConcurrent(t *testing.T) {
	t.Parallel()
	const size = 32
	c := NewPhoneCache("HK", size)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				raw := fmt.Sprintf("+852 9%03d %04d", w, i%50)
				want := "+8529" + fmt.Sprintf("%03d%04d", w, i%50)
				if got, err := c.Normalise(raw); err != nil || got != want {
					t.Errorf("Normalise(%q) = %q, %v; want %q", raw, got, err, want)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := c.Len(); n > 2*size {
		t.Fatalf("the cache holds %d, more than 2×%d", n, size)
	}
}

// BenchmarkPhoneCache compares a cached look-up with NormalisePhone.
func BenchmarkPhoneCache(b *testing.B) {
	const raw = "+85291234567"
	b.Run("NormalisePhone", func(b *testing.B) {
		for b.Loop() {
			if _, err := NormalisePhone(raw, "HK"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		c := NewPhoneCache("HK", 0)
		for b.Loop() {
			if _, err := c.Normalise(raw); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The resolver's phone addresses come from its bounded cache, with the
// same answers the first time and after: for a number, a SIP URI that
// carries one, and a number that is refused.
func TestResolverNormaliseCached(t *testing.T) {
	t.Parallel()
	r := NewResolver(nil, nil, "hk")
	if r.phones.size != DefaultPhoneCacheSize || r.phones.region != "HK" {
		t.Fatalf("resolver cache: size %d region %q", r.phones.size, r.phones.region)
	}
	cases := []struct {
		addr    conversation.Address
		want    string
		wantErr bool
	}{
		{conversation.Address{Kind: conversation.AddressPhone, Value: " 9123 4567 "}, "+85291234567", false},
		{conversation.Address{Kind: conversation.AddressPhone, Value: "+85291234567"}, "+85291234567", false},
		{conversation.Address{Kind: conversation.AddressSIP, Value: "sip:+85291234567@trunk.example;user=phone"}, "+85291234567", false},
		{conversation.Address{Kind: conversation.AddressPhone, Value: "+852 9123 456"}, "", true},
	}
	for _, tc := range cases {
		for pass := range 2 {
			got, err := r.Normalise(tc.addr)
			if (err != nil) != tc.wantErr || (err == nil && (got.Kind != conversation.AddressPhone || got.Value != tc.want)) {
				t.Errorf("pass %d: Normalise(%v) = %v, %v; want %s (error %v)", pass, tc.addr, got, err, tc.want, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrInvalidPhone) {
				t.Errorf("Normalise(%v): %v does not wrap ErrInvalidPhone", tc.addr, err)
			}
		}
	}
	if n := r.phones.Len(); n != 3 {
		t.Errorf("the resolver's cache holds %d numbers, want 3", n)
	}
}
