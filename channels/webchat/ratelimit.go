package webchat

import "time"

// bucket is a token bucket: burst tokens at most, refilled at rate per
// second. Not safe for concurrent use (a session's reader owns its own;
// the adapter's anonymous bucket is used under a lock).
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func newBucket(rate, burst float64, now time.Time) *bucket {
	return &bucket{rate: rate, burst: burst, tokens: burst, last: now}
}

// allow takes one token at now if there is one; otherwise it returns
// false and how long until one is there.
func (b *bucket) allow(now time.Time) (bool, time.Duration) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(b.burst, b.tokens+el*b.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
}
