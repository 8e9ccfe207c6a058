package video_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/media/sfu"
	"github.com/airbranch/airbranch/media/sfu/sfutest"
)

var secret = []byte("0123456789abcdef0123456789abcdef-test")

// sink records chat messages.
type sink struct {
	mu   sync.Mutex
	msgs []video.ChatMessage
	got  chan struct{}
}

func (s *sink) Chat(_ context.Context, m video.ChatMessage) error {
	s.mu.Lock()
	s.msgs = append(s.msgs, m)
	s.mu.Unlock()
	select {
	case s.got <- struct{}{}:
	default:
	}
	return nil
}

// env is a running video server on a loopback HTTP server and SFU.
type env struct {
	srv    *video.Server
	sfu    *sfu.SFU
	tokens *video.Tokens
	sink   *sink
	url    string
	http   *httptest.Server
}

func newEnv(t *testing.T, cfg video.Config) *env {
	t.Helper()
	return newEnvWith(t, cfg, nil)
}

// newEnvWith is newEnv with more options set by with (nil: none).
func newEnvWith(t *testing.T, cfg video.Config, with func(*video.Options)) *env {
	t.Helper()
	var log *slog.Logger
	if os.Getenv("VIDEO_DEBUG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := sfu.New(sfu.Config{UDPAddr: "127.0.0.1:0"}, log)
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := video.NewTokens(secret, 0)
	if err != nil {
		t.Fatal(err)
	}
	sk := &sink{got: make(chan struct{}, 1)}
	opts := video.Options{Config: cfg, SFU: s, Tokens: tokens, Sink: sk, Logger: slog.New(slog.DiscardHandler)}
	if with != nil {
		with(&opts)
	}
	srv, err := video.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(video.WSPath, srv)
	mux.Handle(video.InvitationRoute, video.InvitationHandler(video.NewMemoryInvitations(), tokens, time.Hour, nil, nil))
	hs := httptest.NewServer(mux)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
		hs.Close()
		_ = s.Close()
	})
	return &env{srv: srv, sfu: s, tokens: tokens, sink: sk, url: "ws" + strings.TrimPrefix(hs.URL, "http") + video.WSPath, http: hs}
}

