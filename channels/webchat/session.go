package webchat

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
)

// Session constants.
const (
	// writeWait bounds one frame's write.
	writeWait = 10 * time.Second
	// pageSize is how many stream events one read fetches.
	pageSize = 200
)

// session is one client connection. Two goroutines: the reader (the
// client's frames, answered through the queue) and the writer (stream
// events on wake, queued frames, pings, queue position refreshes).
type session struct {
	a     *Adapter
	conn  *websocket.Conn
	c     client
	log   *slog.Logger
	wakeC chan struct{}
	out   chan Frame

	closeOnce sync.Once
	done      chan struct{}
	// cancel ends the session's context: store calls in flight stop.
	cancel context.CancelFunc

	// Writer only.
	last      int64                       // seq of the last stream event sent
	waiting   conversation.ConversationID // the conversation waiting, if any
	lastQueue QueueData

	// Reader only.
	msgs, frames *bucket
	lastTyping   time.Time
	lastHours    time.Time
	owners       map[conversation.ConversationID]conversation.CustomerID

	// mu guards conv, the client's current conversation as last seen by
	// either goroutine.
	mu   sync.Mutex
	conv conversation.ConversationID
}

// serveWS authenticates the client (401 before the upgrade without a
// valid token), then upgrades and serves the session. after=SEQ resumes
// after the last stream event the client saw.
func (a *Adapter) serveWS(w http.ResponseWriter, r *http.Request) {
	c, err := a.authenticate(r)
	if err != nil {
		a.refuse(w, err)
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
	a.mu.Lock()
	if a.closing {
		a.mu.Unlock()
		w.Header().Set("Retry-After", "1")
		http.Error(w, "the gateway is shutting down; reconnect", http.StatusServiceUnavailable)
		return
	}
	a.sessions.Add(1)
	a.mu.Unlock()
	defer a.sessions.Done()
	conn, err := a.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	now := a.now()
	s := &session{a: a, conn: conn, c: c, wakeC: make(chan struct{}, 1), out: make(chan Frame, a.cfg.SendQueue), done: make(chan struct{}),
		log:    a.log.With("customer_id", c.customer.ID, "app_user", c.addr),
		msgs:   newBucket(float64(a.cfg.MessagesPerSecond), float64(a.cfg.MessagesPerSecond), now),
		frames: newBucket(float64(a.cfg.FramesPerSecond), float64(a.cfg.FramesPerSecond), now),
		owners: map[conversation.ConversationID]conversation.CustomerID{}}
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	s.cancel = cancel
	s.run(ctx, after)
}

// nudge tells the writer the client's stream may have grown.
func (s *session) nudge() {
	select {
	case s.wakeC <- struct{}{}:
	default:
	}
}

// typing queues the RM's typing indicator for conv.
func (s *session) typing(conv conversation.ConversationID) {
	s.enqueue(frame(TypeTyping, "", TypingData{ConversationID: conv, TTLMS: typingTTL.Milliseconds()}))
}

// current returns the client's conversation as last seen.
func (s *session) current() conversation.ConversationID {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conv
}

// setCurrent records the client's conversation and reports whether it
// changed.
func (s *session) setCurrent(id conversation.ConversationID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := s.conv != id
	s.conv = id
	return changed
}

// enqueue queues a frame for the writer; a full queue closes the session
// as too slow. It reports whether the frame was queued.
func (s *session) enqueue(f Frame) bool {
	select {
	case <-s.done:
		return false
	default:
	}
	select {
	case s.out <- f:
		return true
	default:
		s.shut(CloseSlowClient, "send queue full: the client reads too slowly; reconnect and resume")
		return false
	}
}

// shut closes the session once, with a close frame of code and reason.
func (s *session) shut(code int, reason string) {
	s.closeOnce.Do(func() {
		msg := websocket.FormatCloseMessage(code, reason)
		_ = s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		close(s.done)
		s.cancel()
		_ = s.conn.Close()
	})
}

// run serves the session until the client leaves, its token expires or
// the adapter stops. after is the seq the client last saw (-1: none).
func (s *session) run(ctx context.Context, after int64) {
	s.a.hub.add(s)
	defer s.a.hub.remove(s)
	s.log.Debug("chat session opened", "after", after)
	if err := s.welcome(ctx, after); err != nil {
		s.log.Warn("chat session could not start", "error", err)
		s.shut(websocket.CloseInternalServerErr, "could not load the chat's state; reconnect")
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.writer(ctx) })
	s.reader(ctx)
	s.shut(websocket.CloseNormalClosure, "")
	wg.Wait()
	s.log.Debug("chat session closed")
}

