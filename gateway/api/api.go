// Package api is the gateway's REST API under /api/v1: conversations (list
// with filters and cursor pagination, read with messages and timeline, open
// one for a customer) and customers, for RMs, supervisors and admins
// authenticated with bearer tokens (package auth). Bodies are JSON; errors
// are {"error":{"code":"...","message":"..."}}. The contract is
// openapi.yaml, served at GET /api/v1/openapi.yaml.
package api

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/channels/identity"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/state"
)

// DefaultMaxBodyBytes caps request bodies when Deps.MaxBodyBytes is 0:
// 1 MiB.
const DefaultMaxBodyBytes int64 = 1 << 20

// Deps are what the API needs. Store, Directory, Resolver and Verifier are
// required. Logger defaults to discarding; MaxBodyBytes (bytes, larger
// bodies get 413) to DefaultMaxBodyBytes; Now to time.Now.
type Deps struct {
	Store     state.Store
	Directory directory.Directory
	Resolver  *identity.Resolver
	Verifier  *auth.Verifier
	// Routing is the routing runtime; without it the routing endpoints
	// answer 503. Transfers is the same runtime's transfer and consult
	// side (router.Router implements both).
	Routing   Routing
	Transfers Transfers
	// Messages sends RMs' messages to clients; without it the send
	// endpoint answers 503.
	Messages Messages
	// Stats computes the supervisor's figures; without it the stats
	// endpoints answer 503.
	Stats Stats
	// Video schedules video sessions; without it the scheduling endpoint
	// answers 503.
	Video        VideoSessions
	Logger       *slog.Logger
	MaxBodyBytes int64
	Now          func() time.Time
}

// server holds the dependencies and the routes registered on mux.
type server struct {
	store     state.Store
	dir       directory.Directory
	resolver  *identity.Resolver
	routing   Routing
	transfers Transfers
	messages  Messages
	stats     Stats
	log       *slog.Logger
	maxBody   int64
	now       func() time.Time
	mux       *http.ServeMux
	handler   http.Handler
	// patterns lists every route registered by New, e.g.
	// "GET /api/v1/conversations/{id}", in registration order.
	patterns []string
}

// New returns the API handler. Mount it at "/api/" without stripping the
// prefix: its routes are
//
//	GET  /api/v1/openapi.yaml          the OpenAPI 3.0 description (no token needed)
//	GET  /api/v1/conversations         list, filtered and paginated
//	POST /api/v1/conversations         open a conversation (rm, admin)
//	GET  /api/v1/conversations/{id}    one conversation with messages and events
//	GET  /api/v1/customers/{id}        one customer (directory or prospect)
//	POST /api/v1/conversations/{id}/route      queue a new conversation for routing
//	GET  /api/v1/conversations/{id}/decisions  its routing decision records
//	POST /api/v1/conversations/{id}/wrap-up    the assignee starts after-conversation work
//	POST /api/v1/conversations/{id}/close      the assignee closes with a disposition
//	GET  /api/v1/offers                        live offers of an RM
//	POST /api/v1/offers/{id}/accept            the offered RM accepts
//	POST /api/v1/offers/{id}/decline           the offered RM declines
//	PUT  /api/v1/presence                      an RM sets their presence
//	GET  /api/v1/presence                      RMs' presence, load and missed offers
//	POST /api/v1/conversations/{id}/transfer   the assignee transfers (queue, RM or team)
//	POST /api/v1/conversations/{id}/invite     the assignee invites a specialist
//	GET  /api/v1/specialists                   the RMs an RM may invite: specialist pools and their own team
//	POST /api/v1/conversations/{id}/leave      a specialist leaves
//	POST /api/v1/conversations/{id}/messages   the assignee writes to the client on the conversation's channel
//	POST /api/v1/sms/segments                  how a text would go out as SMS (encoding, segments) before sending
//	GET  /api/v1/stats                         the wallboard: figures per team and segment (supervisor, admin)
//	GET  /api/v1/stats/stream                  the wallboard as server-sent events, every 5 s
//	GET  /api/v1/stats/rms/{id}                an RM's scorecard
//	POST /api/v1/video/sessions                an RM schedules a video session with invitations
//
// Every request but GET (or HEAD) of the OpenAPI document is authenticated
// before it is routed: without a valid token it gets 401 whatever its path
// and method, and a token whose rm subject or team claim the directory
// does not confirm gets 403 (see authenticate). Then other paths under
// /api/ get a JSON 404, other methods a JSON 405 with Allow. Every answer
// carries X-Request-ID (the caller's, when it sends a sane one), and a
// panic in a handler becomes a 500.
func New(d Deps) *Handler { return &Handler{s: newServer(d)} }

// Handler is the API's http.Handler.
type Handler struct{ s *server }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.s.handler.ServeHTTP(w, r) }

