package state

import (
	"maps"
	"slices"

	"github.com/airbranch/airbranch/channels/conversation"
)

// The clone functions return deep copies, so a store never shares a slice
// or map with its callers: what a caller changes after a call never changes
// what is stored, and the other way round.

func cloneConversation(c conversation.Conversation) conversation.Conversation {
	c.ChannelHistory = slices.Clone(c.ChannelHistory)
	c.Skills = slices.Clone(c.Skills)
	c.Participants = slices.Clone(c.Participants)
	c.Tags = slices.Clone(c.Tags)
	c.Declined = slices.Clone(c.Declined)
	c.OfferGroup = slices.Clone(c.OfferGroup)
	return c
}

func cloneMessage(m conversation.Message) conversation.Message {
	m.Attachments = slices.Clone(m.Attachments)
	return m
}

func cloneEvent(e conversation.Event) conversation.Event {
	e.Detail = maps.Clone(e.Detail)
	return e
}

func cloneCustomer(c conversation.Customer) conversation.Customer {
	c.Addresses = slices.Clone(c.Addresses)
	return c
}
