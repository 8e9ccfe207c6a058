package state

import (
	"context"
	"fmt"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Instances is the part of the store that knows which gateway instances
// are alive and which conversations' live media (a SIP call, a video
// room) each one holds, so that when an instance dies (kill -9, a lost
// host) the others end those conversations instead of leaving them
// active forever (the architecture notes, §1, "when an owner dies, its
// leases expire").
//
// An instance id names one process: a restarted gateway takes a new one,
// so the calls of its previous life are reaped like any dead instance's.
// Lease times are compared with the now the caller gives, to the µs, as
// offer leases are.
type Instances interface {
	// RenewInstance sets instance id's liveness lease to end at
	// expiresAt, creating it if needed. An expiresAt at or before now
	// hands the instance over to the reapers at once (a clean stop).
	// Errors: a conversation.ErrInvalid error for an empty id or a zero
	// expiresAt; ErrUnavailable.
	RenewInstance(ctx context.Context, id string, expiresAt time.Time) error
	// LostInstances returns up to limit instances (all when limit <= 0)
	// whose lease ended at or before now and that have not been forgotten,
	// earliest lease end first, ties by id.
	LostInstances(ctx context.Context, now time.Time, limit int) ([]string, error)
	// AddHolding records that instance holds the live media of
	// conversation id. Adding it again changes nothing. Errors: a
	// conversation.ErrInvalid error for an empty instance or id.
	AddHolding(ctx context.Context, instance string, id conversation.ConversationID) error
	// RemoveHolding removes what AddHolding recorded, reporting whether
	// it was there.
	RemoveHolding(ctx context.Context, instance string, id conversation.ConversationID) (bool, error)
	// Holdings returns the conversations whose media instance holds, by
	// id (an empty slice when none).
	Holdings(ctx context.Context, instance string) ([]conversation.ConversationID, error)
	// ForgetInstance removes instance's lease when, atomically, the lease
	// has ended at or before now and it holds nothing any more (every
	// holding reaped and removed), and reports whether it did. An instance
	// that renewed its lease meanwhile, or that still holds something, is
	// kept; an instance already forgotten reports false.
	ForgetInstance(ctx context.Context, instance string, now time.Time) (bool, error)
}

func validateHolding(instance string, id conversation.ConversationID) error {
	if instance == "" || id == "" {
		return fmt.Errorf("holding: instance %q, conversation %q: both are required: %w", instance, id, conversation.ErrInvalid)
	}
	return nil
}

func validateInstanceLease(id string, expiresAt time.Time) error {
	if id == "" || expiresAt.IsZero() {
		return fmt.Errorf("instance lease %q until %s: an id and an expiry are required: %w", id, formatTime(expiresAt), conversation.ErrInvalid)
	}
	return nil
}
