package conversation

import (
	"fmt"
	"slices"
	"time"
)

// Role is the part a participant plays in a conversation.
type Role string

// Participant roles.
const (
	RoleClient     Role = "client"
	RoleRM         Role = "rm"
	RoleSpecialist Role = "specialist"
	RoleObserver   Role = "observer"
)

// Participant is one party of a conversation: the client (ID is the
// CustomerID), the assigned RM or an invited specialist (ID is the RMID).
type Participant struct {
	Role     Role      `json:"role"`
	ID       string    `json:"id"`
	JoinedAt time.Time `json:"joined_at"`
	LeftAt   time.Time `json:"left_at,omitzero"`
}

// SkillRequirement asks for an RM with Skill at proficiency MinLevel (1–5)
// or better.
type SkillRequirement struct {
	Skill    string `json:"skill"`
	MinLevel int    `json:"min_level"`
}

// ChannelChange records an escalation of a conversation to another channel
// (e.g. web chat to video); the conversation keeps its id.
type ChannelChange struct {
	From Channel   `json:"from"`
	To   Channel   `json:"to"`
	At   time.Time `json:"at"`
}

// Conversation is one client interaction on one or more channels, from first
// contact to close. Status changes go through Transition, which refuses
// illegal moves. Version is the store's optimistic-concurrency counter: it is
// incremented by the store on every successful update.
type Conversation struct {
	ID         ConversationID `json:"id"`
	CustomerID CustomerID     `json:"customer_id"`
	// Segment is the customer's segment when the conversation was created.
	Segment Segment `json:"segment"`
	// Channel is the current channel; ChannelHistory lists escalations.
	Channel        Channel         `json:"channel"`
	ChannelHistory []ChannelChange `json:"channel_history,omitempty"`
	// ChannelAccount is the bank's side of the channel: the SMS number, the
	// WeChat official-account id, the SIP trunk, the app id.
	ChannelAccount string `json:"channel_account,omitempty"`
	// Address is the client's address on the current channel.
	Address Address `json:"address"`
	// Verification is how the channel identified the client when the
	// conversation opened (a SIP caller id asserted by a trusted trunk:
	// basic; a bare From header: none; a bank-issued web chat token: the
	// token's level). Routing takes the lower of it and the customer's level
	// in the directory. Empty: the channel says nothing (the directory's
	// level applies).
	Verification Verification `json:"verification,omitempty"`
	Status       Status       `json:"status"`
	// Priority: higher is served first; routing adds ageing on top.
	Priority int                `json:"priority"`
	Skills   []SkillRequirement `json:"skills,omitempty"`
	Language string             `json:"language,omitempty"`
	// Intent is what the client asked for, e.g. "mortgage", from an IVR menu,
	// a WeChat menu key or the app.
	Intent     string `json:"intent,omitempty"`
	TeamID     TeamID `json:"team_id,omitempty"`
	AssigneeID RMID   `json:"assignee_id,omitempty"`
	// Declined lists the RMs who declined or missed an offer of this
	// conversation; routing does not offer it to them again.
	Declined []RMID `json:"declined,omitempty"`
	// OfferGroup lists the live offers of a simultaneous offer (the
	// conversation offered to several RMs at once) while it is offered:
	// the first to accept takes it and the others are withdrawn; a decline
	// or timeout removes that RM's entry, and the conversation returns to
	// the queue when none is left. Empty for an offer to one RM.
	OfferGroup []OfferRef `json:"offer_group,omitempty"`
	// PreviousRM is the RM who served this customer last, and PreviousRMAt
	// when that conversation ended; routing offers a returning client to
	// them first within the configured time.
	PreviousRM   RMID      `json:"previous_rm,omitempty"`
	PreviousRMAt time.Time `json:"previous_rm_at,omitzero"`
	// TransferTeam is the routing target of a transfer to a team: RM
	// TransferredBy handed the conversation back to the queue at
	// TransferredAt for that team's RMs only, until the routing
	// configuration's transfer timeout passes and its normal policy takes
	// over. A transfer back to the queue sets TransferredBy and
	// TransferredAt with no team (the policy starts again at the
	// transfer). All three are cleared when an RM accepts the conversation.
	TransferTeam  TeamID        `json:"transfer_team,omitempty"`
	TransferredBy RMID          `json:"transferred_by,omitempty"`
	TransferredAt time.Time     `json:"transferred_at,omitzero"`
	Participants  []Participant `json:"participants,omitempty"`

	CreatedAt      time.Time `json:"created_at"`
	QueuedAt       time.Time `json:"queued_at,omitzero"`
	FirstOfferedAt time.Time `json:"first_offered_at,omitzero"`
	AnsweredAt     time.Time `json:"answered_at,omitzero"`
	EndedAt        time.Time `json:"ended_at,omitzero"`
	ClosedAt       time.Time `json:"closed_at,omitzero"`
	UpdatedAt      time.Time `json:"updated_at"`

	// Disposition is the wrap-up code, e.g. "resolved" or "lead:mortgage".
	Disposition string   `json:"disposition,omitempty"`
	Tags        []string `json:"tags,omitempty"`
	Version     int64    `json:"version"`
}

