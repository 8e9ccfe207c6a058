package console_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/gateway/console"
	"github.com/airbranch/airbranch/gateway/desk"
)

// A second private-bank client of rm-pb-01 in the demo directory.
const (
	otherClientPhone = "+442079460004"
	otherClientName  = "Alice Example (demo)"
)

// An RM works a conversation with others in headless Chromium: accepts
// their client's SMS conversation, sees who takes part, picks a specialist
// from the pools the API lists (their own team too, no other segment
// team), is told in plain words when the chosen one is offline, invites an
// available one by keyboard (who is then a participant in the store and on
// screen), is refused an escalation to video while a second chat holds
// their capacity, escalates once it is closed (the conversation is then
// on video in the store and on screen), and sees the video room's links
// that the gateway's video channel publishes.
func TestDeskConsultInChromium(t *testing.T) {
	exe := chromium(t)
	g := newGateway(t)
	b := newBrowser(t, exe)
	ctx := context.Background()
	token := tokenFor(t, rmPB01)
	// The wealth adviser rm-wa-01 is at their desk; rm-wa-02 is not.
	if _, err := g.router.SetPresence(ctx, "rm-wa-01", conversation.PresenceAvailable, "", time.Hour); err != nil {
		t.Fatal(err)
	}

	b.do("log in and go available",
		chromedp.Navigate(g.srv.URL+console.Prefix),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), token),
		chromedp.Click(chromedp.ID("login-submit")),
		chromedp.WaitVisible(chromedp.CSS(`#conn[data-state="connected"]`)),
		chromedp.Click(chromedp.ID("presence-available")),
		chromedp.WaitVisible(chromedp.CSS(`#presence[data-state="available"]`)),
	)

	// The client texts; their own RM accepts.
	const first = "Could a wealth adviser join us?"
	a := g.smsFromClient(t, "SM-in-c1", first).ConversationID
	g.route(t, a)
	aSel := `#chat[data-conversation-id="` + string(a) + `"]`
	b.do("accept",
		chromedp.WaitVisible(chromedp.CSS(`.offer[data-conversation-id="`+string(a)+`"] button.accept`)),
		chromedp.Click(chromedp.CSS(`.offer[data-conversation-id="`+string(a)+`"] button.accept`)),
		chromedp.WaitVisible(chromedp.CSS(aSel+`[data-status="active"]`)),
		// The participants: the client and the RM themselves.
		chromedp.WaitVisible(chromedp.CSS(`#participants li[data-role="client"][data-participant-id="`+string(clientID)+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#participants li[data-participant-id="rm-pb-01"]`)),
		// The invite list comes from GET /api/v1/specialists.
		chromedp.WaitReady(chromedp.CSS(`#invite-rm option[value="rm-wa-01"][data-state="available"]`)),
	)
	if got := b.text(`#participants li[data-participant-id="rm-pb-01"]`); !strings.Contains(got, "(you)") || !strings.Contains(got, "assigned RM") {
		t.Errorf("the RM's participant entry %q", got)
	}
	options := eval[[]string](b, `[...document.querySelectorAll("#invite-rm option")].map(o => o.value)`)
	for _, want := range []string{"rm-wa-01", "rm-wa-02", "rm-pm-01", "rm-pb-02"} {
		if !slices.Contains(options, want) {
			t.Errorf("invite list %v lacks %s", options, want)
		}
	}
	for _, not := range []string{"rm-pb-01", "rm-ms-01", "rm-af-01"} {
		if slices.Contains(options, not) {
			t.Errorf("invite list %v offers %s", options, not)
		}
	}
	groups := eval[[]string](b, `[...document.querySelectorAll("#invite-rm optgroup")].map(g => g.label)`)
	if len(groups) != 3 || !strings.HasSuffix(groups[2], "(your team)") {
		t.Errorf("invite list groups %q, want two specialist pools then the RM's team", groups)
	}
	if eval[bool](b, `document.getElementById("escalate-voice").disabled || document.getElementById("escalate-video").disabled`) {
		t.Error("escalation buttons disabled on an active SMS conversation")
	}

	// The offline wealth adviser cannot join: plain words, nothing changes.
	b.do("invite someone offline",
		chromedp.Click(chromedp.CSS("#invite-panel summary")),
		chromedp.WaitVisible(chromedp.ID("invite-rm")),
		chromedp.SetValue(chromedp.ID("invite-rm"), "rm-wa-02"),
		chromedp.Click(chromedp.ID("invite")),
		chromedp.WaitVisible(chromedp.CSS(".alert")),
	)
	if got := b.text(".alert .alert-text"); !strings.Contains(got, "Invite") || !strings.Contains(got, "rm-wa-02") || !strings.Contains(got, "not available") {
		t.Errorf("alert %q, want the refusal in plain words", got)
	}
	b.do("dismiss", chromedp.Click(chromedp.CSS(".alert button")), chromedp.WaitNotPresent(chromedp.CSS(".alert")))

	// By keyboard: choose rm-wa-01 and press Enter on Invite.
	b.do("invite by keyboard",
		chromedp.WaitEnabled(chromedp.ID("invite")),
		chromedp.Focus(chromedp.ID("invite-rm")),
		chromedp.SetValue(chromedp.ID("invite-rm"), "rm-wa-01"),
		chromedp.Focus(chromedp.ID("invite")),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`#participants li[data-participant-id="rm-wa-01"][data-role="specialist"][data-present="true"]`)),
	)
	if got := b.text(`#participants li[data-participant-id="rm-wa-01"]`); !strings.Contains(got, "Oscar Poon") || !strings.Contains(got, "Wealth Advisers") {
		t.Errorf("specialist entry %q, want their name and pool", got)
	}
	if got := b.text("#announcer"); !strings.Contains(got, "joined the conversation") {
		t.Errorf("announced %q", got)
	}
	c, err := g.store.Conversation(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if !hasSpecialist(c, "rm-wa-01") || hasSpecialist(c, "rm-wa-02") {
		t.Fatalf("stored participants %+v, want rm-wa-01 as specialist only", c.Participants)
	}
	if slices.Contains(eval[[]string](b, `[...document.querySelectorAll("#invite-rm option")].map(o => o.value)`), "rm-wa-01") {
		t.Error("the invite list still offers a specialist who is in the conversation")
	}

	// A second client's chat takes 25 of the RM's 100 units: a video call
	// (100) does not fit beside it.
	r2, err := g.inbox.Receive(ctx, conversation.Incoming{Kind: conversation.IncomingMessage, Channel: conversation.ChannelSMS,
		ChannelAccount: bankNumber, From: conversation.Address{Kind: conversation.AddressPhone, Value: otherClientPhone},
		ProviderID: "SM-in-c2", Text: "Hello, a quick question", ReceivedAt: monday()})
	if err != nil {
		t.Fatal(err)
	}
	bConv := r2.ConversationID
	g.route(t, bConv)
	b.do("accept the second",
		chromedp.WaitVisible(chromedp.CSS(`.offer[data-conversation-id="`+string(bConv)+`"] button.accept`)),
		chromedp.Click(chromedp.CSS(`.offer[data-conversation-id="`+string(bConv)+`"] button.accept`)),
		chromedp.WaitVisible(chromedp.CSS(`#chat[data-conversation-id="`+string(bConv)+`"][data-status="active"]`)),
		chromedp.Click(chromedp.CSS(`#conversations li[data-conversation-id="`+string(a)+`"] button`)),
		chromedp.WaitVisible(chromedp.CSS(aSel)),
		chromedp.Click(chromedp.ID("escalate-video")),
		chromedp.WaitVisible(chromedp.CSS(`#escalate-result[data-outcome="refused"]`)),
	)
	if got := b.text("#escalate-result"); !strings.Contains(got, "Not moved to Video") || !strings.Contains(got, "no capacity") {
		t.Errorf("escalation outcome %q, want the refusal in plain words", got)
	}
	if c, _ := g.store.Conversation(ctx, a); c.Channel != conversation.ChannelSMS {
		t.Fatalf("a refused escalation moved the conversation to %s", c.Channel)
	}

	// The second chat is done; now the video call fits.
	if _, err := g.router.WrapUp(ctx, bConv, "rm-pb-01"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.router.Close(ctx, bConv, "rm-pb-01", "resolved"); err != nil {
		t.Fatal(err)
	}
	b.do("escalate to video",
		chromedp.WaitNotPresent(chromedp.CSS(`#conversations li[data-conversation-id="`+string(bConv)+`"]`)),
		chromedp.Focus(chromedp.ID("escalate-video")),
		chromedp.KeyEvent("\r"),
		chromedp.WaitVisible(chromedp.CSS(`#escalate-result[data-outcome="ok"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#escalate-video[aria-pressed="true"]:disabled`)),
	)
	if got := b.text("#escalate-result"); !strings.Contains(got, "Moved from SMS to Video") {
		t.Errorf("escalation outcome %q", got)
	}
	if got := b.text("#chat-meta"); !strings.HasPrefix(got, "Video") {
		t.Errorf("chat header %q, want the new channel", got)
	}
	if c, err = g.store.Conversation(ctx, a); err != nil || c.Channel != conversation.ChannelVideo || c.AssigneeID != "rm-pb-01" {
		t.Fatalf("stored conversation on %s with %s (%v), want video kept by rm-pb-01", c.Channel, c.AssigneeID, err)
	}

	// The gateway's video channel (any instance) tells the desk how to join.
	const joinURL, clientURL = "https://bank.example/video/#token=rm-join", "https://bank.example/video/#invite=client-code"
	other := desk.NewHub(g.store, nil, nil, monday)
	if err := other.Publish(ctx, "rm-pb-01", desk.EventVideo, desk.VideoData{Kind: desk.VideoRoomOpened, ConversationID: a, Room: string(a),
		Join:   &desk.VideoLink{Role: "rm", Identity: "rm-pb-01", URL: joinURL},
		Client: &desk.VideoLink{Role: "client", Identity: string(clientID), URL: clientURL}, At: monday()}); err != nil {
		t.Fatal(err)
	}
	b.do("see the room's links", chromedp.WaitVisible(chromedp.ID("video-join")))
	if got := eval[string](b, `document.getElementById("video-join").href`); got != joinURL {
		t.Errorf("join link %q, want %q", got, joinURL)
	}
	if got := b.text("#video-client-link"); got != clientURL {
		t.Errorf("client link %q, want %q", got, clientURL)
	}
	b.screenshot("desk-consult.png")
	checkConsole(t, b.consoleMessages(), false, first, clientPhone, otherClientPhone, token)
}

// hasSpecialist reports whether rm is a present specialist of c.
func hasSpecialist(c conversation.Conversation, rm string) bool {
	for _, p := range c.Participants {
		if p.Role == conversation.RoleSpecialist && p.ID == rm && p.LeftAt.IsZero() {
			return true
		}
	}
	return false
}
