// Package webchat is the web chat channel: clients of the bank's mobile
// and online banking chat with their RM over one WebSocket per device
// (/ws/chat, github.com/gorilla/websocket, RFC 6455), authenticated before
// the upgrade with a JWT (RFC 7519) that the bank's app backend issues.
//
// Inbound, each client message carries an id the client generated; it is
// handed to the Sink (the gateway's inbox: stored, de-duplicated on that
// id, joined to the client's open conversation or opening and routing one)
// and only then acknowledged with the stored message id and conversation
// id, so a client that re-sends an unacknowledged message after a lost
// link gets the same acknowledgement and nothing is stored twice.
//
// Outbound, Send (the gateway's outbox.Sender for this channel) appends
// the RM's message to the client's stream "webchat:<customer id>" in the
// store, numbered from 1 per client across every device and instance;
// sessions are woken through a broadcast topic and write the events in
// order. A reconnecting client resumes after the last seq it saw; one that
// fell too far behind gets a fresh state (its open conversation and its
// history). Delivered and read receipts from the client move the RM's
// message forward through Sink.Status.
//
// Besides messages the client's stream carries its conversation's state
// (waiting, assigned to an RM, ended; ConversationChanged), and sessions
// send ephemeral frames: the queue position and estimated wait while
// waiting, the RM typing (Typing), a business-hours notice.
//
// Attachments are uploaded over HTTP (POST /chat/attachments, with size
// and MIME type limits) into an AttachmentStore (memory, or Redis for
// small files with an expiry) and referenced by id in messages.
//
// A small chat page for demos and browser tests is served at /chat/
// (embedded, plain HTML, CSS and JavaScript, nothing from another origin).
// The protocol is described in PROTOCOL.md beside this file.
package webchat
