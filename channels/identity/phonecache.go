package identity

import "sync"

// DefaultPhoneCacheSize is the generation size of the phone cache a
// Resolver keeps (see PhoneCache): up to twice as many numbers are held.
const DefaultPhoneCacheSize = 4096

// maxCachedPhoneText is the longest raw text a PhoneCache keeps, in bytes:
// "sip:+861012345678@trunk.example;user=phone" fits; longer texts are
// normalised every time, so the cache's memory stays bounded whatever
// clients send.
const maxCachedPhoneText = 64

// PhoneCache remembers the E.164 form (NormalisePhone) of phone numbers
// already seen, in one default region: checking a number against the
// numbering plan (nyaruka/phonenumbers, regular expressions) costs tens of
// microseconds, and a client's messages come from one number again and
// again. Only numbers that normalise are kept (a refused number is checked
// again, and its error says why), under their raw text: an adapter that
// hands on the E.164 form it normalised (the SMS providers do) has its
// numbers found under that form from the second message on.
//
// It is bounded: entries go into a current generation of at most size
// numbers; when that is full it becomes the previous generation (the one
// before is dropped) and a hit in the previous one is copied forward. So
// at most 2×size raw texts of at most 64 bytes are held, and the numbers
// in use stay. It is safe for concurrent use.
type PhoneCache struct {
	region string
	size   int

	mu       sync.Mutex
	cur, old map[string]string
}

// NewPhoneCache returns a PhoneCache that reads national numbers in
// defaultRegion (ISO 3166-1 alpha-2, as for NormalisePhone) and holds
// generations of size numbers (DefaultPhoneCacheSize when size < 1).
func NewPhoneCache(defaultRegion string, size int) *PhoneCache {
	if size < 1 {
		size = DefaultPhoneCacheSize
	}
	return &PhoneCache{region: defaultRegion, size: size, cur: make(map[string]string, size)}
}

// Normalise returns raw as E.164: the same answer, and the same error, as
// NormalisePhone(raw, defaultRegion), from the cache when raw was seen.
func (c *PhoneCache) Normalise(raw string) (string, error) {
	if e164, ok := c.get(raw); ok {
		return e164, nil
	}
	e164, err := NormalisePhone(raw, c.region)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.putLocked(raw, e164)
	c.mu.Unlock()
	return e164, nil
}

// Len returns how many raw texts the cache holds (both generations).
func (c *PhoneCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.cur) + len(c.old)
}

func (c *PhoneCache) get(raw string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e164, ok := c.cur[raw]; ok {
		return e164, true
	}
	e164, ok := c.old[raw]
	if ok {
		c.putLocked(raw, e164)
	}
	return e164, ok
}

// putLocked adds raw → e164 to the current generation, starting a new
// one when it is full. c.mu is held.
func (c *PhoneCache) putLocked(raw, e164 string) {
	if len(raw) > maxCachedPhoneText {
		return
	}
	if _, ok := c.cur[raw]; ok {
		return
	}
	if len(c.cur) >= c.size {
		c.old, c.cur = c.cur, make(map[string]string, c.size)
	}
	c.cur[raw] = e164
}
