package router

import "errors"

// Sentinel errors of the routing runtime; the API maps them to HTTP status
// codes (409 for the offer and transition errors, 404 for not found).
var (
	// ErrOfferGone: the offer expired, was withdrawn or was already
	// answered; nothing was changed.
	ErrOfferGone = errors.New("router: offer expired or already answered")
	// ErrNotYourOffer: the offer belongs to another RM; nothing was changed.
	ErrNotYourOffer = errors.New("router: offer belongs to another RM")
	// ErrNotAssignee: only the assigned RM may wrap up, close, transfer or
	// escalate the conversation.
	ErrNotAssignee = errors.New("router: not the conversation's assignee")
	// ErrNoCapacity: the RM has no capacity left for the change asked.
	ErrNoCapacity = errors.New("router: RM has no capacity for this")
	// ErrBusy: the change kept losing races with other writers; retry.
	ErrBusy = errors.New("router: conversation changed concurrently, retry")
)
