package configs

import "errors"

// Sentinel errors of the configs package. Every Problem wraps exactly one of
// them, so callers can tell a typo from a bad value with errors.Is.
var (
	// ErrSyntax is wrapped by a Problem for YAML that does not parse.
	ErrSyntax = errors.New("yaml syntax error")
	// ErrUnknownKey is wrapped by a Problem for a key that is not part of
	// the format (a typo, or a key of another version).
	ErrUnknownKey = errors.New("unknown key")
	// ErrWrongType is wrapped by a Problem for a value of the wrong YAML
	// type, e.g. a list where a string belongs or 20 where "20s" belongs.
	ErrWrongType = errors.New("wrong type")
	// ErrInvalid is wrapped by a Problem for a well-typed value that is not
	// allowed (out of range, unknown reference, bad format).
	ErrInvalid = errors.New("invalid value")
)
