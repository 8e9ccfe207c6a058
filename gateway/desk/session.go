package desk

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/state"
	"github.com/airbranch/airbranch/gateway/stats"
)

// Session limits.
const (
	// PingInterval is how often the server pings a desk (RFC 6455 §5.5.2).
	PingInterval = 10 * time.Second
	// pongWait is how long a desk may stay silent (no pong, no frame)
	// before it is taken for gone.
	pongWait = 3 * PingInterval
	// WriteWait bounds one frame's write: a desk that does not take a
	// frame within it reads too slowly and is closed with CloseSlowClient.
	WriteWait = 10 * time.Second
	// MaxFrameBytes is the largest frame a desk may send; a larger one
	// closes the connection with 1009 (RFC 6455 §7.4.1).
	MaxFrameBytes = 64 << 10
	// pageSize is how many stream events one read fetches.
	pageSize = 200
)

// session is one desk connection of an RM. An idle session holds one
// goroutine (the reader, which answers requests itself); stream events
// are written by a short-lived flusher started on a wake, and pings by
// the hub's pinger. Writes take turns on mu, so a slow desk holds up only
// its own session, until WriteWait closes it.
type session struct {
	hub  *Hub
	srv  *Server
	conn *websocket.Conn
	p    auth.Principal
	rm   conversation.RMID
	log  *slog.Logger
	ctx  context.Context

	mu   sync.Mutex // writes; last
	last int64      // seq of the last stream event sent

	pending   atomic.Bool // a wake came
	flushing  atomic.Bool // a flusher runs
	closeOnce sync.Once
	done      chan struct{}
}

// nudge tells the session the RM's stream may have grown: a flusher runs
// (one at a time) until it has sent everything.
func (s *session) nudge() {
	s.pending.Store(true)
	if s.flushing.CompareAndSwap(false, true) {
		go s.flusher()
	}
}

func (s *session) flusher() {
	for {
		s.pending.Store(false)
		if err := s.flush(s.ctx); err != nil && !errors.Is(err, errClosed) && s.ctx.Err() == nil {
			if errors.Is(err, state.ErrUnavailable) {
				// The store is away (restarting, loading): try again soon,
				// not only at the next wake, which may be long in coming
				// (an offer made just as it came back would wait for it).
				s.log.Warn("desk events could not be read; retrying in a second", "error", err)
				time.AfterFunc(time.Second, func() {
					if s.ctx.Err() == nil {
						s.nudge()
					}
				})
			} else {
				s.shut(CloseSlowClient, "the desk did not take frames in time; reconnect and resume")
			}
		}
		s.flushing.Store(false)
		if !s.pending.Load() || !s.flushing.CompareAndSwap(false, true) {
			return
		}
	}
}

// errClosed: the session has ended.
var errClosed = errors.New("desk: session closed")

// shut closes the session once, with a close frame of code and reason.
func (s *session) shut(code int, reason string) {
	s.closeOnce.Do(func() {
		msg := websocket.FormatCloseMessage(code, reason)
		_ = s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		close(s.done)
		_ = s.conn.Close()
	})
}

// ping sends a ping; a desk that cannot take it within a second is slow
// or gone and is closed.
func (s *session) ping() {
	if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(time.Second)); err != nil {
		s.shut(CloseSlowClient, "the desk did not take a ping in time; reconnect and resume")
	}
}

// sendQueue sends the team's queue figures (a frame without seq); a desk
// that cannot take it in time is closed as slow.
func (s *session) sendQueue(q stats.Queue) {
	raw, _ := json.Marshal(q)
	if err := s.send(Frame{V: Version, Type: TypeQueue, Data: raw}); err != nil && !errors.Is(err, errClosed) {
		s.shut(CloseSlowClient, "the desk did not take frames in time; reconnect and resume")
	}
}

// start serves the session: the welcome on the caller's goroutine (the
// HTTP handler's, which then returns, so its grown stack is freed), then
// the reader on a fresh goroutine tracked by the server, until the desk leaves or
// ctx ends. after is the seq the desk last saw (-1: none, start afresh).
func (s *session) start(ctx context.Context, after int64) {
	s.ctx = ctx
	// No flusher until the welcome is written: wakes meanwhile only mark
	// pending, and the welcome ends with a nudge.
	s.flushing.Store(true)
	s.hub.add(s)
	stop := context.AfterFunc(ctx, func() { s.shut(websocket.CloseGoingAway, "the gateway is shutting down; reconnect and resume") })
	if err := s.welcome(ctx, after); err != nil {
		s.log.Warn("desk session could not start", "error", err)
		s.shut(websocket.CloseInternalServerErr, "could not load the desk's state; reconnect")
		stop()
		s.hub.remove(s)
		return
	}
	started := s.srv.track(func() {
		defer s.hub.remove(s)
		defer stop()
		s.reader(ctx)
		s.shut(websocket.CloseNormalClosure, "")
	})
	if !started { // the gateway is shutting down
		s.shut(websocket.CloseGoingAway, "the gateway is shutting down; reconnect and resume")
		stop()
		s.hub.remove(s)
	}
}

