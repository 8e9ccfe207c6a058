package video

import (
	"encoding/json"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media/sfu"
)

// Version is the protocol version, the "v" of every frame.
const Version = 1

// Paths and names (see PROTOCOL.md).
const (
	// WSPath is where the signalling WebSocket is served.
	WSPath = "/ws/video"
	// InvitationRoute is the http.ServeMux pattern of the invitation
	// exchange (InvitationHandler).
	InvitationRoute = "POST /video/invitations/{code}"
	// Subprotocol is the WebSocket subprotocol of this version. A browser
	// sends its token as a second subprotocol "bearer.<token>".
	Subprotocol = "airbranch.video.v1"
	// ChatLabel is the label of the data channel that carries chat.
	ChatLabel = "chat"
)

// Frame is one WebSocket text message either way:
// {"v":1,"type":...,"id":...,"data":{...}}. id is a client request's own
// id, echoed in the ack or error that answers it.
type Frame struct {
	V    int             `json:"v"`
	Type string          `json:"type"`
	ID   string          `json:"id,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Client request types.
const (
	TypeJoin      = "join"      // JoinRequest; ack JoinAck
	TypeOffer     = "offer"     // Description; the answer comes as an "answer" frame, then the ack
	TypeAnswer    = "answer"    // Description (to the server's offer)
	TypeCandidate = "candidate" // webrtc.ICECandidateInit
	TypeMute      = "mute"      // MuteData
	TypeAdmit     = "admit"     // Target; rm only
	TypeRemove    = "remove"    // Target; rm only
	TypeEnd       = "end"       // no data; rm only
	TypeLeave     = "leave"     // no data
	TypeConsent   = "consent"   // ConsentData
	TypeLayer     = "layer"     // LayerRequest; ack LayerAck
)

// Server frame types (besides "offer", "answer" and "candidate", which
// carry the server's descriptions and candidates).
const (
	TypeWelcome = "welcome" // Welcome, the first frame
	TypeAck     = "ack"     // answers a request that succeeded
	TypeError   = "error"   // ErrorData; the connection stays open
	// Events (ParticipantInfo or MuteData, no id).
	EventLobby     = "lobby"              // a client waits (to RMs)
	EventAdmitted  = "admitted"           // you were admitted (to the client)
	EventJoined    = "participant_joined" // someone is in the room
	EventLeft      = "participant_left"   // someone left or was removed
	EventMute      = "mute"               // someone muted or unmuted
	EventRemoved   = "removed"            // you were removed (then the connection closes)
	EventEnded     = "room_ended"         // the room ended (then the connection closes)
	EventRecording = "recording"          // RecordingData: the room started or stopped recording
)

// Close codes beyond RFC 6455's.
const (
	// CloseRemoved closes a participant's session after an RM removed it.
	CloseRemoved = 4003
	// CloseReplaced closes a session when the same identity connected
	// again (the new connection takes over).
	CloseReplaced = 4009
	// CloseSlowClient closes a session whose send queue is full.
	CloseSlowClient = 4008
)

// Participant states.
const (
	StateLobby  = "lobby"
	StateJoined = "joined"
)

// Welcome is the data of the welcome frame.
type Welcome struct {
	Room           RoomID                      `json:"room"`
	ConversationID conversation.ConversationID `json:"conversation_id,omitempty"`
	Identity       string                      `json:"identity"`
	Role           Role                        `json:"role"`
	// ICEServers go into the client's RTCPeerConnection configuration.
	ICEServers    []sfu.ICEServer `json:"ice_servers"`
	PingSeconds   int             `json:"ping_seconds"`
	MaxFrameBytes int64           `json:"max_frame_bytes"`
	MaxChatBytes  int             `json:"max_chat_bytes"`
}

// JoinRequest is the data of a join. Resume, after a reconnect within the
// grace period, keeps the participant's PeerConnection (the server then
// restarts ICE with an offer); without it a participant still known is
// replaced by a fresh one.
type JoinRequest struct {
	Resume bool `json:"resume"`
}

// JoinAck answers a join: State is "lobby" (wait for "admitted") or
// "joined" (send an offer); Participants are the others, in the room or
// in the lobby.
type JoinAck struct {
	State        string            `json:"state"`
	Resumed      bool              `json:"resumed,omitempty"`
	Participants []ParticipantInfo `json:"participants"`
}

// ParticipantInfo describes a participant to the others. Identity is also
// the stream id (msid) of its tracks.
type ParticipantInfo struct {
	Identity string          `json:"identity"`
	Role     Role            `json:"role"`
	Name     string          `json:"name,omitempty"`
	State    string          `json:"state"`
	Muted    map[string]bool `json:"muted,omitempty"`
}

// Description is an SDP offer or answer (RFC 8829 §5; W3C
// RTCSessionDescriptionInit).
type Description = webrtc.SessionDescription

// MuteData says Identity muted (or unmuted) Kind: "audio", "video" or
// "screen". A client sends it without identity.
type MuteData struct {
	Identity string `json:"identity,omitempty"`
	Kind     string `json:"kind"`
	Muted    bool   `json:"muted"`
}

// LayerRequest chooses the simulcast layer (RID, RFC 8853) the sender
// receives of the track Track published by Identity (the stream id and
// track id of the received track): RID "" lets the server choose (the
// highest layer arriving, the default), else that layer, or while it is
// not arriving the highest lower one that is.
type LayerRequest struct {
	Identity string `json:"identity"`
	Track    string `json:"track"`
	RID      string `json:"rid"`
}

// LayerAck answers a LayerRequest: the track's layers, lowest first ([""]
// without simulcast), and the one received now (the switch to the new one
// happens at its next key frame).
type LayerAck struct {
	Layers  []string `json:"layers"`
	Current string   `json:"current"`
}

// Target names the participant an RM admits or removes.
type Target struct {
	Identity string `json:"identity"`
}

// ErrorData is the data of an error frame.
type ErrorData struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Status is the HTTP status of the same refusal (400, 403, 404, 409).
	Status int `json:"status"`
}

// ChatIn is a chat message a client sends on the "chat" data channel.
type ChatIn struct {
	// ID is the client's own id of the message (at most 64 bytes).
	ID   string `json:"id"`
	Text string `json:"text"`
}

// ChatOut is what the server sends on every joined participant's "chat"
// data channel: a message (type "chat") or, to its sender only, a
// refusal (type "error" with Code and Message).
type ChatOut struct {
	Type    string    `json:"type"`
	ID      string    `json:"id"`
	From    string    `json:"from,omitempty"`
	Role    Role      `json:"role,omitempty"`
	Name    string    `json:"name,omitempty"`
	Text    string    `json:"text,omitempty"`
	At      time.Time `json:"at,omitzero"`
	Code    string    `json:"code,omitempty"`
	Message string    `json:"message,omitempty"`
}
