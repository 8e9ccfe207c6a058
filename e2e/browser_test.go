package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/golang-jwt/jwt/v5"

	"github.com/airbranch/airbranch/internal/browsertest"
)

// The browser part of the suite: the client's /chat/ page, the RM's /desk/
// console and the /video/ page in headless Chromium (internal/browsertest,
// 30 s per step), all through the balancer.

// browserTab is one headless Chromium with one tab.
type browserTab struct {
	*browsertest.Browser
	t    *testing.T
	name string
}

// browserOpen starts a Chromium for the test (with flags, e.g.
// browsertest.FakeMedia); it stops when the test ends.
func browserOpen(t *testing.T, name string, flags ...chromedp.ExecAllocatorOption) *browserTab {
	t.Helper()
	return &browserTab{Browser: browsertest.New(t, browsertest.Chromium(t), flags...), t: t, name: name}
}

// do runs steps (each wait bounded by browsertest.StepTimeout).
func (b *browserTab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	start := time.Now()
	b.Do(b.name+": "+what, steps...)
	b.t.Logf("%s: %s (%.1f s)", b.name, what, time.Since(start).Seconds())
}

// eval evaluates a JavaScript expression in the page.
func browserEval[T any](b *browserTab, expr string, opts ...chromedp.EvaluateOption) T {
	b.t.Helper()
	return browsertest.Eval[T](b.Browser, expr, opts...)
}

