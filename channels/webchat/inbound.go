package webchat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Limits of client frames.
const (
	// maxClientIDBytes bounds a client message id.
	maxClientIDBytes = 64
	// maxAttachmentIDBytes bounds an attachment id (a UUIDv7 has 36).
	maxAttachmentIDBytes = 64
	// maxReceiptIDs bounds the message ids of one receipt frame.
	maxReceiptIDs = 100
	// typingEvery is the least time between two client typing notices
	// passed on to the desk.
	typingEvery = 2 * time.Second
	// hoursEvery is the least time between two business-hours notices
	// after messages.
	hoursEvery = time.Minute
	// unavailableRetryMS is the retry_after_ms of an unavailable error.
	unavailableRetryMS = 1000
)

// handle answers one client frame: an ack or error frame, sometimes
// followed by a notice; nothing for typing.
func (s *session) handle(ctx context.Context, kind int, data []byte) []Frame {
	if kind != websocket.TextMessage {
		return []Frame{errorFrame("", &FrameError{Code: "bad_frame", Message: "frames are JSON text messages"})}
	}
	var f Frame
	if err := json.Unmarshal(data, &f); err != nil || f.Type == "" {
		return []Frame{errorFrame("", &FrameError{Code: "bad_frame", Message: "a frame is a JSON object with a type"})}
	}
	if f.V != 0 && f.V != Version {
		return []Frame{errorFrame(f.ID, &FrameError{Code: "bad_frame", Message: fmt.Sprintf("protocol version %d (allowed: 1)", f.V)})}
	}
	now := s.a.now()
	if ok, wait := s.frames.allow(now); !ok {
		return []Frame{errorFrame(f.ID, rateLimited(wait, "frames"))}
	}
	var out []Frame
	var err error
	var result any
	switch f.Type {
	case TypeMessage:
		if ok, wait := s.msgs.allow(now); !ok {
			s.log.Info("chat message rate limited", "limit_per_second", s.a.cfg.MessagesPerSecond)
			return []Frame{errorFrame(f.ID, rateLimited(wait, "messages"))}
		}
		result, err = s.message(ctx, f)
		if err == nil {
			out = s.hoursNotice(ctx, now)
		}
	case TypeDelivered:
		result, err = s.receipt(ctx, f, conversation.DeliveryDelivered)
	case TypeRead:
		result, err = s.receipt(ctx, f, conversation.DeliveryRead)
	case TypeClientTyping:
		s.clientTyping(ctx, now)
		return nil
	default:
		err = &FrameError{Code: "unknown_type", Message: fmt.Sprintf("%q (allowed: message, delivered, read, typing)", f.Type)}
	}
	if err != nil {
		var fe *FrameError
		if !errors.As(err, &fe) {
			fe = s.classify(err)
		}
		return []Frame{errorFrame(f.ID, fe)}
	}
	return append([]Frame{frame(TypeAck, f.ID, result)}, out...)
}

// rateLimited is the refusal of a frame over a session's rate.
func rateLimited(wait time.Duration, what string) *FrameError {
	return &FrameError{Code: "rate_limited", Message: "too many " + what + " per second; not taken, send it again later",
		RetryAfterMS: max(wait.Milliseconds(), 1)}
}

// classify maps a store or sink error to an error frame.
func (s *session) classify(err error) *FrameError {
	switch {
	case errors.Is(err, conversation.ErrInvalid):
		return &FrameError{Code: "bad_request", Message: err.Error()}
	case errors.Is(err, conversation.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		s.log.Warn("chat frame not taken: store unavailable", "error", err)
		return &FrameError{Code: "unavailable", Message: "not taken; send it again", RetryAfterMS: unavailableRetryMS}
	}
	s.log.Error("chat frame failed", "error", err)
	return &FrameError{Code: "unavailable", Message: "not taken; send it again", RetryAfterMS: unavailableRetryMS}
}

// validClientID reports whether id is a client message id: 1 to 64 of
// A-Z a-z 0-9 . _ : -.
func validClientID(id string) bool {
	if id == "" || len(id) > maxClientIDBytes {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == ':' || r == '-') {
			return false
		}
	}
	return true
}

// providerID scopes a client message id to the client: "<app user
// id>/<client id>" (client ids have no "/"), so two clients choosing the
// same id never see each other's message.
func providerID(addr conversation.Address, clientID string) string {
	return addr.Value + "/" + clientID
}

