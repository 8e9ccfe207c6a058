package sms

import (
	"fmt"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Sentinel errors of the SMS channel; match them with errors.Is.
var (
	// ErrSuppressed: the number sent an opt-out keyword (STOP, 退订...) and
	// may receive nothing more until it sends START. It wraps
	// conversation.ErrOptedOut.
	ErrSuppressed = fmt.Errorf("sms: number is on the suppression list: %w", conversation.ErrOptedOut)
	// ErrTooLong: the text needs more parts than allowed (MaxParts, or the
	// adapter's configured limit). It wraps conversation.ErrInvalid.
	ErrTooLong = fmt.Errorf("sms: message too long: %w", conversation.ErrInvalid)
	// ErrInvalidMessage: an outbound message lacks its account, a valid
	// E.164 recipient or any content. It wraps conversation.ErrInvalid.
	ErrInvalidMessage = fmt.Errorf("sms: invalid message: %w", conversation.ErrInvalid)
	// ErrStoreUnavailable: the suppression store cannot answer now. It
	// wraps conversation.ErrUnavailable, so an inbound message is not
	// acknowledged and an outbound one is retried later.
	ErrStoreUnavailable = fmt.Errorf("sms: suppression store: %w", conversation.ErrUnavailable)
)
