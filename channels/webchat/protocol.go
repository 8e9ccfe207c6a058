package webchat

import (
	"encoding/json"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Version is the protocol version, the "v" of every frame.
const Version = 1

// Paths and names of the channel (see PROTOCOL.md).
const (
	// WSPath is where the client WebSocket is served.
	WSPath = "/ws/chat"
	// PagePrefix is the chat page's path; the HTTP endpoints sit under it.
	PagePrefix = "/chat/"
	// AttachmentsPath receives uploads (POST) and serves an upload to its
	// owner (GET AttachmentsPath + "/{id}").
	AttachmentsPath = "/chat/attachments"
	// AnonymousPath issues anonymous tokens (POST) when enabled.
	AnonymousPath = "/chat/anonymous"
	// ConfigPath tells the page what the server allows (GET).
	ConfigPath = "/chat/config.json"
	// Subprotocol is the WebSocket subprotocol of this version. A browser,
	// which cannot set an Authorization header on a WebSocket, sends its
	// token as a second subprotocol "bearer.<token>".
	Subprotocol = "airbranch.chat.v1"
	// Topic is the store broadcast topic of the web chat.
	Topic = "webchat"
	// AttachmentRefPrefix starts the Ref of an uploaded attachment in a
	// stored message: "webchat:<attachment id>".
	AttachmentRefPrefix = "webchat:"
)

// StreamOf names a client's stream in the store: "webchat:<customer id>".
func StreamOf(c conversation.CustomerID) string { return "webchat:" + string(c) }

// Frame is one WebSocket text message either way:
// {"v":1,"type":...,"seq":...,"id":...,"data":{...}}.
type Frame struct {
	V    int             `json:"v"`
	Type string          `json:"type"`
	Seq  int64           `json:"seq,omitempty"`
	ID   string          `json:"id,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Server frame types outside the client's stream (no seq).
const (
	// TypeWelcome is the first frame of a session, and the frame that
	// replaces the client's state after a gap (see Welcome).
	TypeWelcome = "welcome"
	// TypeAck answers a client frame that succeeded (see Ack).
	TypeAck = "ack"
	// TypeError answers a client frame that failed, or one that could not
	// be read (see ErrorData); the connection stays open.
	TypeError = "error"
	// TypeQueue is the queue position and estimated wait (see QueueData).
	TypeQueue = "queue"
	// TypeTyping says the RM is typing (see TypingData).
	TypeTyping = "typing"
	// TypeHours is the business-hours notice (see Hours).
	TypeHours = "hours"
)

// Stream event types (the client's stream, each with its seq).
const (
	// EventMessage is a message of the client's conversation: the RM's,
	// or the client's own from any of its devices (see MessageData).
	EventMessage = "message"
	// EventConversation is the conversation's state for the client:
	// waiting, assigned, ended (see ConversationState).
	EventConversation = "conversation"
)

// Client frame types.
const (
	// TypeMessage sends a message; its id is the client's message id.
	TypeMessage = "message"
	// TypeDelivered reports RM messages received (see ReceiptRequest).
	TypeDelivered = "delivered"
	// TypeRead reports RM messages read (see ReceiptRequest).
	TypeRead = "read"
	// TypeClientTyping says the client is typing (no answer).
	TypeClientTyping = "typing"
)

// Close codes beyond RFC 6455's.
const (
	// CloseTokenExpired closes a session when its token expires: get a
	// new token and reconnect with after.
	CloseTokenExpired = 4001
	// CloseSlowClient closes a session whose send queue is full: the
	// client reads too slowly; it reconnects and resumes.
	CloseSlowClient = 4008
)

// Client states of a conversation.
const (
	StateWaiting  = "waiting"
	StateAssigned = "assigned"
	StateEnded    = "ended"
)

// Welcome is the data of a welcome frame. Resumed says the events after
// the client's last seq follow; otherwise State is the client's state now
// and the client replaces its own.
type Welcome struct {
	// AppUser is the client's app user id (the token's subject or the
	// customer's address); Anonymous marks an anonymous prospect.
	AppUser      string                    `json:"app_user"`
	Anonymous    bool                      `json:"anonymous,omitempty"`
	Verification conversation.Verification `json:"verification"`
	LastSeq      int64                     `json:"last_seq"`
	Resumed      bool                      `json:"resumed"`
	// PingSeconds is how often the server pings; a client that hears
	// nothing for three times that should reconnect.
	PingSeconds int    `json:"ping_seconds"`
	Limits      Limits `json:"limits"`
	// Hours is the business-hours notice, when the gateway provides one.
	Hours *Hours `json:"hours,omitempty"`
	State *State `json:"state,omitempty"`
}

// Limits tell the client what the server accepts.
type Limits struct {
	MaxFrameBytes      int64    `json:"max_frame_bytes"`
	MaxTextBytes       int      `json:"max_text_bytes"`
	MessagesPerSecond  int      `json:"messages_per_second"`
	MaxAttachmentBytes int64    `json:"max_attachment_bytes"`
	AttachmentTypes    []string `json:"attachment_types"`
	AttachmentsPerMsg  int      `json:"attachments_per_message"`
}

// State is the client's state for a client that starts afresh: its
// latest conversation (nil when none is known) and its latest messages,
// oldest first.
type State struct {
	Conversation *ConversationState `json:"conversation"`
	Messages     []MessageData      `json:"messages"`
}

// ConversationState is a conversation as the client sees it: waiting for
// an RM, assigned to one (RM), or ended.
type ConversationState struct {
	ConversationID conversation.ConversationID `json:"conversation_id"`
	State          string                      `json:"state"`
	RM             *RMInfo                     `json:"rm,omitempty"`
	At             time.Time                   `json:"at"`
}

// RMInfo names the RM: the directory's display name, else the RM id.
type RMInfo struct {
	ID   conversation.RMID `json:"id"`
	Name string            `json:"name"`
}

// MessageData is a message as the client sees it. ClientID is the
// client's own id of an inbound message; Status is an RM message's
// delivery status when the state was read (history only).
type MessageData struct {
	ID             conversation.MessageID      `json:"id"`
	ClientID       string                      `json:"client_id,omitempty"`
	ConversationID conversation.ConversationID `json:"conversation_id"`
	// From is "client" or "rm".
	From        string          `json:"from"`
	RM          *RMInfo         `json:"rm,omitempty"`
	Text        string          `json:"text,omitempty"`
	Attachments []AttachmentRef `json:"attachments,omitempty"`
	Status      string          `json:"status,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
}

// AttachmentRef is an attachment in a message: ID for an upload of the
// client (fetched from AttachmentsPath/{id}), Ref for anything else (a
// URL the RM gave).
type AttachmentRef struct {
	ID   string `json:"id,omitempty"`
	Ref  string `json:"ref,omitempty"`
	Type string `json:"type"`
	Size int64  `json:"size"`
	Name string `json:"name,omitempty"`
}

// QueueData is a waiting client's place: Position among the conversations
// of its segment waiting (1 = next), Waiting of them in all, and
// EstimatedWaitSeconds (rough; see PROTOCOL.md).
type QueueData struct {
	ConversationID       conversation.ConversationID `json:"conversation_id"`
	Position             int                         `json:"position"`
	Waiting              int                         `json:"waiting"`
	EstimatedWaitSeconds int64                       `json:"estimated_wait_seconds"`
}

// TypingData says the RM is typing in a conversation; the indicator
// lasts TTLMS milliseconds unless renewed.
type TypingData struct {
	ConversationID conversation.ConversationID `json:"conversation_id"`
	TTLMS          int64                       `json:"ttl_ms"`
}

// Hours is the business-hours notice: Open says the client's segment is
// served now; Notice is what to show when it is not.
type Hours struct {
	Open   bool   `json:"open"`
	Notice string `json:"notice,omitempty"`
}

// Ack is the data of an ack: for a message, the stored message id and its
// conversation (Duplicate when the id had been stored before); for a
// receipt, Unknown lists the ids that named no RM message of the client.
type Ack struct {
	MessageID      conversation.MessageID      `json:"message_id,omitempty"`
	ConversationID conversation.ConversationID `json:"conversation_id,omitempty"`
	Duplicate      bool                        `json:"duplicate,omitempty"`
	Unknown        []string                    `json:"unknown,omitempty"`
}

// ErrorData is the data of an error frame (see FrameError).
type ErrorData struct {
	Code         string `json:"code"`
	Message      string `json:"message"`
	RetryAfterMS int64  `json:"retry_after_ms,omitempty"`
}

// MessageRequest is the data of a client message frame.
type MessageRequest struct {
	Text string `json:"text"`
	// Attachments reference uploads by the id POST /chat/attachments
	// returned.
	Attachments []struct {
		ID string `json:"id"`
	} `json:"attachments"`
	// Language and Intent are routing hints from the app (e.g. "yue",
	// "mortgage"); optional.
	Language string `json:"language"`
	Intent   string `json:"intent"`
}

// ReceiptRequest is the data of a delivered or read frame: the ids of RM
// messages (at most 100).
type ReceiptRequest struct {
	MessageIDs []conversation.MessageID `json:"message_ids"`
}

// typingTTL is how long a typing indicator lasts unless renewed.
const typingTTL = 6 * time.Second
