package desk

import (
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// EventVideo: something happened in the video room of a conversation the
// RM takes part in (see VideoData): the room opened (with the RM's join
// link, and the client's after an escalation), a participant waits in the
// lobby, joined or left, a recording started or stopped, the room ended.
const EventVideo = "video"

// Kinds of a video event (VideoData.Kind).
const (
	VideoRoomOpened        = "room_opened"
	VideoParticipantLobby  = "participant_lobby"
	VideoParticipantJoined = "participant_joined"
	VideoParticipantLeft   = "participant_left"
	VideoRecordingStarted  = "recording_started"
	VideoRecordingStopped  = "recording_stopped"
	VideoRoomEnded         = "room_ended"
)

// VideoData is the data of a video event. Join is the RM's own join link
// (room_opened); Client is the client's single-use invitation link when
// the RM opened the room by escalating (the RM hands it over).
type VideoData struct {
	Kind           string                      `json:"kind"`
	ConversationID conversation.ConversationID `json:"conversation_id"`
	Room           string                      `json:"room"`
	Identity       string                      `json:"identity,omitempty"`
	Role           string                      `json:"role,omitempty"`
	Join           *VideoLink                  `json:"join,omitempty"`
	Client         *VideoLink                  `json:"client,omitempty"`
	// Files are the recording's files (recording_stopped): paths on the
	// gateway's recording folder.
	Files []string  `json:"files,omitempty"`
	At    time.Time `json:"at"`
}

// VideoLink is a way into a room: a join token and the /video/ page URL
// that carries it (in the fragment, never sent to a server), or a
// single-use invitation code and its URL.
type VideoLink struct {
	Role      string    `json:"role"`
	Identity  string    `json:"identity"`
	Token     string    `json:"token,omitempty"`
	Code      string    `json:"code,omitempty"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}
