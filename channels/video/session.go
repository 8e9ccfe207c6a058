package video

import (
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/media/sfu"
)

// writeWait bounds one frame's write.
const writeWait = 10 * time.Second

// outFrame is a frame to write, or (closeCode > 0) the last thing to do:
// a close frame, after everything queued before it.
type outFrame struct {
	f         Frame
	closeCode int
	reason    string
}

// session is one signalling connection: a reader (this goroutine: the
// client's requests, answered through the queue) and a writer (the queue
// and pings).
type session struct {
	srv  *Server
	room *room
	conn *websocket.Conn
	g    Grant
	log  *slog.Logger
	out  chan outFrame

	closeOnce sync.Once
	done      chan struct{}
	// finished: a close was queued (leave, remove, end); the session does
	// not keep the participant's place.
	mu       sync.Mutex
	finished bool
	// after runs once the current request's ack is queued (reader only).
	after func()
}

// run serves the session until the client leaves or is closed.
func (s *session) run() {
	w := Welcome{Room: s.room.id, ConversationID: s.room.conv, Identity: s.g.Identity, Role: s.g.Role, ICEServers: s.srv.sfu.ICEServers(),
		PingSeconds: int(s.srv.cfg.PingInterval / time.Second), MaxFrameBytes: s.srv.cfg.MaxFrameBytes, MaxChatBytes: s.srv.cfg.MaxChatBytes}
	if w.ICEServers == nil {
		w.ICEServers = []sfu.ICEServer{}
	}
	s.enqueue(frame(TypeWelcome, "", w))
	var wg sync.WaitGroup
	wg.Go(s.writer)
	s.reader()
	s.room.detach(s)
	s.shut(websocket.CloseNormalClosure, "")
	wg.Wait()
	s.log.Debug("video session closed")
}

// enqueue queues a frame; a full queue closes the session as too slow.
func (s *session) enqueue(f Frame) {
	s.push(outFrame{f: f})
}

// finish queues a close after the frames queued so far; the session then
// ends without keeping the participant's place.
func (s *session) finish(code int, reason string) {
	s.mu.Lock()
	s.finished = true
	s.mu.Unlock()
	s.push(outFrame{closeCode: code, reason: reason})
}

func (s *session) isFinished() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.finished
}

func (s *session) push(o outFrame) {
	select {
	case <-s.done:
		return
	default:
	}
	select {
	case s.out <- o:
	default:
		s.shut(CloseSlowClient, "send queue full: the client reads too slowly; reconnect with resume")
	}
}

// shut closes the connection once, with a close frame of code.
func (s *session) shut(code int, reason string) {
	s.closeOnce.Do(func() {
		_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		close(s.done)
		_ = s.conn.Close()
	})
}

// writer writes queued frames and pings until the session ends.
func (s *session) writer() {
	ping := time.NewTicker(s.srv.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-ping.C:
			if err := s.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				s.shut(CloseSlowClient, "the client did not take a ping in time")
				return
			}
		case o := <-s.out:
			if o.closeCode > 0 {
				s.shut(o.closeCode, o.reason)
				return
			}
			_ = s.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := s.conn.WriteJSON(o.f); err != nil {
				s.shut(CloseSlowClient, "the client did not take frames in time")
				return
			}
		}
	}
}

// reader reads the client's frames until it leaves, answering each.
func (s *session) reader() {
	pongWait := 3 * s.srv.cfg.PingInterval
	s.conn.SetReadLimit(s.srv.cfg.MaxFrameBytes)
	_ = s.conn.SetReadDeadline(time.Now().Add(pongWait))
	s.conn.SetPongHandler(func(string) error { return s.conn.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		kind, data, err := s.conn.ReadMessage()
		if err != nil {
			return // closed, timed out, or too big (gorilla answered 1009)
		}
		_ = s.conn.SetReadDeadline(time.Now().Add(pongWait))
		if kind != websocket.TextMessage {
			s.enqueue(errorFrame("", &FrameError{Code: "bad_frame", Status: 400, Message: "frames are JSON text messages"}))
			continue
		}
		var f Frame
		switch err := json.Unmarshal(data, &f); {
		case err != nil || f.Type == "":
			s.enqueue(errorFrame("", &FrameError{Code: "bad_frame", Status: 400, Message: "a frame is a JSON object with a type"}))
			continue
		case f.V != 0 && f.V != Version:
			s.enqueue(errorFrame(f.ID, &FrameError{Code: "bad_frame", Status: 400, Message: "protocol version " + strconv.Itoa(f.V) + " (allowed: 1)"}))
			continue
		}
		result, err := s.room.handle(s, f)
		if fe, ok := err.(*FrameError); ok {
			s.enqueue(errorFrame(f.ID, fe))
			continue
		}
		if err != nil {
			s.log.Warn("video request failed", "type", f.Type, "error", err)
			s.enqueue(errorFrame(f.ID, &FrameError{Code: "internal", Status: 500, Message: "internal error"}))
			continue
		}
		s.enqueue(frame(TypeAck, f.ID, result))
		if s.after != nil {
			s.after()
			s.after = nil
		}
		if f.Type == TypeLeave || f.Type == TypeEnd {
			s.finish(websocket.CloseNormalClosure, "left")
		}
	}
}

// frame returns a frame of typ with data marshalled.
func frame(typ, id string, data any) Frame {
	f := Frame{V: Version, Type: typ, ID: id}
	if data != nil {
		f.Data, _ = json.Marshal(data)
	}
	return f
}

func errorFrame(id string, e *FrameError) Frame {
	return frame(TypeError, id, ErrorData{Code: e.Code, Message: e.Message, Status: e.Status})
}
