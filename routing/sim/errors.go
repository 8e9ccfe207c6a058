package sim

import "errors"

// Sentinel errors of the sim package. Callers match them with errors.Is;
// functions wrap them with a lowercase context prefix using %w.
var (
	// ErrInvalidArrival is wrapped by every problem of an arrival: a line
	// that is not a JSON object of the arrival format, an unknown field, a
	// value out of range, an unknown customer.
	ErrInvalidArrival = errors.New("invalid arrival")
	// ErrInvalidOptions is wrapped by an Options value out of range.
	ErrInvalidOptions = errors.New("invalid simulation options")
	// ErrInvariant is wrapped when the routing code under simulation breaks
	// a promise it makes: an RM offered more than their capacity, or a
	// conversation offered while it is already offered or answered.
	ErrInvariant = errors.New("routing invariant broken")
)
