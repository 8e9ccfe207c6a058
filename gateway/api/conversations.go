package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
)

// maxDetailMessages is how many of a conversation's latest messages
// GET /api/v1/conversations/{id} returns.
const maxDetailMessages = 500

// conversationList is the answer of GET /api/v1/conversations; NextCursor
// is "" on the last page.
type conversationList struct {
	Items      []conversation.Conversation `json:"items"`
	NextCursor string                      `json:"next_cursor"`
}

// conversationDetail is the answer of GET /api/v1/conversations/{id}: the
// conversation's fields, its latest messages (oldest first) and its
// timeline.
type conversationDetail struct {
	conversation.Conversation
	Messages []conversation.Message `json:"messages"`
	Events   []conversation.Event   `json:"events"`
}

// principal returns the caller put in the context by auth.Middleware.
func principal(r *http.Request) (auth.Principal, error) {
	p, ok := auth.FromContext(r.Context())
	if !ok {
		return auth.Principal{}, errors.New("api: no principal in the request context (auth middleware missing)")
	}
	return p, nil
}

// listConversations serves GET /api/v1/conversations.
func (s *server) listConversations(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := s.parseListFilter(r.Context(), r.URL.Query())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := scopeList(p, &f); err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.store.ListConversations(r.Context(), f)
	if err != nil {
		if errors.Is(err, conversation.ErrInvalid) && f.Cursor != "" {
			err = badRequest("query parameter \"cursor\": not a next_cursor from a previous page of this listing")
		}
		s.fail(w, r, err)
		return
	}
	out := conversationList{Items: make([]conversation.Conversation, 0, len(page.Items)), NextCursor: page.NextCursor}
	for _, c := range page.Items {
		// The filter already limits the page to what p may see; this
		// keeps it so should a store match more than asked.
		if canSeeConversation(p, c) {
			out.Items = append(out.Items, c)
		}
	}
	s.writeJSON(w, r, http.StatusOK, out)
}

// getConversation serves GET /api/v1/conversations/{id}.
func (s *server) getConversation(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := conversation.ConversationID(r.PathValue("id"))
	if !sane(string(id)) {
		s.fail(w, r, notFound("no conversation with that id"))
		return
	}
	c, err := s.store.Conversation(r.Context(), id)
	if errors.Is(err, conversation.ErrNotFound) {
		s.fail(w, r, notFound("no conversation %s", id))
		return
	}
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: conversation %s: %w", id, err))
		return
	}
	if !canSeeConversation(p, c) {
		s.fail(w, r, forbidden("role %s of team %q may not see conversation %s", p.Role, p.Team, id))
		return
	}
	msgs, err := s.store.Messages(r.Context(), id, maxDetailMessages)
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: conversation %s messages: %w", id, err))
		return
	}
	events, err := s.store.Events(r.Context(), id)
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: conversation %s events: %w", id, err))
		return
	}
	if msgs == nil {
		msgs = []conversation.Message{}
	}
	if events == nil {
		events = []conversation.Event{}
	}
	s.writeJSON(w, r, http.StatusOK, conversationDetail{Conversation: c, Messages: msgs, Events: events})
}

// createConversation serves POST /api/v1/conversations (rm and admin;
// auth.RequireRole refuses the others).
func (s *server) createConversation(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := requireJSON(r); err != nil {
		s.fail(w, r, err)
		return
	}
	var req createRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := req.validate(); err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.now()
	cust, addr, created, err := s.customerFor(r, p, req, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c := conversation.New(cust, req.Channel, addr, now)
	if req.Priority != nil {
		c.Priority = *req.Priority
	}
	c.Skills = req.Skills
	c.Intent = req.Intent
	if req.Language != "" {
		c.Language = req.Language
	}
	c.Tags = req.Tags
	if p.Role == auth.RoleRM {
		// The RM's team holds the conversation until routing assigns it,
		// so the RM who opened it can see it.
		c.TeamID = p.Team
	}
	stored, err := s.store.CreateConversation(r.Context(), c)
	if errors.Is(err, conversation.ErrInvalid) {
		err = badRequest("the conversation is not valid: %s", err.Error())
	}
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: create conversation: %w", err))
		return
	}
	log := logger(r.Context(), s.log).With(slog.String("conversation_id", string(stored.ID)))
	ev := conversation.NewEvent(stored.ID, conversation.EventStatusChanged, p.Subject, now)
	ev.ToStatus = conversation.StatusNew
	ev.Channel = stored.Channel
	ev.TeamID = stored.TeamID
	ev.Reason = fmt.Sprintf("opened through the API by %s %s", p.Role, p.Subject)
	if err := s.store.AppendEvent(r.Context(), ev); err != nil {
		// The conversation exists: answering an error would make the
		// caller retry and open a second one. The timeline misses its
		// first entry, which the log records.
		log.LogAttrs(r.Context(), slog.LevelError, "creation event not stored", slog.String("error", err.Error()))
	}
	log.LogAttrs(r.Context(), slog.LevelInfo, "conversation opened",
		slog.String("customer_id", string(stored.CustomerID)), slog.String("channel", string(stored.Channel)),
		slog.String("actor", p.Subject), slog.String("role", string(p.Role)), slog.Bool("prospect_created", created))
	w.Header().Set("Location", "/api/v1/conversations/"+string(stored.ID))
	s.writeJSON(w, r, http.StatusCreated, stored)
}

