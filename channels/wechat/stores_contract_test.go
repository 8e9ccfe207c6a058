package wechat

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/cache"
)

// Compile-time guards: our caches are silenceper's cache.Cache and
// cache.ContextCache (checked here so the package itself does not link
// silenceper's cache package and with it go-redis v8).
var (
	_ cache.Cache        = (*RedisCache)(nil)
	_ cache.ContextCache = (*RedisCache)(nil)
	_ cache.Cache        = (*MemoryCache)(nil)
	_ cache.ContextCache = (*MemoryCache)(nil)
)

// backends runs one contract body on memory, miniredis and the real Redis
// of AIRBRANCH_TEST_REDIS_URL (skipped when unset).
func backends[T any](t *testing.T, memory func() T, onRedis func(c redis.UniversalClient, prefix string) T, body func(t *testing.T, s T)) {
	t.Run("memory", func(t *testing.T) { t.Parallel(); body(t, memory()) })
	t.Run("miniredis", func(t *testing.T) { t.Parallel(); c, p := miniRedis(t); body(t, onRedis(c, p)) })
	t.Run("redis", func(t *testing.T) { t.Parallel(); c, p := realRedis(t); body(t, onRedis(c, p)) })
}

func TestWindowsContract(t *testing.T) {
	t.Parallel()
	backends(t, func() Windows { return NewMemoryWindows() },
		func(c redis.UniversalClient, p string) Windows { return NewRedisWindows(c, p) }, windowsContract)
}

