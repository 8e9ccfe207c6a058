package router

import (
	"context"
	"slices"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// Observer is told what the router did, after it is committed, so RMs'
// desks can show it. Calls are made synchronously from the routing loop
// and the operations; an Observer must be quick and must not call back
// into the router. A commit made by an instance that dies before telling
// its Observer is still in the store: desks load current offers and
// conversations when they (re)connect.
type Observer interface {
	// Offered: offer o of conversation c (now offered) was made.
	Offered(ctx context.Context, o conversation.Offer, c conversation.Conversation)
	// Changed: conversation c was changed by the timeline events evs
	// (accepted, declined, offer expired, transferred, wrapped up, closed,
	// abandoned, a participant joined or left, escalated); rms are the RMs
	// concerned: its assignee and RM participants before and after, and
	// RMs whose offer or hold the change ended or made.
	Changed(ctx context.Context, c conversation.Conversation, evs []conversation.Event, rms []conversation.RMID)
	// PresenceChanged: an RM's presence was set (by themselves, or by
	// routing after missed offers).
	PresenceChanged(ctx context.Context, p conversation.Presence)
}

// nopObserver is the Observer of a router built without one.
type nopObserver struct{}

func (nopObserver) Offered(context.Context, conversation.Offer, conversation.Conversation) {}
func (nopObserver) Changed(context.Context, conversation.Conversation, []conversation.Event, []conversation.RMID) {
}
func (nopObserver) PresenceChanged(context.Context, conversation.Presence) {}

// concerned lists the RMs a change of before into after (by txn) concerns,
// sorted, without repeats.
func concerned(before, after *conversation.Conversation, txn *state.Txn) []conversation.RMID {
	var rms []conversation.RMID
	for _, c := range []*conversation.Conversation{before, after} {
		if c.AssigneeID != "" {
			rms = append(rms, c.AssigneeID)
		}
		for _, p := range c.Participants {
			if p.Role == conversation.RoleRM || p.Role == conversation.RoleSpecialist {
				rms = append(rms, conversation.RMID(p.ID))
			}
		}
	}
	for _, h := range slices.Concat(txn.Holds, txn.Releases) {
		rms = append(rms, h.RMID)
	}
	if txn.PutOffer != nil {
		rms = append(rms, txn.PutOffer.RMID)
	}
	for _, e := range txn.Events {
		if e.RMID != "" {
			rms = append(rms, e.RMID)
		}
	}
	slices.Sort(rms)
	return slices.Compact(rms)
}
