package sip

import (
	"errors"
	"fmt"
)

// ErrConfig is wrapped by every Config.Validate problem.
var ErrConfig = errors.New("invalid sip config")

// ErrUnknownCall is returned by Bridge and Hangup for a conversation with
// no live call on this instance.
var ErrUnknownCall = errors.New("no live call for conversation")

// ErrNotQueued is returned by Bridge when the call is not waiting in queue
// (still ringing, already bridged or ending).
var ErrNotQueued = errors.New("call is not queued")

// ErrNotRegistered is returned by Bridge when the RM has no registered
// contact.
var ErrNotRegistered = errors.New("rm phone not registered")

// ErrNoAnswer is returned by Bridge when no contact of the RM answered
// before the ring timeout (phone-first mode treats it as a decline).
var ErrNoAnswer = errors.New("rm phone did not answer")

// ErrCallerGone is returned by Bridge when the caller hung up while the RM's
// phone was ringing.
var ErrCallerGone = errors.New("caller hung up")

// RejectError is a SIP final response a peer gave, or the gateway gave a
// peer: the status code (RFC 3261 §21) and reason phrase.
type RejectError struct {
	Status int
	Reason string
}

// Error implements error.
func (e *RejectError) Error() string { return fmt.Sprintf("sip %d %s", e.Status, e.Reason) }

// ErrNotBridged is returned by Transfer when the call is not bridged to
// an RM's phone.
var ErrNotBridged = errors.New("call is not bridged")

// ErrNoOutbound is returned by Callback when no outbound trunk is
// configured (Config.Outbound.Addr).
var ErrNoOutbound = errors.New("no outbound trunk")

// ErrCallInProgress is returned by Callback when the conversation has a
// live call on this instance.
var ErrCallInProgress = errors.New("conversation has a live call")

// ErrClientNoAnswer is returned by Callback when the client's phone did
// not answer (or refused) the callback.
var ErrClientNoAnswer = errors.New("client did not answer")

// ErrUnavailable is returned by Callback while the server is stopping or
// draining.
var ErrUnavailable = errors.New("voice channel unavailable")
