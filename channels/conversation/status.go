package conversation

import (
	"fmt"
	"slices"
)

// Status is where a conversation stands in its life:
// new → queued → offered → active → wrap_up → closed, or abandoned when the
// client leaves before an RM answers.
type Status string

// Conversation statuses.
const (
	StatusNew       Status = "new"
	StatusQueued    Status = "queued"
	StatusOffered   Status = "offered"
	StatusActive    Status = "active"
	StatusWrapUp    Status = "wrap_up"
	StatusClosed    Status = "closed"
	StatusAbandoned Status = "abandoned"
)

// Statuses lists every status in life order.
var Statuses = []Status{StatusNew, StatusQueued, StatusOffered, StatusActive, StatusWrapUp, StatusClosed, StatusAbandoned}

// transitions lists the allowed moves. Beyond the main line:
//   - queued → closed: the routing fallback ended it (callback task,
//     voicemail, auto-reply after hours);
//   - offered → queued: the offer was declined or expired;
//   - active → queued: transferred back to the queue, or its RM's instance died;
//   - active → offered: transferred to a named RM, who must accept;
//   - active → closed: closed with no wrap-up (e.g. wrap-up disabled);
//   - new/queued/offered → abandoned: the client left before an answer.
var transitions = map[Status][]Status{
	StatusNew:     {StatusQueued, StatusActive, StatusClosed, StatusAbandoned},
	StatusQueued:  {StatusOffered, StatusClosed, StatusAbandoned},
	StatusOffered: {StatusActive, StatusQueued, StatusAbandoned},
	StatusActive:  {StatusWrapUp, StatusQueued, StatusOffered, StatusClosed},
	StatusWrapUp:  {StatusClosed},
}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool { return slices.Contains(Statuses, s) }

// Terminal reports whether s ends the conversation (closed or abandoned).
func (s Status) Terminal() bool { return s == StatusClosed || s == StatusAbandoned }

// CanTransition reports whether a conversation may move from s to to.
func (s Status) CanTransition(to Status) bool { return slices.Contains(transitions[s], to) }

// ParseStatus returns s as a Status, or an error wrapping ErrInvalid that
// lists the allowed values.
func ParseStatus(s string) (Status, error) {
	if Status(s).Valid() {
		return Status(s), nil
	}
	return "", fmt.Errorf("status %q: %w (allowed: %v)", s, ErrInvalid, Statuses)
}