// Pattern returns the route pattern r matches (e.g.
// "GET /api/v1/conversations/{id}"), or "" when none does: a bounded
// label for metrics.
func (h *Handler) Pattern(r *http.Request) string {
	_, p := h.s.mux.Handler(r)
	if p == "/api/" {
		return ""
	}
	return p
}

// newServer builds the server New returns the handler of.
func newServer(d Deps) *server {
	s := &server{
		store:     d.Store,
		dir:       d.Directory,
		resolver:  d.Resolver,
		routing:   d.Routing,
		transfers: d.Transfers,
		messages:  d.Messages,
		stats:     d.Stats,
		log:       d.Logger,
		maxBody:   d.MaxBodyBytes,
		now:       d.Now,
		mux:       http.NewServeMux(),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.now == nil {
		s.now = time.Now
	}
	// Callers are authenticated before routing (s.authenticate, below);
	// authn only makes sure a route that needs a caller has one.
	authn := auth.RequireRole(auth.Roles...)
	s.handle(openAPIPattern, http.HandlerFunc(s.openAPI))
	s.handle("GET /api/v1/conversations", authn(http.HandlerFunc(s.listConversations)))
	s.handle("POST /api/v1/conversations", authn(auth.RequireRole(auth.RoleRM, auth.RoleAdmin)(http.HandlerFunc(s.createConversation))))
	s.handle("GET /api/v1/conversations/{id}", authn(http.HandlerFunc(s.getConversation)))
	s.handle("GET /api/v1/customers/{id}", authn(http.HandlerFunc(s.getCustomer)))
	rmOnly := auth.RequireRole(auth.RoleRM)
	s.handle("POST /api/v1/conversations/{id}/route", authn(s.withRouting(s.routeConversation)))
	s.handle("GET /api/v1/conversations/{id}/decisions", authn(s.withRouting(s.listDecisions)))
	s.handle("POST /api/v1/conversations/{id}/wrap-up", authn(rmOnly(s.withRouting(s.wrapUp))))
	s.handle("POST /api/v1/conversations/{id}/close", authn(rmOnly(s.withRouting(s.closeConversation))))
	s.handle("GET /api/v1/offers", authn(s.withRouting(s.listOffers)))
	s.handle("POST /api/v1/offers/{id}/accept", authn(rmOnly(s.withRouting(s.acceptOffer))))
	s.handle("POST /api/v1/offers/{id}/decline", authn(rmOnly(s.withRouting(s.declineOffer))))
	s.handle("PUT /api/v1/presence", authn(rmOnly(s.withRouting(s.setPresence))))
	s.handle("GET /api/v1/presence", authn(s.withRouting(s.listPresence)))
	s.handle("POST /api/v1/conversations/{id}/transfer", authn(rmOnly(s.withRouting(s.transfer))))
	s.handle("POST /api/v1/conversations/{id}/invite", authn(rmOnly(s.withRouting(s.invite))))
	s.registerSpecialists(authn)
	s.handle("POST /api/v1/conversations/{id}/leave", authn(rmOnly(s.withRouting(s.leave))))
	s.handle("POST /api/v1/conversations/{id}/messages", authn(rmOnly(s.withRouting(s.sendMessage))))
	s.handle("POST /api/v1/sms/segments", authn(http.HandlerFunc(s.smsPlan)))
	s.handle("GET /api/v1/stats", authn(auth.RequireRole(auth.RoleSupervisor, auth.RoleAdmin)(http.HandlerFunc(s.getBoard))))
	s.handle("GET /api/v1/stats/stream", authn(auth.RequireRole(auth.RoleSupervisor, auth.RoleAdmin)(http.HandlerFunc(s.streamBoard))))
	s.handle("GET /api/v1/stats/rms/{id}", authn(http.HandlerFunc(s.getScorecard)))
	s.handle("POST /api/v1/video/sessions", authn(rmOnly(s.scheduleVideo(d.Video))))
	s.mux.HandleFunc("/api/", s.noRoute)
	s.handler = s.requestID(s.recoverPanics(s.authenticate(d.Verifier, s.mux)))
	return s
}

// handle registers h for pattern and records the pattern.
func (s *server) handle(pattern string, h http.Handler) {
	s.mux.Handle(pattern, h)
	s.patterns = append(s.patterns, pattern)
}

// noRoute answers requests no route matched: 405 with Allow when the path
// has routes for other methods (RFC 9110 §15.5.6), 404 otherwise.
func (s *server) noRoute(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, pattern := s.mux.Handler(probe); pattern != "/api/" && pattern != "" {
			allow = append(allow, m)
			if m == http.MethodGet {
				allow = append(allow, http.MethodHead)
			}
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		s.fail(w, r, errorf(http.StatusMethodNotAllowed, codeMethodNotAllowed, "method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, strings.Join(allow, ", ")))
		return
	}
	s.fail(w, r, errorf(http.StatusNotFound, codeNotFound, "no API route %s (see /api/v1/openapi.yaml)", r.URL.Path))
}
