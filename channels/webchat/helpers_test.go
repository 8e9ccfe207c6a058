package webchat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
)

// fakeRMs names RMs.
type fakeRMs map[conversation.RMID]string

func (f fakeRMs) RM(_ context.Context, id conversation.RMID) (conversation.RM, error) {
	if n, ok := f[id]; ok {
		return conversation.RM{ID: id, Name: n}, nil
	}
	return conversation.RM{}, conversation.ErrNotFound
}

// clock is a settable test clock, starting at the real time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testSecret is the HS256 key of the test tokens; anonSecret signs
// anonymous ones.
var (
	testSecret = []byte("0123456789abcdef0123456789abcdef-test")
	anonSecret = []byte("fedcba9876543210fedcba9876543210-anon")
)

// harness runs an adapter behind a real loopback HTTP server, with its Run
// going, a fakeBank and memStreams.
type harness struct {
	t       testing.TB
	a       *Adapter
	bank    *fakeBank
	streams *memStreams
	clock   *clock
	srv     *httptest.Server
	typed   chan conversation.ConversationID
}

type harnessOption func(*Config, *Deps)

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	clk := newClock()
	h := &harness{t: t, clock: clk, streams: newMemStreams(1000), typed: make(chan conversation.ConversationID, 16)}
	h.bank = newFakeBank(clk.Now)
	cfg := Config{Token: TokenConfig{Secret: testSecret}, PingInterval: time.Second}
	deps := Deps{Sink: h.bank, Streams: h.streams, Conversations: h.bank, Customers: h.bank, RMs: fakeRMs{"rm-1": "Ada Lee"},
		Waiting: h.bank.waiting, Now: clk.Now,
		OnTyping: func(_ context.Context, _ conversation.CustomerID, conv conversation.ConversationID) { h.typed <- conv }}
	for _, o := range opts {
		o(&cfg, &deps)
	}
	a, err := New(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	h.a = a
	h.srv = h.serve(a)
	return h
}

// serve runs a's Run and a loopback server with its Handler, both
// stopped at the end of the test.
func (h *harness) serve(a *Adapter) *httptest.Server {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	mux := http.NewServeMux()
	mux.Handle(WSPath, a.Handler())
	mux.Handle(PagePrefix, a.Handler())
	srv := httptest.NewServer(mux)
	h.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			h.t.Errorf("run: %v", err)
		}
		srv.Close()
	})
	return srv
}

// token signs a bank token (HS256 with testSecret) for sub, valid for an
// hour, with extra claims.
func (h *harness) token(sub string, extra jwt.MapClaims) string {
	h.t.Helper()
	now := h.clock.Now()
	claims := jwt.MapClaims{"sub": sub, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	for k, v := range extra {
		if v == nil {
			delete(claims, k)
			continue
		}
		claims[k] = v
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(testSecret)
	if err != nil {
		h.t.Fatal(err)
	}
	return s
}

// chatClient is a Go WebSocket client of the chat protocol.
type chatClient struct {
	t      testing.TB
	conn   *websocket.Conn
	frames chan Frame
	err    error // why reading stopped; read after frames is closed
	lastSq int64
	// held are frames read past by say, returned first by next and until.
	held []Frame
}

// read returns the next frame: a held one, else one from the connection.
func (c *chatClient) read(timeout <-chan time.Time) (Frame, bool) {
	c.t.Helper()
	if len(c.held) > 0 {
		f := c.held[0]
		c.held = c.held[1:]
		return f, true
	}
	select {
	case f, ok := <-c.frames:
		return f, ok
	case <-timeout:
		c.t.Fatal("no frame within 5 s")
		return Frame{}, false
	}
}

// dial opens /ws/chat with token in the Authorization header (or as a
// subprotocol when viaProto), resuming after when >= 0.
func (h *harness) dial(srv *httptest.Server, token string, after int64, viaProto bool) (*chatClient, *http.Response, error) {
	u := "ws" + strings.TrimPrefix(srv.URL, "http") + WSPath
	if after >= 0 {
		u += fmt.Sprintf("?after=%d", after)
	}
	hdr := http.Header{}
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, Subprotocols: []string{Subprotocol}}
	if viaProto {
		d.Subprotocols = append(d.Subprotocols, "bearer."+token)
	} else if token != "" {
		hdr.Set("Authorization", "Bearer "+token)
	}
	conn, resp, err := d.Dial(u, hdr)
	if err != nil {
		return nil, resp, err
	}
	c := &chatClient{t: h.t, conn: conn, frames: make(chan Frame, 256)}
	go func() {
		defer close(c.frames)
		for {
			var f Frame
			_, data, err := conn.ReadMessage()
			if err != nil {
				c.err = err
				return
			}
			if err := json.Unmarshal(data, &f); err != nil {
				c.err = err
				return
			}
			c.frames <- f
		}
	}()
	h.t.Cleanup(func() { _ = conn.Close() })
	return c, resp, nil
}

// connect dials and reads the welcome.
func (h *harness) connect(token string, after int64) (*chatClient, Welcome) {
	h.t.Helper()
	c, resp, err := h.dial(h.srv, token, after, false)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		h.t.Fatalf("dial: %v (HTTP %d)", err, status)
	}
	var w Welcome
	c.decode(c.next(TypeWelcome), &w)
	return c, w
}

