package desk

import (
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/stats"
)

// Welcome is the data of the first frame of a session. Resumed says the
// events after the client's last seq follow (the client keeps its state);
// otherwise Snapshot is the RM's state now and the client replaces its own.
type Welcome struct {
	RMID     conversation.RMID   `json:"rm_id"`
	TeamID   conversation.TeamID `json:"team_id"`
	LastSeq  int64               `json:"last_seq"`
	Resumed  bool                `json:"resumed"`
	Snapshot *Snapshot           `json:"snapshot,omitempty"`
	// Queue is the RM's team queue now, when known (see TypeQueue).
	Queue *stats.Queue `json:"queue,omitempty"`
	// PingSeconds is how often the server pings; a client that hears
	// nothing for three times that should reconnect.
	PingSeconds int `json:"ping_seconds"`
}

// Snapshot is an RM's state for a desk that starts afresh: presence, live
// offers, and the conversations assigned to them (active or in wrap-up).
type Snapshot struct {
	Presence      conversation.Presence       `json:"presence"`
	Offers        []OfferData                 `json:"offers"`
	Conversations []conversation.Conversation `json:"conversations"`
}

// OfferData is an offer as the desk shows it.
type OfferData struct {
	Offer        conversation.Offer        `json:"offer"`
	Conversation conversation.Conversation `json:"conversation"`
	Customer     CustomerCard              `json:"customer"`
	// ExpiresInMS is the time left to accept when the event was made, in
	// milliseconds (the offer's expires_at is authoritative).
	ExpiresInMS int64 `json:"expires_in_ms"`
}

// CustomerCard is what the RM sees of the client with an offer: who they
// are, their segment and AUM band, own RM, language, and their latest
// interactions on every channel.
type CustomerCard struct {
	ID          conversation.CustomerID `json:"id"`
	DisplayName string                  `json:"display_name,omitempty"`
	Segment     conversation.Segment    `json:"segment"`
	AUMBand     string                  `json:"aum_band,omitempty"`
	OwnRM       conversation.RMID       `json:"own_rm,omitempty"`
	Language    string                  `json:"language,omitempty"`
	Prospect    bool                    `json:"prospect,omitempty"`
	Recent      []Interaction           `json:"recent"`
}

// Interaction is one earlier conversation of the client.
type Interaction struct {
	ConversationID conversation.ConversationID `json:"conversation_id"`
	Channel        conversation.Channel        `json:"channel"`
	Status         conversation.Status         `json:"status"`
	AssigneeID     conversation.RMID           `json:"assignee_id,omitempty"`
	Disposition    string                      `json:"disposition,omitempty"`
	CreatedAt      time.Time                   `json:"created_at"`
}

// ConversationData is the data of a conversation event.
type ConversationData struct {
	Conversation conversation.Conversation `json:"conversation"`
	Events       []conversation.Event      `json:"events"`
}

// MessageData is the data of a message or message_status event.
type MessageData struct {
	Message conversation.Message `json:"message"`
}
