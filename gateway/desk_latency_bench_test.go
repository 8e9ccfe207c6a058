package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/auth"
)

// Shape of the message-to-desk latency benchmarks: benchLatencyMessages
// client messages paced at benchLatencyRate per second.
const (
	benchLatencyRate     = 1000
	benchLatencyMessages = 3000
	benchSecret          = "bench-secret-of-at-least-32-bytes!!"
)

// benchGateway is a gateway serving on loopback for a benchmark, with the
// memory store and every team open around the clock.
type benchGateway struct {
	g    *Gateway
	base string
	stop func()
}

// startBenchGateway starts a gateway on cfg (edited by edit) quietly.
func startBenchGateway(b *testing.B, edit func(cfg *configs.Config)) *benchGateway {
	b.Helper()
	cfg := configs.Default()
	cfg.Secrets.JWTSecret = benchSecret
	cfg.HTTP.DrainDelay = 0
	cfg.Log.Level = "error"
	cfg.Directory.File = openAllHours(b)
	edit(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	g, err := New(ctx, cfg, NewLogger(io.Discard, "error", "json"))
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, ln) }()
	return &benchGateway{g: g, base: "http://" + ln.Addr().String(), stop: func() {
		cancel()
		<-done
		_ = g.store.Close()
	}}
}

// call makes one authenticated JSON API call and decodes the answer.
func (bg *benchGateway) call(b *testing.B, method, path, token string, body any) (int, map[string]any) {
	b.Helper()
	var rd io.Reader
	if body != nil {
		buf, _ := json.Marshal(body)
		rd = bytes.NewReader(buf)
	}
	req, _ := http.NewRequest(method, bg.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

// pctl returns the p-quantile (0..1) of d in microseconds (nearest rank).
func pctl(d []time.Duration, p float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[int(p*float64(len(s)-1))].Microseconds())
}

// deskReader is rm-pb-01's /ws/desk connection: it stamps the arrival of
// each "message" frame whose text is "bench-N" (index N).
type deskReader struct {
	conn    *websocket.Conn
	token   string
	mu      sync.Mutex
	arrived map[int]time.Time
	offers  chan string
	done    chan struct{}
}

// openDesk sets rm-pb-01 available and opens their desk socket.
func openDesk(b *testing.B, bg *benchGateway) *deskReader {
	b.Helper()
	tok, err := auth.Issue([]byte(benchSecret), auth.Principal{Subject: demoRM, Role: auth.RoleRM, Team: conversation.TeamID(demoRMTeam)}, time.Hour, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	if code, body := bg.call(b, "PUT", "/api/v1/presence", tok, map[string]any{"state": "available"}); code != http.StatusOK {
		b.Fatalf("presence: %d %v", code, body)
	}
	d := websocket.Dialer{Subprotocols: []string{"airbranch.desk.v1", "bearer." + tok}}
	conn, _, err := d.Dial("ws"+strings.TrimPrefix(bg.base, "http")+"/ws/desk", nil)
	if err != nil {
		b.Fatal(err)
	}
	r := &deskReader{conn: conn, token: tok, arrived: map[int]time.Time{}, offers: make(chan string, 4), done: make(chan struct{})}
	go r.read()
	return r
}

func (r *deskReader) read() {
	defer close(r.done)
	for {
		var f struct {
			Type string `json:"type"`
			Data struct {
				Offer struct {
					ID string `json:"id"`
				} `json:"offer"`
				Message struct {
					Text string `json:"text"`
				} `json:"message"`
			} `json:"data"`
		}
		if err := r.conn.ReadJSON(&f); err != nil {
			return
		}
		at := time.Now()
		switch f.Type {
		case "offer":
			select {
			case r.offers <- f.Data.Offer.ID:
			default:
			}
		case "message":
			if n, ok := strings.CutPrefix(f.Data.Message.Text, "bench-"); ok {
				if i, err := strconv.Atoi(n); err == nil {
					r.mu.Lock()
					r.arrived[i] = at
					r.mu.Unlock()
				}
			}
		}
	}
}

// accept waits for the offer of the client's first message and accepts
// it through the API.
func (r *deskReader) accept(b *testing.B, bg *benchGateway) {
	b.Helper()
	select {
	case id := <-r.offers:
		if code, body := bg.call(b, "POST", "/api/v1/offers/"+id+"/accept", r.token, nil); code != http.StatusOK {
			b.Fatalf("accept: %d %v", code, body)
		}
	case <-time.After(10 * time.Second):
		b.Fatal("no offer reached the desk")
	}
}

// count returns how many bench messages arrived.
func (r *deskReader) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.arrived)
}

