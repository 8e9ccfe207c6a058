package state

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/routing"
)

// Router is the part of the store the routing runtime commits through. A
// routing decision is computed from a snapshot (RMStates, Presences, the
// queue); Commit then applies it in one atomic step that re-checks what the
// decision assumed, so several routers on several instances never offer one
// conversation twice nor put an RM over capacity.
//
// Times are kept to the microsecond (Unix µs on Redis, as offer expiries
// are); every time a Router returns is in UTC.
type Router interface {
	// Commit applies txn atomically: first the conversation's
	// compare-and-set and every guard are checked at txn.Now; if all hold,
	// every effect is applied, in the order of the Txn fields; otherwise
	// nothing changes. A version mismatch returns ErrConflict; a failed
	// guard returns a *GuardError (which wraps ErrConflict). Callers
	// re-read and re-decide on either. A conversation that does not exist
	// is ErrNotFound; a malformed Txn (zero Now, an invalid record, a guard
	// without the fields its kind needs) is a conversation.ErrInvalid error
	// and nothing is checked or written. The caller's Txn is not changed
	// (the stored conversation has Version+1). On Redis a Commit is one
	// EVALSHA, whatever the Txn holds.
	Commit(ctx context.Context, txn Txn) error
	// CommitBatch applies txns in order, each atomically and on its own
	// exactly as Commit would (a refused Txn does not stop the ones after
	// it), and returns one error per Txn, nil for those applied. The second
	// error (ErrUnavailable) means the batch could not be run: none, some
	// or all of it may have been applied, as with a lost Commit reply. On
	// Redis a batch is one EVALSHA, so a routing pass pays one round trip
	// per batch instead of one per decision; callers keep batches small
	// (tens of Txns, about a megabyte), as Redis serves nothing else while
	// a script runs.
	CommitBatch(ctx context.Context, txns []Txn) ([]error, error)
	// RMStates returns the routing counters of every RM that has any:
	// holdings, last offer, idle-since or missed offers; ordered by RM id.
	RMStates(ctx context.Context) ([]RMState, error)
	// RMState returns one RM's counters (zero counters if it has none).
	RMState(ctx context.Context, id conversation.RMID) (RMState, error)
	// OfferFor returns the conversation's offer whose lease is live at now
	// (ErrNotFound when none); of several live ones, the latest created.
	// It sees offers made by Commit and by CreateOffer alike.
	OfferFor(ctx context.Context, id conversation.ConversationID, now time.Time) (conversation.Offer, error)
	// OffersOf returns the RM's offers whose leases are live at now, oldest first.
	OffersOf(ctx context.Context, id conversation.RMID, now time.Time) ([]conversation.Offer, error)
	// DueWakes returns up to limit conversations (all when limit <= 0)
	// whose wake time is at or before now, earliest first, ties by id. It
	// does not remove them: a Txn clears a wake (zero At) or moves it.
	DueWakes(ctx context.Context, now time.Time, limit int) ([]conversation.ConversationID, error)
	// NextDeadline returns the earliest pending wake time or offer expiry,
	// and false when there is none, so a router can arm one timer. An
	// offer counts until it is deleted, so an expired offer not yet
	// reconciled gives a time in the past.
	NextDeadline(ctx context.Context) (time.Time, bool, error)
	// Decisions returns up to limit decision records of a conversation,
	// newest first (limit <= 0: all kept; at most MaxDecisionsKept), each
	// as the JSON committed (a DecisionRecord.Decision as its AppendJSON).
	// On Redis a packed record whose roster is gone (evicted or deleted
	// by hand; expiry never separates them) is left out.
	Decisions(ctx context.Context, id conversation.ConversationID, limit int) ([]json.RawMessage, error)
	// Cursors returns the round-robin cursors (cursor key → last RM chosen).
	Cursors(ctx context.Context) (map[string]conversation.RMID, error)
	// Notify wakes every subscriber of topic on every instance. It carries
	// no payload: subscribers re-read the store. An empty topic is a
	// conversation.ErrInvalid error; on Redis a lost server is
	// ErrUnavailable.
	Notify(ctx context.Context, topic string) error
	// Subscribe returns a channel that receives (coalesced) notifications
	// of topic until ctx ends, when it is closed. A subscriber that is slow
	// misses nothing that matters: one pending notification stands for all.
	// The subscription is in place when Subscribe returns, so a Notify
	// after it is delivered. On Redis a lost connection is re-established
	// by itself; notifications published while it was down are lost, so
	// the channel then receives one notification when it is back, which
	// makes the subscriber re-read. Errors: an empty topic
	// (conversation.ErrInvalid), ErrUnavailable if Redis cannot be reached
	// when subscribing.
	Subscribe(ctx context.Context, topic string) (<-chan struct{}, error)
}

