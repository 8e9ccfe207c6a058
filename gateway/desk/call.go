package desk

import (
	"context"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// EventCall is the stream event of a voice call's progress for the RM
// concerned (see CallData).
const EventCall = "call"

// Call states of CallData.State.
const (
	// CallOffered: a voice conversation is offered to the RM (the offer
	// event carries the card; this one the call).
	CallOffered = "offered"
	// CallRinging: the gateway is ringing the RM's device for the call
	// (Device: their SIP phone, or the desk's softphone).
	CallRinging = "ringing"
	// CallBridged: the RM answered; the caller is bridged to Device.
	CallBridged = "bridged"
	// CallHeld and CallResumed: the call was put on hold (the caller
	// hears music) and taken back.
	CallHeld    = "held"
	CallResumed = "resumed"
	// CallEnded: the call is over; EndedBy and Reason say how.
	CallEnded = "ended"
)

// Devices of CallData.Device.
const (
	// DevicePhone is the RM's registered SIP phone.
	DevicePhone = "phone"
	// DeviceSoftphone is the desk's browser softphone (WebRTC).
	DeviceSoftphone = "softphone"
)

// CallData is the data of a call event.
type CallData struct {
	ConversationID conversation.ConversationID `json:"conversation_id"`
	// State: offered, ringing, bridged, held, resumed, ended.
	State string `json:"state"`
	// Device is where the call rings or is bridged: phone or softphone
	// (empty for offered, and for ended before it rang anywhere).
	Device string `json:"device,omitempty"`
	// EndedBy, for ended: client, rm or gateway.
	EndedBy string `json:"ended_by,omitempty"`
	// Reason, for ended: abandoned, completed, callback, no_answer, failed or instance_lost (the instance holding the call died).
	Reason string `json:"reason,omitempty"`
	// At is when the gateway saw it happen.
	At time.Time `json:"at"`
}

// Call publishes a call event to rm's stream (every desk of the RM, on
// every instance). At is set to now when zero. A store error is logged;
// the desk sees the conversation's state on reconnect.
func (h *Hub) Call(ctx context.Context, rm conversation.RMID, d CallData) {
	if rm == "" {
		return
	}
	if d.At.IsZero() {
		d.At = h.now()
	}
	h.publish(ctx, rm, EventCall, d)
}