// clientIDOf returns the client id of a provider id made by providerID.
func clientIDOf(providerID string) string {
	if i := strings.LastIndexByte(providerID, '/'); i >= 0 {
		return providerID[i+1:]
	}
	return providerID
}

// message stores a client message through the Sink and returns its ack;
// a re-sent id gets the first ack. Attachments must be the client's own
// uploads.
func (s *session) message(ctx context.Context, f Frame) (Ack, error) {
	a := s.a
	if !validClientID(f.ID) {
		return Ack{}, &FrameError{Code: "bad_request", Message: "a message needs an id: 1 to 64 of A-Z a-z 0-9 . _ : -"}
	}
	var req MessageRequest
	if len(f.Data) > 0 {
		if err := json.Unmarshal(f.Data, &req); err != nil {
			return Ack{}, &FrameError{Code: "bad_request", Message: "data: " + err.Error()}
		}
	}
	text := strings.TrimSpace(req.Text)
	switch {
	case !utf8.ValidString(text):
		return Ack{}, &FrameError{Code: "bad_request", Message: "text is not UTF-8"}
	case len(text) > a.cfg.MaxTextBytes:
		return Ack{}, &FrameError{Code: "bad_request", Message: fmt.Sprintf("text of %d bytes (at most %d)", len(text), a.cfg.MaxTextBytes)}
	case text == "" && len(req.Attachments) == 0:
		return Ack{}, &FrameError{Code: "bad_request", Message: "a message needs text or an attachment"}
	case len(req.Attachments) > a.cfg.Attachments.PerMessage:
		return Ack{}, &FrameError{Code: "bad_request", Message: fmt.Sprintf("%d attachments (at most %d)", len(req.Attachments), a.cfg.Attachments.PerMessage)}
	case len(req.Language) > 16 || len(req.Intent) > 64:
		return Ack{}, &FrameError{Code: "bad_request", Message: "language (at most 16 bytes) or intent (at most 64) too long"}
	}
	var atts []conversation.Attachment
	for _, ref := range req.Attachments {
		if ref.ID == "" || len(ref.ID) > maxAttachmentIDBytes {
			return Ack{}, &FrameError{Code: "attachment_not_found", Message: "an attachment is referenced by the id its upload returned"}
		}
		rec, err := a.atts.Stat(ctx, ref.ID)
		if errors.Is(err, conversation.ErrNotFound) || err == nil && rec.Owner != s.c.customer.ID {
			return Ack{}, &FrameError{Code: "attachment_not_found", Message: fmt.Sprintf("attachment %s: not uploaded by this client, or expired", printable(ref.ID))}
		}
		if err != nil {
			return Ack{}, err
		}
		atts = append(atts, conversation.Attachment{Type: rec.Type, Size: rec.Size, Ref: AttachmentRefPrefix + rec.ID, Name: rec.Name})
	}
	in := conversation.Incoming{
		Kind: conversation.IncomingMessage, Channel: conversation.ChannelWebChat, ChannelAccount: a.cfg.Account,
		From: s.c.addr, ProviderID: providerID(s.c.addr, f.ID), Text: text, Attachments: atts,
		Language: req.Language, Intent: req.Intent, Verification: s.c.Verification, ReceivedAt: a.now(),
	}
	rctx, cancel := context.WithTimeout(ctx, a.cfg.AckTimeout)
	defer cancel()
	rec, err := a.sink.Receive(rctx, in)
	if err != nil {
		return Ack{}, fmt.Errorf("webchat: receive: %w", err)
	}
	ack := Ack{MessageID: rec.MessageID, ConversationID: rec.ConversationID, Duplicate: rec.Duplicate}
	if rec.Duplicate {
		return ack, nil
	}
	// The client's other devices see the message; this one knows it from
	// the ack. A failure here loses nothing stored.
	echo := MessageData{ID: rec.MessageID, ClientID: f.ID, ConversationID: rec.ConversationID, From: "client",
		Text: text, Attachments: refsOf(atts), CreatedAt: conversation.Millis(in.ReceivedAt)}
	if _, err := a.hub.publish(context.WithoutCancel(ctx), s.c.customer.ID, EventMessage, echo); err != nil {
		s.log.Warn("chat message stored but not echoed to the client's stream", "message_id", rec.MessageID, "error", err)
	}
	if s.setCurrent(rec.ConversationID) {
		// A conversation this session did not know (new, most likely):
		// the client hears its state even before routing reports it.
		if c, err := a.convs.Conversation(ctx, rec.ConversationID); err == nil {
			a.ConversationChanged(ctx, c)
		}
	}
	s.log.Debug("chat message stored", "message_id", rec.MessageID, "conversation_id", rec.ConversationID, "text", conversation.MaskText(text), "attachments", len(atts))
	return ack, nil
}

