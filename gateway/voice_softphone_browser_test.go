package gateway

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/media"
)

// TestSoftphoneInChromium: an RM takes a call on the desk page in headless
// Chromium with a fake microphone. They log in on /desk/, go available
// and turn the softphone on; the bank's trunk (sipp) calls; the RM
// accepts the offer in the page, and the call is bridged to the page
// (WebRTC, PCMU): RTP flows both ways, counted on the gateway's legs in
// each direction and in the page's own inbound-rtp statistics
// (getStats); the RM hangs up in the page: the trunk gets the gateway's
// BYE, the desk shows the call ended by the RM and the conversation goes
// to wrap-up. A screenshot of the call is saved (in
// $AIRBRANCH_TEST_ARTIFACTS when set).
func TestSoftphoneInChromium(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	needTool(t, "sipp", "sip-tester")
	cfg := configs.Default()
	cfg.Secrets.JWTSecret = testSecret
	voiceConfig(cfg)
	r, _ := startVoice(t, cfg)
	api := &apiDesk{t: t, base: r.base, rm: rmToken(t, testSecret, demoRM, demoRMTeam), admin: adminToken(t, testSecret)}
	b := newSoftphoneBrowser(t, exe)

	b.do("log in, go available, turn the softphone on",
		chromedp.Navigate(r.base+"/desk/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), api.rm),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="connected"]`)),
		chromedp.Click(chromedp.ID("presence-available")),
		chromedp.WaitVisible(chromedp.CSS(`#presence[data-state="available"]`)),
		chromedp.Click(chromedp.ID("softphone-toggle")),
		chromedp.WaitVisible(chromedp.CSS(`#softphone[data-state="idle"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#softphone-toggle[aria-pressed="true"]`)),
	)

	call := placeCallScenario(t, r.sipAddr(), "trunk_call_rm_hangup.xml")
	call.waitMusic()
	b.do("see the call offered",
		chromedp.WaitVisible(chromedp.CSS(`.offer button.accept`)),
		chromedp.WaitVisible(chromedp.CSS(`#call-state[data-state="offered"]`)),
	)
	id := conversation.ConversationID(b.eval(`document.querySelector(".offer").dataset.conversationId`))
	if id == "" {
		t.Fatal("the offer names no conversation")
	}
	b.do("accept in the page",
		chromedp.Click(chromedp.CSS(`.offer button.accept`)),
		chromedp.WaitVisible(chromedp.CSS(`#softphone[data-state="in_call"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#call-state[data-state="bridged"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#softphone-hangup`)),
	)
	api.waitStatus(string(id), conversation.StatusActive, demoRM)

	// The caller talks for 3 s and hears the page's fake microphone.
	heard := call.listen(3*time.Second, softCallerAudio, nil)
	waitFor(t, "the page's inbound-rtp statistics", func() bool {
		n, _ := strconv.Atoi(b.eval(`document.getElementById("softphone").dataset.packetsReceived || "0"`))
		return n >= 100
	})
	var st softphoneStats
	waitFor(t, "the gateway's leg counters", func() bool {
		var ok bool
		st, ok = r.g.voice.soft.stats(id)
		return ok && st.Caller.PacketsIn >= 100 && st.RM.PacketsOut >= 100 && st.WebRTC.ToBrowser >= 100 &&
			st.WebRTC.FromBrowser >= 100 && st.RM.PacketsIn >= 100 && st.Caller.PacketsOut >= 100
	})
	inbound := b.eval(`document.getElementById("softphone").dataset.packetsReceived`)
	sent := b.eval(`document.getElementById("softphone").dataset.packetsSent`)
	t.Logf("caller heard %d packets; page: inbound-rtp packetsReceived %s, outbound-rtp packetsSent %s; gateway legs: caller in %d out %d, rm side in %d out %d, to browser %d, from browser %d",
		heard, inbound, sent, st.Caller.PacketsIn, st.Caller.PacketsOut, st.RM.PacketsIn, st.RM.PacketsOut, st.WebRTC.ToBrowser, st.WebRTC.FromBrowser)
	if heard < 100 {
		t.Errorf("the caller heard %d packets from the page in 3 s, want at least 100 (20 ms frames)", heard)
	}
	b.screenshot("softphone-call.png")

	b.do("hang up in the page",
		chromedp.Click(chromedp.ID("softphone-hangup")),
		chromedp.WaitVisible(chromedp.CSS(`#softphone[data-state="idle"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#call-state[data-state="ended"][data-ended-by="rm"]`)),
	)
	call.sipp.wait(t) // the trunk took the gateway's BYE
	api.waitStatus(string(id), conversation.StatusWrapUp, demoRM)
	waitFor(t, "the softphone call forgotten", func() bool { _, ok := r.g.voice.soft.stats(id); return !ok })
}

// listen sends the caller's audio every 20 ms for d and counts the RTP
// packets the gateway sends the caller meanwhile (the RM's side, once
// bridged; what was waiting before is read and dropped first): all of
// them when want is nil, else those whose payload is want, in PCMU.
func (c *trunkCall) listen(d time.Duration, audio, want []byte) int {
	c.t.Helper()
	buf := make([]byte, 2048)
	// What came before (music on hold) is not counted: 100 ms of reading
	// empties the socket's queue.
	_ = c.rtp.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	for {
		if _, err := c.rtp.Read(buf); err != nil {
			break
		}
	}
	stop, sent := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sent)
		pkt := make([]byte, 12+len(audio))
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			pkt[0], pkt[1] = 0x80, 0
			pkt[2], pkt[3] = byte(i>>8), byte(i)
			ts := uint32(i * 160)
			pkt[4], pkt[5], pkt[6], pkt[7] = byte(ts>>24), byte(ts>>16), byte(ts>>8), byte(ts)
			pkt[8], pkt[9], pkt[10], pkt[11] = 0x5e, 0xed, 0, 1
			copy(pkt[12:], audio)
			_, _ = c.rtp.WriteToUDPAddrPort(pkt, c.gwRTP)
		}
	}()
	defer func() {
		close(stop)
		<-sent
	}()
	n := 0
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		_ = c.rtp.SetReadDeadline(end)
		m, err := c.rtp.Read(buf)
		if err != nil {
			break
		}
		if want == nil {
			n++
		} else if h, err := media.ParseRTPHeader(buf[:m]); err == nil && h.PayloadType == media.PayloadPCMU && bytes.Equal(buf[h.PayloadOffset:h.PayloadEnd], want) {
			n++
		}
	}
	return n
}

