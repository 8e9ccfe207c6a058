package sfu

import "errors"

// Sentinel errors of the SFU. Callers match them with errors.Is.
var (
	// ErrConfig: the configuration is invalid; Validate joins one error
	// per problem, each naming its field.
	ErrConfig = errors.New("invalid sfu configuration")
	// ErrClosed: the SFU or the room has been closed.
	ErrClosed = errors.New("sfu: closed")
	// ErrDuplicate: a participant with that id is already in the room.
	ErrDuplicate = errors.New("sfu: participant already in the room")
	// ErrNotFound: no participant with that id in the room.
	ErrNotFound = errors.New("sfu: no such participant")
	// ErrBadSDP: a session description that cannot be parsed or applied
	// (RFC 8866 syntax, or a JSEP state it does not fit, RFC 8829 §5).
	ErrBadSDP = errors.New("sfu: bad session description")
	// ErrBadCandidate: an ICE candidate that cannot be added (RFC 8839
	// syntax, or sent before any offer).
	ErrBadCandidate = errors.New("sfu: bad ice candidate")
	// ErrNoOffer: an answer when the server has no offer waiting.
	ErrNoOffer = errors.New("sfu: no offer waiting for an answer")
	// ErrNoLayer: a simulcast layer (RID) the track does not have.
	ErrNoLayer = errors.New("sfu: no such simulcast layer")
	// ErrRecording: StartRecording while the room records already.
	ErrRecording = errors.New("sfu: the room records already")
)
