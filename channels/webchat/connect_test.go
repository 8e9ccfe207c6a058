package webchat

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
)

// TestBadTokenRefusedBeforeUpgrade: every bad or missing token gets 401
// before the upgrade; a customer-id token for a customer without an app
// address gets 403.
func TestBadTokenRefusedBeforeUpgrade(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	now := h.clock.Now()
	other, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "app-user-1", "exp": now.Add(time.Hour).Unix()}).
		SignedString([]byte("another secret of thirty-two bytes!!"))
	if err != nil {
		t.Fatal(err)
	}
	none, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "app-user-1", "exp": now.Add(time.Hour).Unix()}).
		SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	anon, _, err := issueAnonymous(anonSecret, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, token string }{
		{"missing", ""},
		{"malformed", "not.a.jwt"},
		{"other key", other},
		{"alg none", none},
		{"expired", h.token("app-user-1", jwt.MapClaims{"iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Minute).Unix()})},
		{"no exp", h.token("app-user-1", jwt.MapClaims{"exp": nil})},
		{"no sub", h.token("", nil)},
		{"not yet valid", h.token("app-user-1", jwt.MapClaims{"nbf": now.Add(time.Hour).Unix()})},
		{"too long lived", h.token("app-user-1", jwt.MapClaims{"exp": now.Add(48 * time.Hour).Unix()})},
		{"bad verification", h.token("app-user-1", jwt.MapClaims{"verification": "gold"})},
		{"anonymous claim", h.token("app-user-1", jwt.MapClaims{"anon": true})},
		{"anonymous while off", anon},
	}
	for _, tt := range tests {
		for _, viaProto := range []bool{false, true} {
			if viaProto && tt.token == "" {
				continue
			}
			_, resp, err := h.dial(h.srv, tt.token, -1, viaProto)
			if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("%s (subprotocol %v): err %v, response %v", tt.name, viaProto, err, resp)
			}
		}
	}
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+WSPath, nil)
	req.Header.Set("Authorization", "Basic dXNlcjpwYXNz")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("basic scheme: %v %v", err, resp)
	}

	// Customer-subject mode: a customer without an app address is refused.
	hc := newHarness(t, func(c *Config, _ *Deps) { c.Token.Subject = SubjectCustomer })
	if _, resp, err := hc.dial(hc.srv, hc.token("cus-3", nil), -1, false); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("customer without app address: %v %v", err, resp)
	}
	if _, resp, err := hc.dial(hc.srv, hc.token("cus-404", nil), -1, false); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("unknown customer: %v %v", err, resp)
	}
	c, w := hc.connect(hc.token("cus-1", jwt.MapClaims{"verification": "basic"}), -1)
	if w.AppUser != "app-user-1" || w.Verification != conversation.VerificationBasic {
		t.Fatalf("customer token welcome: %+v", w)
	}
	c.say("c-1", "hi")
	if got := hc.bank.incoming(t, 0); got.From.Value != "app-user-1" || got.Verification != conversation.VerificationBasic {
		t.Fatalf("incoming of a customer token: %+v", got)
	}
}

// TestOversizedFrameCloses1009: a frame over MaxFrameBytes closes the
// connection with 1009 (RFC 6455 §7.4.1) and stores nothing.
func TestOversizedFrameCloses1009(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config, _ *Deps) { c.MaxFrameBytes = 2048; c.MaxTextBytes = 1024 })
	c, _ := h.connect(h.token("app-user-1", nil), -1)
	// The server may close while the frame is still being written.
	_ = c.conn.WriteJSON(Frame{V: Version, Type: TypeMessage, ID: "big", Data: []byte(`{"text":"` + strings.Repeat("x", 4096) + `"}`)})
	if code := c.closed(); code != websocket.CloseMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
	if n := h.bank.storedCount(); n != 0 {
		t.Fatalf("%d stored", n)
	}
}

// TestFloodRateLimited: beyond MessagesPerSecond a message is answered
// rate_limited and not stored; once time has passed it is taken again.
func TestFloodRateLimited(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *Config, _ *Deps) { c.MessagesPerSecond = 3 })
	c, _ := h.connect(h.token("app-user-1", nil), -1)
	for i := range 5 {
		c.send(TypeMessage, fmt.Sprintf("f-%d", i), MessageRequest{Text: "spam"})
	}
	answers := map[string]string{}
	for len(answers) < 5 {
		f := c.until("")
		switch f.Type {
		case TypeAck:
			answers[f.ID] = "ack"
		case TypeError:
			var e ErrorData
			c.decode(f, &e)
			if e.Code != "rate_limited" || e.RetryAfterMS <= 0 {
				t.Fatalf("error %+v", e)
			}
			answers[f.ID] = "rate_limited"
		}
	}
	for i := range 5 {
		want := "ack"
		if i >= 3 {
			want = "rate_limited"
		}
		if got := answers[fmt.Sprintf("f-%d", i)]; got != want {
			t.Fatalf("answers %v", answers)
		}
	}
	if n := h.bank.storedCount(); n != 3 {
		t.Fatalf("%d stored, want 3", n)
	}
	h.clock.Add(time.Second)
	c.say("f-3", "spam")
	if n := h.bank.storedCount(); n != 4 {
		t.Fatalf("%d stored after the wait, want 4", n)
	}
}

