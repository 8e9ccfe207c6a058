package routing

import (
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
)

// ConversationView is what routing needs to know of a waiting conversation
// and its customer. Build it with ViewOf.
type ConversationView struct {
	ID         conversation.ConversationID `json:"id"`
	CustomerID conversation.CustomerID     `json:"customer_id"`
	Segment    conversation.Segment        `json:"segment"`
	Channel    conversation.Channel        `json:"channel"`
	// Language is the language the client needs, e.g. "yue"; "" for any.
	Language string `json:"language,omitempty"`
	// Intent is what the client asked for, e.g. "mortgage".
	Intent       string                    `json:"intent,omitempty"`
	Verification conversation.Verification `json:"verification"`
	AUMBand      string                    `json:"aum_band,omitempty"`
	Prospect     bool                      `json:"prospect,omitempty"`
	// OwnRM is the client's assigned RM; Deputy stands in for them (when
	// empty, the own RM's deputy in the directory does).
	OwnRM  conversation.RMID `json:"own_rm,omitempty"`
	Deputy conversation.RMID `json:"deputy,omitempty"`
	// LastRM served the client last, at LastRMAt.
	LastRM   conversation.RMID `json:"last_rm,omitempty"`
	LastRMAt time.Time         `json:"last_rm_at,omitzero"`
	// Skills are required of the RM, each at its minimum level (1..5).
	Skills []conversation.SkillRequirement `json:"skills,omitempty"`
	// QueuedAt starts the policy's step clock and the wait.
	QueuedAt time.Time `json:"queued_at"`
	// Priority is the conversation's own priority, added to its segment's.
	Priority int `json:"priority,omitempty"`
	// Declined lists RMs who declined this conversation or let its offer
	// time out; they are not offered it again.
	Declined []conversation.RMID `json:"declined,omitempty"`
	// TransferTeam is the routing target of a transfer to a team, made by
	// RM TransferredBy at TransferredAt: until TransferredAt +
	// Config.TransferTimeout only that team's RMs are candidates, then the
	// policy applies from its first step (see the package documentation).
	// TransferredAt without a team (a transfer back to the queue) restarts
	// the policy's steps at TransferredAt.
	TransferTeam  conversation.TeamID `json:"transfer_team,omitempty"`
	TransferredBy conversation.RMID   `json:"transferred_by,omitempty"`
	TransferredAt time.Time           `json:"transferred_at,omitzero"`
}

// ViewOf returns the view of conversation c of customer cust: segment,
// channel, language (the conversation's, else the customer's preferred),
// intent, verification, AUM band, prospect flag, own and deputy RM, skills,
// queued-at and priority, the last RM and declined RMs recorded on the
// conversation (PreviousRM, PreviousRMAt, Declined), and its transfer
// target (TransferTeam, TransferredBy, TransferredAt).
func ViewOf(c conversation.Conversation, cust conversation.Customer) ConversationView {
	lang := c.Language
	if lang == "" {
		lang = cust.PreferredLanguage
	}
	seg := c.Segment
	if seg == "" {
		seg = cust.Segment
	}
	return ConversationView{
		ID:           c.ID,
		CustomerID:   cust.ID,
		Segment:      seg,
		Channel:      c.Channel,
		Language:     lang,
		Intent:       c.Intent,
		Verification: lowerVerification(cust.Verification, c.Verification),
		AUMBand:      cust.AUMBand,
		Prospect:     cust.Prospect,
		OwnRM:        cust.OwnRM,
		Deputy:       cust.DeputyRM,
		LastRM:       c.PreviousRM,
		LastRMAt:     c.PreviousRMAt,
		Skills:       slices.Clone(c.Skills),
		QueuedAt:     c.QueuedAt,
		Priority:     c.Priority,
		Declined:     slices.Clone(c.Declined),

		TransferTeam:  c.TransferTeam,
		TransferredBy: c.TransferredBy,
		TransferredAt: c.TransferredAt,
	}
}

// lowerVerification is the customer's level in the directory, lowered to
// how the conversation's channel identified the client when that is known
// and lower: a private-bank client whose caller id nobody vouched for is
// treated as unverified.
func lowerVerification(customer, channel conversation.Verification) conversation.Verification {
	if channel != "" && channel.Valid() && channel.Rank() < customer.Rank() {
		return channel
	}
	return customer
}
