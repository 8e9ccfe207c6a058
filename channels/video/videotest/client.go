// Package videotest is a /ws/video participant for tests: a signalling
// connection (channels/video's protocol, PROTOCOL.md) driving a pion peer
// (media/sfu/sfutest), with helpers to send requests and wait for frames.
// The gateway's and the video page's tests share it.
package videotest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/media/sfu/sfutest"
)

// Client is one participant: its name (the identity it joins as), the
// /ws/video connection and the pion peer (Peer) whose offers, answers and
// candidates travel over it. Frames other than SDP and candidates queue
// for Await and Request (256 at most).
type Client struct {
	t      testing.TB
	Name   string
	Peer   *sfutest.Peer
	conn   *websocket.Conn
	wmu    sync.Mutex
	next   atomic.Int64
	frames chan video.Frame
}

// Dial connects to wsURL (ws://host/ws/video) with the join token as a
// subprotocol, as a browser sends it; the connection and the peer close
// when the test ends. It fails the test when the upgrade is refused.
func Dial(t testing.TB, wsURL, name, token string) *Client {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{video.Subprotocol, "bearer." + token}, HandshakeTimeout: 5 * time.Second}
	conn, res, err := d.Dial(wsURL, nil)
	if err != nil {
		t.Fatalf("%s: dial: %v (%v)", name, err, res)
	}
	c := &Client{t: t, Name: name, conn: conn, frames: make(chan video.Frame, 256)}
	c.Peer, err = sfutest.NewPeer(name, func(s sfutest.Signal) {
		if s.Cand != nil {
			c.Send(video.TypeCandidate, *s.Cand)
		} else {
			c.Send(s.Desc.Type.String(), *s.Desc)
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
				_ = c.Peer.Handle(sfutest.Signal{Desc: &d})
			case video.TypeCandidate:
				var cand webrtc.ICECandidateInit
				_ = json.Unmarshal(f.Data, &cand)
				_ = c.Peer.Handle(sfutest.Signal{Cand: &cand})
			default:
				c.frames <- f
			}
		}
	}()
	t.Cleanup(func() {
		_ = conn.Close()
		_ = c.Peer.Close()
		<-done
	})
	return c
}

// Send writes a request of typ with data (nil for none) and returns its id.
func (c *Client) Send(typ string, data any) string {
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

// Await returns the next frame of typ, skipping others; it fails the test
// when ctx ends first.
func (c *Client) Await(ctx context.Context, typ string) video.Frame {
	c.t.Helper()
	for {
		select {
		case f := <-c.frames:
			if f.Type == typ {
				return f
			}
		case <-ctx.Done():
			c.t.Fatalf("%s: no %s frame: %v", c.Name, typ, ctx.Err())
		}
	}
}

// Request sends a request and returns its ack; an error frame for it, or
// ctx ending first, fails the test.
func (c *Client) Request(ctx context.Context, typ string, data any) video.Frame {
	c.t.Helper()
	id := c.Send(typ, data)
	for {
		select {
		case f := <-c.frames:
			if f.ID == id && f.Type == video.TypeAck {
				return f
			}
			if f.ID == id {
				c.t.Fatalf("%s: %s: %s %s", c.Name, typ, f.Type, f.Data)
			}
		case <-ctx.Done():
			c.t.Fatalf("%s: no answer to %s: %v", c.Name, typ, ctx.Err())
		}
	}
}