// welcome sends a welcome frame: a resume when after is still in the
// stream, else the client's state; then, on a resume, what was missed,
// and the queue position when the conversation waits. Writer goroutine
// (or before it runs).
func (s *session) welcome(ctx context.Context, after int64) error {
	a := s.a
	stream := StreamOf(s.c.customer.ID)
	page, err := a.streams.StreamEvents(ctx, stream, max(after, 0), pageSize)
	if err != nil {
		return err
	}
	w := Welcome{AppUser: s.c.addr.Value, Anonymous: s.c.Anonymous, Verification: s.c.Verification, LastSeq: page.Last,
		PingSeconds: int(a.cfg.PingInterval / time.Second), Limits: a.limits(), Hours: a.hoursNow(ctx, s.c.customer.Segment)}
	if after >= 0 && !page.Gap && after <= page.Last {
		w.Resumed = true
		s.last = after
		// The client keeps its state; find out whether its conversation
		// waits, for the queue position.
		if cs, err := a.latest(ctx, s.c, page.Last); err == nil && cs != nil {
			s.setCurrent(cs.ConversationID)
			if cs.State == StateWaiting {
				s.waiting = cs.ConversationID
			}
		}
	} else {
		st, err := a.snapshot(ctx, s.c, page.Last)
		if err != nil {
			return err
		}
		w.State = st
		s.last = page.Last
		s.waiting = ""
		if st.Conversation != nil {
			s.setCurrent(st.Conversation.ConversationID)
			if st.Conversation.State == StateWaiting {
				s.waiting = st.Conversation.ConversationID
			}
		}
	}
	if err := s.write(frame(TypeWelcome, "", w)); err != nil {
		return err
	}
	if w.Resumed {
		if err := s.flush(ctx); err != nil {
			return err
		}
	}
	return s.sendQueue(ctx, true)
}

// write writes one frame now (writer goroutine, or before it runs).
func (s *session) write(f Frame) error {
	_ = s.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return s.conn.WriteJSON(f)
}

// flush sends every stream event after s.last; after a gap (events
// trimmed while this client was behind) it sends a fresh welcome instead.
func (s *session) flush(ctx context.Context) error {
	for {
		page, err := s.a.streams.StreamEvents(ctx, StreamOf(s.c.customer.ID), s.last, pageSize)
		if err != nil {
			return err
		}
		if page.Gap {
			s.log.Info("chat stream gap; sending a fresh state", "after", s.last)
			return s.welcome(ctx, -1)
		}
		waiting := s.waiting
		for _, e := range page.Items {
			if err := s.write(Frame{V: Version, Type: e.Type, Seq: e.Seq, Data: e.Data}); err != nil {
				return err
			}
			s.last = e.Seq
			if e.Type == EventConversation {
				s.noteState(e.Data)
			}
		}
		if s.waiting != waiting {
			if err := s.sendQueue(ctx, true); err != nil {
				return err
			}
		}
		if len(page.Items) < pageSize {
			return nil
		}
	}
}

// noteState follows the conversation's state from a conversation event:
// a waiting conversation gets its queue position.
func (s *session) noteState(data json.RawMessage) {
	var st ConversationState
	if json.Unmarshal(data, &st) != nil || st.ConversationID == "" {
		return
	}
	s.setCurrent(st.ConversationID)
	switch {
	case st.State == StateWaiting:
		s.waiting = st.ConversationID
	case s.waiting == st.ConversationID:
		s.waiting = ""
	}
}

