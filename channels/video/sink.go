package video

import (
	"context"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media/sfu"
)

// ChatMessage is one chat message sent in a room over the "chat" data
// channel. ID is the sender's own id, unique per (Room, From): a re-sent
// message carries the same one.
type ChatMessage struct {
	Room           RoomID                      `json:"room"`
	ConversationID conversation.ConversationID `json:"conversation_id,omitempty"`
	ID             string                      `json:"id"`
	From           string                      `json:"from"`
	Role           Role                        `json:"role"`
	Name           string                      `json:"name,omitempty"`
	Text           string                      `json:"text"`
	At             time.Time                   `json:"at"`
}

// Sink is where the channel hands what participants write: the gateway
// saves each chat message on the room's conversation timeline.
type Sink interface {
	// Chat saves m, once per (Room, From, ID) (a re-sent message is not
	// saved twice and returns nil). Only after it returns nil is the
	// message relayed to the room. An error is told to the sender
	// (code "unavailable" for errors wrapping
	// conversation.ErrUnavailable, else "internal"), who may re-send.
	Chat(ctx context.Context, m ChatMessage) error
}

// Event types (Event.Type).
const (
	RoomCreated       = "room_created"
	ParticipantLobby  = "participant_lobby"  // a client waits in the lobby
	ParticipantJoined = "participant_joined" // joined directly or was admitted
	ParticipantLeft   = "participant_left"   // left, dropped past the grace period, or replaced
	ParticipantRemove = "participant_removed"
	RoomEnded         = "room_ended"
	RecordingStarted  = "recording_started" // the room's rule holds: its tracks are written to files
	RecordingStopped  = "recording_stopped" // Event.Files lists what was written
)

// Event is a change of a room's people, for the conversation's timeline
// and the RM desk (Options.Events). By is the RM who admitted or removed,
// or ended the room.
type Event struct {
	Type           string                      `json:"type"`
	Room           RoomID                      `json:"room"`
	ConversationID conversation.ConversationID `json:"conversation_id,omitempty"`
	Identity       string                      `json:"identity,omitempty"`
	Role           Role                        `json:"role,omitempty"`
	By             string                      `json:"by,omitempty"`
	// Files are the files a recording wrote (recording_stopped).
	Files []sfu.RecordedFile `json:"files,omitempty"`
	At    time.Time          `json:"at"`
}
