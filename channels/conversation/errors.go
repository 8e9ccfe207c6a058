package conversation

import "errors"

// Sentinel errors of the domain core. Callers match them with errors.Is;
// functions wrap them with context using %w.
var (
	// ErrIllegalTransition is returned when a conversation status change is
	// not one of the allowed transitions (see Status.CanTransition).
	ErrIllegalTransition = errors.New("illegal status transition")
	// ErrInvalid is returned when a value (segment, channel, address, ...)
	// is not one of the allowed values.
	ErrInvalid = errors.New("invalid value")
	// ErrNotFound is returned when a customer, RM, team or conversation does
	// not exist.
	ErrNotFound = errors.New("not found")
)
