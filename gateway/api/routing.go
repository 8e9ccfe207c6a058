package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/router"
	"github.com/airbranch/airbranch/routing"
)

// Routing is what the API asks of the routing runtime (router.Router).
type Routing interface {
	Route(ctx context.Context, id conversation.ConversationID) (conversation.Conversation, error)
	Accept(ctx context.Context, offer conversation.OfferID, rm conversation.RMID) (conversation.Conversation, error)
	Decline(ctx context.Context, offer conversation.OfferID, rm conversation.RMID, reason string) error
	WrapUp(ctx context.Context, id conversation.ConversationID, rm conversation.RMID) (conversation.Conversation, error)
	Close(ctx context.Context, id conversation.ConversationID, rm conversation.RMID, disposition string) (conversation.Conversation, error)
	SetPresence(ctx context.Context, rm conversation.RMID, st conversation.PresenceState, reason string, ttl time.Duration) (conversation.Presence, error)
}

var (
	_ Routing   = (*router.Router)(nil)
	_ Transfers = (*router.Router)(nil)
)

// Presence leases set through the REST API (the desk renews shorter ones
// with heartbeats): default 8 h (a shift), at most 24 h.
const (
	defaultPresenceTTL = 8 * time.Hour
	maxPresenceTTL     = 24 * time.Hour
)

// routingError maps the routing runtime's refusals to answers; they all
// change nothing.
func routingError(err error) error {
	var e *httpError
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, router.ErrOfferGone):
		return errorf(http.StatusConflict, "offer_gone", "%v", err)
	case errors.Is(err, router.ErrNotYourOffer):
		return forbidden("%v", err)
	case errors.Is(err, router.ErrNotAssignee):
		return forbidden("only the conversation's assignee may do this")
	case errors.Is(err, router.ErrNoCapacity):
		return errorf(http.StatusConflict, "no_capacity", "%v", err)
	case errors.Is(err, router.ErrBusy):
		return errorf(http.StatusServiceUnavailable, codeUnavailable, "the conversation is changing; retry after %s s", retryAfterSeconds)
	case errors.Is(err, routing.ErrUnknownDisposition):
		return badRequest("%v", err)
	case errors.Is(err, conversation.ErrIllegalTransition):
		return errorf(http.StatusConflict, "illegal_transition", "%v", err)
	case errors.Is(err, conversation.ErrNotFound):
		return notFound("%v", err)
	case errors.Is(err, conversation.ErrInvalid):
		return badRequest("%v", err)
	}
	return err
}

// visibleConversation loads conversation {id} for p, or answers 404/403.
func (s *server) visibleConversation(r *http.Request, p auth.Principal) (conversation.Conversation, error) {
	id := conversation.ConversationID(r.PathValue("id"))
	if !sane(string(id)) {
		return conversation.Conversation{}, notFound("no conversation with that id")
	}
	c, err := s.store.Conversation(r.Context(), id)
	if errors.Is(err, conversation.ErrNotFound) {
		return c, notFound("no conversation %s", id)
	}
	if err != nil {
		return c, fmt.Errorf("api: conversation %s: %w", id, err)
	}
	if !canSeeConversation(p, c) {
		return c, forbidden("role %s of team %q may not see conversation %s", p.Role, p.Team, id)
	}
	return c, nil
}

// withRouting wraps a handler that needs the routing runtime and the
// caller: 503 when routing is not running here.
func (s *server) withRouting(h func(w http.ResponseWriter, r *http.Request, p auth.Principal)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.routing == nil || s.transfers == nil {
			s.fail(w, r, errorf(http.StatusServiceUnavailable, codeUnavailable, "routing is not running on this instance"))
			return
		}
		p, err := principal(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		h(w, r, p)
	})
}

