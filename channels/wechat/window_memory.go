package wechat

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// MemoryWindows is Windows in memory, for one instance and tests.
type MemoryWindows struct {
	mu    sync.Mutex
	users map[string]map[Trigger]grantState // account + "\x00" + openid
}

var _ Windows = (*MemoryWindows)(nil)

// NewMemoryWindows returns an empty MemoryWindows.
func NewMemoryWindows() *MemoryWindows {
	return &MemoryWindows{users: map[string]map[Trigger]grantState{}}
}

func userKey(account, openid string) string { return account + "\x00" + openid }

// Grant implements Windows.
func (m *MemoryWindows) Grant(_ context.Context, account, openid string, g Grant) error {
	if err := checkGrant(g); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := userKey(account, openid)
	gs := m.users[k]
	if gs == nil {
		gs = map[Trigger]grantState{}
		m.users[k] = gs
	}
	if cur, ok := gs[g.Trigger]; ok && (cur.at > g.At.UnixMilli() || (cur.at == g.At.UnixMilli() && !g.New)) {
		return nil
	}
	for t, old := range gs { // grants that ended before this interaction
		if old.until <= g.At.UnixMilli() {
			delete(gs, t)
		}
	}
	gs[g.Trigger] = grantState{at: g.At.UnixMilli(), until: g.Until.UnixMilli(), rem: g.Quota, quota: g.Quota}
	return nil
}

// Take implements Windows.
func (m *MemoryWindows) Take(_ context.Context, account, openid string, now time.Time) (Trigger, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	gs := m.users[userKey(account, openid)]
	t, err := pickGrant(gs, now)
	if err != nil {
		return "", err
	}
	g := gs[t]
	g.rem--
	gs[t] = g
	return t, nil
}

// Give implements Windows.
func (m *MemoryWindows) Give(_ context.Context, account, openid string, t Trigger, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	gs := m.users[userKey(account, openid)]
	if g, ok := gs[t]; ok && g.until > now.UnixMilli() && g.rem < g.quota {
		g.rem++
		gs[t] = g
	}
	return nil
}

// Exhaust implements Windows.
func (m *MemoryWindows) Exhaust(_ context.Context, account, openid string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	gs := m.users[userKey(account, openid)]
	for t, g := range gs {
		g.rem = 0
		gs[t] = g
	}
	return nil
}

// Close implements Windows.
func (m *MemoryWindows) Close(_ context.Context, account, openid string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.users, userKey(account, openid))
	return nil
}

// Window implements Windows.
func (m *MemoryWindows) Window(_ context.Context, account, openid string, now time.Time) (bool, int, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := userKey(account, openid)
	open, rem, closes := windowOf(m.users[k], now)
	if closes.IsZero() {
		delete(m.users, k) // nothing open: forget the user
	}
	return open, rem, closes, nil
}

// checkGrant refuses a grant a store cannot hold.
func checkGrant(g Grant) error {
	if g.Trigger == "" || g.Quota <= 0 || !g.Until.After(g.At) {
		return fmt.Errorf("wechat: window grant %q quota %d: needs a trigger, a quota > 0 and Until after At", g.Trigger, g.Quota)
	}
	return nil
}