// sendQueue sends the waiting conversation's queue position and estimated
// wait, when it changed since the last sent (or always when force).
func (s *session) sendQueue(ctx context.Context, force bool) error {
	if s.waiting == "" {
		return nil
	}
	q, ok, err := s.a.queuePlace(ctx, s.waiting)
	if err != nil || !ok {
		if err != nil {
			s.log.Debug("queue position unknown", "error", err)
		}
		return nil
	}
	if !force && q == s.lastQueue {
		return nil
	}
	s.lastQueue = q
	return s.write(frame(TypeQueue, "", q))
}

// writer sends stream events when woken, queued frames, pings and queue
// refreshes, until the session ends, the adapter stops or the token
// expires.
func (s *session) writer(ctx context.Context) {
	a := s.a
	ping := time.NewTicker(a.cfg.PingInterval)
	defer ping.Stop()
	refresh := time.NewTicker(a.cfg.QueueRefresh)
	defer refresh.Stop()
	expiry := time.NewTimer(max(s.c.Expires.Add(Leeway).Sub(a.now()), 0))
	defer expiry.Stop()
	for {
		var err error
		select {
		case <-a.stop:
			s.shut(websocket.CloseGoingAway, "the gateway is shutting down; reconnect and resume")
			return
		case <-s.done:
			return
		case <-expiry.C:
			s.shut(CloseTokenExpired, "the token expired; reconnect with a new token and resume")
			return
		case <-s.wakeC:
			if err = s.flush(ctx); err != nil && errors.Is(err, conversation.ErrUnavailable) {
				s.log.Warn("chat events could not be read; retrying on the next wake", "error", err)
				err = nil
			}
		case f := <-s.out:
			err = s.write(f)
		case <-refresh.C:
			err = s.sendQueue(ctx, false)
		case <-ping.C:
			err = s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait))
		}
		if err != nil {
			s.log.Debug("chat session write failed", "error", err)
			s.shut(websocket.CloseAbnormalClosure, "")
			return
		}
	}
}

// reader reads the client's frames until it leaves, answering each
// through the writer's queue. A frame over Config.MaxFrameBytes makes
// gorilla close the connection with 1009 (RFC 6455 §7.4.1).
func (s *session) reader(ctx context.Context) {
	pongWait := 3 * s.a.cfg.PingInterval
	s.conn.SetReadLimit(s.a.cfg.MaxFrameBytes)
	_ = s.conn.SetReadDeadline(time.Now().Add(pongWait))
	s.conn.SetPongHandler(func(string) error { return s.conn.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		kind, data, err := s.conn.ReadMessage()
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				s.log.Info("chat frame over the limit; closed with 1009", "limit_bytes", s.a.cfg.MaxFrameBytes)
				s.drain()
			}
			return
		}
		_ = s.conn.SetReadDeadline(time.Now().Add(pongWait))
		for _, f := range s.handle(ctx, kind, data) {
			if !s.enqueue(f) {
				return
			}
		}
	}
}

// drain reads and drops what the client still sends after gorilla's
// 1009 close frame (the rest of the oversized frame, its close answer),
// for up to a second, so that closing the socket does not reset it
// before the client has read the close frame (RFC 6455 §7.1.1).
func (s *session) drain() {
	nc := s.conn.NetConn()
	_ = nc.SetReadDeadline(time.Now().Add(time.Second))
	_, _ = io.Copy(io.Discard, io.LimitReader(nc, 4*s.a.cfg.MaxFrameBytes))
}

// frame builds a server frame of type typ answering id with data.
func frame(typ, id string, data any) Frame {
	raw, err := json.Marshal(data)
	if err != nil {
		return errorFrame(id, &FrameError{Code: "internal", Message: "internal error"})
	}
	return Frame{V: Version, Type: typ, ID: id, Data: raw}
}

// errorFrame returns the error frame of a refusal.
func errorFrame(id string, e *FrameError) Frame {
	raw, _ := json.Marshal(ErrorData{Code: e.Code, Message: e.Message, RetryAfterMS: e.RetryAfterMS})
	return Frame{V: Version, Type: TypeError, ID: id, Data: raw}
}