// waitJS polls a JavaScript condition every 200 ms until it is true,
// failing the test (with a screenshot) after within.
func (b *browserTab) waitJS(what string, within time.Duration, cond string) {
	b.t.Helper()
	start := time.Now()
	defer func() { b.t.Logf("%s: %s (%.1f s)", b.name, what, time.Since(start).Seconds()) }()
	deadline := time.Now().Add(within)
	for !browserEval[bool](b, "(() => { try { return !!("+cond+") } catch (e) { return false } })()") {
		if time.Now().After(deadline) {
			b.Screenshot("failed-" + strings.ReplaceAll(b.name+"-"+what, " ", "-") + ".png")
			b.t.Fatalf("%s: %s: not within %s (%s)", b.name, what, within, cond)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// browserJS quotes s as a JavaScript string literal.
func browserJS(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// browserChatToken is a token the bank's app backend issues for an app
// user (channels/webchat/token.go): HS256 with the web chat secret, sub
// the app user, strong verification, one hour.
func browserChatToken(t *testing.T, appUser string) string {
	t.Helper()
	now := time.Now()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": appUser, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "verification": "strong",
	}).SignedString([]byte(webchatSecret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// browserChatSignIn opens /chat/ and signs in with a token pasted in
// the form.
func (b *browserTab) browserChatSignIn(base, token string) {
	b.t.Helper()
	b.do("open the chat page and sign in",
		chromedp.Navigate(base+"/chat/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SetValue(chromedp.ID("token"), token),
		chromedp.Click(chromedp.ID("connect")),
		chromedp.WaitVisible(chromedp.CSS(`#status[data-state="connected"]`)),
	)
}

// browserChatWrite writes text on the chat page and waits until the
// gateway acknowledged it as stored.
func (b *browserTab) browserChatWrite(text string) {
	b.t.Helper()
	b.do("write", chromedp.SetValue(chromedp.ID("text"), text), chromedp.Click(chromedp.ID("send")))
	b.waitJS("the message stored", 30*time.Second, `[...document.querySelectorAll('#messages .msg[data-from=client]')].some(e =>
		e.textContent.includes(`+browserJS(text)+`) && e.dataset.state === 'stored')`)
}

// browserChatCount counts the chat page's bubbles from "client" or "rm"
// holding text.
func (b *browserTab) browserChatCount(from, text string) int {
	b.t.Helper()
	return browserEval[int](b, `[...document.querySelectorAll('#messages .msg[data-from=`+from+`]')].filter(e => e.textContent.includes(`+browserJS(text)+`)).length`)
}

// browserDeskLogin opens /desk/, logs rm in by pasting their token and
// goes available.
func (b *browserTab) browserDeskLogin(c *cluster, rm string) {
	b.t.Helper()
	tok, err := c.token("rm", rm)
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { browserDeskOffline(b.t, c, rm) })
	b.do("log in and go available",
		chromedp.Navigate(c.URL()+"/desk/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), tok),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="connected"]`)),
		chromedp.Click(chromedp.ID("presence-available")),
		chromedp.WaitVisible(chromedp.CSS(`#presence[data-state="available"]`)),
	)
}

// browserDeskAccept accepts the offer of conversation id on the console
// and waits for its chat pane.
func (b *browserTab) browserDeskAccept(id string) {
	b.t.Helper()
	offer := `.offer[data-conversation-id="` + id + `"] button.accept`
	b.do("see and accept the offer",
		chromedp.WaitVisible(chromedp.CSS(offer)),
		chromedp.Click(chromedp.CSS(offer)),
		chromedp.WaitVisible(chromedp.CSS(`#chat[data-conversation-id="`+id+`"][data-status="active"]`)),
	)
}

// browserDeskCount counts the console's messages of a direction
// ("inbound", "outbound") whose text is text.
func (b *browserTab) browserDeskCount(direction, text string) int {
	b.t.Helper()
	return browserEval[int](b, `[...document.querySelectorAll('#messages .message.`+direction+` .text')].filter(e => e.textContent === `+browserJS(text)+`).length`)
}

// browserDeskReply types a reply in the console and waits until the
// gateway took it (sent, or already delivered or read).
func (b *browserTab) browserDeskReply(text string) {
	b.t.Helper()
	b.do("reply", chromedp.SendKeys(chromedp.ID("composer-text"), text), chromedp.Click(chromedp.ID("send")))
	b.waitJS("the reply sent", 30*time.Second, `[...document.querySelectorAll('#messages .message.outbound')].some(e =>
		e.querySelector('.text') && e.querySelector('.text').textContent === `+browserJS(text)+` && ['sent', 'delivered', 'read'].includes(e.dataset.status))`)
}

// browserDeskFinish wraps up and closes the open conversation as
// resolved in the console, then logs out (the RM goes offline).
func (b *browserTab) browserDeskFinish(id string) {
	b.t.Helper()
	b.do("wrap up and close",
		chromedp.Click(chromedp.ID("wrap-up")),
		chromedp.WaitVisible(chromedp.CSS(`#chat[data-conversation-id="`+id+`"][data-status="wrap_up"]`)),
		chromedp.SendKeys(chromedp.ID("disposition"), "R"), // type-ahead: "Resolved"
		chromedp.Click(chromedp.ID("close-conversation")),
		chromedp.WaitVisible(chromedp.CSS(`#chat[data-conversation-id="`+id+`"][data-status="closed"]`)),
	)
	b.do("log out",
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="logged_out"]`)),
	)
}

// browserDeskOffline leaves rm as the suite expects whatever the test's
// outcome: their conversations that are still open wrapped up and closed,
// and rm offline, over a /ws/desk of its own that never goes available.
func browserDeskOffline(t *testing.T, c *cluster, rm string) {
	tok, err := c.token("rm", rm)
	if err != nil {
		t.Log(err)
		return
	}
	d := &desk{rm: rm, token: tok, url: strings.Replace(c.URL(), "http://", "ws://", 1) + "/ws/desk", pending: map[string]chan frame{},
		inbound: map[string][]string{}, seen: map[string]bool{}, replies: map[string][]string{}, changed: make(chan struct{}),
		stop: make(chan struct{}), done: make(chan struct{})}
	if err := d.dial(); err != nil {
		t.Logf("desk %s not reset: %v", rm, err)
		return
	}
	go d.run()
	defer d.Close() // sets the RM offline
	code, body, err := api("GET", c.URL(), "/api/v1/conversations?assignee="+rm+"&limit=50", tok, nil)
	if err != nil || code != http.StatusOK {
		return
	}
	raw, _ := json.Marshal(body["items"])
	var open []conv
	_ = json.Unmarshal(raw, &open)
	for _, cv := range open {
		if cv.AssigneeID == rm && (cv.Status == "active" || cv.Status == "wrap_up") {
			if err := d.finish(cv.ID); err != nil {
				t.Logf("cleanup: %v", err)
			} else {
				t.Logf("cleanup: %s closed conversation %s left open", rm, cv.ID)
			}
		}
	}
}

// browserConversationOnce checks the stored conversation holds each
// inbound text once and each outbound text once.
func browserConversationOnce(cv conv, inbound, outbound []string) error {
	for _, tc := range []struct {
		dir   string
		texts []string
	}{{"inbound", inbound}, {"outbound", outbound}} {
		for _, text := range tc.texts {
			n := 0
			for _, m := range cv.Messages {
				if m.Direction == tc.dir && m.Text == text {
					n++
				}
			}
			if n != 1 {
				return fmt.Errorf("conversation %s holds the %s message %q %d times", cv.ID, tc.dir, text, n)
			}
		}
	}
	return nil
}

// browserRun is a suffix that keeps this run's texts apart from others'.
func browserRun() string { return strconv.FormatInt(time.Now().UnixNano()%1e9, 36) }

// TestBrowserWebChatReachesOwnRM: a private-bank client writes from the
// /chat/ page with the bank's token; their own RM, logged in on the /desk/
// console, is offered the conversation, accepts, reads the message and
// replies; the reply shows on the chat page once; the client's next
// message shows on the console once; the stored conversation is a web
// chat of the private-bank team assigned to the own RM, each message once;
// the RM closes it and the chat page shows it ended.
func TestBrowserWebChatReachesOwnRM(t *testing.T) {
	c := need(t)
	adm := c.admin(t)
	const rm, customer, appUser = "rm-pb-03", "cus-pb-0003", "app-demo-pb-0003"
	run := browserRun()
	first := "Could you look at my bond ladder? (" + run + ")"
	reply := "Of course, I am reviewing it now (" + run + ")"
	second := "Thank you, also the FX forward please (" + run + ")"

	rmTab := browserOpen(t, "desk "+rm)
	rmTab.browserDeskLogin(c, rm)
	client := browserOpen(t, "chat "+customer)
	client.browserChatSignIn(c.URL(), browserChatToken(t, appUser))
	client.browserChatWrite(first)

	// Stored at the ack: the conversation is there at once.
	cv := findConversation(t, adm, customer, "webchat", first)
	rmTab.browserDeskAccept(cv.ID)
	var firstID string
	for _, m := range cv.Messages {
		if m.Direction == "inbound" && m.Text == first {
			firstID = m.ID
		}
	}
	rmTab.do("read the client's message", chromedp.WaitVisible(chromedp.CSS(`#messages li[data-message-id="`+firstID+`"] .text`)))
	if got := rmTab.Text(`#messages li[data-message-id="` + firstID + `"] .text`); got != first {
		t.Errorf("the console shows %q, want %q", got, first)
	}
	client.waitJS("the RM shown as assigned", 30*time.Second, `document.getElementById('conversation').dataset.state === 'assigned'`)

	rmTab.browserDeskReply(reply)
	client.waitJS("the reply shown", 30*time.Second, `[...document.querySelectorAll('#messages .msg[data-from=rm]')].some(e => e.textContent.includes(`+browserJS(reply)+`))`)

	client.browserChatWrite(second)
	rmTab.waitJS("the second message shown", 30*time.Second, `[...document.querySelectorAll('#messages .message.inbound .text')].some(e => e.textContent === `+browserJS(second)+`)`)
	time.Sleep(time.Second) // a doubled delivery would show by now
	if n := client.browserChatCount("rm", reply); n != 1 {
		t.Errorf("the chat page shows the reply %d times", n)
	}
	if n := client.browserChatCount("client", first); n != 1 {
		t.Errorf("the chat page shows the first message %d times", n)
	}
	for _, m := range []string{first, second} {
		if n := rmTab.browserDeskCount("inbound", m); n != 1 {
			t.Errorf("the console shows %q %d times", m, n)
		}
	}
	if n := rmTab.browserDeskCount("outbound", reply); n != 1 {
		t.Errorf("the console shows the reply %d times", n)
	}

	eventually(t, 15*time.Second, "stored once each, the reply read", func() error {
		got, err := adm.conversation(cv.ID)
		if err != nil {
			return err
		}
		if err := browserConversationOnce(got, []string{first, second}, []string{reply}); err != nil {
			return err
		}
		for _, m := range got.Messages {
			if m.Text == reply && m.Channel != "webchat" {
				return fmt.Errorf("the reply left on %q", m.Channel)
			}
			if m.Text == reply && m.Status != "read" { // the page sends read receipts
				return fmt.Errorf("the reply is %s, want read", m.Status)
			}
		}
		cv = got
		return nil
	})
	if cv.Channel != "webchat" || cv.AssigneeID != rm || cv.TeamID != "private_bank" || cv.Status != "active" {
		d, _ := adm.decisions(cv.ID)
		t.Errorf("conversation on %s, %s, assigned to %q of team %q; want webchat, active, %s of private_bank; decisions %q",
			cv.Channel, cv.Status, cv.AssigneeID, cv.TeamID, rm, d)
	}

	rmTab.Screenshot("e2e-desk-webchat.png")
	rmTab.browserDeskFinish(cv.ID)
	client.waitJS("the conversation shown ended", 30*time.Second, `document.getElementById('conversation').dataset.state === 'ended'`)
	if got, err := adm.conversation(cv.ID); err != nil || got.Status != "closed" || got.Disposition != "resolved" {
		t.Errorf("after closing: %s with %q (%v), want closed, resolved", got.Status, got.Disposition, err)
	}
	client.Screenshot("e2e-chat-webchat.png")
}

// TestBrowserAnonymousChatReachesMassTeam: a prospect chats from /chat/
// without signing in; the conversation is a mass-segment web chat offered
// to the mass team's RM on the console, who accepts and replies; the reply
// shows on the chat page once and everything is stored once.
func TestBrowserAnonymousChatReachesMassTeam(t *testing.T) {
	c := need(t)
	adm := c.admin(t)
	const rm = "rm-ms-01"
	run := browserRun()
	text := "Hello, how do I open an account? (" + run + ")"
	reply := "Welcome! I can help you with that (" + run + ")"

	rmTab := browserOpen(t, "desk "+rm)
	rmTab.browserDeskLogin(c, rm)
	client := browserOpen(t, "chat prospect")
	client.do("chat without signing in",
		chromedp.Navigate(c.URL()+"/chat/"),
		chromedp.WaitVisible(chromedp.ID("anonymous")),
		chromedp.Click(chromedp.ID("anonymous")),
		chromedp.WaitVisible(chromedp.CSS(`#status[data-state="connected"]`)),
	)
	client.browserChatWrite(text)

	// The offer names the conversation; the prospect's customer id is the
	// gateway's.
	rmTab.do("see an offer", chromedp.WaitVisible(chromedp.CSS(`.offer[data-conversation-id]`)))
	id := browserEval[string](rmTab, `document.querySelector('.offer[data-conversation-id]').dataset.conversationId`)
	cv, err := adm.conversation(id)
	if err != nil {
		t.Fatal(err)
	}
	if err := browserConversationOnce(cv, []string{text}, nil); err != nil {
		t.Fatalf("the offered conversation is not the prospect's: %v", err)
	}
	rmTab.browserDeskAccept(id)
	rmTab.waitJS("the prospect's message shown", 30*time.Second, `[...document.querySelectorAll('#messages .message.inbound .text')].some(e => e.textContent === `+browserJS(text)+`)`)
	rmTab.browserDeskReply(reply)
	client.waitJS("the reply shown", 30*time.Second, `[...document.querySelectorAll('#messages .msg[data-from=rm]')].some(e => e.textContent.includes(`+browserJS(reply)+`))`)
	time.Sleep(time.Second)
	if n := client.browserChatCount("rm", reply); n != 1 {
		t.Errorf("the chat page shows the reply %d times", n)
	}
	eventually(t, 15*time.Second, "stored once each", func() error {
		got, err := adm.conversation(id)
		if err != nil {
			return err
		}
		cv = got
		return browserConversationOnce(got, []string{text}, []string{reply})
	})
	if cv.Channel != "webchat" || cv.Segment != "mass" || cv.TeamID != "mass" || cv.AssigneeID != rm {
		d, _ := adm.decisions(id)
		t.Errorf("conversation on %s of segment %q, team %q, assigned to %q; want webchat, mass, mass, %s; decisions %q",
			cv.Channel, cv.Segment, cv.TeamID, cv.AssigneeID, rm, d)
	}
	if slices.Contains([]string{"", "cus-pb-0003"}, cv.CustomerID) {
		t.Errorf("the prospect's conversation has customer %q", cv.CustomerID)
	}
	rmTab.browserDeskFinish(id)
	client.waitJS("the conversation shown ended", 30*time.Second, `document.getElementById('conversation').dataset.state === 'ended'`)
}
