package wechat

import (
	"context"
	"sync"
	"time"
)

// Suppressions records which openids unsubscribed from an account (WeChat
// "unsubscribe" event): nothing more may be sent to them until they follow
// again. A record only replaces one with an earlier or equal time, so a
// retried or late callback cannot undo a newer one. Accounts are original
// ids.
type Suppressions interface {
	// Suppress marks openid opted out as of at.
	Suppress(ctx context.Context, account, openid string, at time.Time) error
	// Unsuppress marks openid subscribed again as of at.
	Unsuppress(ctx context.Context, account, openid string, at time.Time) error
	// Suppressed reports whether openid is opted out.
	Suppressed(ctx context.Context, account, openid string) (bool, error)
}

// MemorySuppressions is Suppressions in memory, for one instance and tests.
type MemorySuppressions struct {
	mu  sync.Mutex
	rec map[string]suppression
}

type suppression struct {
	out bool
	at  int64 // Unix ms
}

var _ Suppressions = (*MemorySuppressions)(nil)

// NewMemorySuppressions returns an empty MemorySuppressions.
func NewMemorySuppressions() *MemorySuppressions {
	return &MemorySuppressions{rec: map[string]suppression{}}
}

func (m *MemorySuppressions) set(account, openid string, out bool, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := userKey(account, openid)
	if cur, ok := m.rec[k]; ok && cur.at > at.UnixMilli() {
		return
	}
	m.rec[k] = suppression{out: out, at: at.UnixMilli()}
}

// Suppress implements Suppressions.
func (m *MemorySuppressions) Suppress(_ context.Context, account, openid string, at time.Time) error {
	m.set(account, openid, true, at)
	return nil
}

// Unsuppress implements Suppressions.
func (m *MemorySuppressions) Unsuppress(_ context.Context, account, openid string, at time.Time) error {
	m.set(account, openid, false, at)
	return nil
}

// Suppressed implements Suppressions.
func (m *MemorySuppressions) Suppressed(_ context.Context, account, openid string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rec[userKey(account, openid)].out, nil
}
