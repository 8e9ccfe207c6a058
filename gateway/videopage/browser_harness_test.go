package videopage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/media/sfu/sfutest"
)

// The browser harness follows gateway/console's (Chromium found on the
// PATH, screenshots under $AIRBRANCH_TEST_ARTIFACTS), with a fake camera
// and microphone and loopback ICE.

const stepTimeout = 20 * time.Second

var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// chromium returns a Chromium binary; without one the test skips, unless
// AIRBRANCH_TEST_REQUIRE_TOOLS=1, when it fails.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium found (tried " + strings.Join(chromiumNames, ", ") + "); on Debian: apt-get install chromium"
	if os.Getenv("AIRBRANCH_TEST_REQUIRE_TOOLS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

func artifactDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("AIRBRANCH_TEST_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

type browser struct {
	t         *testing.T
	ctx       context.Context
	artifacts string
	mu        sync.Mutex
	console   []string
}

// newBrowser starts headless Chromium with a fake camera and microphone
// (Chromium's generated test pattern and beep), the permission prompts
// answered yes, and loopback ICE candidates allowed.
func newBrowser(t *testing.T, exe string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,WebRtcHideLocalIpsWithMdns"),
		chromedp.WindowSize(1280, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	b := &browser{t: t, ctx: ctx, artifacts: artifactDir(t)}
	if err := chromedp.Do(ctx); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("start %s: %v", exe, err)
	}
	consoleCtx, stopConsole := context.WithCancel(ctx)
	messages := chromedp.Console(consoleCtx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, fmt.Sprint(m))
			b.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		stopConsole()
		<-done
		cancelTab()
		cancelAlloc()
	})
	return b
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.screenshot("failed-" + strings.ReplaceAll(what, " ", "-") + ".png")
		b.t.Fatalf("%s: %v (console: %v)", what, err, b.consoleLines())
	}
}

func (b *browser) consoleLines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// evalJSON evaluates a JavaScript expression (awaiting a promise) and
// decodes its JSON value into v.
func (b *browser) evalJSON(expr string, v any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string]("(async () => JSON.stringify(await ("+expr+")))()", chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	if err := json.Unmarshal([]byte(s), v); err != nil {
		b.t.Fatalf("evaluate %s: %s: %v", expr, s, err)
	}
}

func (b *browser) screenshot(name string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(b.artifacts, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", p)
	return p
}

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
