package conversation

import "time"

// EventType names what happened on a conversation's timeline.
type EventType string

// Event types of the timeline.
const (
	EventMessage       EventType = "message"
	EventStatusChanged EventType = "status_changed"
	EventOffer         EventType = "offer"
	EventAccept        EventType = "accept"
	EventDecline       EventType = "decline"
	EventOfferExpired  EventType = "offer_expired"
	// EventOfferWithdrawn: an offer ended because another RM of the same
	// simultaneous offer accepted, or the client left.
	EventOfferWithdrawn     EventType = "offer_withdrawn"
	EventTransfer           EventType = "transfer"
	EventParticipantJoined  EventType = "participant_joined"
	EventParticipantLeft    EventType = "participant_left"
	EventChannelChanged     EventType = "channel_changed"
	EventMediaStarted       EventType = "media_started"
	EventMediaEnded         EventType = "media_ended"
	EventRecordingStarted   EventType = "recording_started"
	EventRecordingStopped   EventType = "recording_stopped"
	EventNote               EventType = "note"
	EventRoutingDecision    EventType = "routing_decision"
	EventDispositionApplied EventType = "disposition"
	// EventChannel is a channel's own event (WeChat subscribe or menu
	// click, SMS opt-out); Detail["event"] names it.
	EventChannel EventType = "channel_event"
)

// Event is one entry of a conversation's append-only timeline. Fields that
// do not apply to the type are empty.
type Event struct {
	ID             EventID        `json:"id"`
	ConversationID ConversationID `json:"conversation_id"`
	Type           EventType      `json:"type"`
	At             time.Time      `json:"at"`
	// Actor is who caused it: an RM id, a customer id, "system" or
	// "routing".
	Actor      string    `json:"actor"`
	FromStatus Status    `json:"from_status,omitempty"`
	ToStatus   Status    `json:"to_status,omitempty"`
	RMID       RMID      `json:"rm_id,omitempty"`
	TeamID     TeamID    `json:"team_id,omitempty"`
	OfferID    OfferID   `json:"offer_id,omitempty"`
	MessageID  MessageID `json:"message_id,omitempty"`
	Channel    Channel   `json:"channel,omitempty"`
	// Reason explains a decline, transfer or routing choice in plain words.
	Reason string `json:"reason,omitempty"`
	// Detail carries type-specific data, e.g. a recording reference or a
	// note's text (a note is written by an RM about the client: it is
	// personal data and shown only to those who may see the conversation).
	Detail map[string]string `json:"detail,omitempty"`
}

// NewEvent returns an event of type t on conversation id at now, with a
// fresh UUIDv7 id.
func NewEvent(id ConversationID, t EventType, actor string, now time.Time) Event {
	return Event{ID: NewEventID(now), ConversationID: id, Type: t, At: Millis(now), Actor: actor}
}
