package webchat

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Sink is where the adapter delivers what clients send: the gateway's
// inbox. The adapter acknowledges a client message only after Receive
// returns.
type Sink interface {
	// Receive stores one message, inserting it only if its ProviderID (the
	// client's message id, scoped by the client's app user id) is new; a
	// re-sent message returns the first copy's Receipt with Duplicate set.
	// It joins the client's open web chat conversation or opens (and
	// routes) one. Errors wrapping conversation.ErrUnavailable mean "not
	// stored" (the client is told unavailable and re-sends);
	// conversation.ErrInvalid means the Incoming is malformed.
	Receive(ctx context.Context, in conversation.Incoming) (conversation.Receipt, error)
	// Status moves an RM's message forward (delivered, read), found by
	// the provider id Send returned (the message id). Errors wrapping
	// conversation.ErrNotFound when no message has that provider id.
	Status(ctx context.Context, u conversation.StatusUpdate) error
}

// StreamEvent is one event of a client's stream: the shape of
// gateway/state.StreamEvent (same fields and JSON tags, so the gateway
// converts one into the other with a type conversion). Seq counts from 1
// per stream and never repeats.
type StreamEvent struct {
	Seq  int64           `json:"seq"`
	Type string          `json:"type"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data,omitempty"`
}

// StreamPage is a read of a stream after a seq: the shape of
// gateway/state.StreamPage. Gap is set when events after that seq are no
// longer kept; Last is the seq of the stream's latest event (0 when none).
type StreamPage struct {
	Items []StreamEvent `json:"items"`
	Gap   bool          `json:"gap"`
	Last  int64         `json:"last"`
}

// Streams are the store's named, ordered streams and its broadcast
// (gateway/state.Store's stream methods, in this package's types). The
// adapter uses one stream per client, StreamOf(customer id), and one
// topic, Topic.
type Streams interface {
	// AppendStreamEvent appends an event of type typ with JSON data at at
	// and returns it with its seq. Errors wrapping
	// conversation.ErrUnavailable when the store cannot be reached.
	AppendStreamEvent(ctx context.Context, stream, typ string, data []byte, at time.Time) (StreamEvent, error)
	// StreamEvents returns up to limit (1–1000) events with seq > after,
	// oldest first.
	StreamEvents(ctx context.Context, stream string, after int64, limit int) (StreamPage, error)
	// Broadcast sends payload to every Listen of topic on every instance,
	// at most once.
	Broadcast(ctx context.Context, topic, payload string) error
	// Listen returns topic's payloads until ctx ends; "" means "payloads
	// were dropped: re-read everything".
	Listen(ctx context.Context, topic string) (<-chan string, error)
}

// Conversations reads conversations and messages (gateway/state.Store
// satisfies it). Missing records are errors wrapping
// conversation.ErrNotFound.
type Conversations interface {
	Conversation(ctx context.Context, id conversation.ConversationID) (conversation.Conversation, error)
	// Conversations returns those of ids that exist, in the order asked.
	Conversations(ctx context.Context, ids []conversation.ConversationID) ([]conversation.Conversation, error)
	// Message returns the message with id.
	Message(ctx context.Context, id conversation.MessageID) (conversation.Message, error)
	// Messages returns the last limit messages of a conversation, oldest
	// first.
	Messages(ctx context.Context, id conversation.ConversationID, limit int) ([]conversation.Message, error)
}

// Customers finds the customer behind a client's address
// (channels/identity.Resolver satisfies it).
type Customers interface {
	// Resolve returns the customer at addr, making an unknown address an
	// unverified prospect in segment mass.
	Resolve(ctx context.Context, addr conversation.Address, now time.Time) (conversation.Customer, bool, error)
	// Customer returns the customer with id (conversation.ErrNotFound
	// wrapped when unknown).
	Customer(ctx context.Context, id conversation.CustomerID) (conversation.Customer, error)
}

// RMs gives an RM's display name for the client (channels/directory's
// Directory satisfies it).
type RMs interface {
	RM(ctx context.Context, id conversation.RMID) (conversation.RM, error)
}

// Deps are the adapter's collaborators. Sink, Streams, Conversations and
// Customers are required; the rest are optional.
type Deps struct {
	Sink          Sink
	Streams       Streams
	Conversations Conversations
	Customers     Customers
	// RMs names the RM a conversation is assigned to; without it (or for
	// an RM it does not know) the client sees the RM id.
	RMs RMs
	// Waiting lists the conversations waiting for an RM in queue order
	// (the store's queue "waiting", up to limit), for queue positions and
	// estimated waits; nil: none are shown.
	Waiting func(ctx context.Context, limit int) ([]conversation.ConversationID, error)
	// BusinessHours says whether the client's segment is served at now,
	// and a notice to show when it is not (e.g. "We answer from 09:00");
	// nil: no notice.
	BusinessHours func(ctx context.Context, segment conversation.Segment, now time.Time) (open bool, notice string)
	// OnTyping is told when a client types in a conversation (to show it
	// on the RM desk); nil: ignored.
	OnTyping func(ctx context.Context, customer conversation.CustomerID, conv conversation.ConversationID)
	// Attachments holds uploads (default: NewMemoryAttachments, right for
	// one instance; use NewRedisAttachments with several).
	Attachments AttachmentStore
	// Logger receives the adapter's logs (default: discarded).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}
