package conversation

import (
	"fmt"
	"slices"
	"time"
)

// PresenceState is what an RM has said about their availability. "Busy" is
// not a state: it is derived from the RM's load against their capacity.
type PresenceState string

// RM presence states.
const (
	PresenceOffline   PresenceState = "offline"
	PresenceAvailable PresenceState = "available"
	PresenceAway      PresenceState = "away"
	PresenceWrapUp    PresenceState = "wrap_up"
)

// PresenceStates lists every presence state.
var PresenceStates = []PresenceState{PresenceOffline, PresenceAvailable, PresenceAway, PresenceWrapUp}

// Valid reports whether s is one of PresenceStates.
func (s PresenceState) Valid() bool { return slices.Contains(PresenceStates, s) }

// Presence is an RM's availability, held as a lease: after ExpiresAt (no
// heartbeat from the desk or phone) the RM counts as offline.
type Presence struct {
	RMID  RMID          `json:"rm_id"`
	State PresenceState `json:"state"`
	// Reason says why the RM is away, e.g. "lunch", "not_responding".
	Reason string    `json:"reason,omitempty"`
	Since  time.Time `json:"since"`
	// ExpiresAt ends the lease; zero means it does not expire (offline).
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	// Until ends a wrap_up: from then on the RM is available again (the
	// routing runtime sets it back); zero for other states.
	Until time.Time `json:"until,omitzero"`
	// Instance is the gateway instance holding the RM's desk session.
	Instance string `json:"instance,omitempty"`
}

// At returns the presence as it stands at now: offline once the lease has
// expired.
func (p Presence) At(now time.Time) Presence {
	if p.State != PresenceOffline && !p.ExpiresAt.IsZero() && !now.Before(p.ExpiresAt) {
		return Presence{RMID: p.RMID, State: PresenceOffline, Reason: "lease_expired", Since: p.ExpiresAt}
	}
	return p
}

// Validate checks the RM id and state. Errors wrap ErrInvalid.
func (p Presence) Validate() error {
	if p.RMID == "" {
		return fmt.Errorf("presence: %w: empty rm id", ErrInvalid)
	}
	if !p.State.Valid() {
		return fmt.Errorf("presence %s: state %q: %w (allowed: %v)", p.RMID, p.State, ErrInvalid, PresenceStates)
	}
	if !p.Until.IsZero() && p.State != PresenceWrapUp {
		return fmt.Errorf("presence %s: %w: until is for wrap_up only", p.RMID, ErrInvalid)
	}
	return nil
}

// Offer is a conversation proposed to one RM (a reservation), held as a
// lease until ExpiresAt. Cost is the capacity it takes from the RM, in cost
// units (of 100).
type Offer struct {
	ID             OfferID        `json:"id"`
	ConversationID ConversationID `json:"conversation_id"`
	RMID           RMID           `json:"rm_id"`
	Cost           int            `json:"cost"`
	// Attempt counts offers of this conversation, from 1.
	Attempt   int       `json:"attempt"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Instance is the gateway instance that made the offer.
	Instance string `json:"instance,omitempty"`
}

// OfferRef names one offer of a simultaneous offer and its RM
// (Conversation.OfferGroup).
type OfferRef struct {
	ID   OfferID `json:"offer_id"`
	RMID RMID    `json:"rm_id"`
}

// Expired reports whether the offer's lease has run out at now.
func (o Offer) Expired(now time.Time) bool { return !now.Before(o.ExpiresAt) }
