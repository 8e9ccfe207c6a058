package video

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media/sfu"
)

// Options configure a Server. SFU, Tokens and Sink are required.
type Options struct {
	Config Config
	SFU    *sfu.SFU
	Tokens *Tokens
	Sink   Sink
	// Events is told of every change of a room's people, synchronously
	// (it must not block); nil: not told.
	Events func(Event)
	// Recording records rooms (Dir empty: never).
	Recording RecordingOptions
	Logger    *slog.Logger
	Now       func() time.Time
}

// Server holds the video rooms and serves the /ws/video signalling
// WebSocket.
type Server struct {
	cfg    Config
	sfu    *sfu.SFU
	tokens *Tokens
	sink   Sink
	events func(Event)
	rec    RecordingOptions
	log    *slog.Logger
	now    func() time.Time

	upgrader websocket.Upgrader

	mu      sync.Mutex
	rooms   map[RoomID]*room
	closing bool
	// ctx ends sink calls at shutdown; wg counts sessions and grace
	// expiries (Add under mu while not closing).
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// RoomSpec describes a room to create: ID, the video conversation it
// belongs to, and its capacity (0: Config.MaxParticipants).
type RoomSpec struct {
	ID              RoomID
	ConversationID  conversation.ConversationID
	MaxParticipants int
}

// NewServer returns the video server (after Config.Defaults and
// Validate). Run it, and serve it at WSPath.
func NewServer(o Options) (*Server, error) {
	if o.SFU == nil || o.Tokens == nil || o.Sink == nil {
		return nil, errors.New("video: sfu, tokens and sink are required")
	}
	cfg := o.Config.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, sfu: o.SFU, tokens: o.Tokens, sink: o.Sink, events: o.Events, rec: o.Recording, log: o.Logger, now: o.Now, rooms: map[RoomID]*room{}}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.events == nil {
		s.events = func(Event) {}
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.upgrader = websocket.Upgrader{HandshakeTimeout: 10 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 4096,
		Subprotocols: []string{Subprotocol}}
	return s, nil
}

// Run serves until ctx ends, then ends every room (sessions are closed
// with 1001 going away) and waits for every session; it returns nil.
func (s *Server) Run(ctx context.Context) error {
	<-ctx.Done()
	s.mu.Lock()
	s.closing = true
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.end("", websocket.CloseGoingAway, "the gateway is shutting down")
	}
	s.cancel()
	s.wg.Wait()
	return nil
}

// CreateRoom opens a room. Errors: ErrRoomExists, ErrClosed, ErrConfig
// (a capacity outside 2–50), or the SFU's.
func (s *Server) CreateRoom(spec RoomSpec) error {
	if spec.ID == "" {
		return fmt.Errorf("%w: a room needs an id", ErrConfig)
	}
	max := spec.MaxParticipants
	if max == 0 {
		max = s.cfg.MaxParticipants
	}
	if max < 2 || max > 50 {
		return fmt.Errorf("%w: max participants %d (2 to 50)", ErrConfig, max)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return ErrClosed
	}
	if _, ok := s.rooms[spec.ID]; ok {
		return ErrRoomExists
	}
	sr, err := s.sfu.NewRoom(string(spec.ID))
	if err != nil {
		return fmt.Errorf("video: create room: %w", err)
	}
	s.rooms[spec.ID] = &room{srv: s, id: spec.ID, conv: spec.ConversationID, max: max, media: sr, members: map[string]*member{},
		log: s.log.With("room_id", spec.ID, "conversation_id", spec.ConversationID)}
	s.events(Event{Type: RoomCreated, Room: spec.ID, ConversationID: spec.ConversationID, At: s.now()})
	return nil
}

// EndRoom ends a room as the gateway (e.g. the conversation was closed):
// every participant is told room_ended and disconnected. ErrRoomNotFound
// when there is no such room.
func (s *Server) EndRoom(id RoomID) error {
	r := s.room(id)
	if r == nil {
		return ErrRoomNotFound
	}
	r.end("", websocket.CloseNormalClosure, "the room has ended")
	return nil
}

// Participants lists a room's participants (in the room and in the
// lobby). ErrRoomNotFound when there is no such room.
func (s *Server) Participants(id RoomID) ([]ParticipantInfo, error) {
	r := s.room(id)
	if r == nil {
		return nil, ErrRoomNotFound
	}
	return r.infos(""), nil
}

func (s *Server) room(id RoomID) *room {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rooms[id]
}

func (s *Server) forget(r *room) {
	s.mu.Lock()
	if s.rooms[r.id] == r {
		delete(s.rooms, r.id)
	}
	s.mu.Unlock()
}

// track counts a goroutine in wg unless the server is closing.
func (s *Server) track() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	return true
}

// ServeHTTP authenticates the participant before the upgrade (401 with a
// missing, invalid or expired token; 404 when its room does not exist;
// 503 while shutting down), then upgrades and serves the session.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g, err := s.tokens.Verify(bearer(r), s.now())
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="airbranch"`)
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	rm := s.room(g.Room)
	if rm == nil {
		http.Error(w, "no such room (ended or never opened)", http.StatusNotFound)
		return
	}
	if !s.track() {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "the gateway is shutting down; reconnect", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	conn, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	sess := &session{srv: s, room: rm, conn: conn, g: g, out: make(chan outFrame, s.cfg.SendQueue), done: make(chan struct{}),
		log: rm.log.With("identity", g.Identity, "role", g.Role)}
	sess.run()
}

// bearer reads the token from the Authorization header (Bearer scheme)
// or the "bearer.<token>" subprotocol.
func bearer(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if scheme, rest, ok := strings.Cut(h, " "); ok && strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(rest)
		}
		return ""
	}
	for _, p := range websocket.Subprotocols(r) {
		if t, ok := strings.CutPrefix(p, "bearer."); ok {
			return t
		}
	}
	return ""
}
