package console_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/airbranch/airbranch/channels/sms"
	"github.com/airbranch/airbranch/gateway/console"
)

// While an RM types a reply to an SMS conversation, the chat pane shows
// how it would go out (POST /api/v1/sms/segments): GSM-7 or UCS-2 and the
// number of segments, as package sms counts them (160/153 GSM-7 with
// extension characters counting two, 70/67 UCS-2), live as the text
// changes; nothing once the box is empty or the reply is sent.
func TestDeskShowsSMSSegmentsInChromium(t *testing.T) {
	exe := chromium(t)
	g := newGateway(t)
	b := newBrowser(t, exe)
	token := tokenFor(t, rmPB01)
	b.do("log in and go available",
		chromedp.Navigate(g.srv.URL+console.Prefix),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="connected"]`)),
		chromedp.Click(chromedp.ID("presence-available")),
		chromedp.WaitVisible(chromedp.CSS(`#presence[data-state="available"]`)),
	)
	r := g.smsFromClient(t, "SM-seg-1", "Please send me the fee schedule")
	g.route(t, r.ConversationID)
	b.do("accept the SMS conversation",
		chromedp.WaitVisible(chromedp.CSS(`.offer[data-conversation-id="`+string(r.ConversationID)+`"] button.accept`)),
		chromedp.Click(chromedp.CSS(".offer button.accept")),
		chromedp.WaitVisible(chromedp.CSS(`#chat[data-conversation-id="`+string(r.ConversationID)+`"][data-status="active"]`)),
	)
	if eval[bool](b, `!document.getElementById("composer-segments").hidden`) {
		t.Fatal("the preview shows before anything is typed")
	}

	// Typed key by key: the preview follows.
	const typed = "Dear Mr Chan, the fees are attached."
	b.do("type a GSM-7 reply",
		chromedp.SendKeys(chromedp.ID("composer-text"), typed),
		chromedp.WaitVisible(chromedp.CSS(`#composer-segments[data-encoding="GSM-7"][data-segments="1"]`)),
	)
	want := sms.Count(typed)
	if got := b.text("#composer-segments"); !strings.Contains(got, "GSM-7") || !strings.Contains(got, "1 segment") ||
		!strings.Contains(got, strconv.Itoa(want.Remaining)+" GSM-7 characters left") {
		t.Errorf("preview %q, want GSM-7, 1 segment, %d left", got, want.Remaining)
	}

	// Texts whose count turns on the rules: a Chinese character makes all
	// of it UCS-2; extension characters count two septets.
	cases := []struct{ name, text string }{
		{"one Chinese character", typed + " 謝謝"},
		{"71 Chinese characters", strings.Repeat("財", 71)},
		{"80 euro signs: 160 septets", strings.Repeat("€", 80)},
		{"81 euro signs: 162 septets", strings.Repeat("€", 81)},
		{"161 letters", strings.Repeat("a", 161)},
	}
	for _, c := range cases {
		p := sms.Count(c.text)
		setBox(b, c.text)
		b.do(c.name, chromedp.WaitVisible(chromedp.CSS(`#composer-segments[data-encoding="`+string(p.Encoding)+`"][data-segments="`+strconv.Itoa(p.Segments)+`"]`)))
		if got := b.text("#composer-segments"); !strings.Contains(got, strconv.Itoa(p.Segments)+" segment") {
			t.Errorf("%s: preview %q, want %d segments", c.name, got, p.Segments)
		}
	}
	if p := sms.Count(strings.Repeat("財", 71)); p.Encoding != sms.UCS2 || p.Segments != 2 {
		t.Fatalf("sms.Count of 71 Chinese characters: %+v", p)
	}
	b.screenshot("desk-sms-segments.png")

	// Emptied: no preview. Typed again and sent: gone with the text.
	setBox(b, "   ")
	b.do("empty box", chromedp.WaitNotVisible(chromedp.ID("composer-segments")))
	b.do("type and send",
		chromedp.SendKeys(chromedp.ID("composer-text"), "Thank you"),
		chromedp.WaitVisible(chromedp.CSS(`#composer-segments[data-segments="1"]`)),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.CSS(`#messages .message.outbound[data-status="sent"]`)),
		chromedp.WaitNotVisible(chromedp.ID("composer-segments")),
	)
	checkConsole(t, b.consoleMessages(), false, token, clientPhone)
}

// setBox replaces the send box's text as a paste would, with an input
// event.
func setBox(b *browser, text string) {
	b.t.Helper()
	q := strconv.Quote(text)
	eval[bool](b, `(() => { const el = document.getElementById("composer-text"); el.value = `+q+`; el.dispatchEvent(new Event("input", {bubbles: true})); return true })()`)
}
