package videopage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/channels/video/videotest"
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

// participant is a pion participant (videotest.Client).
type participant struct {
	*videotest.Client
	t    *testing.T
	peer *sfutest.Peer
}

func dialParticipant(t *testing.T, wsURL, name, token string) *participant {
	t.Helper()
	c := videotest.Dial(t, wsURL, name, token)
	return &participant{Client: c, t: t, peer: c.Peer}
}

func (p *participant) send(typ string, data any) string { return p.Send(typ, data) }

func (p *participant) await(ctx context.Context, typ string) video.Frame {
	p.t.Helper()
	return p.Await(ctx, typ)
}
