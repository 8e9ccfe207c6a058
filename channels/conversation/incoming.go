package conversation

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrUnavailable is returned by a Sink when the store cannot take the
// message now. A channel adapter must then not acknowledge it to the
// provider (HTTP 503, no `success` to WeChat, a deliver_sm_resp with an
// error status), so the provider retries.
var ErrUnavailable = errors.New("store unavailable")

// ErrOptedOut is returned when sending to an address that asked to receive
// nothing more (SMS STOP, WeChat unsubscribe).
var ErrOptedOut = errors.New("address opted out")

// IncomingKind says whether an Incoming carries a client's message or a
// channel event (WeChat subscribe, menu click, SMS opt-out keyword).
type IncomingKind string

// Incoming kinds.
const (
	IncomingMessage IncomingKind = "message"
	IncomingEvent   IncomingKind = "event"
)

// Incoming is one message or event from a client, normalised by its channel
// adapter, before the gateway stores it. Adapters fill it from the
// provider's payload; the gateway resolves the customer from From, opens or
// continues the conversation and routes it.
type Incoming struct {
	Kind    IncomingKind `json:"kind"`
	Channel Channel      `json:"channel"`
	// ChannelAccount is the bank's account on the channel (SMS number in
	// E.164, WeChat official-account original id, app id), found from
	// configuration or the webhook URL, never trusted from the body alone.
	ChannelAccount string `json:"channel_account"`
	// From is the client's address (E.164 phone, WeChat openid, app user id).
	From Address `json:"from"`
	// ProviderID is the provider's id for the message (WeChat MsgId, or
	// FromUserName+CreateTime for events; Twilio MessageSid; SMPP message
	// id or the reassembly reference; web-chat client message id): the
	// idempotency key. Empty only when the provider gives none.
	ProviderID  string       `json:"provider_id,omitempty"`
	Text        string       `json:"text,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	// Event names the channel event when Kind is IncomingEvent, e.g.
	// "subscribe", "unsubscribe", "menu_click", "opt_out", "opt_in".
	Event string `json:"event,omitempty"`
	// Intent and Language are routing hints the channel knows (a WeChat menu
	// key mapped to an intent, the app's UI language); empty when unknown.
	Intent   string `json:"intent,omitempty"`
	Language string `json:"language,omitempty"`
	// StartConversation asks for a routed conversation even for an event
	// (a "talk to my RM" menu key); messages always start or continue one.
	StartConversation bool `json:"start_conversation,omitempty"`
	// Verification is how the channel authenticated the client (web chat
	// with a bank-issued token: strong; a phone number: basic at most).
	Verification Verification `json:"verification,omitempty"`
	ReceivedAt   time.Time    `json:"received_at"`
}

// Validate checks what a Sink needs. Errors wrap ErrInvalid.
func (in Incoming) Validate() error {
	var errs []error
	if in.Kind != IncomingMessage && in.Kind != IncomingEvent {
		errs = append(errs, fmt.Errorf("incoming: kind %q: %w (allowed: message, event)", in.Kind, ErrInvalid))
	}
	if !in.Channel.Valid() {
		errs = append(errs, fmt.Errorf("incoming: channel %q: %w (allowed: %v)", in.Channel, ErrInvalid, Channels))
	}
	if err := in.From.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("incoming: from: %w", err))
	}
	if in.Kind == IncomingEvent && in.Event == "" {
		errs = append(errs, fmt.Errorf("incoming: %w: an event needs its name", ErrInvalid))
	}
	if in.ReceivedAt.IsZero() {
		errs = append(errs, fmt.Errorf("incoming: %w: received_at is zero", ErrInvalid))
	}
	return joinErrs(errs)
}

// LogValue implements slog.LogValuer: the address masked, the text only as
// its length.
func (in Incoming) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("kind", string(in.Kind)),
		slog.String("channel", string(in.Channel)),
		slog.Any("from", in.From),
		slog.String("provider_id", in.ProviderID),
		slog.String("event", in.Event),
		slog.String("text", MaskText(in.Text)),
		slog.Int("attachments", len(in.Attachments)),
	)
}

// Receipt is what a Sink returns for a stored Incoming: the stored message
// (or the event's id) and its conversation. Duplicate is true when the
// provider id had been stored before (a provider retry): the adapter
// acknowledges it and does nothing more.
type Receipt struct {
	MessageID      MessageID      `json:"message_id,omitempty"`
	ConversationID ConversationID `json:"conversation_id,omitempty"`
	CustomerID     CustomerID     `json:"customer_id,omitempty"`
	Duplicate      bool           `json:"duplicate"`
}

// StatusUpdate is a provider's report on an outbound message (a Twilio
// status callback, an SMPP delivery receipt, a WeChat send result), found by
// the provider id the adapter's Send returned. Status moves forward only.
type StatusUpdate struct {
	Channel        Channel        `json:"channel"`
	ChannelAccount string         `json:"channel_account"`
	ProviderID     string         `json:"provider_id"`
	Status         DeliveryStatus `json:"status"`
	// ErrorCode is the provider's code when Status is failed.
	ErrorCode string    `json:"error_code,omitempty"`
	At        time.Time `json:"at"`
}

// Sent is what a channel adapter reports after handing an outbound message
// to its provider: the provider's ids (one per SMS segment for SMPP, one
// for Twilio, WeChat and web chat), under which StatusUpdates will arrive,
// and the status reached (normally sent; delivered for web chat frames
// written to an open socket).
type Sent struct {
	ProviderIDs []string       `json:"provider_ids"`
	Status      DeliveryStatus `json:"status"`
}

// ProviderError is a provider's refusal of an outbound message, with its
// own code (WeChat errcode "45015", Twilio "21610", SMPP command_status
// "0x0000000B"). Retryable says whether sending again later may succeed.
// The gateway marks the message failed with Code and shows Message to the RM.
type ProviderError struct {
	Channel   Channel
	Code      string
	Message   string
	Retryable bool
}

// Error implements error.
func (e *ProviderError) Error() string {
	return fmt.Sprintf("%s provider error %s: %s", e.Channel, e.Code, e.Message)
}
