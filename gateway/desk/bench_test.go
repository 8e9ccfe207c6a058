package desk_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/desk"
	"github.com/airbranch/airbranch/gateway/state"
)

// rawDial opens a WebSocket to addr+path with a hand-written handshake
// and reads only the 101 answer, so the client side costs a socket and
// nothing else.
func rawDial(b *testing.B, addr, path, token string) net.Conn {
	b.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nAuthorization: Bearer %s\r\n\r\n", path, addr, token)
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.Contains(line, "101") {
		b.Fatalf("handshake: %q %v", line, err)
	}
	return c
}

// heap returns the live heap and stacks after a GC, in bytes.
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// idleBytes opens n connections to srv's path and returns the memory they
// hold, per connection (server and the raw client sockets together).
func idleBytes(b *testing.B, srv *httptest.Server, path, token string, n int) float64 {
	addr := strings.TrimPrefix(srv.URL, "http://")
	before := heap()
	conns := make([]net.Conn, 0, n)
	for i := 0; i < n; i++ {
		conns = append(conns, rawDial(b, addr, path, token))
	}
	time.Sleep(200 * time.Millisecond) // the servers have written their first frames
	per := float64(heap()-before) / float64(n)
	for _, c := range conns {
		_ = c.Close()
	}
	return per
}

// BenchmarkIdleDeskConnections measures the memory of 5,000 idle desk
// sessions (all of one RM, as tabs), beside a bare gorilla/websocket
// server that upgrades and blocks in one read per connection, measured
// the same way in the same run. Run with -benchtime 1x.
func BenchmarkIdleDeskConnections(b *testing.B) {
	const n = 5000
	for i := 0; i < b.N; i++ {
		in := newInstance(&testing.T{}, state.NewMemory())
		tok := tokenFor(&testing.T{}, rmPB01)
		desk := idleBytes(b, in.srv, desk.Path, tok, n)
		in.srv.Close()

		up := websocket.Upgrader{}
		bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			_, _, _ = c.ReadMessage()
			_ = c.Close()
		}))
		base := idleBytes(b, bare, "/", tok, n)
		bare.Close()
		b.ReportMetric(desk, "bytes/conn")
		b.ReportMetric(base, "bare-bytes/conn")
		b.ReportMetric(desk/base, "ratio")
	}
}

// BenchmarkOfferToDesk publishes offers at 200/s to 50 connected RMs'
// desks (through the hub and the store, as the router does) and measures
// the time from Publish to the frame read by the desk. Beside it, the
// same rate written straight to bare gorilla connections. Run with
// -benchtime 1x (5 s of offers).
func BenchmarkOfferToDesk(b *testing.B) {
	for i := 0; i < b.N; i++ {
		lat := offerLatencies(b)
		base := bareLatencies(b)
		b.ReportMetric(pct(lat, 0.50), "p50-µs")
		b.ReportMetric(pct(lat, 0.99), "p99-µs")
		b.ReportMetric(pct(base, 0.50), "bare-p50-µs")
		b.ReportMetric(pct(base, 0.99), "bare-p99-µs")
	}
}

const (
	benchRate    = 200
	benchOffers  = 1000
	benchDesks   = 50
	benchTimeout = 30 * time.Second
)

func pct(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	return float64(d[int(p*float64(len(d)-1))].Microseconds())
}

type stamp struct {
	SentNS int64 `json:"sent_ns"`
}

// readStamps reads frames from conn until n stamped ones arrived and
// sends their latencies on out.
func readStamps(conn *websocket.Conn, n int, out chan<- time.Duration) {
	got := 0
	for got < n {
		var f desk.Frame
		if err := conn.ReadJSON(&f); err != nil {
			return
		}
		var s stamp
		if json.Unmarshal(f.Data, &s) == nil && s.SentNS > 0 {
			out <- time.Since(time.Unix(0, s.SentNS))
			got++
		}
	}
}

func offerLatencies(b *testing.B) []time.Duration {
	t := &testing.T{}
	in := newInstance(t, state.NewMemory())
	defer in.srv.Close()
	var ids []conversation.RMID
	var principals []auth.Principal
	for _, rm := range demoRMs(b) {
		if len(ids) == benchDesks {
			break
		}
		ids = append(ids, rm.ID)
		principals = append(principals, auth.Principal{Subject: string(rm.ID), Role: auth.RoleRM, Team: rm.TeamID})
	}
	out := make(chan time.Duration, benchOffers)
	var wg sync.WaitGroup
	per := benchOffers / len(ids)
	for _, p := range principals {
		d := websocket.Dialer{Subprotocols: []string{desk.Subprotocol, "bearer." + tokenFor(t, p)}}
		conn, _, err := d.Dial("ws"+strings.TrimPrefix(in.srv.URL, "http")+desk.Path, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		wg.Go(func() { readStamps(conn, per, out) })
	}
	ctx := context.Background()
	tick := time.NewTicker(time.Second / benchRate)
	defer tick.Stop()
	for j := 0; j < per*len(ids); j++ {
		<-tick.C
		if err := in.hub.Publish(ctx, ids[j%len(ids)], desk.EventOffer, stamp{SentNS: time.Now().UnixNano()}); err != nil {
			b.Fatal(err)
		}
	}
	return collect(b, &wg, out, per*len(ids))
}

func collect(b *testing.B, wg *sync.WaitGroup, out chan time.Duration, n int) []time.Duration {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(benchTimeout):
		b.Fatal("frames missing")
	}
	close(out)
	lat := make([]time.Duration, 0, n)
	for d := range out {
		lat = append(lat, d)
	}
	if len(lat) != n {
		b.Fatalf("%d of %d frames arrived", len(lat), n)
	}
	return lat
}

func bareLatencies(b *testing.B) []time.Duration {
	up := websocket.Upgrader{}
	conns := make(chan *websocket.Conn, benchDesks)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		conns <- c
	}))
	defer srv.Close()
	out := make(chan time.Duration, benchOffers)
	var wg sync.WaitGroup
	per := benchOffers / benchDesks
	server := make([]*websocket.Conn, 0, benchDesks)
	for i := 0; i < benchDesks; i++ {
		conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		wg.Go(func() { readStamps(conn, per, out) })
		server = append(server, <-conns)
	}
	tick := time.NewTicker(time.Second / benchRate)
	defer tick.Stop()
	for j := 0; j < per*benchDesks; j++ {
		<-tick.C
		raw, _ := json.Marshal(stamp{SentNS: time.Now().UnixNano()})
		if err := server[j%benchDesks].WriteJSON(desk.Frame{V: 1, Type: desk.EventOffer, Data: raw}); err != nil {
			b.Fatal(err)
		}
	}
	return collect(b, &wg, out, per*benchDesks)
}

// demoRMs lists the demo directory's RMs.
func demoRMs(b *testing.B) []conversation.RM {
	b.Helper()
	cfg, err := configs.Load("", nil)
	if err != nil {
		b.Fatal(err)
	}
	dir, err := configs.LoadDirectory(cfg)
	if err != nil {
		b.Fatal(err)
	}
	rms, err := dir.RMs(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return rms
}
