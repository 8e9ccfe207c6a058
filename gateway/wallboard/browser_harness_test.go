package wallboard_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/airbranch/airbranch/internal/browsertest"
)

// The browser harness is internal/browsertest's; these names keep the
// tests short.

// stepTimeout bounds one browser step (browsertest.StepTimeout).
const stepTimeout = browsertest.StepTimeout

// chromium returns the path of a Chromium binary (browsertest.Chromium).
func chromium(t *testing.T) string { t.Helper(); return browsertest.Chromium(t) }

// browser is one headless Chromium tab (browsertest.Browser).
type browser struct {
	*browsertest.Browser
	t *testing.T
}

// newBrowser starts Chromium exe for the test (browsertest.New).
func newBrowser(t *testing.T, exe string) *browser {
	t.Helper()
	return &browser{Browser: browsertest.New(t, exe), t: t}
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	b.Do(what, steps...)
}

func (b *browser) text(sel string) string { b.t.Helper(); return b.Text(sel) }

func (b *browser) screenshot(name string) { b.t.Helper(); b.Screenshot(name) }

func (b *browser) consoleMessages() []chromedp.ConsoleMessage { return b.ConsoleMessages() }

// eval evaluates a JavaScript expression in the page (browsertest.Eval).
func eval[T any](b *browser, expr string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	return browsertest.Eval[T](b.Browser, expr, opts...)
}
