package wechat

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// TokenStore holds access tokens where every instance sees them, and the
// lock that lets one instance at a time fetch a new one. MemoryCache and
// RedisCache implement it; both also implement silenceper's cache.Cache
// (Get/Set/IsExist/Delete) and cache.ContextCache, so silenceper code
// could share them.
type TokenStore interface {
	// GetToken returns the token under key, or "" when there is none.
	GetToken(ctx context.Context, key string) (string, error)
	// SetToken stores token under key for ttl (> 0).
	SetToken(ctx context.Context, key, token string, ttl time.Duration) error
	// TryLock takes the lock named key for at most ttl if nobody holds
	// it. ok is false when another holder has it. unlock releases it only
	// if it is still ours (the lock may have expired and been taken).
	TryLock(ctx context.Context, key string, ttl time.Duration) (unlock func(), ok bool, err error)
}

// MemoryCache is TokenStore and silenceper's cache.Cache in memory, for one
// instance and tests. Values expire lazily, on read.
type MemoryCache struct {
	mu   sync.Mutex
	now  func() time.Time
	vals map[string]memoryValue
}

type memoryValue struct {
	v   any
	exp time.Time // zero: never
}

var _ TokenStore = (*MemoryCache)(nil)

// NewMemoryCache returns an empty MemoryCache on the wall clock.
func NewMemoryCache() *MemoryCache {
	return &MemoryCache{now: time.Now, vals: map[string]memoryValue{}}
}

// get returns the live value under key; callers hold mu.
func (m *MemoryCache) get(key string) (any, bool) {
	mv, ok := m.vals[key]
	if ok && !mv.exp.IsZero() && !m.now().Before(mv.exp) {
		delete(m.vals, key)
		return nil, false
	}
	return mv.v, ok
}

func (m *MemoryCache) set(key string, v any, ttl time.Duration) {
	mv := memoryValue{v: v}
	if ttl > 0 {
		mv.exp = m.now().Add(ttl)
	}
	m.vals[key] = mv
}

// GetToken implements TokenStore.
func (m *MemoryCache) GetToken(_ context.Context, key string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, _ := m.get(key)
	s, _ := v.(string)
	return s, nil
}

// SetToken implements TokenStore.
func (m *MemoryCache) SetToken(_ context.Context, key, token string, ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("wechat: token ttl %s: must be > 0", ttl)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.set(key, token, ttl)
	return nil
}

// TryLock implements TokenStore.
func (m *MemoryCache) TryLock(_ context.Context, key string, ttl time.Duration) (func(), bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, held := m.get(key); held {
		return nil, false, nil
	}
	id := randomHex(16)
	m.set(key, id, ttl)
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if v, ok := m.get(key); ok && v == id {
			delete(m.vals, key)
		}
	}, true, nil
}

// Get implements silenceper's cache.Cache: the value under key, or nil.
func (m *MemoryCache) Get(key string) any {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, _ := m.get(key)
	return v
}

// Set implements silenceper's cache.Cache: store val for timeout (0: no
// expiry).
func (m *MemoryCache) Set(key string, val any, timeout time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.set(key, val, timeout)
	return nil
}

// IsExist implements silenceper's cache.Cache.
func (m *MemoryCache) IsExist(key string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ok := m.get(key)
	return ok
}

// Delete implements silenceper's cache.Cache.
func (m *MemoryCache) Delete(key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.vals, key)
	return nil
}

// GetContext implements silenceper's cache.ContextCache.
func (m *MemoryCache) GetContext(_ context.Context, key string) any { return m.Get(key) }

// SetContext implements silenceper's cache.ContextCache.
func (m *MemoryCache) SetContext(_ context.Context, key string, val any, timeout time.Duration) error {
	return m.Set(key, val, timeout)
}

// IsExistContext implements silenceper's cache.ContextCache.
func (m *MemoryCache) IsExistContext(_ context.Context, key string) bool { return m.IsExist(key) }

// DeleteContext implements silenceper's cache.ContextCache.
func (m *MemoryCache) DeleteContext(_ context.Context, key string) error { return m.Delete(key) }
