package smpp

import (
	"fmt"

	"github.com/linxGnu/gosmpp/data"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Sentinel errors of the SMPP provider; match them with errors.Is.
var (
	// ErrConfig: the configuration is incomplete or wrong.
	ErrConfig = fmt.Errorf("smpp: invalid configuration: %w", conversation.ErrInvalid)
	// ErrUnknownAccount: sms.Outbound.Account is not this bind's account.
	ErrUnknownAccount = fmt.Errorf("smpp: unknown channel account: %w", conversation.ErrInvalid)
	// ErrRunning: Run was called while it already runs.
	ErrRunning = fmt.Errorf("smpp: already running")
	// ErrNotBound: no bound link to the SMSC within SubmitTimeout (the
	// SMSC refuses the bind or is unreachable). It wraps
	// conversation.ErrUnavailable: the message stays queued.
	ErrNotBound = fmt.Errorf("smpp: not bound to the SMSC: %w", conversation.ErrUnavailable)
	// ErrLinkLost: the link dropped before the SMSC answered a submit_sm;
	// the SMSC may or may not have taken that part. It wraps
	// conversation.ErrUnavailable.
	ErrLinkLost = fmt.Errorf("smpp: link lost before submit_sm_resp: %w", conversation.ErrUnavailable)
	// ErrSubmitTimeout: no submit_sm_resp within SubmitTimeout. It wraps
	// conversation.ErrUnavailable.
	ErrSubmitTimeout = fmt.Errorf("smpp: no submit_sm_resp in time: %w", conversation.ErrUnavailable)
)

// BindError is an SMSC's refusal of a bind, with its command_status
// (SMPP 3.4 §5.1.3, e.g. 0x0000000E ESME_RINVPASWD).
type BindError struct {
	Status data.CommandStatusType
}

// Error implements error.
func (e *BindError) Error() string {
	return fmt.Sprintf("smpp: bind refused: command_status 0x%08X %s", uint32(e.Status), e.Status.Desc())
}

// statusCode formats a command_status as a ProviderError code,
// "0x0000000B".
func statusCode(st data.CommandStatusType) string { return fmt.Sprintf("0x%08X", uint32(st)) }

// retryable lists the submit_sm_resp statuses after which sending again
// later may succeed (SMPP 3.4 §5.1.3): throttling, a full queue, a system
// error and the temporary application error.
func retryable(st data.CommandStatusType) bool {
	switch st {
	case data.ESME_RTHROTTLED, data.ESME_RMSGQFUL, data.ESME_RSYSERR, data.ESME_RX_T_APPN:
		return true
	}
	return false
}

// ErrThrottled: the throughput limit would not let a submit_sm go before
// the caller's deadline. It wraps conversation.ErrUnavailable.
var ErrThrottled = fmt.Errorf("smpp: throughput limit reached: %w", conversation.ErrUnavailable)

// wrapCtx joins a sentinel with the context error that caused it.
func wrapCtx(sentinel, cause error) error { return fmt.Errorf("%w: %w", sentinel, cause) }