// MaxDecisionsKept is how many decision records are kept per
// conversation; older ones are dropped. On Redis the list also expires
// DecisionTTL after its last write.
const MaxDecisionsKept = 100

// DecisionTTL bounds how long decision records are kept after the last
// one of a conversation (Redis: key expiry; memory: checked on read
// against the wall clock of the write, not Txn.Now, so a simulation on a
// virtual clock keeps its records).
const DecisionTTL = 30 * 24 * time.Hour

// Txn is one atomic routing step. Zero-valued fields do nothing; a Txn
// with only Now and Guards checks without writing.
type Txn struct {
	// Now is the time guards are checked at and leases compared with.
	Now time.Time
	// Conversation, when set, is written with compare-and-set: the stored
	// version must equal Conversation.Version (the version that was read);
	// it is stored with Version+1, and its indexes follow the change.
	Conversation *conversation.Conversation
	// Guards must all hold, or nothing is written.
	Guards []Guard

	// Holds add (or replace) capacity held by a conversation on an RM.
	Holds []Hold
	// Releases remove holdings (Cost is ignored); releasing what is not
	// held does nothing. When a release leaves an RM's load at 0 its
	// IdleSince is set to Now.
	Releases []Hold
	// PutOffer stores an offer lease (indexed by conversation, RM and
	// expiry), replacing an offer with the same id. Unlike CreateOffer it
	// checks nothing by itself: add GuardNoLiveOffer for that.
	PutOffer *conversation.Offer
	// PutOffers stores further offer leases, after PutOffer and like it:
	// the other RMs' offers of a simultaneous offer (one conversation
	// offered to several RMs at once; routing.Config.SimultaneousOffers).
	PutOffers []conversation.Offer
	// DeleteOffers removes offer leases; a missing one is ignored.
	DeleteOffers []conversation.OfferID
	// Enqueue and Dequeue change queues (as Store.Enqueue and Dequeue).
	Enqueue []QueueOp
	Dequeue []QueueOp
	// RMs update routing counters.
	RMs []RMUpdate
	// Presences replace RMs' presence leases.
	Presences []conversation.Presence
	// Events are appended to their conversations' timelines.
	Events []conversation.Event
	// Decision is appended to its conversation's decision records.
	Decision *DecisionRecord
	// Wakes set (or, with a zero At, clear) when a waiting conversation is
	// to be re-evaluated.
	Wakes []Wake
	// Cursors set round-robin cursors (key → RM); an empty RM removes
	// the cursor.
	Cursors map[string]conversation.RMID
}

// GuardKind names a condition a Txn checks before writing.
type GuardKind string

