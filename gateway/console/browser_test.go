package console_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/auth"
	"github.com/airbranch/airbranch/gateway/console"
)

// An RM logs in on the console in headless Chromium, goes available, is
// offered an inbound SMS conversation of their private-bank client with
// the customer card, accepts, reads the history, replies (the reply
// reaches the SMS provider and its delivery report shows), loses the
// network and resumes without losing the client's next message, wraps up,
// is refused an unknown disposition in plain words, closes with
// "resolved", and logs out.
func TestDeskInChromium(t *testing.T) {
	exe := chromium(t)
	g := newGateway(t)
	b := newBrowser(t, exe)
	ctx := context.Background()
	cust, err := g.dir.Customer(ctx, clientID)
	if err != nil {
		t.Fatal(err)
	}
	token := tokenFor(t, rmPB01)

	// Log in by pasting the token.
	b.do("open the console",
		chromedp.Navigate(g.srv.URL+console.Prefix),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="connected"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#presence[data-state="offline"]`)),
	)
	if loc := eval[string](b, "location.href"); strings.Contains(loc, token) {
		t.Errorf("the token is in the page's URL %s", loc)
	}
	if got := eval[string](b, `sessionStorage.getItem("airbranch.desk.token")`); got != token {
		t.Errorf("sessionStorage holds %q, want the token", got)
	}
	if n := eval[int](b, "localStorage.length"); n != 0 {
		t.Errorf("localStorage holds %d items, want none", n)
	}
	if dials := g.deskDials(); len(dials) != 1 || dials[0] != "" {
		t.Fatalf("desk requests %q, want one without a seq", dials)
	}

	// Go available.
	b.do("go available",
		chromedp.Click(chromedp.ID("presence-available")),
		chromedp.WaitVisible(chromedp.CSS(`#presence[data-state="available"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#presence-available[aria-pressed="true"]`)),
	)

	// The client texts; routing offers the conversation to their own RM.
	const first = "I'd like to review my portfolio"
	r := g.smsFromClient(t, "SM-in-1", first)
	g.route(t, r.ConversationID)
	b.do("see the offer", chromedp.WaitVisible(chromedp.CSS(`.offer[data-conversation-id="`+string(r.ConversationID)+`"] .customer-name`)))
	if got := b.text(".offer .customer-name"); got != cust.DisplayName {
		t.Errorf("offer card name %q, want %q", got, cust.DisplayName)
	}
	card := b.text(".offer .facts")
	for _, want := range []string{"Private bank", cust.AUMBand, "rm-pb-01 (you)", "yue"} {
		if !strings.Contains(card, want) {
			t.Errorf("offer card facts %q lack %q", card, want)
		}
	}
	if got := b.text(".offer .countdown .left"); !strings.HasSuffix(got, "left to accept") {
		t.Errorf("countdown %q", got)
	}
	if got := b.text("#announcer"); !strings.Contains(got, "New offer: "+cust.DisplayName) {
		t.Errorf("announced %q, want the new offer", got)
	}
	b.screenshot("desk-offer.png")

	// Accept: the chat pane opens with the history from the REST API.
	firstID := g.messageID(t, r.ConversationID, first)
	b.do("accept",
		chromedp.Click(chromedp.CSS(".offer button.accept")),
		chromedp.WaitVisible(chromedp.CSS(`#chat[data-conversation-id="`+string(r.ConversationID)+`"][data-status="active"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#messages li[data-message-id="`+string(firstID)+`"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(".offer")),
		chromedp.WaitVisible(chromedp.CSS(`#conversations li[data-status="active"]`)),
	)
	if got := b.text(`#messages li[data-message-id="` + string(firstID) + `"] .text`); got != first {
		t.Errorf("history shows %q, want %q", got, first)
	}
	if got := b.text("#customer-card .card-name"); got != cust.DisplayName {
		t.Errorf("customer card %q, want %q", got, cust.DisplayName)
	}

	// Reply: it leaves on SMS to the client's phone.
	const reply = "Good morning Mr Chan, I can help with that."
	b.do("reply",
		chromedp.SendKeys(chromedp.ID("composer-text"), reply),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.CSS(`#messages .message.outbound[data-status="sent"]`)),
	)
	sent := g.smsSent()
	if len(sent) != 1 || sent[0].msg.Text != reply || sent[0].msg.Channel != conversation.ChannelSMS || sent[0].to.Value != clientPhone {
		t.Fatalf("the SMS provider got %+v, want the reply to %s", sent, clientPhone)
	}
	if got := eval[string](b, `document.getElementById("composer-text").value`); got != "" {
		t.Errorf("the send box kept %q", got)
	}

	// The provider's delivery report moves the reply on (message_status).
	if err := g.inbox.Status(ctx, conversation.StatusUpdate{Channel: conversation.ChannelSMS, ChannelAccount: bankNumber,
		ProviderID: "SM-out-1", Status: conversation.DeliveryDelivered}); err != nil {
		t.Fatal(err)
	}
	b.do("see the delivery", chromedp.WaitVisible(chromedp.CSS(`#messages .message.outbound[data-status="delivered"]`)))

	// The network drops; the client writes meanwhile; the desk reconnects
	// with its last seq and shows the message once.
	g.dropDesks()
	const second = "Thank you. Can we also talk about the mortgage?"
	g.smsFromClient(t, "SM-in-2", second)
	secondID := g.messageID(t, r.ConversationID, second)
	b.do("resume",
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="connected"][data-welcomes="2"][data-resumed="true"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#messages li[data-message-id="`+string(secondID)+`"]`)),
	)
	dials := g.deskDials()
	if len(dials) != 2 || !strings.HasPrefix(dials[1], "after=") || dials[1] == "after=0" {
		t.Errorf("desk requests %q, want a second one resuming after a seq", dials)
	}
	if n := eval[int](b, `document.querySelectorAll("#messages .message").length`); n != 3 {
		t.Errorf("%d messages shown, want 3 (two from the client, one reply)", n)
	}

	// Wrap up; an unknown disposition is refused in plain words; close.
	b.do("wrap up",
		chromedp.Click(chromedp.ID("wrap-up")),
		chromedp.WaitVisible(chromedp.CSS(`#chat[data-status="wrap_up"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#composer-text:disabled`)),
	)
	b.do("close with an unknown disposition",
		chromedp.SendKeys(chromedp.ID("disposition"), "O"), // type-ahead: "Other (type it)"; focus moves to the code
		chromedp.WaitEnabled(chromedp.ID("disposition-other")),
		chromedp.SendKeys(chromedp.ID("disposition-other"), "no_such_code"),
		chromedp.Click(chromedp.ID("close-conversation")),
		chromedp.WaitVisible(chromedp.CSS(`.alert[data-code="bad_request"]`)),
	)
	if got := b.text(`.alert[data-code="bad_request"] .alert-text`); !strings.Contains(got, "refused") {
		t.Errorf("alert %q, want plain words", got)
	}
	b.do("close",
		chromedp.SendKeys(chromedp.ID("disposition"), "R"), // type-ahead: "Resolved"
		chromedp.Click(chromedp.ID("close-conversation")),
		chromedp.WaitVisible(chromedp.CSS(`#chat[data-status="closed"]`)),
		chromedp.WaitVisible(chromedp.ID("conversations-empty")),
	)
	if got := b.text("#chat-note"); !strings.Contains(got, "resolved") {
		t.Errorf("chat note %q, want the disposition", got)
	}
	c, err := g.store.Conversation(ctx, r.ConversationID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != conversation.StatusClosed || c.Disposition != "resolved" {
		t.Errorf("stored conversation %s with disposition %q, want closed with resolved", c.Status, c.Disposition)
	}
	b.screenshot("desk-closed.png")

	// Log out: offline, and the token is forgotten.
	b.do("log out",
		chromedp.Click(chromedp.ID("logout")),
		chromedp.WaitVisible(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="logged_out"]`)),
	)
	if n := eval[int](b, "sessionStorage.length"); n != 0 {
		t.Errorf("sessionStorage holds %d items after logging out", n)
	}
	if p, err := g.store.Presence(ctx, "rm-pb-01", monday()); err != nil || p.State != conversation.PresenceOffline {
		t.Errorf("presence after logging out %+v, %v; want offline", p, err)
	}

	// Until now the page reported no error at all.
	checkConsole(t, b.consoleMessages(), false, first, second, reply, clientPhone, token)
	seen := len(b.consoleMessages())

	// Tokens that cannot open the desk are refused in plain words: a
	// supervisor's at once, a forged one when the gateway refuses it.
	supervisor := tokenFor(t, auth.Principal{Subject: "sup-pb", Role: auth.RoleSupervisor, Team: "private_bank"})
	b.do("log in as a supervisor",
		chromedp.SendKeys(chromedp.ID("token"), supervisor),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#login-error[data-reason="role"]`)),
	)
	forged, err := auth.Issue([]byte("another-secret-of-at-least-32-bytes!!"), rmPB01, time.Hour, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	b.do("log in with a forged token",
		chromedp.Navigate(g.srv.URL+console.Prefix), // a fresh page: the form is empty
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), forged),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="refused"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#login-error[data-reason="refused"]`)),
	)
	if got := b.text("#login-error"); !strings.Contains(got, "invalid or has expired") {
		t.Errorf("refusal %q, want plain words", got)
	}
	if n := eval[int](b, "sessionStorage.length"); n != 0 {
		t.Errorf("sessionStorage keeps a refused token")
	}

	// The refused upgrade and the API's 401 are the browser's network
	// errors; the page itself raised nothing.
	checkConsole(t, b.consoleMessages()[seen:], true, forged, supervisor)

	// The Content-Security-Policy is in force: HTML sinks refuse strings
	// (Trusted Types), so a client's text can never become markup.
	if !eval[bool](b, `(() => { try { document.createElement("p").innerHTML = "<b>x</b>"; return false } catch (e) { return e instanceof TypeError } })()`) {
		t.Error("the page accepted an HTML string: the Content-Security-Policy is not in force")
	}
}

// checkConsole fails on an uncaught exception or an error in what the page
// wrote to the browser's console (network errors aside when allowed), and
// on any message showing one of private.
func checkConsole(t *testing.T, msgs []chromedp.ConsoleMessage, networkErrors bool, private ...string) {
	t.Helper()
	for _, m := range msgs {
		if m.IsException() || m.Type == chromedp.ConsoleError && !(networkErrors && m.Source == "network") {
			t.Errorf("the page reported %s (source %q)", m, m.Source)
		}
		for _, p := range private {
			if strings.Contains(m.Text, p) {
				t.Errorf("the browser console shows personal data: %s", fmt.Sprint(m))
			}
		}
	}
}
