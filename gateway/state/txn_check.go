package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// validateTxn checks every part of txn before anything is read or written,
// so a Commit never stops half-way for bad input. Errors wrap
// conversation.ErrInvalid, are joined, and say what is allowed.
func validateTxn(txn *Txn) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("txn: "+format, args...))
	}
	if txn.Now.IsZero() {
		bad("%w: zero Now (guards are checked at Now)", conversation.ErrInvalid)
	}
	if c := txn.Conversation; c != nil {
		if err := c.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("txn: %w", err))
		}
	}
	for i, g := range txn.Guards {
		if err := validateGuard(g); err != nil {
			bad("guard %d: %w", i, err)
		}
	}
	for i, h := range txn.Holds {
		if h.RMID == "" || h.ConversationID == "" || h.Cost < 0 {
			bad("hold %d (%s, %s, cost %d): %w (allowed: an rm id, a conversation id, cost >= 0)", i, h.RMID, h.ConversationID, h.Cost, conversation.ErrInvalid)
		}
	}
	for i, h := range txn.Releases {
		if h.RMID == "" || h.ConversationID == "" {
			bad("release %d: %w: needs an rm id and a conversation id", i, conversation.ErrInvalid)
		}
	}
	if o := txn.PutOffer; o != nil {
		if err := validateOffer(*o); err != nil {
			errs = append(errs, fmt.Errorf("txn: %w", err))
		}
	}
	for i, o := range txn.PutOffers {
		if err := validateOffer(o); err != nil {
			errs = append(errs, fmt.Errorf("txn: offer %d: %w", i, err))
		}
	}
	for i, id := range txn.DeleteOffers {
		if id == "" {
			bad("delete offer %d: %w: empty offer id", i, conversation.ErrInvalid)
		}
	}
	for _, q := range txn.Enqueue {
		if err := validateQueueEntry(q.Queue, q.ConversationID, q.Score); err != nil {
			errs = append(errs, fmt.Errorf("txn: enqueue: %w", err))
		}
	}
	for _, q := range txn.Dequeue {
		if err := validateQueueEntry(q.Queue, q.ConversationID, 0); err != nil {
			errs = append(errs, fmt.Errorf("txn: dequeue: %w", err))
		}
	}
	for i, u := range txn.RMs {
		if u.RMID == "" || u.Missed < MissedKeep || u.Missed > MissedIncrement {
			bad("rm update %d (%q, missed op %d): %w (allowed: an rm id, MissedKeep, MissedReset or MissedIncrement)", i, u.RMID, u.Missed, conversation.ErrInvalid)
		}
	}
	for _, p := range txn.Presences {
		if err := p.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("txn: %w", err))
		}
	}
	for _, e := range txn.Events {
		if err := validateEvent(e); err != nil {
			errs = append(errs, fmt.Errorf("txn: %w", err))
		}
	}
	if d := txn.Decision; d != nil {
		// Records are served as they are (json.RawMessage), so one invalid
		// record would break every response listing it. JSON from a caller
		// (Record) is checked in full with json.Valid. A routing.Decision is written
		// by the store with Decision.AppendJSON, valid JSON by
		// construction (its tests compare it byte for byte with
		// encoding/json), so only its conversation is checked: checking
		// the routing pass's records again cost as much as writing them.
		switch {
		case d.ConversationID == "":
			bad("decision record: %w: empty conversation id", conversation.ErrInvalid)
		case (d.Decision == nil) == (len(d.Record) == 0):
			bad("decision record of %q: %w (allowed: exactly one of a JSON record and a routing decision)", d.ConversationID, conversation.ErrInvalid)
		case d.Decision != nil && d.Decision.ConversationID != d.ConversationID:
			bad("decision record of %q: %w: the decision is of %q", d.ConversationID, conversation.ErrInvalid, d.Decision.ConversationID)
		case d.Decision == nil && !json.Valid(d.Record):
			bad("decision record of %q: %w (allowed: a JSON value, RFC 8259)", d.ConversationID, conversation.ErrInvalid)
		}
	}
	for i, w := range txn.Wakes {
		if w.ConversationID == "" {
			bad("wake %d: %w: empty conversation id", i, conversation.ErrInvalid)
		}
	}
	for k := range txn.Cursors {
		if k == "" {
			bad("cursor: %w: empty key", conversation.ErrInvalid)
		}
	}
	return errors.Join(errs...)
}