// Guard kinds.
const (
	// GuardRMAvailable: RMID's presence is available and its lease has not
	// expired at Txn.Now.
	GuardRMAvailable GuardKind = "rm_available"
	// GuardCapacity: RMID's load (sum of holdings, not counting one held by
	// ConversationID itself) plus Cost is at most Capacity (cost units).
	GuardCapacity GuardKind = "capacity"
	// GuardOfferLive: offer OfferID exists, belongs to RMID when RMID is
	// set, and its lease has not expired at Txn.Now.
	GuardOfferLive GuardKind = "offer_live"
	// GuardNoLiveOffer: conversation ConversationID has no offer whose lease
	// is live at Txn.Now.
	GuardNoLiveOffer GuardKind = "no_live_offer"
	// GuardPresence: RMID's stored presence has State and lease expiry
	// ExpiresAt (to the µs; zero for none), as read before: a
	// compare-and-set of a presence, so renewing a lease never undoes a
	// change made in between. It does not check the lease against Now.
	GuardPresence GuardKind = "presence"
)

// Guard is one condition of a Txn; the fields used depend on Kind.
type Guard struct {
	Kind           GuardKind
	RMID           conversation.RMID
	ConversationID conversation.ConversationID
	OfferID        conversation.OfferID
	Cost           int
	Capacity       int
	// State and ExpiresAt are GuardPresence's expected presence.
	State     conversation.PresenceState
	ExpiresAt time.Time
}

// GuardError reports the first guard of a Txn that did not hold. It wraps
// ErrConflict.
type GuardError struct {
	Guard  Guard
	Reason string
}

func (e *GuardError) Error() string {
	return fmt.Sprintf("state: guard %s failed: %s", e.Guard.Kind, e.Reason)
}

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *GuardError) Unwrap() error { return ErrConflict }

// Hold is capacity (cost units) that a conversation takes from an RM while
// it is offered to or handled by them.
type Hold struct {
	RMID           conversation.RMID           `json:"rm_id"`
	ConversationID conversation.ConversationID `json:"conversation_id"`
	Cost           int                         `json:"cost"`
}

// QueueOp names a conversation on a queue, with a score for Enqueue.
type QueueOp struct {
	Queue          string
	ConversationID conversation.ConversationID
	Score          float64
}

// MissedOp says what a Txn does to an RM's count of offers missed in a row.
type MissedOp int

// Missed-offer operations.
const (
	MissedKeep MissedOp = iota
	MissedReset
	MissedIncrement
)

// RMUpdate changes one RM's routing counters; zero times are kept as they are.
type RMUpdate struct {
	RMID        conversation.RMID
	LastOfferAt time.Time
	IdleSince   time.Time
	Missed      MissedOp
}

// RMState is an RM's routing counters as stored.
type RMState struct {
	RMID        conversation.RMID `json:"rm_id"`
	Holds       []Hold            `json:"holds,omitempty"`
	Load        int               `json:"load"`
	LastOfferAt time.Time         `json:"last_offer_at,omitzero"`
	IdleSince   time.Time         `json:"idle_since,omitzero"`
	MissedInRow int               `json:"missed_in_row"`
}

// Wake asks for a conversation to be re-evaluated at At (zero: clear).
type Wake struct {
	ConversationID conversation.ConversationID
	At             time.Time
}

// DecisionRecord is one routing decision as JSON, for
// GET /api/v1/conversations/{id}/decisions. It holds exactly one of Record
// and Decision.
type DecisionRecord struct {
	ConversationID conversation.ConversationID
	At             time.Time
	// Record is the decision as JSON; Commit checks that it is valid JSON
	// (what json.Valid accepts) and keeps a copy.
	Record json.RawMessage
	// Decision is the decision as the router made it; Decisions returns
	// it as routing.Decision.AppendJSON writes it, which is valid JSON by
	// construction, so it is not checked again. The memory store keeps
	// that JSON; Redis keeps it packed (routing.Decision.AppendPacked:
	// 2.6 KB instead of 33 KB for a full record of 300 candidates; see
	// redis_decisions.go) and expands it on reading, byte for byte the
	// same. Its ConversationID must be the record's.
	Decision *routing.Decision
}

// json returns the record's JSON in a buffer of its own (the caller may
// keep it).
func (d *DecisionRecord) json() []byte {
	if d.Decision != nil {
		return d.Decision.AppendJSON(nil)
	}
	return slices.Clone(d.Record)
}
