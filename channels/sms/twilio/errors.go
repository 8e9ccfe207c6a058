package twilio

import (
	"fmt"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Sentinel errors of the Twilio-compatible provider; match them with
// errors.Is.
var (
	// ErrConfig: the configuration is incomplete or wrong.
	ErrConfig = fmt.Errorf("twilio: invalid configuration: %w", conversation.ErrInvalid)
	// ErrUnknownAccount: the channel account is not configured. It wraps
	// conversation.ErrInvalid.
	ErrUnknownAccount = fmt.Errorf("twilio: unknown channel account: %w", conversation.ErrInvalid)
	// ErrUnreachable: the REST API did not answer (network error, timeout)
	// or answered 429 or 5xx; sending again later may work. It wraps
	// conversation.ErrUnavailable.
	ErrUnreachable = fmt.Errorf("twilio: provider unreachable: %w", conversation.ErrUnavailable)
)

// Provider error codes with a meaning of their own (Twilio error
// dictionary, https://www.twilio.com/docs/api/errors).
const (
	// CodeUnsubscribed (21610): the recipient replied STOP to this sender;
	// Send also adds them to the suppression list.
	CodeUnsubscribed = "21610"
)
