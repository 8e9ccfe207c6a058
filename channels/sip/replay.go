package sip

import (
	"strconv"
	"sync"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Bounds of the replay cache of refused INVITEs.
const (
	// replayTTL is how long a refusal is replayed: longer than a
	// provider's retry schedule of one call attempt (RFC 3261 Timer B is
	// 32 s; SBCs retry within a minute or two).
	replayTTL = 2 * time.Minute
	// replayMax bounds the refusals remembered (about 200 bytes each).
	replayMax = 10000
)

// replayCache remembers the final refusals of initial INVITEs, by Call-ID,
// From tag and CSeq number, so that a provider's retry of the same
// attempt in a new transaction (a new branch, after the first transaction
// ended) gets the same answer without being processed again (no second
// sink call, no second conversation). The transaction layer already
// replays answers to retransmissions within a transaction (RFC 3261
// §17.2.1). Digest challenges (401, 407) are not remembered (a retry
// must get a fresh nonce), nor are 5xx answers (503 with Retry-After, a
// server error: the retry deserves a new try). It is safe for concurrent
// use.
type replayCache struct {
	now func() time.Time

	mu    sync.Mutex
	byKey map[string]replayEntry
	order []string // insertion order, for eviction
}

// replayEntry is one remembered refusal.
type replayEntry struct {
	status     int
	reason     string
	retryAfter string
	warning    string
	expires    time.Time
}

func newReplayCache(now func() time.Time) *replayCache {
	return &replayCache{now: now, byKey: map[string]replayEntry{}}
}

// replayKey identifies an INVITE attempt; "" for a request that is not an
// initial INVITE.
func replayKey(req *sip.Request) string {
	if req.Method != sip.INVITE || req.CallID() == nil || req.CSeq() == nil || req.From() == nil {
		return ""
	}
	if to := req.To(); to == nil || to.Params.Has("tag") {
		return ""
	}
	tag, _ := req.From().Params.Get("tag")
	return req.CallID().Value() + "|" + tag + "|" + strconv.FormatUint(uint64(req.CSeq().SeqNo), 10)
}

// remember stores res as the answer to req when it is a final refusal of
// an initial INVITE (other than a digest challenge).
func (r *replayCache) remember(req *sip.Request, res *sip.Response) {
	key := replayKey(req)
	if key == "" || res.StatusCode < 300 || res.StatusCode == 401 || res.StatusCode == 407 || res.StatusCode >= 500 {
		return
	}
	e := replayEntry{status: res.StatusCode, reason: res.Reason, expires: r.now().Add(replayTTL)}
	if h := res.GetHeader("Retry-After"); h != nil {
		e.retryAfter = h.Value()
	}
	if h := res.GetHeader("Warning"); h != nil {
		e.warning = h.Value()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.byKey[key]; !ok {
		r.order = append(r.order, key)
	}
	r.byKey[key] = e
	now := r.now()
	for len(r.order) > 0 && (len(r.byKey) > replayMax || r.byKey[r.order[0]].expires.Before(now)) {
		delete(r.byKey, r.order[0])
		r.order = r.order[1:]
	}
}

// lookup returns the refusal remembered for req, if any and not expired.
func (r *replayCache) lookup(req *sip.Request) (replayEntry, bool) {
	key := replayKey(req)
	if key == "" {
		return replayEntry{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.byKey[key]
	if !ok || e.expires.Before(r.now()) {
		return replayEntry{}, false
	}
	return e, true
}

// replay answers req with its remembered refusal and reports whether it
// did.
func (s *Server) replay(req *sip.Request, tx sip.ServerTransaction) bool {
	e, ok := s.replays.lookup(req)
	if !ok {
		return false
	}
	res := sip.NewResponseFromRequest(req, e.status, e.reason, nil)
	if e.retryAfter != "" {
		res.AppendHeader(sip.NewHeader("Retry-After", e.retryAfter))
	}
	if e.warning != "" {
		res.AppendHeader(sip.NewHeader("Warning", e.warning))
	}
	if err := tx.Respond(res); err != nil {
		s.log.Debug("sip respond failed", "status", e.status, "error", err)
	}
	s.log.Debug("refusal replayed", "status", e.status)
	return true
}
