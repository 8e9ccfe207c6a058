package conversation

import (
	"fmt"
	"log/slog"
	"time"
)

// Direction says whether a message came from the client or goes to them.
type Direction string

// Message directions.
const (
	Inbound  Direction = "inbound"
	Outbound Direction = "outbound"
)

// DeliveryStatus is how far a message has got. It only moves forward:
// queued → sent → delivered → read, or failed (with the provider's error
// code) before delivery. Inbound messages are stored as delivered.
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryQueued    DeliveryStatus = "queued"
	DeliverySent      DeliveryStatus = "sent"
	DeliveryDelivered DeliveryStatus = "delivered"
	DeliveryRead      DeliveryStatus = "read"
	DeliveryFailed    DeliveryStatus = "failed"
)

// DeliveryStatuses lists every delivery status.
var DeliveryStatuses = []DeliveryStatus{DeliveryQueued, DeliverySent, DeliveryDelivered, DeliveryRead, DeliveryFailed}

func (s DeliveryStatus) rank() int {
	switch s {
	case DeliveryQueued:
		return 0
	case DeliverySent:
		return 1
	case DeliveryDelivered:
		return 2
	case DeliveryRead:
		return 3
	case DeliveryFailed:
		return 2 // failed stands level with delivered: neither follows the other
	}
	return -1
}

// Valid reports whether s is one of DeliveryStatuses.
func (s DeliveryStatus) Valid() bool { return s.rank() >= 0 }

// Attachment is a file sent with a message, held by reference (a provider
// media id, a URL or an object-store key), never inline.
type Attachment struct {
	// Type is the MIME type, e.g. "image/jpeg", or a provider kind such as
	// "voice" when the provider gives no MIME type.
	Type string `json:"type"`
	// Size in bytes; 0 when the provider does not say.
	Size int64  `json:"size"`
	Ref  string `json:"ref"`
	Name string `json:"name,omitempty"`
}

// Message is one message on a conversation in either direction. Text is
// personal data: Message implements slog.LogValuer and never logs it.
type Message struct {
	ID             MessageID      `json:"id"`
	ConversationID ConversationID `json:"conversation_id"`
	Channel        Channel        `json:"channel"`
	// ChannelAccount is the bank's account on the channel (SMS number,
	// official-account id); provider ids are unique within it.
	ChannelAccount string    `json:"channel_account,omitempty"`
	Direction      Direction `json:"direction"`
	// Sender is the customer id for inbound messages, the RM id for outbound.
	Sender      string       `json:"sender"`
	Text        string       `json:"text,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// ProviderID is the provider's message id (WeChat MsgId, Twilio
	// MessageSid, SMPP message_id, a web-chat client id): the idempotency key.
	ProviderID string         `json:"provider_id,omitempty"`
	Status     DeliveryStatus `json:"status"`
	// ErrorCode is the provider's code when Status is failed (e.g. WeChat
	// errcode 45015, Twilio 30003).
	ErrorCode string    `json:"error_code,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// IdempotencyKey returns "channel|account|provider id", unique per channel
// account, or "" when the message has no provider id.
func (m Message) IdempotencyKey() string {
	if m.ProviderID == "" {
		return ""
	}
	return string(m.Channel) + "|" + m.ChannelAccount + "|" + m.ProviderID
}

// Advance moves the delivery status forward to to at now. A status at or
// behind the current one (a receipt arriving out of order) changes nothing
// and reports false; failed is accepted only before delivery. The error
// code is kept with failed. An unknown status wraps ErrInvalid.
func (m *Message) Advance(to DeliveryStatus, errorCode string, now time.Time) (bool, error) {
	if !to.Valid() {
		return false, fmt.Errorf("message %s: delivery status %q: %w (allowed: %v)", m.ID, to, ErrInvalid, DeliveryStatuses)
	}
	if m.Status == DeliveryFailed || to.rank() <= m.Status.rank() {
		return false, nil
	}
	m.Status = to
	if to == DeliveryFailed {
		m.ErrorCode = errorCode
	}
	m.UpdatedAt = Millis(now)
	return true, nil
}

// LogValue implements slog.LogValuer: the id, direction and status, and the
// text only as its length.
func (m Message) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", string(m.ID)),
		slog.String("conversation_id", string(m.ConversationID)),
		slog.String("direction", string(m.Direction)),
		slog.String("status", string(m.Status)),
		slog.String("text", MaskText(m.Text)),
		slog.Int("attachments", len(m.Attachments)),
	)
}

// Validate checks the fields a store requires. Errors wrap ErrInvalid.
func (m Message) Validate() error {
	var errs []error
	if m.ID == "" || m.ConversationID == "" {
		errs = append(errs, fmt.Errorf("message: %w: empty id or conversation id", ErrInvalid))
	}
	if m.Direction != Inbound && m.Direction != Outbound {
		errs = append(errs, fmt.Errorf("message %s: direction %q: %w (allowed: inbound, outbound)", m.ID, m.Direction, ErrInvalid))
	}
	if !m.Status.Valid() {
		errs = append(errs, fmt.Errorf("message %s: status %q: %w (allowed: %v)", m.ID, m.Status, ErrInvalid, DeliveryStatuses))
	}
	if !m.Channel.Valid() {
		errs = append(errs, fmt.Errorf("message %s: channel %q: %w (allowed: %v)", m.ID, m.Channel, ErrInvalid, Channels))
	}
	for _, a := range m.Attachments {
		if a.Ref == "" || a.Size < 0 {
			errs = append(errs, fmt.Errorf("message %s: attachment: %w: needs a reference and a size >= 0", m.ID, ErrInvalid))
		}
	}
	return joinErrs(errs)
}
