package statetest

import (
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// testOffersGroup: a simultaneous offer is one Txn with PutOffer and
// PutOffers (one conversation, three RMs, each holding the cost). Every
// RM sees their offer, the holdings count, the guards see the live ones,
// and one Txn withdraws the rest when one RM accepts; a malformed offer
// among PutOffers refuses the whole Txn.
func testOffersGroup(t *testing.T, s state.Store) {
	ctx := t.Context()
	first := offerOf("conv-g", "rm-a", at(0), 30*time.Second)
	more := []conversation.Offer{offerOf("conv-g", "rm-b", at(0), 30*time.Second), offerOf("conv-g", "rm-c", at(0), 30*time.Second)}
	more[0].ID, more[1].ID = first.ID+"-b", first.ID+"-c"

	bad := more[1]
	bad.ExpiresAt = time.Time{}
	err := s.Commit(ctx, state.Txn{Now: at(0), PutOffer: &first, PutOffers: []conversation.Offer{more[0], bad}})
	wantErr(t, "an offer without expiry among PutOffers", err, conversation.ErrInvalid)
	_, err = s.OfferFor(ctx, "conv-g", at(0))
	wantErr(t, "nothing stored of a refused Txn", err, state.ErrNotFound)

	var holds []state.Hold
	for _, rm := range []conversation.RMID{"rm-a", "rm-b", "rm-c"} {
		holds = append(holds, state.Hold{RMID: rm, ConversationID: "conv-g", Cost: 25})
	}
	must(t, "Commit simultaneous offer", s.Commit(ctx, state.Txn{
		Now: at(0), PutOffer: &first, PutOffers: more, Holds: holds,
		Guards: []state.Guard{{Kind: state.GuardNoLiveOffer, ConversationID: "conv-g"}},
	}))
	for i, o := range append([]conversation.Offer{first}, more...) {
		got, err := s.OffersOf(ctx, o.RMID, at(1000))
		must(t, "OffersOf", err)
		equal(t, "offer of "+string(o.RMID), got, []conversation.Offer{o})
		rs, err := s.RMState(ctx, o.RMID)
		must(t, "RMState", err)
		equal(t, "load of "+string(o.RMID), rs.Load, 25)
		err = s.Commit(ctx, state.Txn{Now: at(1000), Guards: []state.Guard{{Kind: state.GuardOfferLive, OfferID: o.ID, RMID: o.RMID}}})
		must(t, "offer_live of offer "+string(rune('0'+i)), err)
	}
	err = s.Commit(ctx, state.Txn{Now: at(1000), Guards: []state.Guard{{Kind: state.GuardNoLiveOffer, ConversationID: "conv-g"}}})
	wantErr(t, "no_live_offer with a live group", err, state.ErrConflict)

	// rm-b accepts: one Txn deletes every offer and releases the others.
	must(t, "accept and withdraw", s.Commit(ctx, state.Txn{
		Now:          at(2000),
		Guards:       []state.Guard{{Kind: state.GuardOfferLive, OfferID: more[0].ID, RMID: "rm-b"}},
		DeleteOffers: []conversation.OfferID{first.ID, more[0].ID, more[1].ID},
		Releases:     []state.Hold{{RMID: "rm-a", ConversationID: "conv-g"}, {RMID: "rm-c", ConversationID: "conv-g"}},
	}))
	for rm, load := range map[conversation.RMID]int{"rm-a": 0, "rm-b": 25, "rm-c": 0} {
		got, err := s.OffersOf(ctx, rm, at(2000))
		must(t, "OffersOf", err)
		equal(t, "offers of "+string(rm)+" after the accept", got, []conversation.Offer{})
		rs, err := s.RMState(ctx, rm)
		must(t, "RMState", err)
		equal(t, "load of "+string(rm)+" after the accept", rs.Load, load)
	}
	expired, err := s.ExpiredOffers(ctx, at(60_000), 0)
	must(t, "ExpiredOffers", err)
	equal(t, "no offer left to expire", expired, []conversation.Offer{})
}