// customerFor finds the customer a create request is for, checks p may
// open a conversation with them, and picks their address on the channel.
// An address nobody knows becomes a prospect, created only once the check
// has passed; created reports that.
func (s *server) customerFor(r *http.Request, p auth.Principal, req createRequest, now time.Time) (conversation.Customer, conversation.Address, bool, error) {
	ctx := r.Context()
	if req.CustomerID != "" {
		cust, err := s.resolver.Customer(ctx, req.CustomerID)
		if errors.Is(err, conversation.ErrNotFound) {
			return conversation.Customer{}, conversation.Address{}, false, notFound("no customer %s", req.CustomerID)
		}
		if err != nil {
			return conversation.Customer{}, conversation.Address{}, false, err
		}
		if err := s.mayOpen(r, p, cust); err != nil {
			return conversation.Customer{}, conversation.Address{}, false, err
		}
		addr, ok := addressFor(cust, req.Channel)
		if !ok {
			return conversation.Customer{}, conversation.Address{}, false, badRequest("customer %s has no address for channel %s (needs one of: %s)", cust.ID, req.Channel, joinValues(channelAddressKinds(req.Channel)))
		}
		return cust, addr, false, nil
	}
	addr, err := s.resolver.Normalise(*req.Address)
	if err != nil {
		return conversation.Customer{}, conversation.Address{}, false, badRequest("field \"address\": %s", err.Error())
	}
	if !slices.Contains(channelAddressKinds(req.Channel), addr.Kind) {
		return conversation.Customer{}, conversation.Address{}, false, badRequest("field \"address\": kind %s cannot be used on channel %s (allowed: %s)", addr.Kind, req.Channel, joinValues(channelAddressKinds(req.Channel)))
	}
	cust, err := s.resolver.Lookup(ctx, addr)
	switch {
	case errors.Is(err, conversation.ErrNotFound):
		// Check against the prospect the address would become, before
		// creating it.
		if err := s.mayOpen(r, p, conversation.NewProspect(addr, now)); err != nil {
			return conversation.Customer{}, conversation.Address{}, false, err
		}
		cust, created, err := s.resolver.Resolve(ctx, addr, now)
		if err != nil {
			return conversation.Customer{}, conversation.Address{}, false, err
		}
		if created {
			logger(ctx, s.log).LogAttrs(ctx, slog.LevelInfo, "prospect created", slog.String("customer_id", string(cust.ID)), slog.Any("address", addr))
		}
		return cust, addr, created, nil
	case err != nil:
		return conversation.Customer{}, conversation.Address{}, false, err
	}
	if err := s.mayOpen(r, p, cust); err != nil {
		return conversation.Customer{}, conversation.Address{}, false, err
	}
	return cust, addr, false, nil
}

// mayOpen returns a 403 unless p may open a conversation with customer c
// (canOpenFor: the stricter rule, not the one for reading).
func (s *server) mayOpen(r *http.Request, p auth.Principal, c conversation.Customer) error {
	ok, err := s.canOpenFor(r.Context(), p, c)
	if err != nil {
		return err
	}
	if !ok {
		return forbidden("role %s of team %q may not open a conversation with this customer: an RM may open one only with a customer whose own or deputy RM is them or in their team, or whose segment is their team's segment", p.Role, p.Team)
	}
	return nil
}