// chromiumPath returns a Chromium binary, skipping the test without one
// unless AIRBRANCH_TEST_REQUIRE_TOOLS=1.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return needTool(t, "chromium", "chromium")
}

// softphoneBrowser is one headless Chromium tab with a fake microphone
// (Chromium's beep) that the page may use without asking.
type softphoneBrowser struct {
	t   *testing.T
	ctx context.Context
}

func newSoftphoneBrowser(t *testing.T, exe string) *softphoneBrowser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
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
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	if err := chromedp.Do(ctx); err != nil {
		cancelTab()
		cancelAlloc()
		t.Fatalf("start %s: %v", exe, err)
	}
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	return &softphoneBrowser{t: t, ctx: ctx}
}

// do runs steps within 20 s; on failure it saves a screenshot and fails
// the test naming the step.
func (b *softphoneBrowser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.screenshot("softphone-failed.png")
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression giving a string.
func (b *softphoneBrowser) eval(expr string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// screenshot saves the page as name in $AIRBRANCH_TEST_ARTIFACTS, else
// in the test's temporary directory.
func (b *softphoneBrowser) screenshot(name string) {
	b.t.Helper()
	dir := os.Getenv("AIRBRANCH_TEST_ARTIFACTS")
	if dir == "" {
		dir = b.t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(b.ctx), 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", p)
}
