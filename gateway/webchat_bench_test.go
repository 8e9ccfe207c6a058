package gateway

import (
	"context"
	"io"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/identity"
	"github.com/airbranch/airbranch/channels/webchat"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/router"
)

// benchWebChat serves a web chat adapter built as the gateway builds it
// (newWebChat: the gateway's inbox as its Sink, the store's streams, the
// identity resolver, the directory) but with the per-session flood limit
// raised to 1,000 messages/s, so that one client session carries the
// benchmark's whole load; it returns its base URL and a stop function.
func benchWebChat(b *testing.B, bg *benchGateway, cfg *configs.Config) (string, func()) {
	b.Helper()
	wc := cfg.WebChatAdapter()
	wc.MessagesPerSecond, wc.FramesPerSecond = 1000, 2000
	g := bg.g
	a, err := webchat.New(wc, webchat.Deps{
		Sink: g.inbox, Streams: chatStreams{g.store}, Conversations: g.store,
		Customers: identity.NewResolver(g.dir, g.store, cfg.Identity.DefaultRegion), RMs: g.dir,
		Waiting: func(ctx context.Context, limit int) ([]conversation.ConversationID, error) {
			entries, err := g.store.Queue(ctx, router.WaitingQueue, limit)
			ids := make([]conversation.ConversationID, len(entries))
			for i, e := range entries {
				ids[i] = e.ConversationID
			}
			return ids, err
		},
		Logger: NewLogger(io.Discard, "error", "json"),
		Now:    time.Now,
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.Run(ctx)
	}()
	srv := httptest.NewServer(a.Handler())
	return srv.URL, func() {
		cancel()
		<-done
		srv.Close()
	}
}

// dialBenchChat opens the demo client's web chat socket at base and
// drains what the server sends (acks, echoes, receipts) until it closes.
func dialBenchChat(b *testing.B, base, path string) *websocket.Conn {
	b.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": demoAppUser, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(), "verification": "strong",
	}).SignedString([]byte(testWebChatSecret))
	if err != nil {
		b.Fatal(err)
	}
	d := websocket.Dialer{Subprotocols: []string{webchat.Subprotocol, "bearer." + tok}}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+path, nil)
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	return conn
}

// chatSay writes a client message frame with id and text.
func chatSay(conn *websocket.Conn, id, text string) error {
	return conn.WriteJSON(map[string]any{"v": 1, "type": "message", "id": id, "data": map[string]any{"text": text}})
}

// BenchmarkWebChatToDesk measures the time from a client's message frame
// on /ws/chat (the demo private-bank client, in the conversation their RM
// accepted) to its "message" frame read on the RM's /ws/desk, 3,000
// messages paced at 1,000/s on one client socket: the web chat adapter
// stores each through the gateway's inbox (memory store), the desk hub
// appends it to the RM's stream and the desk session writes it. Beside,
// in the same run, a bare gorilla/websocket relay: a server that writes
// each frame read from the client socket to a desk socket. Run with
// -benchtime 1x.
func BenchmarkWebChatToDesk(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var cfg *configs.Config
		bg := startBenchGateway(b, func(c *configs.Config) {
			c.WebChat.Enabled = true
			c.Secrets.WebChatTokenSecret = testWebChatSecret
			cfg = c
		})
		chatBase, stopChat := benchWebChat(b, bg, cfg)
		desk := openDesk(b, bg)
		client := dialBenchChat(b, chatBase, webchat.WSPath)
		if err := chatSay(client, "open", "Hello, I need my RM"); err != nil {
			b.Fatal(err)
		}
		desk.accept(b, bg)
		sent := paced(b, benchLatencyMessages, benchLatencyRate, 1, func(j int) error {
			return chatSay(client, "c-"+strconv.Itoa(j), "bench-"+strconv.Itoa(j))
		})
		lat := desk.latencies(b, sent)
		_ = client.Close()
		desk.close()
		stopChat()
		bg.stop()

		relay, bareDesk := newBareRelay(b)
		bareClient := dialBenchChat(b, relay.srv.URL, "/chat")
		sent = paced(b, benchLatencyMessages, benchLatencyRate, 1, func(j int) error {
			return chatSay(bareClient, "c-"+strconv.Itoa(j), "bench-"+strconv.Itoa(j))
		})
		base := bareDesk.latencies(b, sent)
		_ = bareClient.Close()
		bareDesk.close()
		relay.close()

		b.ReportMetric(pctl(lat, 0.50), "p50-µs")
		b.ReportMetric(pctl(lat, 0.99), "p99-µs")
		b.ReportMetric(pctl(base, 0.50), "bare-p50-µs")
		b.ReportMetric(pctl(base, 0.99), "bare-p99-µs")
	}
}