// TestShutdownAndExpiry: sessions are closed with 1001 when Run ends, and
// with 4001 when their token expires.
func TestShutdownAndExpiry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	a, err := New(Config{Token: TokenConfig{Secret: testSecret}}, Deps{Sink: h.bank, Streams: h.streams, Conversations: h.bank, Customers: h.bank, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	mux := http.NewServeMux()
	mux.Handle(WSPath, a.Handler())
	srv := newTestServer(t, mux)
	c, _, err := h.dial(srv, h.token("app-user-1", nil), -1, false)
	if err != nil {
		t.Fatal(err)
	}
	c.next(TypeWelcome)
	cancel()
	if code := c.closed(); code != websocket.CloseGoingAway {
		t.Fatalf("close code %d, want 1001", code)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, resp, err := h.dial(srv, h.token("app-user-1", nil), -1, false); err == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("after shutdown: %v %v", err, resp)
	}

	// Expired a second from now, counting the leeway.
	now := h.clock.Now()
	tok := h.token("app-user-1", jwt.MapClaims{"exp": now.Add(-Leeway + time.Second).Unix(), "iat": now.Add(-time.Hour).Unix()})
	c2, _ := h.connect(tok, -1)
	if code := c2.closed(); code != CloseTokenExpired {
		t.Fatalf("close code %d, want %d", code, CloseTokenExpired)
	}
}

// TestAnonymous: with anonymous chat on, POST /chat/anonymous gives a
// device a token of a new anonymous app user; its messages come from an
// unverified prospect. Off, the endpoint is 404.
func TestAnonymous(t *testing.T) {
	t.Parallel()
	off := newHarness(t)
	if resp, err := http.Post(off.srv.URL+AnonymousPath, "", nil); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("anonymous while off: %v %v", err, resp)
	}
	h := newHarness(t, func(c *Config, _ *Deps) {
		c.Anonymous = AnonymousConfig{Enabled: true, Secret: anonSecret, PerMinute: 2}
	})
	var cfg PageConfig
	getJSON(t, h.srv.URL+ConfigPath, &cfg)
	if !cfg.Anonymous || cfg.Limits.MaxAttachmentBytes != DefaultAttachmentMaxBytes {
		t.Fatalf("page config %+v", cfg)
	}
	var tok AnonymousToken
	postJSON(t, h.srv.URL+AnonymousPath, &tok)
	if !strings.HasPrefix(tok.AppUser, "anon-") || tok.ExpiresAt.Before(h.clock.Now().Add(DefaultAnonymousTTL-time.Minute)) {
		t.Fatalf("anonymous token %+v", tok)
	}
	c, w := h.connect(tok.Token, -1)
	if !w.Anonymous || w.AppUser != tok.AppUser || w.Verification != conversation.VerificationNone {
		t.Fatalf("welcome %+v", w)
	}
	ack := c.say("a-1", "do you offer mortgages?")
	cust, err := h.bank.Customer(context.Background(), conversation.CustomerID(h.bank.message(t, ack.MessageID).Sender))
	if err != nil || !cust.Prospect || cust.Segment != conversation.SegmentMass || h.bank.incoming(t, 0).Verification != conversation.VerificationNone {
		t.Fatalf("anonymous customer %+v (%v), incoming %+v", cust, err, h.bank.incoming(t, 0))
	}
	postJSON(t, h.srv.URL+AnonymousPath, &tok)
	if resp, err := http.Post(h.srv.URL+AnonymousPath, "", nil); err != nil || resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third anonymous token within the minute: %v %v", err, resp)
	}
}

// TestChatPage: the page and its files are served with a strict content
// security policy, and refer to nothing of another origin.
func TestChatPage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, p := range []string{"", "chat.css", "chat.js", "socket.js", "state.js", "view.js"} {
		resp, err := http.Get(h.srv.URL + PagePrefix + p)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
			t.Fatalf("%q: %d %v", p, resp.StatusCode, resp.Header)
		}
		if !strings.HasSuffix(p, ".js") && strings.Contains(body, "//") || strings.Contains(body, "import") && strings.Contains(body, "from 'http") {
			t.Errorf("%q refers to another origin", p)
		}
	}
}