// welcome sends the first frame: a resume when the desk's last seq is
// still in the stream, else a snapshot; then, on a resume, what was missed.
func (s *session) welcome(ctx context.Context, after int64) error {
	page, err := s.hub.store.StreamEvents(ctx, StreamOf(s.rm), max(after, 0), pageSize)
	if err != nil {
		return err
	}
	w := Welcome{RMID: s.rm, TeamID: s.p.Team, LastSeq: page.Last, PingSeconds: int(PingInterval / time.Second)}
	if s.hub.queues != nil {
		if qs, err := s.hub.queues(ctx, s.hub.now()); err == nil {
			if q, ok := qs[s.p.Team]; ok {
				w.Queue = &q
			}
		}
	}
	s.mu.Lock()
	if after >= 0 && !page.Gap && after <= page.Last {
		w.Resumed = true
		s.last = after
	} else {
		snap, err := s.srv.snapshot(ctx, s.rm)
		if err != nil {
			s.mu.Unlock()
			return err
		}
		w.Snapshot = &snap
		s.last = page.Last
	}
	raw, err := json.Marshal(w)
	if err == nil {
		err = s.writeLocked(Frame{V: Version, Type: TypeWelcome, Data: raw})
	}
	s.mu.Unlock()
	if err != nil {
		return err
	}
	s.flushing.Store(false)
	s.nudge() // events that came meanwhile, or those a resume missed
	return nil
}

// send writes one answer frame.
func (s *session) send(f Frame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writeLocked(f)
}

func (s *session) writeLocked(f Frame) error {
	select {
	case <-s.done:
		return errClosed
	default:
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(WriteWait))
	return s.conn.WriteJSON(f)
}

// flush sends every stream event after the last one sent.
func (s *session) flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		page, err := s.hub.store.StreamEvents(ctx, StreamOf(s.rm), s.last, pageSize)
		if err != nil {
			return err
		}
		if page.Gap {
			// Trimmed while this desk was behind: it must start afresh.
			s.shut(websocket.CloseTryAgainLater, "events were missed; reconnect without a seq")
			return errClosed
		}
		for _, e := range page.Items {
			if err := s.writeLocked(Frame{V: Version, Type: e.Type, Seq: e.Seq, Data: e.Data}); err != nil {
				return err
			}
			s.last = e.Seq
		}
		if len(page.Items) < pageSize {
			return nil
		}
	}
}

// reader reads the desk's frames until it leaves, answering each request
// through the writer's queue.
func (s *session) reader(ctx context.Context) {
	s.conn.SetReadLimit(MaxFrameBytes)
	_ = s.conn.SetReadDeadline(time.Now().Add(pongWait))
	s.conn.SetPongHandler(func(string) error { return s.conn.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		kind, data, err := s.conn.ReadMessage()
		if err != nil {
			return // closed, timed out, or too big (gorilla answered 1009)
		}
		_ = s.conn.SetReadDeadline(time.Now().Add(pongWait))
		if kind != websocket.TextMessage {
			if s.send(errorFrame("", "bad_frame", 400, "frames are JSON text messages")) != nil {
				return
			}
			continue
		}
		var f Frame
		var answer Frame
		switch err := json.Unmarshal(data, &f); {
		case err != nil || f.Type == "":
			answer = errorFrame("", "bad_frame", 400, "a frame is a JSON object with a type")
		case f.V != 0 && f.V != Version:
			answer = errorFrame(f.ID, "bad_frame", 400, "protocol version "+strconv.Itoa(f.V)+" (allowed: 1)")
		default:
			answer = s.srv.handle(ctx, s, f)
		}
		if err := s.send(answer); err != nil {
			if !errors.Is(err, errClosed) {
				s.shut(CloseSlowClient, "the desk did not take frames in time; reconnect and resume")
			}
			return
		}
	}
}

// errorFrame returns an error answer.
func errorFrame(id, code string, status int, msg string) Frame {
	raw, _ := json.Marshal(ErrorData{Code: code, Message: msg, Status: status})
	return Frame{V: Version, Type: TypeError, ID: id, Data: raw}
}

// ack returns a success answer with result.
func ack(id string, result any) Frame {
	raw, err := json.Marshal(result)
	if err != nil {
		return errorFrame(id, "internal", 500, "internal error")
	}
	return Frame{V: Version, Type: TypeAck, ID: id, Data: raw}
}
