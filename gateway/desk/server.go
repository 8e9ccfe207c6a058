package desk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/directory"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/state"
)

// Path is where the desk WebSocket is served.
const Path = "/ws/desk"

// Subprotocol is the WebSocket subprotocol of this protocol version. A
// browser, which cannot set an Authorization header on a WebSocket, sends
// its token as a second subprotocol "bearer.<token>".
const Subprotocol = "airbranch.desk.v1"

// Options configure a Server. Hub, Store, Directory, Verifier and Routing
// are required; Messages may be nil (send answers unavailable).
type Options struct {
	Hub       *Hub
	Store     state.Store
	Directory directory.Directory
	Verifier  *auth.Verifier
	Routing   Routing
	Messages  Messages
	// Phones, when not nil, serves the softphone's phone.* frames (else
	// they are answered unavailable).
	Phones Phones
	// Escalations, when not nil, is asked before an escalation (see
	// Escalations); without it an escalation to voice is refused.
	Escalations Escalations
	Logger      *slog.Logger
	Now         func() time.Time
}

// Server serves /ws/desk.
type Server struct {
	hub      *Hub
	store    state.Store
	dir      directory.Directory
	verifier *auth.Verifier
	routing  Routing
	messages Messages
	phones   Phones
	// escalations: see Options.Escalations.
	escalations Escalations
	log         *slog.Logger
	now         func() time.Time
	upgrader    websocket.Upgrader
	// pool shares write buffers between idle sessions (gorilla holds one
	// only while writing a frame).
	pool sync.Pool
	// ctx ends the sessions (the gateway's shutdown); sessions counts
	// their reader goroutines.
	ctx      context.Context
	sessions sync.WaitGroup
	trackMu  sync.Mutex
	closing  bool
}

// NewServer returns the desk WebSocket handler. Its sessions end when ctx
// ends (they are told to reconnect and resume).
func NewServer(ctx context.Context, o Options) (*Server, error) {
	if o.Hub == nil || o.Store == nil || o.Directory == nil || o.Verifier == nil || o.Routing == nil {
		return nil, errors.New("desk: hub, store, directory, verifier and routing are required")
	}
	s := &Server{hub: o.Hub, store: o.Store, dir: o.Directory, verifier: o.Verifier, routing: o.Routing, messages: o.Messages, phones: o.Phones,
		escalations: o.Escalations, log: o.Logger, now: o.Now, ctx: ctx}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   1024,
		WriteBufferSize:  1024,
		WriteBufferPool:  &s.pool,
		Subprotocols:     []string{Subprotocol},
		// CheckOrigin is gorilla's default: a browser page of another
		// origin may not open the desk (the console is served here).
	}
	return s, nil
}

// ServeHTTP authenticates the RM (401 before the upgrade without a valid
// token, 403 for a token that is not an RM's or that the directory does
// not confirm), then upgrades and serves the session. The query parameter
// after=SEQ resumes after the last event the desk saw.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p, err := s.authenticate(r)
	if err != nil {
		var he *httpError
		if errors.As(err, &he) {
			if he.status == http.StatusUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="airbranch"`)
			}
			http.Error(w, he.msg, he.status)
			return
		}
		s.log.Error("desk: token check failed", "error", err)
		http.Error(w, "the directory is unavailable; retry", http.StatusServiceUnavailable)
		return
	}
	after := int64(-1)
	if v := r.URL.Query().Get("after"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "after: a seq (an integer >= 0)", http.StatusBadRequest)
			return
		}
		after = n
	}
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	sess := &session{hub: s.hub, srv: s, conn: conn, p: p, rm: p.RMID(), log: s.log.With("rm_id", p.Subject), done: make(chan struct{})}
	sess.start(s.ctx, after)
}

// track runs fn on a goroutine that Wait waits for, unless Wait has been
// called (then it reports false and runs nothing).
func (s *Server) track(fn func()) bool {
	s.trackMu.Lock()
	defer s.trackMu.Unlock()
	if s.closing {
		return false
	}
	s.sessions.Go(fn)
	return true
}

// Wait returns when every session has ended: after the context given to
// NewServer has ended, once their connections are closed. Sessions that
// would start after it is called are refused.
func (s *Server) Wait() {
	s.trackMu.Lock()
	s.closing = true
	s.trackMu.Unlock()
	s.sessions.Wait()
}

// httpError is a refusal before the upgrade.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

// authenticate reads the bearer token from the Authorization header or
// the "bearer.<token>" subprotocol, verifies it and checks it against the
// directory (an RM of the directory, in the team the token claims).
func (s *Server) authenticate(r *http.Request) (auth.Principal, error) {
	token := ""
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return auth.Principal{}, &httpError{http.StatusUnauthorized, "Authorization: use the Bearer scheme"}
		}
		token = rest
	}
	for _, proto := range websocket.Subprotocols(r) {
		if t, ok := strings.CutPrefix(proto, "bearer."); ok && token == "" {
			token = t
		}
	}
	p, err := s.verifier.Verify(token)
	if err != nil {
		return auth.Principal{}, &httpError{http.StatusUnauthorized, err.Error()}
	}
	if p.Role != auth.RoleRM {
		return auth.Principal{}, &httpError{http.StatusForbidden, fmt.Sprintf("role %s may not open the RM desk (rm only)", p.Role)}
	}
	rm, err := s.dir.RM(r.Context(), p.RMID())
	switch {
	case errors.Is(err, conversation.ErrNotFound):
		return auth.Principal{}, &httpError{http.StatusForbidden, fmt.Sprintf("the token's subject %q is not an RM in the directory", p.Subject)}
	case err != nil:
		return auth.Principal{}, err
	case rm.TeamID != p.Team:
		return auth.Principal{}, &httpError{http.StatusForbidden, fmt.Sprintf("the token's team claim %q is not the team of rm %s (%s); ask for a new token", p.Team, p.Subject, rm.TeamID)}
	}
	return p, nil
}

// snapshot is the RM's state now: presence, live offers, and the
// conversations assigned to them that are active or in wrap-up.
func (s *Server) snapshot(ctx context.Context, rm conversation.RMID) (Snapshot, error) {
	now := s.now()
	snap := Snapshot{Offers: []OfferData{}, Conversations: []conversation.Conversation{}}
	var err error
	if snap.Presence, err = s.store.Presence(ctx, rm, now); err != nil {
		return snap, err
	}
	offers, err := s.store.OffersOf(ctx, rm, now)
	if err != nil {
		return snap, err
	}
	for _, o := range offers {
		c, err := s.store.Conversation(ctx, o.ConversationID)
		if err != nil {
			continue // ended meanwhile
		}
		snap.Offers = append(snap.Offers, s.hub.offerData(ctx, o, c))
	}
	for _, st := range []conversation.Status{conversation.StatusActive, conversation.StatusWrapUp} {
		page, err := s.store.ListConversations(ctx, state.ConversationFilter{AssigneeID: rm, Status: st, Limit: 100})
		if err != nil {
			return snap, err
		}
		snap.Conversations = append(snap.Conversations, page.Items...)
	}
	return snap, nil
}
