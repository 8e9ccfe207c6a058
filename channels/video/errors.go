package video

import (
	"errors"
	"fmt"
)

// Sentinel errors of the video channel. Callers match them with
// errors.Is.
var (
	// ErrConfig: the configuration is invalid; Validate joins one error
	// per problem, each naming its field.
	ErrConfig = errors.New("invalid video configuration")
	// ErrInvalidToken: a join token that is malformed, badly signed, of
	// another issuer or audience, or lacks a claim (HTTP 401).
	ErrInvalidToken = errors.New("video: invalid token")
	// ErrExpiredToken: the join token's exp has passed (HTTP 401).
	ErrExpiredToken = fmt.Errorf("%w: expired", ErrInvalidToken)
	// ErrRoomNotFound: no room with that id (HTTP 404).
	ErrRoomNotFound = errors.New("video: no such room")
	// ErrRoomExists: a room with that id exists already.
	ErrRoomExists = errors.New("video: room exists")
	// ErrRoomEnded: the room has ended (HTTP 410).
	ErrRoomEnded = errors.New("video: room ended")
	// ErrInvitationNotFound: no invitation with that code, or it has been
	// used or has expired (HTTP 404).
	ErrInvitationNotFound = errors.New("video: no such invitation")
	// ErrClosed: the server is shutting down (HTTP 503).
	ErrClosed = errors.New("video: closed")
)

// FrameError is a client frame refused by the server, sent back as an
// error frame with Code and Status (see PROTOCOL.md: bad_frame,
// unknown_type, bad_request, bad_sdp, bad_candidate, not_joined,
// no_offer, forbidden, not_found, conflict, room_full, room_ended,
// internal); the connection stays open.
type FrameError struct {
	Code    string
	Status  int
	Message string
}

// Error implements error.
func (e *FrameError) Error() string { return "video frame " + e.Code + ": " + e.Message }
