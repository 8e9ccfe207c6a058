package wechat

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestTwoInstancesShareOneToken: two adapters (two gateway instances) on
// one Redis send at once with no token cached: WeChat's stable_token is
// called once. After WeChat refuses that token, both refresh at once and
// stable_token is called once more.
func TestTwoInstancesShareOneToken(t *testing.T) {
	t.Parallel()
	c, prefix := anyRedis(t)
	f := newFakeWeChat(t)
	f.edit(func(f *fakeWeChat) { f.tokenDelay = 20 * time.Millisecond })
	sink := newFakeSink()
	key := testAESKey(t)
	newInstance := func(name string) *Adapter {
		cfg := testConfig(t)
		cfg.APIBaseURL = f.srv.URL
		cfg.Accounts[0].Credentials.EncodingAESKey = key
		cfg.Window = DefaultWindow()
		cfg.Window.Message.Quota = 1000
		a, err := New(cfg, Deps{
			Sink:         sink,
			Windows:      NewRedisWindows(c, prefix),
			Suppressions: NewRedisSuppressions(c, prefix),
			Tokens:       NewRedisCache(c, prefix),
			Now:          func() time.Time { return testNow },
		})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return a
	}
	a1, a2 := newInstance("a1"), newInstance("a2")
	ctx := context.Background()
	// The user writes; the grant is in Redis, visible to both instances.
	if err := a1.windows.Grant(ctx, testOriginalID, testOpenID, Grant{Trigger: TriggerMessage, At: testNow,
		Until: testNow.Add(48 * time.Hour), Quota: 1000}); err != nil {
		t.Fatal(err)
	}
	burst := func(round int) {
		t.Helper()
		var wg sync.WaitGroup
		errs := make(chan error, 16)
		for i := range 16 {
			a := a1
			if i%2 == 1 {
				a = a2
			}
			wg.Go(func() {
				if _, err := a.SendText(ctx, testOriginalID, testTo, fmt.Sprintf("round %d message %d", round, i)); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("round %d: %v", round, err)
		}
	}
	burst(1)
	if tokens, _ := f.counts(); tokens != 1 {
		t.Fatalf("stable_token called %d times by two instances, want 1", tokens)
	}
	f.revoke()
	burst(2)
	f.edit(func(f *fakeWeChat) {
		if f.tokenCalls != 2 || len(f.sent) != 32 {
			t.Fatalf("after the refusal: stable_token calls %d (want 2), sent %d (want 32)", f.tokenCalls, len(f.sent))
		}
	})
	// Both instances agree on the window: 1000 - 32 left.
	for _, a := range []*Adapter{a1, a2} {
		if _, rem, _, err := a.Window(ctx, testOriginalID, testOpenID, testNow); err != nil || rem != 1000-32 {
			t.Fatalf("remaining %d, err %v", rem, err)
		}
	}
}

// TestTokenWaitEndsWithContext: an instance waiting for another's refresh
// gives up when its context ends, and takes over once the lock expires.
func TestTokenWaitEndsWithContext(t *testing.T) {
	t.Parallel()
	f := newFakeWeChat(t)
	store := NewMemoryCache()
	h := newHarness(t, func(c *Config, d *Deps) {
		c.APIBaseURL = f.srv.URL
		c.TokenLockTTL = time.Second
		d.Tokens = store
	})
	src := h.a.accounts[0].tokens
	// Another instance holds the lock and never finishes.
	if _, ok, err := store.TryLock(context.Background(), src.lockKey(), 300*time.Millisecond); !ok || err != nil {
		t.Fatalf("lock: %v %v", ok, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := src.Token(ctx); err == nil {
		t.Fatal("got a token while another instance holds the lock")
	}
	// The holder's lock expires: this instance fetches.
	tok, err := src.Token(context.Background())
	if err != nil || tok == "" {
		t.Fatalf("token %q, err %v", tok, err)
	}
}

// TestTokenFetchRefused: a wrong secret comes back as WeChat's errcode.
func TestTokenFetchRefused(t *testing.T) {
	t.Parallel()
	h, f := sendHarness(t, nil)
	f.edit(func(f *fakeWeChat) { f.secret = "rotated" })
	_, err := h.a.SendText(context.Background(), testOriginalID, testTo, "hi")
	if providerCode(err) != "40125" {
		t.Fatalf("err %v, want ProviderError 40125", err)
	}
}
