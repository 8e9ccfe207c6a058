package identity

import (
	"fmt"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Sentinel errors of identity resolution; match them with errors.Is.
var (
	// ErrInvalidPhone: the text is not a phone number that can be written in
	// E.164 form. It wraps conversation.ErrInvalid.
	ErrInvalidPhone = fmt.Errorf("identity: invalid phone number: %w", conversation.ErrInvalid)
	// ErrInvalidAddress: the address kind is unknown or its value empty or
	// malformed. It wraps conversation.ErrInvalid.
	ErrInvalidAddress = fmt.Errorf("identity: invalid address: %w", conversation.ErrInvalid)
	// ErrNotFound: neither the directory nor the store knows the customer.
	// It wraps conversation.ErrNotFound.
	ErrNotFound = fmt.Errorf("identity: %w", conversation.ErrNotFound)
)