// receipt moves the RM messages the client names to status (delivered or
// read) through Sink.Status. Ids that name no RM message of this client
// are listed in the ack's Unknown.
func (s *session) receipt(ctx context.Context, f Frame, status conversation.DeliveryStatus) (Ack, error) {
	var req ReceiptRequest
	if err := json.Unmarshal(f.Data, &req); err != nil || len(req.MessageIDs) == 0 || len(req.MessageIDs) > maxReceiptIDs {
		return Ack{}, &FrameError{Code: "bad_request", Message: fmt.Sprintf("data: {\"message_ids\": [1 to %d ids]}", maxReceiptIDs)}
	}
	var unknown []string
	for _, id := range req.MessageIDs {
		ok, err := s.ownMessage(ctx, id)
		if err != nil {
			return Ack{}, err
		}
		if !ok {
			unknown = append(unknown, string(id))
			continue
		}
		err = s.a.status(ctx, conversation.StatusUpdate{Channel: conversation.ChannelWebChat, ChannelAccount: s.a.cfg.Account,
			ProviderID: string(id), Status: status, At: s.a.now()})
		switch {
		case errors.Is(err, conversation.ErrNotFound):
			s.log.Warn("receipt for a message not indexed under its id", "message_id", id, "status", status)
			unknown = append(unknown, string(id))
		case err != nil:
			return Ack{}, err
		}
	}
	return Ack{Unknown: unknown}, nil
}

// ownMessage reports whether id is an RM's message on a web chat
// conversation of this client.
func (s *session) ownMessage(ctx context.Context, id conversation.MessageID) (bool, error) {
	m, err := s.a.convs.Message(ctx, id)
	switch {
	case errors.Is(err, conversation.ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	case m.Direction != conversation.Outbound || m.Channel != conversation.ChannelWebChat:
		return false, nil
	}
	owner, ok := s.owners[m.ConversationID]
	if !ok {
		c, err := s.a.convs.Conversation(ctx, m.ConversationID)
		switch {
		case errors.Is(err, conversation.ErrNotFound):
			return false, nil
		case err != nil:
			return false, err
		}
		owner = c.CustomerID
		if len(s.owners) > 64 {
			clear(s.owners)
		}
		s.owners[m.ConversationID] = owner
	}
	return owner == s.c.customer.ID, nil
}

// status calls Sink.Status, retrying a message not found yet for up to
// Config.ReceiptWait: the outbox indexes a message under its provider id
// just after Send returns, and a fast client's receipt can arrive first.
func (a *Adapter) status(ctx context.Context, u conversation.StatusUpdate) error {
	deadline := time.Now().Add(a.cfg.ReceiptWait)
	for wait := 20 * time.Millisecond; ; wait *= 2 {
		err := a.sink.Status(ctx, u)
		if err == nil || !errors.Is(err, conversation.ErrNotFound) || time.Now().Add(wait).After(deadline) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// clientTyping passes the client's typing on to the desk, at most every
// typingEvery.
func (s *session) clientTyping(ctx context.Context, now time.Time) {
	conv := s.current()
	if s.a.onTyping == nil || conv == "" || now.Sub(s.lastTyping) < typingEvery {
		return
	}
	s.lastTyping = now
	s.a.onTyping(ctx, s.c.customer.ID, conv)
}

// hoursNotice returns an hours frame after a message sent while the
// client's segment is not served, at most every hoursEvery.
func (s *session) hoursNotice(ctx context.Context, now time.Time) []Frame {
	h := s.a.hoursNow(ctx, s.c.customer.Segment)
	if h == nil || h.Open || now.Sub(s.lastHours) < hoursEvery {
		return nil
	}
	s.lastHours = now
	return []Frame{frame(TypeHours, "", h)}
}