func windowsContract(t *testing.T, w Windows) {
	ctx := context.Background()
	t0 := time.UnixMilli(1700000000123)
	const acct, user = "gh_contract", "oContractUser"
	state := func(now time.Time) (bool, int, time.Time) {
		t.Helper()
		open, rem, closes, err := w.Window(ctx, acct, user, now)
		if err != nil {
			t.Fatal(err)
		}
		return open, rem, closes
	}
	grant := func(tr Trigger, at time.Time, d time.Duration, quota int) {
		t.Helper()
		if err := w.Grant(ctx, acct, user, Grant{Trigger: tr, At: at, Until: at.Add(d), Quota: quota}); err != nil {
			t.Fatal(err)
		}
	}
	take := func(now time.Time) (Trigger, error) {
		t.Helper()
		return w.Take(ctx, acct, user, now)
	}

	if open, rem, closes := state(t0); open || rem != 0 || !closes.IsZero() {
		t.Fatalf("no interaction: open=%v rem=%d closes=%s", open, rem, closes)
	}
	if _, err := take(t0); !errors.Is(err, ErrWindowClosed) {
		t.Fatalf("take with no grant: %v", err)
	}
	if err := w.Grant(ctx, acct, user, Grant{Trigger: TriggerMessage, At: t0, Until: t0, Quota: 1}); err == nil {
		t.Fatal("a grant ending at its start was accepted")
	}

	grant(TriggerMessage, t0, 48*time.Hour, 5)
	grant(TriggerMenuClick, t0, time.Minute, 3)
	if open, rem, closes := state(t0); !open || rem != 8 || !closes.Equal(t0.Add(48*time.Hour)) {
		t.Fatalf("two grants: open=%v rem=%d closes=%s", open, rem, closes)
	}
	// Take uses the grant that ends first.
	for i := range 3 {
		if tr, err := take(t0); err != nil || tr != TriggerMenuClick {
			t.Fatalf("take %d: %q %v, want menu_click", i, tr, err)
		}
	}
	if tr, err := take(t0); err != nil || tr != TriggerMessage {
		t.Fatalf("take 4: %q %v, want message", tr, err)
	}
	// Give returns one, never beyond the quota.
	for range 3 {
		if err := w.Give(ctx, acct, user, TriggerMessage, t0); err != nil {
			t.Fatal(err)
		}
	}
	if _, rem, _ := state(t0); rem != 5 {
		t.Fatalf("after give: rem %d, want 5", rem)
	}
	// A retried (same time) or older interaction does not refill.
	if _, err := take(t0); err != nil {
		t.Fatal(err)
	}
	grant(TriggerMessage, t0, 48*time.Hour, 5)
	grant(TriggerMessage, t0.Add(-time.Second), 48*time.Hour, 5)
	if _, rem, _ := state(t0); rem != 4 {
		t.Fatalf("after a retried grant: rem %d, want 4", rem)
	}
	// A new message of the same second (CreateTime has seconds) refills.
	if err := w.Grant(ctx, acct, user, Grant{Trigger: TriggerMessage, At: t0, Until: t0.Add(48 * time.Hour), Quota: 5, New: true}); err != nil {
		t.Fatal(err)
	}
	if _, rem, _ := state(t0); rem != 5 {
		t.Fatalf("after a new message of the same time: rem %d, want 5", rem)
	}
	if _, err := take(t0); err != nil {
		t.Fatal(err)
	}
	// After the menu grant's minute only the message grant counts.
	later := t0.Add(2 * time.Minute)
	if open, rem, _ := state(later); !open || rem != 4 {
		t.Fatalf("later: open=%v rem=%d", open, rem)
	}
	// A newer message refills it and moves its end.
	grant(TriggerMessage, later, 48*time.Hour, 5)
	if _, rem, closes := state(later); rem != 5 || !closes.Equal(later.Add(48*time.Hour)) {
		t.Fatalf("refill: rem %d closes %s", rem, closes)
	}
	// Exhaust: open grants, nothing left.
	if err := w.Exhaust(ctx, acct, user); err != nil {
		t.Fatal(err)
	}
	if open, rem, closes := state(later); open || rem != 0 || !closes.Equal(later.Add(48*time.Hour)) {
		t.Fatalf("exhausted: open=%v rem=%d closes=%s", open, rem, closes)
	}
	if _, err := take(later); !errors.Is(err, ErrQuotaUsed) {
		t.Fatalf("take exhausted: %v", err)
	}
	// Expiry: 48 h after the message the window is closed.
	grant(TriggerMessage, later.Add(time.Second), 48*time.Hour, 5)
	end := later.Add(time.Second + 48*time.Hour)
	if open, _, _ := state(end.Add(-time.Millisecond)); !open {
		t.Fatal("closed a millisecond before the end")
	}
	if _, err := take(end); !errors.Is(err, ErrWindowClosed) {
		t.Fatalf("take at the end: %v", err)
	}
	// Close forgets everything.
	if err := w.Close(ctx, acct, user); err != nil {
		t.Fatal(err)
	}
	if open, rem, _ := state(later); open || rem != 0 {
		t.Fatalf("closed: open=%v rem=%d", open, rem)
	}
	// Users and accounts are separate.
	grant(TriggerMessage, t0, time.Hour, 2)
	if open, _, _, _ := w.Window(ctx, acct, "oOtherUser", t0); open {
		t.Fatal("another user's window is open")
	}
	if open, _, _, _ := w.Window(ctx, "gh_other", user, t0); open {
		t.Fatal("another account's window is open")
	}
	// Concurrent takes never exceed the quota.
	var wg sync.WaitGroup
	var mu sync.Mutex
	taken := 0
	for range 10 {
		wg.Go(func() {
			if _, err := w.Take(ctx, acct, user, t0); err == nil {
				mu.Lock()
				taken++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if taken != 2 {
		t.Fatalf("10 concurrent takes on a quota of 2 took %d", taken)
	}
}

func TestSuppressionsContract(t *testing.T) {
	t.Parallel()
	backends(t, func() Suppressions { return NewMemorySuppressions() },
		func(c redis.UniversalClient, p string) Suppressions { return NewRedisSuppressions(c, p) },
		func(t *testing.T, s Suppressions) {
			ctx := context.Background()
			t0 := time.UnixMilli(1700000000000)
			is := func(account, openid string) bool {
				t.Helper()
				out, err := s.Suppressed(ctx, account, openid)
				if err != nil {
					t.Fatal(err)
				}
				return out
			}
			steps := []struct {
				name string
				do   func() error
				want bool
			}{
				{"unknown", func() error { return nil }, false},
				{"unsubscribe", func() error { return s.Suppress(ctx, "gh_a", "o1", t0) }, true},
				{"older subscribe ignored", func() error { return s.Unsuppress(ctx, "gh_a", "o1", t0.Add(-time.Second)) }, true},
				{"newer subscribe", func() error { return s.Unsuppress(ctx, "gh_a", "o1", t0.Add(time.Second)) }, false},
				{"retried older unsubscribe ignored", func() error { return s.Suppress(ctx, "gh_a", "o1", t0) }, false},
				{"unsubscribe again", func() error { return s.Suppress(ctx, "gh_a", "o1", t0.Add(time.Minute)) }, true},
			}
			for _, st := range steps {
				if err := st.do(); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				if got := is("gh_a", "o1"); got != st.want {
					t.Fatalf("%s: suppressed %v, want %v", st.name, got, st.want)
				}
			}
			if is("gh_b", "o1") || is("gh_a", "o2") {
				t.Fatal("suppression leaked to another account or user")
			}
		})
}

func TestTokenStoreContract(t *testing.T) {
	t.Parallel()
	type store interface {
		TokenStore
		cache.ContextCache
	}
	backends(t, func() store { return NewMemoryCache() },
		func(c redis.UniversalClient, p string) store { return NewRedisCache(c, p) },
		func(t *testing.T, s store) {
			ctx := context.Background()
			if tok, err := s.GetToken(ctx, "k"); err != nil || tok != "" {
				t.Fatalf("empty store: %q %v", tok, err)
			}
			if err := s.SetToken(ctx, "k", "T1", time.Hour); err != nil {
				t.Fatal(err)
			}
			if tok, err := s.GetToken(ctx, "k"); err != nil || tok != "T1" {
				t.Fatalf("get: %q %v", tok, err)
			}
			if err := s.SetToken(ctx, "k", "T2", 0); err == nil {
				t.Fatal("a token without expiry was accepted")
			}
			// The lock: one holder; unlock frees it; a stale unlock does nothing.
			unlock, ok, err := s.TryLock(ctx, "lock", time.Minute)
			if err != nil || !ok {
				t.Fatalf("first lock: %v %v", ok, err)
			}
			if _, ok, err := s.TryLock(ctx, "lock", time.Minute); err != nil || ok {
				t.Fatalf("second lock while held: %v %v", ok, err)
			}
			unlock()
			unlock2, ok, err := s.TryLock(ctx, "lock", time.Minute)
			if err != nil || !ok {
				t.Fatalf("lock after unlock: %v %v", ok, err)
			}
			unlock() // the first holder's late unlock must not free the new holder's lock
			if _, ok, _ := s.TryLock(ctx, "lock", time.Minute); ok {
				t.Fatal("a stale unlock freed another holder's lock")
			}
			unlock2()
			// silenceper's cache.Cache semantics.
			if s.Get("absent") != nil || s.IsExist("absent") {
				t.Fatal("absent key reads as present")
			}
			if err := s.Set("gowechat_officialaccount__access_token_wx1", "ACCESS", time.Hour); err != nil {
				t.Fatal(err)
			}
			if v, _ := s.Get("gowechat_officialaccount__access_token_wx1").(string); v != "ACCESS" {
				t.Fatalf("Get = %v", s.Get("gowechat_officialaccount__access_token_wx1"))
			}
			if !s.IsExistContext(ctx, "gowechat_officialaccount__access_token_wx1") {
				t.Fatal("IsExist false after Set")
			}
			if err := s.Delete("gowechat_officialaccount__access_token_wx1"); err != nil || s.IsExist("gowechat_officialaccount__access_token_wx1") {
				t.Fatalf("Delete: %v", err)
			}
			if err := s.SetContext(ctx, "noexpiry", "v", 0); err != nil || s.GetContext(ctx, "noexpiry") != "v" {
				t.Fatalf("Set without expiry: %v", err)
			}
		})
}
