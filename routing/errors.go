package routing

import "errors"

// Sentinel errors of the routing package. Callers match them with errors.Is;
// functions wrap them with a lowercase context prefix using %w.
var (
	// ErrInvalidConfig is wrapped by every problem Compile reports: an
	// expression that does not compile or is not bool, an unknown team,
	// skill, licence or RM, a cost or duration out of range, a malformed
	// disposition, a cycle of deputies.
	ErrInvalidConfig = errors.New("invalid routing config")
	// ErrInvalidSnapshot is wrapped by every problem NewSnapshot reports: a
	// duplicate RM, an RM in an unknown team, a negative load, a team time
	// zone, working-hours window or holiday that does not parse.
	ErrInvalidSnapshot = errors.New("invalid routing snapshot")
	// ErrUnknownDisposition is returned by Policies.CheckDisposition for a
	// wrap-up code that is not in the configured list.
	ErrUnknownDisposition = errors.New("unknown disposition")
)
