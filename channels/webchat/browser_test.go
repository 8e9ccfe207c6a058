package webchat

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"

	"github.com/airbranch/airbranch/channels/conversation"
)

// requireToolsEnv makes tests that need an external program fail, rather
// than skip, when it is missing.
const requireToolsEnv = "AIRBRANCH_TEST_REQUIRE_TOOLS"

// chromiumPath finds Chromium (Debian package chromium), or skips.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(requireToolsEnv) == "1" {
		t.Fatal("chromium not found (apt-get install chromium) and " + requireToolsEnv + "=1")
	}
	t.Skip("chromium not found (apt-get install chromium)")
	return ""
}

// browser starts a headless Chromium with a fresh profile and returns a
// tab's context; everything is stopped at the end of the test.
func browser(t *testing.T) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelTab(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// TestChatPageInBrowser drives the /chat/ page in headless Chromium: the
// client pastes a token, writes, sees its message stored, gets the RM's
// reply (with its name, typing before it) and sends receipts; loses the
// connection while the RM writes and while it writes itself, and on
// reconnecting gets the RM's message and stores its own; after a reload
// the whole history is back.
func TestChatPageInBrowser(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// A gate in front of /ws/chat to cut the link: while shut, new
	// connections get 503 and the page keeps retrying.
	var shut atomic.Bool
	mux := http.NewServeMux()
	handler := h.a.Handler()
	mux.HandleFunc(WSPath, func(w http.ResponseWriter, r *http.Request) {
		if shut.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		handler.ServeHTTP(w, r)
	})
	mux.Handle(PagePrefix, handler)
	srv := newTestServer(t, mux)
	ctx := browser(t)
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(tctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	waitText := func(what, js string) {
		t.Helper()
		tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if _, err := chromedp.Run(tctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
	}

	tok := h.token("app-user-1", nil)
	run("open the page and sign in",
		chromedp.Navigate(srv.URL+PagePrefix),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SetValue(chromedp.ID("token"), tok),
		chromedp.Click(chromedp.ID("connect")),
	)
	waitText("connected", `document.getElementById('status').dataset.state === 'connected'`)
	run("write", chromedp.SetValue(chromedp.ID("text"), "Hello, I need help with a transfer"), chromedp.Click(chromedp.ID("send")))
	waitText("message stored", `[...document.querySelectorAll('.msg[data-from=client]')].some(e => e.dataset.state === 'stored')`)
	h.bank.mu.Lock()
	convID := h.bank.open["cus-1"]
	h.bank.mu.Unlock()
	waitText("waiting", `document.getElementById('conversation').dataset.state === 'waiting'`)

	conv := h.bank.update(t, convID, func(c *conversation.Conversation) { c.Status, c.AssigneeID = conversation.StatusActive, "rm-1" })
	h.a.ConversationChanged(context.Background(), conv)
	waitText("assigned", `document.getElementById('conversation').textContent.includes('Ada Lee')`)
	if err := h.a.Typing(context.Background(), "cus-1", convID); err != nil {
		t.Fatal(err)
	}
	waitText("typing shown", `!document.getElementById('typing').hidden`)
	reply := h.bank.rmSend(t, h.a, convID, "rm-1", "Good morning, which transfer?", nil)
	waitText("reply shown", `[...document.querySelectorAll('.msg[data-from=rm]')].some(e => e.textContent.includes('which transfer?'))`)
	waitFor(t, "the reply read", func() bool { return h.bank.message(t, reply.ID).Status == conversation.DeliveryRead })

	// The link drops; the RM and the client both write meanwhile.
	shut.Store(true)
	h.a.hub.each("", func(s *session) { s.shut(websocket.CloseServiceRestart, "test: link lost") })
	waitText("disconnected", `document.getElementById('status').dataset.state !== 'connected'`)
	away := h.bank.rmSend(t, h.a, convID, "rm-1", "Sent while you were away", nil)
	run("write while away", chromedp.SetValue(chromedp.ID("text"), "Written while offline"), chromedp.Click(chromedp.ID("send")))
	shut.Store(false)
	waitText("reconnected", `document.getElementById('status').dataset.state === 'connected'`)
	waitText("missed reply shown", `[...document.querySelectorAll('.msg[data-from=rm]')].some(e => e.textContent.includes('while you were away'))`)
	waitText("offline message stored", `[...document.querySelectorAll('.msg[data-from=client]')].every(e => e.dataset.state === 'stored')`)
	waitFor(t, "the missed reply delivered", func() bool { return h.bank.message(t, away.ID).Status == conversation.DeliveryRead })
	msgs, err := h.bank.Messages(context.Background(), convID, 0)
	if err != nil || len(msgs) != 4 || msgs[3].Text != "Written while offline" {
		t.Fatalf("stored after the reconnect: %d messages, %v", len(msgs), err)
	}

	run("reload", chromedp.Reload())
	waitText("history after reload", `document.querySelectorAll('#messages .msg').length === 4 &&
		document.getElementById('status').dataset.state === 'connected'`)
	texts, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#messages .msg')].map(e => e.dataset.from + ':' + e.firstChild.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"client:Hello, I need help with a transfer", "rm:Ada Lee", "rm:Ada Lee", "client:Written while offline"}
	if strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Fatalf("history %q, want %q", texts, want)
	}
	if n := h.bank.storedCount(); n != 4 {
		t.Fatalf("%d messages stored, want 4", n)
	}
}
