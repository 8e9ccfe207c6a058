package sip

import (
	"context"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// EndReason says why a call ended, for CallSink.CallEnded.
type EndReason string

// End reasons.
const (
	// EndAbandoned: the caller left before an RM answered: CANCEL before the
	// gateway answered (RFC 3261 §9.2), or BYE while queued or while the
	// RM's phone rang. Counted as abandonment.
	EndAbandoned EndReason = "abandoned"
	// EndCompleted: the caller was bridged to an RM and either side hung up.
	EndCompleted EndReason = "completed"
	// EndCallback: the caller asked to be called back (menu 2); the gateway
	// played the goodbye and hung up.
	EndCallback EndReason = "callback"
	// EndFailed: media timeout, a failed answer (no ACK) or shutdown.
	EndFailed EndReason = "failed"
	// EndNoAnswer: the client did not answer a callback (Callback); the
	// RM's phone was hung up.
	EndNoAnswer EndReason = "no_answer"
)

// MenuKind names a DTMF menu choice.
type MenuKind string

// Menu choices (DTMF 1 and 2).
const (
	// MenuLanguage: the caller switched the prompt language (DTMF 1).
	MenuLanguage MenuKind = "language"
	// MenuCallback: the caller asked to be called back (DTMF 2); the
	// gateway turns the conversation into a callback task.
	MenuCallback MenuKind = "callback"
)

// MenuChoice is one choice from the queue menu.
type MenuChoice struct {
	Kind MenuKind
	// Language is the ISO 639-1 code now used, for MenuLanguage.
	Language string
}

// QueueStatus is what the caller is told while waiting: Position counts
// from 1 (next); ExpectedWait is an estimate. Zero values mean unknown.
type QueueStatus struct {
	Position     int
	ExpectedWait time.Duration
}

// CallSink receives calls from the voice channel; the gateway implements
// it. Every method is called with a context bounded by the adapter (a few
// seconds) and must not block longer.
type CallSink interface {
	// IncomingCall stores the call as an event on a voice conversation and
	// routes it: in has Kind event, Event "incoming_call", Channel voice,
	// From the caller's E.164 phone (or SIP URI when the caller id is not a
	// number), ProviderID the SIP Call-ID and StartConversation true. An
	// error wrapping conversation.ErrUnavailable makes the adapter answer
	// 503 with Retry-After; any other error 480.
	IncomingCall(ctx context.Context, in conversation.Incoming) (conversation.Receipt, error)
	// CallEnded reports the end of the call of conversation id.
	CallEnded(ctx context.Context, id conversation.ConversationID, reason EndReason) error
	// CallDTMF reports each DTMF digit ('0'-'9', '*', '#', 'A'-'D')
	// received while the caller waits, RFC 4733 or SIP INFO, menu digits
	// included.
	CallDTMF(ctx context.Context, id conversation.ConversationID, digit byte) error
	// CallMenu reports a menu choice; for MenuCallback the gateway makes
	// the conversation a callback task, and the adapter then says goodbye
	// and hangs up.
	CallMenu(ctx context.Context, id conversation.ConversationID, choice MenuChoice) error
	// QueueStatus returns the caller's place in queue for the periodic
	// announcement; an error skips that announcement.
	QueueStatus(ctx context.Context, id conversation.ConversationID) (QueueStatus, error)
}
