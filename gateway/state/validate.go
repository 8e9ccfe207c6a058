package state

import (
	"errors"
	"fmt"
	"math"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Page sizes of ListConversations.
const (
	// DefaultListLimit is the page size when ConversationFilter.Limit is 0.
	DefaultListLimit = 50
	// MaxListLimit is the largest page size ListConversations accepts.
	MaxListLimit = 500
)

// normalize checks f and returns it with the default page size filled in.
// Errors wrap conversation.ErrInvalid and say what is allowed.
func (f ConversationFilter) normalize() (ConversationFilter, error) {
	var errs []error
	if f.Status != "" && !f.Status.Valid() {
		errs = append(errs, fmt.Errorf("filter status %q: %w (allowed: %v)", f.Status, conversation.ErrInvalid, conversation.Statuses))
	}
	if f.Channel != "" && !f.Channel.Valid() {
		errs = append(errs, fmt.Errorf("filter channel %q: %w (allowed: %v)", f.Channel, conversation.ErrInvalid, conversation.Channels))
	}
	switch {
	case f.Limit == 0:
		f.Limit = DefaultListLimit
	case f.Limit < 0 || f.Limit > MaxListLimit:
		errs = append(errs, fmt.Errorf("filter limit %d: %w (allowed: 1-%d, or 0 for %d)", f.Limit, conversation.ErrInvalid, MaxListLimit, DefaultListLimit))
	}
	if len(errs) > 0 {
		return f, errors.Join(errs...)
	}
	return f, nil
}

// matches reports whether c passes every field of f that is set.
func (f ConversationFilter) matches(c *conversation.Conversation) bool {
	return (f.Status == "" || c.Status == f.Status) &&
		(f.Channel == "" || c.Channel == f.Channel) &&
		(f.TeamID == "" || c.TeamID == f.TeamID) &&
		(f.CustomerID == "" || c.CustomerID == f.CustomerID) &&
		(f.AssigneeID == "" || c.AssigneeID == f.AssigneeID)
}

func validateCustomer(c conversation.Customer) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if len(c.Addresses) == 0 {
		return fmt.Errorf("customer %s: %w: no address (a prospect is created for the address it contacted from)", c.ID, conversation.ErrInvalid)
	}
	return nil
}

func validateEvent(e conversation.Event) error {
	var errs []error
	if e.ID == "" || e.ConversationID == "" {
		errs = append(errs, fmt.Errorf("event: %w: empty id or conversation id", conversation.ErrInvalid))
	}
	if e.Type == "" {
		errs = append(errs, fmt.Errorf("event %s: %w: empty type", e.ID, conversation.ErrInvalid))
	}
	if e.At.IsZero() {
		errs = append(errs, fmt.Errorf("event %s: %w: zero time", e.ID, conversation.ErrInvalid))
	}
	return errors.Join(errs...)
}

func validateOffer(o conversation.Offer) error {
	var errs []error
	if o.ID == "" || o.ConversationID == "" || o.RMID == "" {
		errs = append(errs, fmt.Errorf("offer %s: %w: needs an id, a conversation id and an rm id", o.ID, conversation.ErrInvalid))
	}
	if o.CreatedAt.IsZero() || !o.ExpiresAt.After(o.CreatedAt) {
		errs = append(errs, fmt.Errorf("offer %s: %w: needs a created time and an expiry after it", o.ID, conversation.ErrInvalid))
	}
	if o.Cost < 0 || o.Attempt < 0 {
		errs = append(errs, fmt.Errorf("offer %s: cost %d, attempt %d: %w (allowed: >= 0)", o.ID, o.Cost, o.Attempt, conversation.ErrInvalid))
	}
	return errors.Join(errs...)
}

func validateQueueEntry(q string, id conversation.ConversationID, score float64) error {
	var errs []error
	if q == "" {
		errs = append(errs, fmt.Errorf("queue: %w: empty name", conversation.ErrInvalid))
	}
	if id == "" {
		errs = append(errs, fmt.Errorf("queue %s: %w: empty conversation id", q, conversation.ErrInvalid))
	}
	if math.IsNaN(score) || math.IsInf(score, 0) {
		errs = append(errs, fmt.Errorf("queue %s: score %v: %w (allowed: a finite number)", q, score, conversation.ErrInvalid))
	}
	return errors.Join(errs...)
}

func validateQueueName(q string) error {
	if q == "" {
		return fmt.Errorf("queue: %w: empty name", conversation.ErrInvalid)
	}
	return nil
}