func (e *env) token(t *testing.T, room video.RoomID, role video.Role, id string, ttl time.Duration) string {
	t.Helper()
	tok, _, err := e.tokens.Issue(video.Grant{Room: room, Role: role, Identity: id, Name: "Name of " + id}, ttl, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// client is a test participant: a WebSocket and a pion peer.
type client struct {
	t      *testing.T
	name   string
	conn   *websocket.Conn
	peer   *sfutest.Peer
	wmu    sync.Mutex
	frames chan video.Frame // frames other than signalling
	closed chan struct{}
	// readErr is the error that ended the connection (read after closed).
	readErr error
	nextID  atomic.Int64
	// closing: the test tears the client down; late errors are moot.
	closing atomic.Bool
	// redirect is the client that reconnected with this one's peer.
	redirect atomic.Pointer[client]
	wg       sync.WaitGroup

	chats chan video.ChatOut
	dc    *webrtc.DataChannel
}

// dial connects with token (as the "bearer.<token>" subprotocol) with a
// new peer.
func (e *env) dial(t *testing.T, name, token string) *client {
	t.Helper()
	return e.dialPeer(t, name, token, nil)
}

// dialPeer connects with token; peer nil: a new one, else the peer of a
// client that reconnects (its signals go to the new connection).
func (e *env) dialPeer(t *testing.T, name, token string, from *client) *client {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{video.Subprotocol, "bearer." + token}, HandshakeTimeout: 5 * time.Second}
	conn, resp, err := d.Dial(e.url, nil)
	if err != nil {
		t.Fatalf("%s: dial: %v (%v)", name, err, resp)
	}
	c := &client{t: t, name: name, conn: conn, frames: make(chan video.Frame, 256), chats: make(chan video.ChatOut, 16), closed: make(chan struct{})}
	if from != nil {
		c.peer = from.peer
		from.redirect.Store(c)
	} else {
		peer, err := sfutest.NewPeer(name, c.signal)
		if err != nil {
			t.Fatal(err)
		}
		c.peer = peer
	}
	c.wg.Go(c.read)
	t.Cleanup(func() {
		c.closing.Store(true)
		_ = conn.Close()
		if from == nil {
			_ = c.peer.Close()
		}
		c.wg.Wait()
	})
	return c
}

// signal sends the peer's signals as frames (on the connection that
// replaced this one, after a reconnect).
func (c *client) signal(s sfutest.Signal) {
	if r := c.redirect.Load(); r != nil {
		r.signal(s)
		return
	}
	if s.Cand != nil {
		c.send(video.TypeCandidate, *s.Cand)
		return
	}
	c.send(s.Desc.Type.String(), *s.Desc)
}

// send writes a request and returns its id.
func (c *client) send(typ string, data any) string {
	id := fmt.Sprint(c.nextID.Add(1))
	f := video.Frame{V: 1, Type: typ, ID: id}
	if data != nil {
		f.Data, _ = json.Marshal(data)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.WriteJSON(f)
	return id
}

// read applies signalling frames to the peer and queues the rest.
func (c *client) read() {
	defer close(c.closed)
	for {
		var f video.Frame
		if err := c.conn.ReadJSON(&f); err != nil {
			c.readErr = err
			return
		}
		switch f.Type {
		case video.TypeOffer, video.TypeAnswer:
			var d webrtc.SessionDescription
			_ = json.Unmarshal(f.Data, &d)
			// A PeerConnection closed by the server (DTLS close_notify) refuses
			// late offers.
			if err := c.peer.Handle(sfutest.Signal{Desc: &d}); err != nil && !c.closing.Load() && !errors.Is(err, webrtc.ErrConnectionClosed) {
				c.t.Errorf("%s: %s: %v", c.name, f.Type, err)
			}
		case video.TypeCandidate:
			var cand webrtc.ICECandidateInit
			_ = json.Unmarshal(f.Data, &cand)
			_ = c.peer.Handle(sfutest.Signal{Cand: &cand})
		default:
			if f.Type == video.TypeError && os.Getenv("VIDEO_DEBUG") != "" {
				c.t.Logf("%s: error frame %s %s", c.name, f.ID, f.Data)
			}
			c.frames <- f
		}
	}
}

// await returns the next frame of typ (and id, when not ""), skipping
// others.
func (c *client) await(ctx context.Context, typ, id string) video.Frame {
	c.t.Helper()
	for {
		select {
		case f := <-c.frames:
			if f.Type == typ && (id == "" || f.ID == id) {
				return f
			}
			if f.Type == video.TypeError && f.ID == id && id != "" {
				c.t.Fatalf("%s: waiting for %s, got error %s", c.name, typ, f.Data)
			}
		case <-ctx.Done():
			c.t.Fatalf("%s: no %s frame (id %q): %v", c.name, typ, id, ctx.Err())
		}
	}
}

// request sends a request and returns its answer (ack or error).
func (c *client) request(ctx context.Context, typ string, data any) video.Frame {
	c.t.Helper()
	id := c.send(typ, data)
	for {
		select {
		case f := <-c.frames:
			if f.ID == id && (f.Type == video.TypeAck || f.Type == video.TypeError) {
				return f
			}
		case <-ctx.Done():
			c.t.Fatalf("%s: no answer to %s: %v", c.name, typ, ctx.Err())
		}
	}
}

// errorCode returns an error frame's code and status ("" for an ack).
func errorCode(f video.Frame) (string, int) {
	if f.Type != video.TypeError {
		return "", 0
	}
	var e video.ErrorData
	_ = json.Unmarshal(f.Data, &e)
	return e.Code, e.Status
}

// publish adds audio and video tracks and the chat data channel, then
// offers.
func (c *client) publish() {
	c.t.Helper()
	for _, k := range []string{"audio", "video"} {
		if _, err := c.peer.AddTrack(k, k); err != nil {
			c.t.Fatal(err)
		}
	}
	dc, err := c.peer.PC.CreateDataChannel(video.ChatLabel, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	c.dc = dc
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		var out video.ChatOut
		_ = json.Unmarshal(m.Data, &out)
		select {
		case c.chats <- out:
		default:
		}
	})
	if err := c.peer.Offer(false); err != nil {
		c.t.Fatal(err)
	}
}
