package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/media/sfu/sfutest"
)

// videoClient is a pion participant of a gateway's room: a /ws/video
// connection and an sfutest.Peer.
type videoClient struct {
	t      *testing.T
	name   string
	conn   *websocket.Conn
	peer   *sfutest.Peer
	wmu    sync.Mutex
	next   atomic.Int64
	frames chan video.Frame
	chats  chan video.ChatOut
	dc     *webrtc.DataChannel
}

// dialVideo connects to base's /ws/video with token.
func dialVideo(t *testing.T, base, name, token string) *videoClient {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{video.Subprotocol, "bearer." + token}, HandshakeTimeout: 5 * time.Second}
	conn, res, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+video.WSPath, nil)
	if err != nil {
		t.Fatalf("%s: dial: %v (%v)", name, err, res)
	}
	c := &videoClient{t: t, name: name, conn: conn, frames: make(chan video.Frame, 256), chats: make(chan video.ChatOut, 16)}
	c.peer, err = sfutest.NewPeer(name, func(s sfutest.Signal) {
		if s.Cand != nil {
			c.send(video.TypeCandidate, *s.Cand)
		} else {
			c.send(s.Desc.Type.String(), *s.Desc)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			var f video.Frame
			if err := conn.ReadJSON(&f); err != nil {
				return
			}
			switch f.Type {
			case video.TypeOffer, video.TypeAnswer:
				var d webrtc.SessionDescription
				_ = json.Unmarshal(f.Data, &d)
				_ = c.peer.Handle(sfutest.Signal{Desc: &d})
			case video.TypeCandidate:
				var cand webrtc.ICECandidateInit
				_ = json.Unmarshal(f.Data, &cand)
				_ = c.peer.Handle(sfutest.Signal{Cand: &cand})
			default:
				c.frames <- f
			}
		}
	}()
	t.Cleanup(func() {
		_ = conn.Close()
		_ = c.peer.Close()
		<-done
	})
	return c
}

func (c *videoClient) send(typ string, data any) string {
	id := fmt.Sprint(c.next.Add(1))
	f := video.Frame{V: 1, Type: typ, ID: id}
	if data != nil {
		f.Data, _ = json.Marshal(data)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.conn.WriteJSON(f)
	return id
}

// await returns the next frame of typ, skipping others.
func (c *videoClient) await(ctx context.Context, typ string) video.Frame {
	c.t.Helper()
	for {
		select {
		case f := <-c.frames:
			if f.Type == typ {
				return f
			}
		case <-ctx.Done():
			c.t.Fatalf("%s: no %s frame: %v", c.name, typ, ctx.Err())
		}
	}
}

// request sends a request and returns its ack (failing on an error).
func (c *videoClient) request(ctx context.Context, typ string, data any) video.Frame {
	c.t.Helper()
	id := c.send(typ, data)
	for {
		select {
		case f := <-c.frames:
			if f.ID == id && f.Type == video.TypeAck {
				return f
			}
			if f.ID == id {
				c.t.Fatalf("%s: %s: %s %s", c.name, typ, f.Type, f.Data)
			}
		case <-ctx.Done():
			c.t.Fatalf("%s: no answer to %s: %v", c.name, typ, ctx.Err())
		}
	}
}

// publish adds Opus and VP8 tracks and the chat channel, then offers.
func (c *videoClient) publish() {
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
