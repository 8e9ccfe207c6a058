package state

import (
	"errors"
	"fmt"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Sentinel errors of the state store; match them with errors.Is.
var (
	// ErrNotFound: no record with that id or key. It wraps
	// conversation.ErrNotFound.
	ErrNotFound = fmt.Errorf("state: %w", conversation.ErrNotFound)
	// ErrExists: a record with that id already exists.
	ErrExists = errors.New("state: already exists")
	// ErrConflict: a concurrent writer won, or a live lease is in the way.
	ErrConflict = errors.New("state: conflict")
	// ErrUnavailable: the backend cannot be reached; callers answer 503.
	// It wraps conversation.ErrUnavailable, which channel adapters match
	// to hold back their acknowledgement.
	ErrUnavailable = fmt.Errorf("state: %w", conversation.ErrUnavailable)
)
