// Package video is the video channel: private-bank clients meet their RM,
// specialists and observers in multi-party WebRTC rooms. Media goes
// through the SFU (media/sfu); this package holds the rooms' people and
// rules: roles (client, rm, specialist, observer), join tokens (HS256
// JWTs, RFC 7519, scoped to one room, one role, one identity), single-use
// invitations exchanged for a token, the lobby in which a client waits
// until an RM admits them, the RM's removal of a participant and ending of
// the room, and the signalling WebSocket /ws/video
// (github.com/gorilla/websocket, RFC 6455): join, SDP offer and answer
// (RFC 8829), trickle ICE (RFC 8838), renegotiation, mute signals, leave,
// ICE restart on reconnect. Text chat inside a room goes over a WebRTC
// data channel labelled "chat" (RFC 8831) and every message is handed to
// the Sink (the gateway saves it on the room's conversation timeline).
//
// The protocol is described in PROTOCOL.md beside this file.
package video
