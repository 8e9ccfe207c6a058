package desk

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/state"
)

// Session limits.
const (
	// PingInterval is how often the server pings a desk (RFC 6455 §5.5.2).
	PingInterval = 10 * time.Second
	// pongWait is how long a desk may stay silent (no pong, no frame)
	// before it is taken for gone.
	pongWait = 3 * PingInterval
	// writeWait bounds one frame's write.
	writeWait = 10 * time.Second
	// MaxFrameBytes is the largest frame a desk may send; a larger one
	// closes the connection with 1009 (RFC 6455 §7.4.1).
	MaxFrameBytes = 64 << 10
	// SendQueue is how many frames may wait for a slow desk before the
	// session is closed with CloseSlowClient.
	SendQueue = 256
	// pageSize is how many stream events one read fetches.
	pageSize = 200
)

// session is one desk connection of an RM. Two goroutines: the reader
// (frames from the desk, answered through the queue) and the writer
// (stream events on wake, queued answers, pings).
type session struct {
	hub   *Hub
	srv   *Server
	conn  *websocket.Conn
	p     auth.Principal
	rm    conversation.RMID
	log   *slog.Logger
	wakeC chan struct{}
	out   chan Frame
	last  int64 // seq of the last stream event sent; writer only

	closeOnce sync.Once
	done      chan struct{}
}

// nudge tells the writer the RM's stream may have grown.
func (s *session) nudge() {
	select {
	case s.wakeC <- struct{}{}:
	default:
	}
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
		s.shut(CloseSlowClient, "send queue full: the desk reads too slowly; reconnect and resume")
		return false
	}
}

// shut closes the session once, with a close frame of code and reason.
func (s *session) shut(code int, reason string) {
	s.closeOnce.Do(func() {
		msg := websocket.FormatCloseMessage(code, reason)
		_ = s.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		close(s.done)
		_ = s.conn.Close()
	})
}

// run serves the session until the desk leaves or ctx ends. after is the
// seq the desk last saw (-1: none, start afresh).
func (s *session) run(ctx context.Context, after int64) {
	s.hub.add(s)
	defer s.hub.remove(s)
	if err := s.welcome(ctx, after); err != nil {
		s.log.Warn("desk session could not start", "error", err)
		s.shut(websocket.CloseInternalServerErr, "could not load the desk's state; reconnect")
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { s.writer(ctx) })
	s.reader(ctx)
	s.shut(websocket.CloseNormalClosure, "")
	wg.Wait()
}

// welcome sends the first frame: a resume when the desk's last seq is
// still in the stream, else a snapshot; then, on a resume, what was missed.
func (s *session) welcome(ctx context.Context, after int64) error {
	page, err := s.hub.store.StreamEvents(ctx, StreamOf(s.rm), max(after, 0), pageSize)
	if err != nil {
		return err
	}
	w := Welcome{RMID: s.rm, TeamID: s.p.Team, LastSeq: page.Last, PingSeconds: int(PingInterval / time.Second)}
	if after >= 0 && !page.Gap && after <= page.Last {
		w.Resumed = true
		s.last = after
	} else {
		snap, err := s.srv.snapshot(ctx, s.rm)
		if err != nil {
			return err
		}
		w.Snapshot = &snap
		s.last = page.Last
	}
	if err := s.writeFrame(TypeWelcome, 0, "", w); err != nil {
		return err
	}
	if w.Resumed {
		return s.flush(ctx)
	}
	return nil
}

// writeFrame writes one frame now (writer goroutine, or before it runs).
func (s *session) writeFrame(typ string, seq int64, id string, data any) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return err
	}
	return s.write(Frame{V: Version, Type: typ, Seq: seq, ID: id, Data: raw})
}

func (s *session) write(f Frame) error {
	_ = s.conn.SetWriteDeadline(time.Now().Add(writeWait))
	return s.conn.WriteJSON(f)
}

// flush sends every stream event after s.last.
func (s *session) flush(ctx context.Context) error {
	for {
		page, err := s.hub.store.StreamEvents(ctx, StreamOf(s.rm), s.last, pageSize)
		if err != nil {
			return err
		}
		if page.Gap {
			// Trimmed while this desk was behind: it must start afresh.
			s.shut(websocket.CloseTryAgainLater, "events were missed; reconnect without a seq")
			return errors.New("desk: stream gap")
		}
		for _, e := range page.Items {
			if err := s.write(Frame{V: Version, Type: e.Type, Seq: e.Seq, Data: e.Data}); err != nil {
				return err
			}
			s.last = e.Seq
		}
		if len(page.Items) < pageSize {
			return nil
		}
	}
}

// writer sends stream events when woken, queued answers, and pings.
func (s *session) writer(ctx context.Context) {
	ping := time.NewTicker(PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			s.shut(websocket.CloseGoingAway, "the gateway is shutting down; reconnect and resume")
			return
		case <-s.done:
			return
		case <-s.wakeC:
			if err := s.flush(ctx); err != nil {
				if !errors.Is(err, state.ErrUnavailable) {
					s.shut(websocket.CloseAbnormalClosure, "")
					return
				}
				s.log.Warn("desk events could not be read; retrying on the next wake", "error", err)
			}
		case f := <-s.out:
			if err := s.write(f); err != nil {
				s.shut(websocket.CloseAbnormalClosure, "")
				return
			}
		case <-ping.C:
			if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				s.shut(websocket.CloseAbnormalClosure, "")
				return
			}
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
			s.enqueue(errorFrame("", "bad_frame", 400, "frames are JSON text messages"))
			continue
		}
		var f Frame
		if err := json.Unmarshal(data, &f); err != nil || f.Type == "" {
			s.enqueue(errorFrame("", "bad_frame", 400, "a frame is a JSON object with a type"))
			continue
		}
		if f.V != 0 && f.V != Version {
			s.enqueue(errorFrame(f.ID, "bad_frame", 400, "protocol version "+itoa(int64(f.V))+" (allowed: 1)"))
			continue
		}
		if !s.enqueue(s.srv.handle(ctx, s, f)) {
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

func itoa(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
