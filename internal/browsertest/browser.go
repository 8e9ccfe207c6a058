// Package browsertest drives a headless Chromium from Go tests (through
// chromedp and the DevTools protocol): it finds the browser (a test skips
// without one unless AIRBRANCH_TEST_REQUIRE_TOOLS=1, when it fails), runs
// steps with a time limit, saves screenshots under $AIRBRANCH_TEST_ARTIFACTS
// (a failed step's too), and keeps what the page wrote to its console. The
// RM desk console, the wallboard and the video page tests share it.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// FakeMedia are the flags of a test that uses the camera and microphone:
// Chromium's generated test pattern and beep, the permission prompts
// answered yes, loopback ICE candidates allowed, autoplay without a
// gesture, host ICE candidates as addresses.
var FakeMedia = []chromedp.ExecAllocatorOption{
	chromedp.Flag("use-fake-device-for-media-stream", true),
	chromedp.Flag("use-fake-ui-for-media-stream", true),
	chromedp.Flag("allow-loopback-in-peer-connection", true),
	chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	// Host candidates as addresses, not mDNS names (a test has no mDNS).
	chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter,WebRtcHideLocalIpsWithMdns"),
}

// StepTimeout bounds one browser step (a navigation, a wait, a click); the
// first one also waits for Chromium to start, which takes seconds on a
// loaded machine.
const StepTimeout = 30 * time.Second

// chromiumNames are the programs tried, in order, to find a Chromium.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"}

// Chromium returns the path of a Chromium binary. Without one the test
// skips, unless AIRBRANCH_TEST_REQUIRE_TOOLS=1, when it fails.
func Chromium(t testing.TB) string {
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

// ArtifactDir is where screenshots go: $AIRBRANCH_TEST_ARTIFACTS when set,
// else the test's temporary directory.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("AIRBRANCH_TEST_ARTIFACTS"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// Browser is one headless Chromium tab driven over the DevTools protocol,
// and what the page wrote to its console.
type Browser struct {
	t         testing.TB
	ctx       context.Context
	artifacts string

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// New starts Chromium (exe, from Chromium) headless, sandbox off
// (containers), without GPU, QUIC, first-run pages or any background
// traffic (the test machine's network is closed), in a fresh user-data-dir
// that chromedp creates and removes, with flags added (e.g. FakeMedia). It
// stops when the test ends.
func New(t testing.TB, exe string, flags ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-default-apps", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-features", "Translate,OptimizationHints,MediaRouter"),
		chromedp.Flag("password-store", "basic"),
		chromedp.Flag("use-mock-keychain", true),
		chromedp.WindowSize(1360, 1000),
	}
	opts = append(opts, flags...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	b := &Browser{t: t, ctx: ctx, artifacts: ArtifactDir(t)}
	// The first run starts the browser; its context is the browser's life.
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
			b.console = append(b.console, m)
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

// Do runs the steps within StepTimeout; on failure it saves a screenshot
// of the page and fails the test naming the step.
func (b *Browser) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.failShot(what)
		b.t.Fatalf("%s: %v", what, err)
	}
}

// Text returns the text content of the first element sel matches, waiting
// for it.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		b.failShot("read " + sel)
		b.t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// Eval evaluates a JavaScript expression in the page (through the
// DevTools protocol, not the page's own script), with opts (e.g. awaiting a
// promise), and fails the test when it cannot.
func Eval[T any](b *Browser, expr string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// Screenshot saves the page as name (PNG) in the artifact directory and
// logs its path.
func (b *Browser) Screenshot(name string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(b.artifacts, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", p)
}

// failShot saves a screenshot of a failed step, if the browser still can.
func (b *Browser) failShot(what string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 5*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return
	}
	p := filepath.Join(b.artifacts, "failed-"+strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(what))+".png")
	if os.WriteFile(p, png, 0o644) == nil {
		b.t.Logf("screenshot of the failure: %s", p)
	}
}

// ConsoleMessages returns what the page wrote to the browser's console.
func (b *Browser) ConsoleMessages() []chromedp.ConsoleMessage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]chromedp.ConsoleMessage(nil), b.console...)
}
