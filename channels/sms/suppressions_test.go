package sms

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/airbranch/airbranch/channels/conversation"
)

// testRedisEnv names the real Redis the tests use when set, e.g.
// redis://127.0.0.1:6379/15; set but unreachable fails the tests.
const testRedisEnv = "AIRBRANCH_TEST_REDIS_URL"

// TestSuppressions runs one contract on every implementation: memory,
// miniredis, and a real Redis when testRedisEnv is set.
func TestSuppressions(t *testing.T) {
	impls := []struct {
		name string
		new  func(t *testing.T) Suppressions
	}{
		{"memory", func(t *testing.T) Suppressions { return NewMemory() }},
		{"miniredis", func(t *testing.T) Suppressions {
			mr := miniredis.RunT(t)
			c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
			t.Cleanup(func() { _ = c.Close() })
			return NewRedis(c, uniquePrefix())
		}},
		{"redis", func(t *testing.T) Suppressions {
			url := os.Getenv(testRedisEnv)
			if url == "" {
				t.Skipf("%s not set", testRedisEnv)
			}
			return realRedis(t, url)
		}},
	}
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			testSuppressionsContract(t, impl.new)
		})
	}
}

func testSuppressionsContract(t *testing.T, newStore func(t *testing.T) Suppressions) {
	ctx := context.Background()
	const a, b = "+85230001234", "hk-alerts"
	const n1, n2 = "+85291234567", "+8613800138000"

	t.Run("suppress, check, unsuppress", func(t *testing.T) {
		s := newStore(t)
		mustSuppressed(t, s, a, n1, false)
		if err := s.Suppress(ctx, a, n1); err != nil {
			t.Fatal(err)
		}
		mustSuppressed(t, s, a, n1, true)
		mustSuppressed(t, s, a, n2, false)
		if err := s.Unsuppress(ctx, a, n1); err != nil {
			t.Fatal(err)
		}
		mustSuppressed(t, s, a, n1, false)
	})
	t.Run("idempotent", func(t *testing.T) {
		s := newStore(t)
		for range 2 {
			if err := s.Suppress(ctx, a, n1); err != nil {
				t.Fatal(err)
			}
		}
		mustSuppressed(t, s, a, n1, true)
		for range 2 {
			if err := s.Unsuppress(ctx, a, n1); err != nil {
				t.Fatal(err)
			}
		}
		mustSuppressed(t, s, a, n1, false)
		if err := s.Unsuppress(ctx, b, n2); err != nil {
			t.Fatalf("unsuppress of a number never suppressed: %v", err)
		}
	})
	t.Run("per channel account", func(t *testing.T) {
		s := newStore(t)
		if err := s.Suppress(ctx, a, n1); err != nil {
			t.Fatal(err)
		}
		mustSuppressed(t, s, b, n1, false)
		if err := s.Suppress(ctx, b, n2); err != nil {
			t.Fatal(err)
		}
		mustSuppressed(t, s, a, n2, false)
		mustSuppressed(t, s, b, n2, true)
	})
	t.Run("invalid input", func(t *testing.T) {
		s := newStore(t)
		for _, tc := range []struct{ account, number string }{
			{"", n1}, {"  ", n1}, {a, ""}, {a, "91234567"}, {a, "+852 9123 4567"}, {a, "tel:+85291234567"},
		} {
			if err := s.Suppress(ctx, tc.account, tc.number); !errors.Is(err, conversation.ErrInvalid) {
				t.Errorf("Suppress(%q, %q) = %v, want ErrInvalid", tc.account, tc.number, err)
			}
			if err := s.Unsuppress(ctx, tc.account, tc.number); !errors.Is(err, conversation.ErrInvalid) {
				t.Errorf("Unsuppress(%q, %q) = %v, want ErrInvalid", tc.account, tc.number, err)
			}
			if _, err := s.Suppressed(ctx, tc.account, tc.number); !errors.Is(err, conversation.ErrInvalid) {
				t.Errorf("Suppressed(%q, %q) = %v, want ErrInvalid", tc.account, tc.number, err)
			}
		}
	})
}

func mustSuppressed(t *testing.T, s Suppressions, account, number string, want bool) {
	t.Helper()
	got, err := s.Suppressed(context.Background(), account, number)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("Suppressed(%s, %s) = %v, want %v", account, conversation.MaskPhone(number), got, want)
	}
}

func TestRedisUnavailable(t *testing.T) {
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	t.Cleanup(func() { _ = c.Close() })
	s := NewRedis(c, uniquePrefix())
	mr.Close()
	ctx := context.Background()
	if err := s.Suppress(ctx, "acct", "+85291234567"); !errors.Is(err, conversation.ErrUnavailable) {
		t.Errorf("Suppress on a stopped Redis: %v, want ErrUnavailable", err)
	}
	if err := s.Unsuppress(ctx, "acct", "+85291234567"); !errors.Is(err, conversation.ErrUnavailable) {
		t.Errorf("Unsuppress on a stopped Redis: %v, want ErrUnavailable", err)
	}
	if _, err := s.Suppressed(ctx, "acct", "+85291234567"); !errors.Is(err, ErrStoreUnavailable) {
		t.Errorf("Suppressed on a stopped Redis: %v, want ErrStoreUnavailable", err)
	}
}

func TestRedisKeyLayout(t *testing.T) {
	mr := miniredis.RunT(t)
	c := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	s := NewRedis(c, "{airbranch}")
	if err := s.Suppress(context.Background(), "+85230001234", "+85291234567"); err != nil {
		t.Fatal(err)
	}
	ok, err := mr.SIsMember("{airbranch}:sms_suppressed:+85230001234", "+85291234567")
	if err != nil || !ok {
		t.Fatalf("key {airbranch}:sms_suppressed:+85230001234 holds the number: %v, %v", ok, err)
	}
}

func uniquePrefix() string { return fmt.Sprintf("{abtest-%s}", rand.Text()[:12]) }

// realRedis returns a store on the Redis at url with a unique prefix,
// whose keys are removed at cleanup.
func realRedis(t *testing.T, url string) *Redis {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("%s: %v", testRedisEnv, err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		t.Fatalf("%s is set but Redis does not answer: %v", testRedisEnv, err)
	}
	prefix := uniquePrefix()
	t.Cleanup(func() {
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		keys, err := c.Keys(ctx, prefix+"*").Result()
		if err == nil && len(keys) > 0 {
			err = c.Unlink(ctx, keys...).Err()
		}
		if err != nil {
			t.Errorf("cleanup of %s: %v", prefix, err)
		}
	})
	return NewRedis(c, prefix)
}
