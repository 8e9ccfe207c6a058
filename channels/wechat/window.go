package wechat

import (
	"context"
	"time"
)

// Grant is what one user interaction allows the account to send through
// the customer-service API: Quota messages until Until. WeChat's rules
// ("Customer service messages"): a user message grants 5 messages for
// 48 h; a menu click, a follow or a QR scan 3 messages for 1 minute. A
// newer interaction of the same Trigger replaces the older grant (the
// quota refills); an older one, or one of the same time that is not New
// (a retried callback), changes nothing.
type Grant struct {
	Trigger Trigger
	// At is the interaction's time (the callback's CreateTime).
	At time.Time
	// Until is when the grant ends (At plus the rule's duration).
	Until time.Time
	// Quota is how many messages the grant allows, > 0.
	Quota int
	// New says the interaction is not a retried callback of one already
	// granted: a new one of the same At (CreateTime is in seconds, a user
	// may write twice in one) refills the quota too.
	New bool
}

// Windows records each user's customer-service window so that every
// instance agrees on it. Times are kept to the millisecond. Accounts are
// original ids; openids are opaque.
type Windows interface {
	// Grant records an interaction (see Grant for replacement rules).
	Grant(ctx context.Context, account, openid string, g Grant) error
	// Take reserves one message: from the open grant (Until after now)
	// with messages left that ends first. It returns that grant's trigger,
	// or ErrWindowClosed when no grant is open, ErrQuotaUsed when grants
	// are open but all used.
	Take(ctx context.Context, account, openid string, now time.Time) (Trigger, error)
	// Give returns a message Take reserved but WeChat did not count (the
	// send failed for another reason), up to the grant's quota.
	Give(ctx context.Context, account, openid string, t Trigger, now time.Time) error
	// Exhaust marks every grant used (WeChat answered 45047).
	Exhaust(ctx context.Context, account, openid string) error
	// Close removes every grant (WeChat answered 45015).
	Close(ctx context.Context, account, openid string) error
	// Window reports whether a message may be sent now (a grant is open
	// with messages left), how many may (the sum over open grants), and
	// when the last open grant with messages left ends (or, with none
	// left, the last open grant; zero when none is open).
	Window(ctx context.Context, account, openid string, now time.Time) (open bool, remaining int, closesAt time.Time, err error)
}

// grantState is one stored grant, times in Unix milliseconds.
type grantState struct {
	at, until int64
	rem       int
	quota     int
}

// windowOf computes Window's answer from a user's grants.
func windowOf(grants map[Trigger]grantState, now time.Time) (open bool, remaining int, closesAt time.Time) {
	nowMS := now.UnixMilli()
	var lastLeft, lastAny int64
	for _, g := range grants {
		if g.until <= nowMS {
			continue
		}
		lastAny = max(lastAny, g.until)
		if g.rem > 0 {
			remaining += g.rem
			lastLeft = max(lastLeft, g.until)
		}
	}
	switch {
	case lastLeft > 0:
		return true, remaining, time.UnixMilli(lastLeft)
	case lastAny > 0:
		return false, 0, time.UnixMilli(lastAny)
	}
	return false, 0, time.Time{}
}

// pickGrant returns the trigger Take reserves from, or the error.
func pickGrant(grants map[Trigger]grantState, now time.Time) (Trigger, error) {
	nowMS := now.UnixMilli()
	var best Trigger
	var bestUntil int64
	live := false
	for t, g := range grants {
		if g.until <= nowMS {
			continue
		}
		live = true
		if g.rem > 0 && (best == "" || g.until < bestUntil || g.until == bestUntil && t < best) {
			best, bestUntil = t, g.until
		}
	}
	switch {
	case best != "":
		return best, nil
	case live:
		return "", ErrQuotaUsed
	}
	return "", ErrWindowClosed
}
