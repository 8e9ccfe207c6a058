package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/webchat"
	"github.com/airbranch/airbranch/configs"
)

const (
	testWebChatSecret = "webchat-test-secret-of-at-least-32-bytes"
	demoAppUser       = "app-demo-pb-0001" // cus-pb-0001's app user id in the demo directory
)

// chatFrame is a web chat frame as the client reads it.
type chatFrame struct {
	V    int             `json:"v"`
	Type string          `json:"type"`
	Seq  int64           `json:"seq,omitempty"`
	ID   string          `json:"id,omitempty"`
	Data json.RawMessage `json:"data,omitempty"`
}

// dialChat opens the demo client's web chat with a token the bank's app
// backend would issue (HS256, sub = app user id).
func dialChat(t *testing.T, base, secret string) *websocket.Conn {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": demoAppUser, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(), "verification": "strong",
	}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	d := websocket.Dialer{Subprotocols: []string{webchat.Subprotocol, "bearer." + tok}}
	conn, res, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+webchat.WSPath, nil)
	if err != nil {
		t.Fatalf("dial web chat: %v (%v)", err, res)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// readChat reads frames until one of type typ (and id, when given).
func readChat(t *testing.T, conn *websocket.Conn, typ, id string) chatFrame {
	t.Helper()
	for i := 0; i < 100; i++ {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		var f chatFrame
		if err := conn.ReadJSON(&f); err != nil {
			t.Fatalf("read web chat (waiting for %s): %v", typ, err)
		}
		if f.Type == typ && (id == "" || f.ID == id) {
			return f
		}
	}
	t.Fatalf("no %s frame", typ)
	return chatFrame{}
}

// TestWebChatEndToEnd: the demo private-bank client writes from the app
// over /ws/chat; the message is stored (ack), routed to their own RM, who
// accepts and replies through the API; the reply reaches the client's
// socket on the conversation's own channel.
func TestWebChatEndToEnd(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, cfg *configs.Config) {
		cfg.WebChat.Enabled = true
		cfg.Secrets.WebChatTokenSecret = testWebChatSecret
		r := start(t, cfg, &syncBuffer{})
		d := newDesk(t, r)
		conn := dialChat(t, r.base, testWebChatSecret)
		readChat(t, conn, "welcome", "")
		if err := conn.WriteJSON(map[string]any{"v": 1, "type": "message", "id": "c-1",
			"data": map[string]any{"text": "Could my RM call me about the bond fund?"}}); err != nil {
			t.Fatal(err)
		}
		var ack struct {
			MessageID      string `json:"message_id"`
			ConversationID string `json:"conversation_id"`
		}
		if err := json.Unmarshal(readChat(t, conn, "ack", "c-1").Data, &ack); err != nil || ack.ConversationID == "" {
			t.Fatalf("ack: %+v %v", ack, err)
		}
		id := d.acceptOffer()
		if id != ack.ConversationID {
			t.Fatalf("the RM was offered %s, the client wrote in %s", id, ack.ConversationID)
		}
		if code, out := d.reply(id, map[string]any{"text": "Of course, I will call you at 3pm."}); code != http.StatusCreated {
			t.Fatalf("reply: %d %v", code, out)
		}
		for {
			var m struct {
				From string `json:"from"`
				Text string `json:"text"`
			}
			f := readChat(t, conn, "message", "")
			_ = json.Unmarshal(f.Data, &m)
			if m.From == "rm" {
				if m.Text != "Of course, I will call you at 3pm." {
					t.Fatalf("the client got %q", m.Text)
				}
				break
			}
		}
		msgs := d.messages(id)
		if len(msgs) != 2 || msgs[1]["channel"] != "webchat" || msgs[1]["direction"] != "outbound" {
			t.Fatalf("messages %v", msgs)
		}
	})
}

// The embedded demo (no file, no Redis) serves the chat page and the
// client socket with the development secret.
func TestWebChatInTheDemo(t *testing.T) {
	t.Parallel()
	cfg := configs.Default()
	cfg.Secrets.JWTSecret = testSecret
	r := start(t, cfg, &syncBuffer{})
	res, err := http.Get(r.base + webchat.PagePrefix)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /chat/: %d", res.StatusCode)
	}
	conn := dialChat(t, r.base, DevWebChatSecret)
	readChat(t, conn, "welcome", "")
}

// The RM desk WebSocket answers through the gateway's middleware (the
// upgrade needs the connection handed over).
func TestDeskSocketThroughTheGateway(t *testing.T) {
	t.Parallel()
	cfg := configs.Default()
	cfg.Secrets.JWTSecret = testSecret
	r := start(t, cfg, &syncBuffer{})
	d := websocket.Dialer{Subprotocols: []string{"airbranch.desk.v1", "bearer." + rmToken(t, testSecret, demoRM, demoRMTeam)}}
	conn, res, err := d.Dial("ws"+strings.TrimPrefix(r.base, "http")+"/ws/desk", nil)
	if err != nil {
		t.Fatalf("dial desk: %v (%v)", err, res)
	}
	defer conn.Close()
	var f chatFrame
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if err := conn.ReadJSON(&f); err != nil || f.Type != "welcome" {
		t.Fatalf("desk welcome: %+v %v", f, err)
	}
}
