package videopage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/internal/browsertest"
	"github.com/airbranch/airbranch/media/sfu/sfutest"
)

// The browser harness is internal/browsertest's, with a fake camera and
// microphone and loopback ICE (browsertest.FakeMedia).

// browser is one headless Chromium tab (browsertest.Browser).
type browser struct {
	*browsertest.Browser
	t *testing.T
}

// chromium returns the path of a Chromium binary (browsertest.Chromium).
func chromium(t *testing.T) string { t.Helper(); return browsertest.Chromium(t) }

// newBrowser starts Chromium exe with browsertest.FakeMedia.
func newBrowser(t *testing.T, exe string) *browser {
	t.Helper()
	return &browser{Browser: browsertest.New(t, exe, browsertest.FakeMedia...), t: t}
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.Do(what, steps...)
}

// consoleLines returns what the page wrote to the browser's console.
func (b *browser) consoleLines() []string {
	var out []string
	for _, m := range b.ConsoleMessages() {
		out = append(out, fmt.Sprint(m))
	}
	return out
}

// evalJSON evaluates a JavaScript expression (awaiting a promise) and
// decodes its JSON value into v.
func (b *browser) evalJSON(expr string, v any) {
	b.t.Helper()
	s := browsertest.Eval[string](b.Browser, "(async () => JSON.stringify(await ("+expr+")))()", chromedp.EvalAwaitPromise)
	if err := json.Unmarshal([]byte(s), v); err != nil {
		b.t.Fatalf("evaluate %s: %s: %v", expr, s, err)
	}
}

func (b *browser) screenshot(name string) { b.t.Helper(); b.Screenshot(name) }

// participant is a pion participant: a /ws/video connection and a peer.
type participant struct {
	t      *testing.T
	name   string
	conn   *websocket.Conn
	peer   *sfutest.Peer
	wmu    sync.Mutex
	next   atomic.Int64
	frames chan video.Frame
}

func dialParticipant(t *testing.T, wsURL, name, token string) *participant {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{video.Subprotocol, "bearer." + token}, HandshakeTimeout: 5 * time.Second}
	conn, res, err := d.Dial(wsURL, nil)
	if err != nil {
		t.Fatalf("%s: dial: %v (%v)", name, err, res)
	}
	p := &participant{t: t, name: name, conn: conn, frames: make(chan video.Frame, 256)}
	p.peer, err = sfutest.NewPeer(name, func(s sfutest.Signal) {
		if s.Cand != nil {
			p.send(video.TypeCandidate, *s.Cand)
		} else {
			p.send(s.Desc.Type.String(), *s.Desc)
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
				_ = p.peer.Handle(sfutest.Signal{Desc: &d})
			case video.TypeCandidate:
				var c webrtc.ICECandidateInit
				_ = json.Unmarshal(f.Data, &c)
				_ = p.peer.Handle(sfutest.Signal{Cand: &c})
			default:
				p.frames <- f
			}
		}
	}()
	t.Cleanup(func() {
		_ = conn.Close()
		_ = p.peer.Close()
		<-done
	})
	return p
}

func (p *participant) send(typ string, data any) string {
	id := fmt.Sprint(p.next.Add(1))
	f := video.Frame{V: 1, Type: typ, ID: id}
	if data != nil {
		f.Data, _ = json.Marshal(data)
	}
	p.wmu.Lock()
	defer p.wmu.Unlock()
	_ = p.conn.WriteJSON(f)
	return id
}

func (p *participant) await(ctx context.Context, typ string) video.Frame {
	p.t.Helper()
	for {
		select {
		case f := <-p.frames:
			if f.Type == typ {
				return f
			}
		case <-ctx.Done():
			p.t.Fatalf("%s: no %s frame: %v", p.name, typ, ctx.Err())
		}
	}
}