// New returns a conversation in status new for customer on channel, with a
// fresh UUIDv7 id and CreatedAt = now (UTC, ms). The client is its first
// participant.
func New(customer Customer, channel Channel, addr Address, now time.Time) Conversation {
	id := NewConversationID(now) // before truncation: sub-millisecond order
	now = Millis(now)
	return Conversation{
		ID:           id,
		CustomerID:   customer.ID,
		Segment:      customer.Segment,
		Channel:      channel,
		Address:      addr,
		Status:       StatusNew,
		Language:     customer.PreferredLanguage,
		Participants: []Participant{{Role: RoleClient, ID: string(customer.ID), JoinedAt: now}},
		CreatedAt:    now,
		UpdatedAt:    now,
	}
}

// Transition moves the conversation to status to at now and stamps the
// matching timestamp the first time it is reached (queued, first offered,
// answered; ended on wrap_up or abandoned; closed). It returns an error
// wrapping ErrIllegalTransition, and changes nothing, when the move is not
// allowed.
func (c *Conversation) Transition(to Status, now time.Time) error {
	if !c.Status.CanTransition(to) {
		return fmt.Errorf("conversation %s: %s → %s: %w", c.ID, c.Status, to, ErrIllegalTransition)
	}
	now = Millis(now)
	c.Status = to
	c.UpdatedAt = now
	switch to {
	case StatusQueued:
		if c.QueuedAt.IsZero() {
			c.QueuedAt = now
		}
	case StatusOffered:
		if c.FirstOfferedAt.IsZero() {
			c.FirstOfferedAt = now
		}
	case StatusActive:
		if c.AnsweredAt.IsZero() {
			c.AnsweredAt = now
		}
	case StatusWrapUp, StatusAbandoned:
		c.EndedAt = now
	case StatusClosed:
		if c.EndedAt.IsZero() {
			c.EndedAt = now
		}
		c.ClosedAt = now
	}
	return nil
}

// Escalate moves the conversation to another channel (e.g. web chat → video)
// at now, keeping its id and recording the change. The address is the
// client's address on the new channel. Escalating a terminal conversation,
// or to the channel it is already on, wraps ErrIllegalTransition.
func (c *Conversation) Escalate(to Channel, addr Address, now time.Time) error {
	if !to.Valid() {
		return fmt.Errorf("conversation %s: escalate to %q: %w", c.ID, to, ErrInvalid)
	}
	if c.Status.Terminal() || to == c.Channel {
		return fmt.Errorf("conversation %s: escalate %s → %s in status %s: %w", c.ID, c.Channel, to, c.Status, ErrIllegalTransition)
	}
	now = Millis(now)
	c.ChannelHistory = append(c.ChannelHistory, ChannelChange{From: c.Channel, To: to, At: now})
	c.Channel = to
	c.Address = addr
	c.UpdatedAt = now
	return nil
}

// Join adds a participant at now, or does nothing if one with the same role
// and id is already present and has not left.
func (c *Conversation) Join(role Role, id string, now time.Time) {
	if slices.ContainsFunc(c.Participants, func(p Participant) bool {
		return p.Role == role && p.ID == id && p.LeftAt.IsZero()
	}) {
		return
	}
	c.Participants = append(c.Participants, Participant{Role: role, ID: id, JoinedAt: Millis(now)})
	c.UpdatedAt = Millis(now)
}

// Leave marks the present participant with role and id as gone at now. It
// reports whether one was present.
func (c *Conversation) Leave(role Role, id string, now time.Time) bool {
	for i := range c.Participants {
		p := &c.Participants[i]
		if p.Role == role && p.ID == id && p.LeftAt.IsZero() {
			p.LeftAt = Millis(now)
			c.UpdatedAt = Millis(now)
			return true
		}
	}
	return false
}

// HasParticipant reports whether id takes part (and has not left) in any role.
func (c *Conversation) HasParticipant(id string) bool {
	return slices.ContainsFunc(c.Participants, func(p Participant) bool { return p.ID == id && p.LeftAt.IsZero() })
}

// Validate checks the fields a store requires: id, customer, channel,
// status, and the client's address. Errors wrap ErrInvalid and are joined.
func (c Conversation) Validate() error {
	var errs []error
	if c.ID == "" {
		errs = append(errs, fmt.Errorf("conversation: %w: empty id", ErrInvalid))
	}
	if c.CustomerID == "" {
		errs = append(errs, fmt.Errorf("conversation %s: %w: empty customer id", c.ID, ErrInvalid))
	}
	if !c.Channel.Valid() {
		errs = append(errs, fmt.Errorf("conversation %s: channel %q: %w (allowed: %v)", c.ID, c.Channel, ErrInvalid, Channels))
	}
	if !c.Status.Valid() {
		errs = append(errs, fmt.Errorf("conversation %s: status %q: %w (allowed: %v)", c.ID, c.Status, ErrInvalid, Statuses))
	}
	if c.Segment != "" && !c.Segment.Valid() {
		errs = append(errs, fmt.Errorf("conversation %s: segment %q: %w (allowed: %v)", c.ID, c.Segment, ErrInvalid, Segments))
	}
	if c.Verification != "" && !c.Verification.Valid() {
		errs = append(errs, fmt.Errorf("conversation %s: verification %q: %w (allowed: %v)", c.ID, c.Verification, ErrInvalid, Verifications))
	}
	for _, s := range c.Skills {
		if s.MinLevel < 1 || s.MinLevel > 5 {
			errs = append(errs, fmt.Errorf("conversation %s: skill %s min level %d: %w (allowed: 1-5)", c.ID, s.Skill, s.MinLevel, ErrInvalid))
		}
	}
	return joinErrs(errs)
}
