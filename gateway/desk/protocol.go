// Package desk is the RM desk's real-time side: the /ws/desk WebSocket
// (github.com/gorilla/websocket) over which an RM's browser (or any
// client) receives offers, assignments, messages and presence changes in
// order, with sequence numbers kept in the store so a reconnecting desk
// resumes where it left off, and sends the RM's actions (presence, accept,
// decline, send, transfer, invite, escalate, wrap up, close).
//
// The protocol is described in docs/desk-protocol.md. Every frame is one
// JSON text message {"v":1,"type":...,"seq":...,"id":...,"data":{...}}:
// seq numbers the server's events of the RM's stream (from 1, per RM,
// across all their sessions and instances); id is a client request's own
// id, echoed in the "ack" or "error" that answers it.
package desk

import "encoding/json"

// Version is the protocol version, the "v" of every frame.
const Version = 1

// Frame is one WebSocket text message either way.
type Frame struct {
	V    int             `json:"v"`
	Type string          `json:"type"`
	Seq  int64           `json:"seq,omitempty"`
	ID   string          `json:"id,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// Server frame types besides the RM's stream events.
const (
	// TypeWelcome is the first frame of a session (see Welcome).
	TypeWelcome = "welcome"
	// TypeAck answers a request that succeeded; data is its result.
	TypeAck = "ack"
	// TypeError answers a request that failed, or a frame that could not
	// be read (see ErrorData); the connection stays open.
	TypeError = "error"
	// TypeQueue carries the RM's team queue now (stats.Queue: waiting,
	// longest wait), every PingInterval; it has no seq (a later one
	// replaces it).
	TypeQueue = "queue"
)

// Stream event types (the RM's ordered stream, each with its seq).
const (
	// EventOffer: a conversation is offered to the RM (see OfferData).
	EventOffer = "offer"
	// EventConversation: a conversation the RM is concerned with changed:
	// accepted, declined, offer expired or withdrawn, transferred, wrapped
	// up, closed, abandoned, a participant joined or left (see
	// ConversationData; its events say what happened).
	EventConversation = "conversation"
	// EventMessage: a message on a conversation the RM takes part in
	// (inbound from the client, or sent by another participant).
	EventMessage = "message"
	// EventMessageStatus: a sent message moved on (delivered, read, failed).
	EventMessageStatus = "message_status"
	// EventPresence: the RM's presence changed (also when routing set them
	// away after missed offers).
	EventPresence = "presence"
)

// Close codes beyond RFC 6455's.
const (
	// CloseSlowClient closes a session whose send queue is full: the
	// client reads too slowly; it reconnects and resumes.
	CloseSlowClient = 4008
)

// ErrorData is the data of an error frame.
type ErrorData struct {
	// Code: bad_frame, unknown_type, bad_request, forbidden, not_found,
	// offer_gone, no_capacity, illegal_transition, not_sent, opted_out,
	// unavailable, internal.
	Code    string `json:"code"`
	Message string `json:"message"`
	// Status is the HTTP status the same refusal gets from the REST API.
	Status int `json:"status"`
}
