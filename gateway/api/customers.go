package api

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/airbranch/airbranch/channels/conversation"
)

// getCustomer serves GET /api/v1/customers/{id}: a directory customer or a
// prospect.
func (s *server) getCustomer(w http.ResponseWriter, r *http.Request) {
	p, err := principal(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := conversation.CustomerID(r.PathValue("id"))
	if !sane(string(id)) {
		s.fail(w, r, notFound("no customer with that id"))
		return
	}
	c, err := s.resolver.Customer(r.Context(), id)
	if errors.Is(err, conversation.ErrNotFound) {
		s.fail(w, r, notFound("no customer %s", id))
		return
	}
	if err != nil {
		s.fail(w, r, fmt.Errorf("api: customer %s: %w", id, err))
		return
	}
	ok, err := s.canSeeCustomer(r.Context(), p, c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok {
		s.fail(w, r, forbidden("role %s of team %q may not see customer %s", p.Role, p.Team, id))
		return
	}
	s.writeJSON(w, r, http.StatusOK, c)
}