// latencies returns, for every message sent at sent[i], the time to its
// frame on the desk; it fails when one never came.
func (r *deskReader) latencies(b *testing.B, sent []time.Time) []time.Duration {
	b.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for r.count() < len(sent) {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d messages reached the desk", r.count(), len(sent))
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]time.Duration, len(sent))
	for i, t0 := range sent {
		out[i] = r.arrived[i].Sub(t0)
	}
	return out
}

func (r *deskReader) close() {
	_ = r.conn.Close()
	<-r.done
}

// paced calls send(i) for i in [0, n) at rate per second from a pool of
// workers (so that a slow answer does not delay the next send), and
// returns when each was started.
func paced(b *testing.B, n, rate, workers int, send func(i int) error) []time.Time {
	b.Helper()
	sent := make([]time.Time, n)
	jobs := make(chan int, n)
	var wg sync.WaitGroup
	var failed sync.Once
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				sent[i] = time.Now()
				if err := send(i); err != nil {
					failed.Do(func() { b.Errorf("send %d: %v", i, err) })
				}
			}
		})
	}
	start := time.Now()
	interval := time.Second / time.Duration(rate)
	for i := range n {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return sent
}

// bareRelay is the same-run baseline of the message-to-desk benchmarks:
// a bare net/http server with a gorilla/websocket "desk" connection; each
// request (an HTTP post, or a frame on a client WebSocket) is written as
// is to the desk connection, whose client reads it. What it measures is
// the loopback HTTP or WebSocket hop in, one frame out, and the reading.
type bareRelay struct {
	srv   *httptest.Server
	desk  *websocket.Conn // the server's side
	wmu   sync.Mutex
	ready chan struct{}
}

func newBareRelay(b *testing.B) (*bareRelay, *deskReader) {
	b.Helper()
	up := websocket.Upgrader{}
	br := &bareRelay{ready: make(chan struct{})}
	forward := func(p []byte) {
		br.wmu.Lock()
		defer br.wmu.Unlock()
		_ = br.desk.WriteMessage(websocket.TextMessage, p)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/desk", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		br.desk = c
		close(br.ready)
	})
	mux.HandleFunc("POST /post", func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		p, _ := json.Marshal(map[string]any{"type": "message", "data": map[string]any{"message": map[string]any{"text": r.PostForm.Get("Body")}}})
		forward(p)
		_, _ = io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response/>`)
	})
	mux.HandleFunc("/chat", func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		for {
			var f struct {
				Data struct {
					Text string `json:"text"`
				} `json:"data"`
			}
			if err := c.ReadJSON(&f); err != nil {
				return
			}
			p, _ := json.Marshal(map[string]any{"type": "message", "data": map[string]any{"message": map[string]any{"text": f.Data.Text}}})
			forward(p)
		}
	})
	br.srv = httptest.NewServer(mux)
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(br.srv.URL, "http")+"/desk", nil)
	if err != nil {
		b.Fatal(err)
	}
	<-br.ready
	r := &deskReader{conn: conn, arrived: map[int]time.Time{}, offers: make(chan string, 1), done: make(chan struct{})}
	go r.read()
	return br, r
}

func (br *bareRelay) close() {
	if br.desk != nil {
		_ = br.desk.Close()
	}
	br.srv.Close()
}
