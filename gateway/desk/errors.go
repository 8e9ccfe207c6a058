package desk

import "errors"

// Errors of the desk's requests (error frames: see classify).
var (
	// ErrNoPhoneNumber: an escalation to voice for a client with no phone
	// number in E.164 (neither the conversation's address nor one in the
	// directory). Error frame code no_phone_number, status 409.
	ErrNoPhoneNumber = errors.New("the client has no phone number")
	// ErrVoiceUnavailable: an escalation to voice the gateway cannot call
	// (voice off, no outbound trunk, no device of the RM to ring). Error
	// frame code voice_unavailable, status 503.
	ErrVoiceUnavailable = errors.New("voice calls cannot be placed")
)
