package video_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/media/sfu"
)

// Environment of the benchmark's server process (TestBenchServerProcess).
const (
	envBenchServer = "AIRBRANCH_VIDEO_BENCH_SERVER" // file the server writes its HTTP address to
	benchRoom      = "bench"
)

var benchSecret = []byte("video-benchmark-secret-of-32-bytes-or-more")

// TestBenchServerProcess is not a test: BenchmarkVideoVersusJanus runs
// the test binary again with envBenchServer set, so the SFU and the
// signalling server run in a process of their own whose CPU time is
// measured apart from the clients'. Without the variable it returns.
func TestBenchServerProcess(t *testing.T) {
	file := os.Getenv(envBenchServer)
	if file == "" {
		return
	}
	var log *slog.Logger
	if os.Getenv("VIDEO_BENCH_DEBUG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := sfu.New(sfu.Config{UDPAddr: net.JoinHostPort(benchIP().String(), "0")}, log)
	if err != nil {
		t.Fatal(err)
	}
	tokens, _ := video.NewTokens(benchSecret, time.Minute)
	srv, err := video.NewServer(video.Options{Config: video.Config{MaxParticipants: 50}, SFU: s, Tokens: tokens, Sink: &sink{got: make(chan struct{}, 1)},
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.CreateRoom(video.RoomSpec{ID: benchRoom, ConversationID: "conv-bench"}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(video.WSPath, srv)
	hs := &http.Server{Handler: mux}
	go func() { _ = hs.Serve(ln) }()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := os.WriteFile(file, []byte(ln.Addr().String()), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = srv.Run(ctx)
	_ = hs.Close()
	_ = s.Close()
}

// oursClient is one benchmark participant's signalling with our server.
type oursClient struct {
	conn *websocket.Conn
	pc   *webrtc.PeerConnection
	wmu  sync.Mutex
	n    int
	done chan struct{}
}

// dialOurs connects pc to the bench room as role and identity, joins,
// and negotiates: pc's own offer first, then the server's offers.
func dialOurs(ctx context.Context, addr string, role video.Role, identity string, pc *webrtc.PeerConnection) (*oursClient, error) {
	tokens, _ := video.NewTokens(benchSecret, time.Minute)
	tok, _, err := tokens.Issue(video.Grant{Room: benchRoom, Role: role, Identity: identity}, time.Hour, time.Now())
	if err != nil {
		return nil, err
	}
	d := websocket.Dialer{Subprotocols: []string{video.Subprotocol, "bearer." + tok}, HandshakeTimeout: 10 * time.Second}
	conn, _, err := d.DialContext(ctx, "ws://"+addr+video.WSPath, nil)
	if err != nil {
		return nil, err
	}
	c := &oursClient{conn: conn, pc: pc, done: make(chan struct{})}
	joined := make(chan error, 1)
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if cand != nil {
			c.send(video.TypeCandidate, cand.ToJSON())
		}
	})
	go func() {
		defer close(c.done)
		for {
			var f video.Frame
			if err := conn.ReadJSON(&f); err != nil {
				return
			}
			switch f.Type {
			case video.TypeWelcome:
				c.send(video.TypeJoin, video.JoinRequest{})
			case video.TypeAck:
				var a video.JoinAck
				if json.Unmarshal(f.Data, &a) == nil && a.State == video.StateJoined {
					joined <- nil
				}
			case video.TypeError:
				select {
				case joined <- fmt.Errorf("%w: error frame %s", errBench, f.Data):
				default:
				}
			case video.TypeAnswer:
				var sd webrtc.SessionDescription
				_ = json.Unmarshal(f.Data, &sd)
				_ = pc.SetRemoteDescription(sd)
			case video.TypeOffer:
				var sd webrtc.SessionDescription
				_ = json.Unmarshal(f.Data, &sd)
				if pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
					continue
				}
				if pc.SetRemoteDescription(sd) != nil {
					continue
				}
				a, err := pc.CreateAnswer(nil)
				if err == nil && pc.SetLocalDescription(a) == nil {
					c.send(video.TypeAnswer, a)
				}
			case video.TypeCandidate:
				var ci webrtc.ICECandidateInit
				_ = json.Unmarshal(f.Data, &ci)
				_ = pc.AddICECandidate(ci)
			}
		}
	}()
	select {
	case err := <-joined:
		if err != nil {
			c.close()
			return nil, err
		}
	case <-ctx.Done():
		c.close()
		return nil, ctx.Err()
	}
	o, err := pc.CreateOffer(nil)
	if err == nil {
		err = pc.SetLocalDescription(o)
	}
	if err != nil {
		c.close()
		return nil, err
	}
	c.send(video.TypeOffer, o)
	return c, nil
}

func (c *oursClient) send(typ string, data any) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.n++
	f := video.Frame{V: 1, Type: typ, ID: fmt.Sprint(c.n)}
	f.Data, _ = json.Marshal(data)
	_ = c.conn.WriteJSON(f)
}

func (c *oursClient) close() {
	_ = c.conn.Close()
	<-c.done
}
