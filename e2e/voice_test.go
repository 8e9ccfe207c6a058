package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/airbranch/airbranch/internal/browsertest"
)

// Voice scenarios: real SIP clients (sipp as the bank's trunk and as a
// desk phone, baresip as a desk phone and as a trunk-side caller, the
// desk console's softphone in headless Chromium) against the two
// instances' UDP SIP listeners, with the demo directory's clients and the
// shipped routing policies. The trunk's caller ids are asserted by
// P-Asserted-Identity (the suite's trunk "loopback" trusts it), which the
// private-bank policy needs.

// The tones each side says, told apart by frequency: the trunk caller's
// socket sends voiceCallerHz, baresip's microphone is a sine of
// voiceBaresipHz; music on hold stays under 530 Hz.
const (
	voiceCallerHz  = 1000
	voiceBaresipHz = 1400
)

// TestVoiceOwnRMOnBaresipPhone: a private-bank client (cus-pb-0001,
// +85255500001) calls instance A through the trunk (sipp); their own RM
// rm-pb-01 accepts on the desk and their baresip phone, registered with
// instance B, answers by itself: A bridges the call (RTP both ways: the
// caller hears the phone's tone and the phone hears the caller's). The
// caller hangs up: the conversation (voice, cus-pb-0001, team
// private_bank) goes to rm-pb-01's wrap-up, the desk having heard the
// call offered, ringing, bridged and ended; the desk closes it.
func TestVoiceOwnRMOnBaresipPhone(t *testing.T) {
	c := need(t)
	voiceNeedTool(t, "sipp", "sip-tester")
	voiceNeedTool(t, "baresip", "baresip-core")
	adm := c.admin(t)
	voiceNoBindingsAtEnd(t, c, "rm-pb-01")
	phone := voiceStartBaresipPhone(t, c.b.SIPAddr(), "rm-pb-01", voiceBaresipHz)
	d := c.openDesk(t, "rm-pb-01", true, false)

	since := time.Now()
	call := voicePlaceCall(t, c.a.SIPAddr(), "trunk_call.xml", "+85255500001")
	call.waitAudio()
	cv := voiceWaitConversation(t, adm, "cus-pb-0001", since, "active", "rm-pb-01", 45*time.Second)
	voiceLanded(t, cv, "cus-pb-0001", "rm-pb-01", "private_bank")
	voiceWaitCalls(t, d, cv.ID, "offered", "ringing phone", "bridged phone")
	phone.waitEvent("CALL_ESTABLISHED", 10*time.Second)

	packets, tone := call.talk(3*time.Second, voiceCallerHz, voiceBaresipHz)
	t.Logf("the caller got %d RTP packets in 3 s, %d of them the phone's %d Hz tone", packets, tone, voiceBaresipHz)
	if tone < 50 {
		t.Errorf("the caller heard the phone's tone in %d packets of %d in 3 s, want at least 50 (20 ms frames)", tone, packets)
	}
	call.hangUp()
	call.sipp.wait(t, 30*time.Second)
	phone.waitEvent("CALL_CLOSED", 20*time.Second) // the gateway hung up the phone's leg
	heard, err := voiceHeardSeconds(phone.heard(), voiceCallerHz)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the phone heard the caller's %d Hz tone for %.1f s", voiceCallerHz, heard)
	if heard < 1 {
		t.Errorf("the phone heard the caller's tone for %.1f s of the 3 s they talked, want at least 1 s", heard)
	}

	cv = voiceWaitConversation(t, adm, "cus-pb-0001", since, "wrap_up", "rm-pb-01", 20*time.Second)
	voiceLanded(t, cv, "cus-pb-0001", "rm-pb-01", "private_bank")
	voiceWaitCalls(t, d, cv.ID, "ended phone client completed")
	if lines := c.a.LogLines(`"msg":"rm phone answered; call bridged"`); len(lines) == 0 {
		t.Error("instance A, which took the INVITE, did not log the bridge")
	}
	sentences, err := adm.decisions(cv.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("decisions: %q", sentences)
	if !slices.ContainsFunc(sentences, func(s string) bool { return strings.Contains(s, "own RM rm-pb-01") }) {
		t.Errorf("no decision offers the call to the own RM rm-pb-01: %q", sentences)
	}
	voiceFinish(t, adm, d, cv.ID)
	voiceNoDeskErrors(t, d)
}

// TestVoiceOwnRMBusyGoesToDeputy: while rm-pb-01 is on a call (a trunk
// call from cus-pb-0001 to instance A, bridged to their baresip phone),
// another of their private clients, cus-pb-0004 (+442079460004), calls
// instance B from baresip on the trunk side (through the bank's SBC,
// which asserts the number). Per the private-bank policy the call waits
// at the own-RM step (20 s), then goes to rm-pb-01's deputy in the
// directory, rm-pb-02, whose sipp phone (registered with A) answers and
// echoes: the caller hears their own voice back through the gateway. The
// decision sentences say so. Both callers hang up; both conversations go
// to their RM's wrap-up and are closed.
func TestVoiceOwnRMBusyGoesToDeputy(t *testing.T) {
	c := need(t)
	voiceNeedTool(t, "sipp", "sip-tester")
	voiceNeedTool(t, "baresip", "baresip-core")
	adm := c.admin(t)
	voiceNoBindingsAtEnd(t, c, "rm-pb-01", "rm-pb-02")
	ownPhone := voiceStartBaresipPhone(t, c.b.SIPAddr(), "rm-pb-01", voiceBaresipHz)
	deputyPhone := voiceRegisterSippPhone(t, c.a.SIPAddr(), "rm-pb-02")
	own := c.openDesk(t, "rm-pb-01", true, false)
	deputy := c.openDesk(t, "rm-pb-02", true, false)

	// rm-pb-01 takes a call: one call is their whole capacity.
	since := time.Now()
	first := voicePlaceCall(t, c.a.SIPAddr(), "trunk_call.xml", "+85255500001")
	first.waitAudio()
	cv1 := voiceWaitConversation(t, adm, "cus-pb-0001", since, "active", "rm-pb-01", 45*time.Second)
	voiceWaitCalls(t, own, cv1.ID, "bridged phone")
	ownPhone.waitEvent("CALL_ESTABLISHED", 10*time.Second)

	// cus-pb-0004 calls instance B from baresip.
	sbc := voiceStartSBC(t, c.b.SIPAddr(), "+442079460004")
	caller := voiceStartBaresip(t, "caller cus-pb-0004", "<sip:+442079460004@127.0.0.1;transport=udp>;regint=0;audio_codecs=PCMU", voiceBaresipHz)
	since2 := time.Now()
	caller.command("dial", "sip:"+bankNumber+"@"+sbc.Addr())
	caller.waitEvent("CALL_ESTABLISHED", 20*time.Second) // the gateway answers, then the caller waits
	cv2 := voiceWaitConversation(t, adm, "cus-pb-0004", since2, "active", "rm-pb-02", 75*time.Second)
	voiceLanded(t, cv2, "cus-pb-0004", "rm-pb-02", "private_bank")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	offer, err := deputy.waitOffer(ctx, "cus-pb-0004")
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	waited := offer.At.Sub(cv2.CreatedAt)
	t.Logf("cus-pb-0004's call was offered to the deputy %.1f s after it arrived", waited.Seconds())
	if waited < 19*time.Second || waited > 40*time.Second {
		t.Errorf("offered to the deputy %s after the call arrived, want after the own-RM step's 20 s (and well before its 20 s more)", waited)
	}
	for _, o := range own.Offers() {
		if o.CustomerID == "cus-pb-0004" {
			t.Errorf("the busy own RM rm-pb-01 was offered cus-pb-0004's call (%s)", o.OfferID)
		}
	}
	sentences, err := adm.decisions(cv2.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("decisions: %q", sentences)
	if !slices.ContainsFunc(sentences, func(s string) bool {
		return strings.Contains(s, "own RM rm-pb-01 at capacity") && strings.Contains(s, "waiting") && strings.Contains(s, "step 2 (deputy) joins in")
	}) {
		t.Errorf("no decision says the call waits at the own-RM step while rm-pb-01 is at capacity: %q", sentences)
	}
	if !slices.ContainsFunc(sentences, func(s string) bool {
		return strings.Contains(s, "own RM rm-pb-01 at capacity") && strings.Contains(s, "offered to deputy rm-pb-02 at step 2")
	}) {
		t.Errorf("no decision says the call went to the deputy rm-pb-02 at step 2: %q", sentences)
	}
	voiceWaitCalls(t, deputy, cv2.ID, "offered", "ringing phone", "bridged phone")

	time.Sleep(3 * time.Second) // the caller talks; the deputy's phone echoes
	caller.command("hangup", "")
	caller.waitEvent("CALL_CLOSED", 10*time.Second)
	deputyPhone.wait(t, 30*time.Second) // the gateway hung up the deputy's phone
	heard, err := voiceHeardSeconds(caller.heard(), voiceBaresipHz)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("the caller heard their own %d Hz tone echoed by the deputy's phone for %.1f s", voiceBaresipHz, heard)
	if heard < 1 {
		t.Errorf("the caller heard the deputy phone's echo for %.1f s of the 3 s bridged, want at least 1 s", heard)
	}
	cv2 = voiceWaitConversation(t, adm, "cus-pb-0004", since2, "wrap_up", "rm-pb-02", 20*time.Second)
	voiceWaitCalls(t, deputy, cv2.ID, "ended phone client completed")
	voiceFinish(t, adm, deputy, cv2.ID)

	first.hangUp()
	first.sipp.wait(t, 30*time.Second)
	voiceWaitConversation(t, adm, "cus-pb-0001", since, "wrap_up", "rm-pb-01", 20*time.Second)
	voiceWaitCalls(t, own, cv1.ID, "ended phone client completed")
	voiceFinish(t, adm, own, cv1.ID)
	voiceNoDeskErrors(t, own, deputy)
}

// TestVoiceSoftphoneInBrowser: rm-pb-01 works from the desk console
// (/desk/ through the balancer) in headless Chromium with a fake
// microphone, softphone on; a private-bank client calls instance B from
// the trunk (sipp). The RM accepts in the page, the call is bridged to
// the page over WebRTC (the caller hears the microphone; the page counts
// the packets it receives), the RM hangs up in the page (the trunk gets
// the gateway's BYE), and closes the conversation in the page from
// wrap-up.
func TestVoiceSoftphoneInBrowser(t *testing.T) {
	c := need(t)
	exe := browsertest.Chromium(t)
	voiceNeedTool(t, "sipp", "sip-tester")
	adm := c.admin(t)
	// The softphone takes only the calls held by the instance its desk
	// WebSocket is connected to (docs/desk-protocol.md, Softphone,
	// limits): a call held by the other one would ring the RM's SIP phone
	// instead. Round robin may put the page's /ws/desk on either
	// instance, so the balancer's pick sends the browser's desk WebSocket
	// to the instance the trunk calls, as a bank's balancer with SIP and
	// desk affinity would.
	held := c.b
	var picked atomic.Int32
	pick := func(r *http.Request) *instance {
		if r.URL.Path == "/ws/desk" && strings.Contains(r.UserAgent(), "HeadlessChrome") {
			picked.Add(1)
			return held
		}
		return nil
	}
	c.lb.pick.Store(&pick)
	t.Cleanup(func() { c.lb.pick.Store(nil) })
	tok, err := c.token("rm", "rm-pb-01")
	if err != nil {
		t.Fatal(err)
	}
	// A desk of the RM's own that watches the call events (it accepts
	// nothing; the page does).
	watch := c.openDesk(t, "rm-pb-01", false, false)
	b := browsertest.New(t, exe, browsertest.FakeMedia...)
	b.Do("log in, go available, turn the softphone on",
		chromedp.Navigate(c.URL()+"/desk/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), tok),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="connected"]`)),
		chromedp.Click(chromedp.ID("presence-available")),
		chromedp.WaitVisible(chromedp.CSS(`#presence[data-state="available"]`)),
		chromedp.Click(chromedp.ID("softphone-toggle")),
		chromedp.WaitVisible(chromedp.CSS(`#softphone[data-state="idle"]`)),
	)
	if picked.Load() == 0 {
		t.Fatal("the page's desk WebSocket did not go through the balancer's pick")
	}

	since := time.Now()
	call := voicePlaceCall(t, held.SIPAddr(), "trunk_call_rm_hangup.xml", "+85255500001")
	call.waitAudio()
	b.Do("see the call offered",
		chromedp.WaitVisible(chromedp.CSS(`.offer button.accept`)),
		chromedp.WaitVisible(chromedp.CSS(`#call-state[data-state="offered"]`)),
	)
	b.Do("accept in the page",
		chromedp.Click(chromedp.CSS(`.offer button.accept`)),
		chromedp.WaitVisible(chromedp.CSS(`#softphone[data-state="in_call"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#call-state[data-state="bridged"]`)),
	)
	cv := voiceWaitConversation(t, adm, "cus-pb-0001", since, "active", "rm-pb-01", 20*time.Second)
	voiceLanded(t, cv, "cus-pb-0001", "rm-pb-01", "private_bank")
	voiceWaitCalls(t, watch, cv.ID, "offered", "ringing softphone", "bridged softphone")

	packets, _ := call.talk(3*time.Second, voiceCallerHz, voiceCallerHz)
	t.Logf("the caller got %d RTP packets from the page in 3 s", packets)
	if packets < 100 {
		t.Errorf("the caller got %d RTP packets from the page in 3 s, want at least 100 (20 ms frames)", packets)
	}
	eventually(t, 10*time.Second, "the page's inbound-rtp statistics", func() error {
		n, _ := strconv.Atoi(browsertest.Eval[string](b, `document.getElementById("softphone").dataset.packetsReceived || "0"`))
		if n < 100 {
			return fmt.Errorf("the page's inbound-rtp packetsReceived is %d, want at least 100", n)
		}
		return nil
	})

	b.Do("hang up in the page",
		chromedp.Click(chromedp.ID("softphone-hangup")),
		chromedp.WaitVisible(chromedp.CSS(`#softphone[data-state="idle"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#call-state[data-state="ended"][data-ended-by="rm"]`)),
	)
	call.sipp.wait(t, 30*time.Second) // the trunk took the gateway's BYE
	voiceWaitConversation(t, adm, "cus-pb-0001", since, "wrap_up", "rm-pb-01", 20*time.Second)
	// The ended call names the device it was bridged to (the desk
	// protocol), also when the RM hung up in the page.
	voiceWaitCalls(t, watch, cv.ID, "ended softphone rm completed")

	b.Do("close the conversation in the page",
		chromedp.WaitVisible(chromedp.CSS(`#chat[data-conversation-id="`+cv.ID+`"]`)),
		chromedp.Click(chromedp.ID("close-conversation")),
	)
	eventually(t, 15*time.Second, "the conversation closed from the page", func() error {
		got, err := adm.conversation(cv.ID)
		if err != nil {
			return err
		}
		if got.Status != "closed" || got.Disposition != "resolved" {
			return fmt.Errorf("status %s, disposition %q", got.Status, got.Disposition)
		}
		return nil
	})
	b.Do("go offline in the page",
		chromedp.Click(chromedp.ID("presence-offline")),
		chromedp.WaitVisible(chromedp.CSS(`#presence[data-state="offline"]`)),
	)
	voiceNoDeskErrors(t, watch)
}
