// Package state holds Airbranch's durable state behind one Store interface,
// with two implementations: Memory (one instance, no Redis) and Redis
// (several instances on one Redis, Sentinel or Cluster). Both pass the one
// contract suite in package statetest.
package state

import (
	"context"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Store is the durable state of the gateway. Every method is safe for
// concurrent use, and on Redis safe across instances. Errors: ErrNotFound
// (wrapping conversation.ErrNotFound) for a missing record, ErrExists for a
// duplicate id, ErrConflict for a lost optimistic-concurrency race that
// retries did not settle, ErrUnavailable when the backend cannot be reached
// (callers answer 503 so providers retry), and the conversation package's
// validation errors (ErrInvalid) for a malformed record.
type Store interface {
	// Router is the routing runtime's part: atomic commits of routing
	// decisions, routing counters, leases, wakes and notifications.
	Router
	// Instances is the instances' liveness leases and the live media
	// each holds (instances.go).
	Instances

	// Ping checks the backend is reachable; it returns ErrUnavailable if not.
	Ping(ctx context.Context) error
	// Close releases connections; the store must not be used after it.
	Close() error

	// CreateProspect stores c, a prospect created for an unknown address,
	// unless a customer is already linked to c.Addresses[0]: then it
	// returns that customer and false. It is atomic across instances, so two
	// first contacts from one address make one prospect.
	CreateProspect(ctx context.Context, c conversation.Customer) (conversation.Customer, bool, error)
	// Customer returns a customer stored by CreateProspect.
	Customer(ctx context.Context, id conversation.CustomerID) (conversation.Customer, error)
	// CustomerByAddress returns the stored customer linked to addr.
	CustomerByAddress(ctx context.Context, addr conversation.Address) (conversation.Customer, error)

	// CreateConversation stores a new conversation (Version is set to 1);
	// ErrExists if its id is taken.
	CreateConversation(ctx context.Context, c conversation.Conversation) (conversation.Conversation, error)
	// Conversation returns the conversation with id.
	Conversation(ctx context.Context, id conversation.ConversationID) (conversation.Conversation, error)
	// Conversations returns the conversations with the given ids, in the
	// order asked, skipping ids that do not exist; one round trip on Redis
	// (a pipeline), for a routing pass over a whole queue.
	Conversations(ctx context.Context, ids []conversation.ConversationID) ([]conversation.Conversation, error)
	// UpdateConversation reads the conversation, applies fn to a copy and
	// writes it back if nobody else wrote in between (compare-and-set on
	// Version, which it increments), re-reading and re-applying fn on a
	// conflict, a few times before ErrConflict. An error from fn aborts the
	// update and is returned as is; a result that changes the id or fails
	// validation is refused (conversation.ErrInvalid). It returns the stored
	// result. Updates of one conversation within one process take turns, so
	// fn must not itself call UpdateConversation for the same conversation.
	UpdateConversation(ctx context.Context, id conversation.ConversationID, fn func(*conversation.Conversation) error) (conversation.Conversation, error)
	// ListConversations returns conversations matching f, newest first (by
	// descending id: UUIDv7 ids sort by creation time), a page at a time.
	// A bad filter (unknown status or channel, limit out of range) is a
	// conversation.ErrInvalid error.
	ListConversations(ctx context.Context, f ConversationFilter) (ConversationPage, error)

	// AppendMessage stores m on its conversation unless a message with the
	// same idempotency key (channel, channel account, provider id) exists:
	// then it returns the first copy and false. Messages without a provider
	// id are always stored. A taken message id is ErrExists. The
	// conversation need not exist yet (inbound messages are stored before
	// the work that opens their conversation).
	AppendMessage(ctx context.Context, m conversation.Message) (conversation.Message, bool, error)
	// Message returns the message with id.
	Message(ctx context.Context, id conversation.MessageID) (conversation.Message, error)
	// MessageByProviderID returns the message with that idempotency key.
	MessageByProviderID(ctx context.Context, ch conversation.Channel, account, providerID string) (conversation.Message, error)
	// AdvanceMessage moves a message's delivery status forward atomically
	// (see conversation.Message.Advance); a stale status changes nothing
	// and reports false.
	AdvanceMessage(ctx context.Context, id conversation.MessageID, to conversation.DeliveryStatus, errorCode string, now time.Time) (conversation.Message, bool, error)
	// Messages returns up to limit messages of a conversation, oldest first
	// (the last limit of them when there are more); limit <= 0 means all.
	// A conversation without messages gives an empty slice.
	Messages(ctx context.Context, id conversation.ConversationID, limit int) ([]conversation.Message, error)

	// BindProviderIDs indexes an outbound message under the provider ids
	// its channel adapter got when sending it (one per SMS part), so that
	// MessageByProviderID finds it when a status report arrives. An id
	// already bound to another message is left as it is. Errors:
	// ErrNotFound for an unknown message, a conversation.ErrInvalid error
	// for an empty provider id.
	BindProviderIDs(ctx context.Context, id conversation.MessageID, providerIDs []string) error

	// Thread returns the conversation a thread key (e.g. "sms|+852...|
	// cus-1": channel, channel account, customer) points at, ErrNotFound
	// when none. It may be ended: callers check and replace it.
	Thread(ctx context.Context, key string) (conversation.ConversationID, error)
	// ClaimThread points key at next if it points at prev now ("" meaning
	// it points nowhere), atomically across instances, and returns where
	// key points afterwards: next when the claim won, the other
	// conversation when another writer got there first.
	ClaimThread(ctx context.Context, key string, prev, next conversation.ConversationID) (conversation.ConversationID, error)
	// ClaimOnce reports whether this is the first claim of key within ttl
	// (SET NX with an expiry on Redis), for de-duplicating provider retries
	// of things that are not messages (WeChat events). ttl must be > 0.
	ClaimOnce(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// ForgetOnce removes a claim of ClaimOnce, so that a retry is taken
	// again when the claimed work failed.
	ForgetOnce(ctx context.Context, key string) error

	// AppendStreamEvent appends an event of type typ with JSON data (may be
	// empty) at at to the named stream and returns it with its seq (see
	// StreamEvent; retention MaxStreamEventsKept and StreamEventTTL). It
	// does not notify: callers Broadcast. Errors: conversation.ErrInvalid
	// for an empty stream or type or data that is not JSON; ErrUnavailable.
	AppendStreamEvent(ctx context.Context, stream, typ string, data []byte, at time.Time) (StreamEvent, error)
	// StreamEvents returns up to limit (1–1000) of the stream's events with
	// seq > after, oldest first (see StreamPage).
	StreamEvents(ctx context.Context, stream string, after int64, limit int) (StreamPage, error)
	// Broadcast sends payload to every Listen of topic on every instance
	// (PUBLISH on Redis): at most once, so listeners re-read the store and
	// treat a payload only as a hint of what changed.
	Broadcast(ctx context.Context, topic, payload string) error
	// Listen returns a channel of topic's payloads until ctx ends, when it
	// is closed. One Listen per topic and instance is the intended use (on
	// Redis it holds a connection). When the listener falls behind (more
	// than 4,096 pending) or the Redis connection was lost and re-made,
	// payloads are dropped and "" is delivered instead, meaning
	// "something changed: re-read everything". Errors: an empty topic
	// (conversation.ErrInvalid), ErrUnavailable.
	Listen(ctx context.Context, topic string) (<-chan string, error)

	// AppendEvent adds e to its conversation's timeline.
	AppendEvent(ctx context.Context, e conversation.Event) error
	// Events returns a conversation's timeline in append order (an empty
	// slice when it has none).
	Events(ctx context.Context, id conversation.ConversationID) ([]conversation.Event, error)

	// SetPresence stores an RM's presence lease.
	SetPresence(ctx context.Context, p conversation.Presence) error
	// Presence returns an RM's presence as it stands at now (offline if
	// never set or if the lease has expired).
	Presence(ctx context.Context, id conversation.RMID, now time.Time) (conversation.Presence, error)
	// Presences returns every stored presence as it stands at now, sorted
	// by RM id.
	Presences(ctx context.Context, now time.Time) ([]conversation.Presence, error)

	// Enqueue puts a conversation on queue q with score (lower is served
	// first; callers use the enqueue time in Unix ms plus adjustments). A
	// conversation already on q gets the new score.
	Enqueue(ctx context.Context, q string, id conversation.ConversationID, score float64) error
	// Dequeue removes a conversation from queue q, reporting whether it was there.
	Dequeue(ctx context.Context, q string, id conversation.ConversationID) (bool, error)
	// Queue returns up to limit entries of q in score order, ties by
	// conversation id (all if limit <= 0).
	Queue(ctx context.Context, q string, limit int) ([]QueueEntry, error)

	// CreateOffer stores an offer lease; ErrConflict if the conversation
	// already has an offer whose lease has not expired at o.CreatedAt,
	// ErrExists if the offer id is taken.
	CreateOffer(ctx context.Context, o conversation.Offer) error
	// Offer returns the offer with id (expired or not, until deleted).
	Offer(ctx context.Context, id conversation.OfferID) (conversation.Offer, error)
	// DeleteOffer removes an offer (accepted, declined, withdrawn or
	// reconciled), reporting whether it was there.
	DeleteOffer(ctx context.Context, id conversation.OfferID) (bool, error)
	// ExpiredOffers returns up to limit offers whose lease ended at or
	// before now, earliest first, for the reconciler.
	ExpiredOffers(ctx context.Context, now time.Time, limit int) ([]conversation.Offer, error)
}

// ConversationFilter selects conversations for ListConversations. Empty
// fields match everything. Limit is the page size (1–500; 0 means 50);
// Cursor is the NextCursor of the previous page.
type ConversationFilter struct {
	Status     conversation.Status
	Channel    conversation.Channel
	TeamID     conversation.TeamID
	CustomerID conversation.CustomerID
	AssigneeID conversation.RMID
	Limit      int
	Cursor     string
}

// ConversationPage is one page of ListConversations; NextCursor (the id
// of the last item) is empty on the last page.
type ConversationPage struct {
	Items      []conversation.Conversation `json:"items"`
	NextCursor string                      `json:"next_cursor,omitempty"`
}

// QueueEntry is one conversation waiting on a queue.
type QueueEntry struct {
	ConversationID conversation.ConversationID `json:"conversation_id"`
	Score          float64                     `json:"score"`
}
