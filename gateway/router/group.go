package router

import (
	"context"
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// withdraw adds to txn the end of every offer of c's simultaneous offer
// but keep (the one accepted; "" for none): the offer deleted, its hold
// released, an offer_withdrawn event naming the RM with reason; and
// clears c.OfferGroup. It does nothing for a conversation offered to one
// RM.
func withdraw(c *conversation.Conversation, txn *state.Txn, keep conversation.OfferID, reason string, now time.Time) {
	for _, g := range c.OfferGroup {
		if g.ID == keep {
			continue
		}
		txn.DeleteOffers = append(txn.DeleteOffers, g.ID)
		txn.Releases = append(txn.Releases, state.Hold{RMID: g.RMID, ConversationID: c.ID})
		ev := event(c, conversation.EventOfferWithdrawn, "routing", now)
		ev.RMID, ev.OfferID, ev.Reason = g.RMID, g.ID, reason
		txn.Events = append(txn.Events, ev)
	}
	c.OfferGroup = nil
}

// withdrawLive adds to txn the end of c's live offers because the client
// left or asked for a callback: every offer of a simultaneous offer, or
// the one live offer.
func (r *Router) withdrawLive(ctx context.Context, c *conversation.Conversation, txn *state.Txn, now time.Time) {
	if len(c.OfferGroup) > 0 {
		withdraw(c, txn, "", "the client left the queue", now)
		return
	}
	if o, err := r.store.OfferFor(ctx, c.ID, now); err == nil {
		txn.DeleteOffers = append(txn.DeleteOffers, o.ID)
		txn.Releases = append(txn.Releases, state.Hold{RMID: o.RMID, ConversationID: c.ID})
	}
}

// groupWithout returns group without offer id, and whether id was in it.
func groupWithout(group []conversation.OfferRef, id conversation.OfferID) ([]conversation.OfferRef, bool) {
	i := slices.IndexFunc(group, func(g conversation.OfferRef) bool { return g.ID == id })
	if i < 0 {
		return group, false
	}
	return slices.Delete(slices.Clone(group), i, i+1), true
}
