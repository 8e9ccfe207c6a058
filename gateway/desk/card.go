package desk

import (
	"context"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/state"
)

// recentInteractions is how many earlier conversations a customer card lists.
const recentInteractions = 5

// offerData builds an offer event: the offer, its conversation and the
// customer card. A card that cannot be read in full keeps what was read.
func (h *Hub) offerData(ctx context.Context, o conversation.Offer, c conversation.Conversation) OfferData {
	d := OfferData{Offer: o, Conversation: c, ExpiresInMS: o.ExpiresAt.Sub(h.now()).Milliseconds()}
	d.Customer = h.card(ctx, c)
	return d
}

// card returns the customer card of c's client.
func (h *Hub) card(ctx context.Context, c conversation.Conversation) CustomerCard {
	card := CustomerCard{ID: c.CustomerID, Segment: c.Segment, Language: c.Language, Recent: []Interaction{}}
	if h.customers != nil {
		if cust, err := h.customers.Customer(ctx, c.CustomerID); err == nil {
			card.DisplayName, card.Segment, card.AUMBand = cust.DisplayName, cust.Segment, cust.AUMBand
			card.OwnRM, card.Prospect = cust.OwnRM, cust.Prospect
			if cust.PreferredLanguage != "" && card.Language == "" {
				card.Language = cust.PreferredLanguage
			}
		}
	}
	page, err := h.store.ListConversations(ctx, state.ConversationFilter{CustomerID: c.CustomerID, Limit: recentInteractions + 1})
	if err != nil {
		h.log.Warn("customer card without recent interactions", "customer_id", c.CustomerID, "error", err)
		return card
	}
	for _, p := range page.Items {
		if p.ID == c.ID || len(card.Recent) == recentInteractions {
			continue
		}
		card.Recent = append(card.Recent, Interaction{ConversationID: p.ID, Channel: p.Channel, Status: p.Status,
			AssigneeID: p.AssigneeID, Disposition: p.Disposition, CreatedAt: p.CreatedAt})
	}
	return card
}