// validateGuard checks that g names a known kind and has the fields that
// kind uses.
func validateGuard(g Guard) error {
	switch g.Kind {
	case GuardRMAvailable:
		if g.RMID == "" {
			return fmt.Errorf("%s: %w: needs an rm id", g.Kind, conversation.ErrInvalid)
		}
	case GuardCapacity:
		if g.RMID == "" || g.Cost < 0 || g.Capacity < 0 {
			return fmt.Errorf("%s (%q, cost %d, capacity %d): %w (allowed: an rm id, cost and capacity >= 0 cost units)", g.Kind, g.RMID, g.Cost, g.Capacity, conversation.ErrInvalid)
		}
	case GuardOfferLive:
		if g.OfferID == "" {
			return fmt.Errorf("%s: %w: needs an offer id", g.Kind, conversation.ErrInvalid)
		}
	case GuardNoLiveOffer:
		if g.ConversationID == "" {
			return fmt.Errorf("%s: %w: needs a conversation id", g.Kind, conversation.ErrInvalid)
		}
	case GuardPresence:
		if g.RMID == "" || !g.State.Valid() {
			return fmt.Errorf("%s (%q, state %q): %w (allowed: an rm id and a presence state)", g.Kind, g.RMID, g.State, conversation.ErrInvalid)
		}
	default:
		return fmt.Errorf("kind %q: %w (allowed: %s, %s, %s, %s, %s)", g.Kind, conversation.ErrInvalid,
			GuardRMAvailable, GuardCapacity, GuardOfferLive, GuardNoLiveOffer, GuardPresence)
	}
	return nil
}

// guardFailure is why a guard did not hold, as both stores find it; its
// reason is the same sentence on memory and on Redis.
type guardFailure struct {
	code  string // failNoPresence, failState, …
	state conversation.PresenceState
	at    time.Time // lease expiry
	load  int
	offer conversation.OfferID
	rm    conversation.RMID
}

// Codes of guardFailure (also returned by the Redis commit script).
const (
	failNoPresence   = "no_presence"
	failState        = "state"
	failLeaseExpired = "lease_expired"
	failLoad         = "load"
	failNoOffer      = "no_offer"
	failOfferOwner   = "owner"
	failOfferExpired = "offer_expired"
	failLiveOffer    = "live_offer"
	failPresence     = "presence_changed"
)

// guardError returns the *GuardError of g failing for f.
func (f guardFailure) guardError(g Guard) *GuardError {
	var reason string
	switch f.code {
	case failNoPresence:
		reason = fmt.Sprintf("%s has no presence (offline)", g.RMID)
	case failState:
		reason = fmt.Sprintf("%s is %s", g.RMID, f.state)
	case failLeaseExpired:
		reason = fmt.Sprintf("%s presence lease expired at %s", g.RMID, formatTime(f.at))
	case failLoad:
		reason = fmt.Sprintf("%s load %d + %d > %d", g.RMID, f.load, g.Cost, g.Capacity)
	case failNoOffer:
		reason = fmt.Sprintf("offer %s does not exist", g.OfferID)
	case failOfferOwner:
		reason = fmt.Sprintf("offer %s belongs to %s, not %s", g.OfferID, f.rm, g.RMID)
	case failOfferExpired:
		reason = fmt.Sprintf("offer %s expired at %s", g.OfferID, formatTime(f.at))
	case failLiveOffer:
		reason = fmt.Sprintf("conversation %s has offer %s to %s live until %s", g.ConversationID, f.offer, f.rm, formatTime(f.at))
	case failPresence:
		reason = fmt.Sprintf("%s presence changed: now %s", g.RMID, f.state)
	default:
		reason = "unknown failure " + strconv.Quote(f.code)
	}
	return &GuardError{Guard: g, Reason: reason}
}

// micros returns t in Unix µs, the unit of every routing time the stores
// keep (0 for the zero time).
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros is the inverse of micros, in UTC.
func fromMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return time.UnixMicro(us).UTC()
}

// truncMicros returns t as a store keeps it: to the microsecond, in UTC.
func truncMicros(t time.Time) time.Time { return fromMicros(micros(t)) }

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