// routeConversation serves POST /api/v1/conversations/{id}/route: a new
// conversation is queued for routing.
func (s *server) routeConversation(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	c, err := s.visibleConversation(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err = s.routing.Route(r.Context(), c.ID)
	if err != nil {
		s.fail(w, r, routingError(err))
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

// listDecisions serves GET /api/v1/conversations/{id}/decisions: the
// routing decision records, newest first.
func (s *server) listDecisions(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	c, err := s.visibleConversation(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recs, err := s.store.Decisions(r.Context(), c.ID, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if recs == nil {
		recs = []json.RawMessage{}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"items": recs})
}

// listOffers serves GET /api/v1/offers: an RM's live offers (supervisors
// and admins name the RM with ?rm=).
func (s *server) listOffers(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	rm := p.RMID()
	if q := r.URL.Query().Get("rm"); q != "" && q != string(rm) {
		if p.Role == auth.RoleRM {
			s.fail(w, r, forbidden("an RM sees only their own offers"))
			return
		}
		rm = conversation.RMID(q)
	}
	offers, err := s.store.OffersOf(r.Context(), rm, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if offers == nil {
		offers = []conversation.Offer{}
	}
	s.writeJSON(w, r, http.StatusOK, map[string]any{"items": offers})
}

// acceptOffer serves POST /api/v1/offers/{id}/accept (the offered RM).
func (s *server) acceptOffer(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	c, err := s.routing.Accept(r.Context(), conversation.OfferID(r.PathValue("id")), p.RMID())
	if err != nil {
		s.fail(w, r, routingError(err))
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

type declineRequest struct {
	Reason string `json:"reason"`
}

// declineOffer serves POST /api/v1/offers/{id}/decline (the offered RM).
func (s *server) declineOffer(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	var req declineRequest
	if r.ContentLength != 0 {
		if err := s.readJSON(w, r, &req); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if err := s.routing.Decline(r.Context(), conversation.OfferID(r.PathValue("id")), p.RMID(), req.Reason); err != nil {
		s.fail(w, r, routingError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// wrapUp serves POST /api/v1/conversations/{id}/wrap-up (the assignee).
func (s *server) wrapUp(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	c, err := s.visibleConversation(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if c, err = s.routing.WrapUp(r.Context(), c.ID, p.RMID()); err != nil {
		s.fail(w, r, routingError(err))
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

type closeRequest struct {
	Disposition string `json:"disposition"`
}

// closeConversation serves POST /api/v1/conversations/{id}/close (the
// assignee) with a disposition from the configured list.
func (s *server) closeConversation(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	c, err := s.visibleConversation(r, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req closeRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if c, err = s.routing.Close(r.Context(), c.ID, p.RMID(), req.Disposition); err != nil {
		s.fail(w, r, routingError(err))
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}

type presenceRequest struct {
	State      conversation.PresenceState `json:"state"`
	Reason     string                     `json:"reason"`
	TTLSeconds int                        `json:"ttl_seconds"`
}

// setPresence serves PUT /api/v1/presence: an RM sets their own presence.
func (s *server) setPresence(w http.ResponseWriter, r *http.Request, p auth.Principal) {
	var req presenceRequest
	if err := s.readJSON(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if !req.State.Valid() {
		s.fail(w, r, badRequest("state %q (allowed: %s)", req.State, joinValues(conversation.PresenceStates)))
		return
	}
	ttl := defaultPresenceTTL
	if req.TTLSeconds != 0 {
		ttl = time.Duration(req.TTLSeconds) * time.Second
		if ttl < 10*time.Second || ttl > maxPresenceTTL {
			s.fail(w, r, badRequest("ttl_seconds %d (allowed: 10 to %d)", req.TTLSeconds, int(maxPresenceTTL/time.Second)))
			return
		}
	}
	pr, err := s.routing.SetPresence(r.Context(), p.RMID(), req.State, req.Reason, ttl)
	if err != nil {
		s.fail(w, r, routingError(err))
		return
	}
	s.writeJSON(w, r, http.StatusOK, pr)
}