// next returns the next frame, which must be of type typ ("" any), within
// 5 s; typing and queue frames are skipped unless asked for.
func (c *chatClient) next(typ string) Frame {
	c.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		f, ok := c.read(timeout)
		if !ok {
			c.t.Fatalf("connection ended waiting for %q: %v", typ, c.err)
		}
		if f.Type != typ && (f.Type == TypeTyping || f.Type == TypeQueue || f.Type == TypeHours) {
			continue
		}
		if typ != "" && f.Type != typ {
			c.t.Fatalf("frame %s %s, want %s", f.Type, f.Data, typ)
		}
		if f.Seq > 0 {
			if c.lastSq > 0 && f.Seq != c.lastSq+1 {
				c.t.Fatalf("seq %d after %d", f.Seq, c.lastSq)
			}
			c.lastSq = f.Seq
		}
		return f
	}
}

// until returns the first frame of type typ ("" any), skipping others.
func (c *chatClient) until(typ string) Frame {
	c.t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		f, ok := c.read(timeout)
		if !ok {
			c.t.Fatalf("connection ended waiting for %q: %v", typ, c.err)
		}
		if f.Seq > 0 {
			c.lastSq = f.Seq
		}
		if typ == "" || f.Type == typ {
			return f
		}
	}
}

// closed waits for the connection to end and returns its close code.
func (c *chatClient) closed() int {
	c.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-c.frames:
			if !ok {
				var ce *websocket.CloseError
				if errors.As(c.err, &ce) {
					return ce.Code
				}
				c.t.Fatalf("connection ended without a close frame: %v", c.err)
			}
		case <-timeout:
			c.t.Fatal("connection still open after 10 s")
		}
	}
}

func (c *chatClient) decode(f Frame, v any) {
	c.t.Helper()
	if err := json.Unmarshal(f.Data, v); err != nil {
		c.t.Fatalf("%s data %s: %v", f.Type, f.Data, err)
	}
}

func (c *chatClient) send(typ, id string, data any) {
	c.t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.conn.WriteJSON(Frame{V: Version, Type: typ, ID: id, Data: raw}); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// say sends a text message with id and returns its ack; frames before
// the ack are held for next and until.
func (c *chatClient) say(id, text string) Ack {
	c.t.Helper()
	c.send(TypeMessage, id, MessageRequest{Text: text})
	var before []Frame
	timeout := time.After(5 * time.Second)
	for {
		var f Frame
		select {
		case got, ok := <-c.frames:
			if !ok {
				c.t.Fatalf("connection ended waiting for the ack of %s: %v", id, c.err)
			}
			f = got
		case <-timeout:
			c.t.Fatalf("no ack of %s within 5 s", id)
		}
		switch {
		case f.Type == TypeAck && f.ID == id:
			var a Ack
			c.decode(f, &a)
			c.held = append(c.held, before...)
			return a
		case f.Type == TypeError && f.ID == id:
			c.t.Fatalf("message %s refused: %s", id, f.Data)
		}
		before = append(before, f)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	decodeResp(t, resp, http.StatusOK, v)
}

func postJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Post(url, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	decodeResp(t, resp, http.StatusOK, v)
}

func decodeResp(t *testing.T, resp *http.Response, status int, v any) {
	t.Helper()
	defer resp.Body.Close()
	if resp.StatusCode != status {
		t.Fatalf("%s: HTTP %d: %s", resp.Request.URL, resp.StatusCode, readAll(t, resp))
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// waitFor polls cond every 10 ms for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 5 s for %s", what)
		}
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func newTestServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}
