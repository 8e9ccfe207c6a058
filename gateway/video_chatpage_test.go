package gateway

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/golang-jwt/jwt/v5"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/state"
)

// TestVideoCallFromChatPage drives the /chat/ page in headless Chromium
// (fake camera and microphone): the signed-in client clicks "Video call",
// the page posts /video/requests with its chat token and opens the
// returned /video/ link, where the client waits in the lobby of the new
// video conversation's room.
func TestVideoCallFromChatPage(t *testing.T) {
	t.Parallel()
	exe := chromiumPath(t)
	cfg := configs.Default()
	cfg.Secrets.JWTSecret = testSecret
	r := start(t, cfg, &syncBuffer{})
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": demoAppUser, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix(), "verification": "strong",
	}).SignedString([]byte(DevWebChatSecret))
	if err != nil {
		t.Fatal(err)
	}

	b := newSoftphoneBrowser(t, exe)
	b.do("sign in on the chat page",
		chromedp.Navigate(r.base+"/chat/"),
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), tok),
		chromedp.Click(chromedp.ID("connect")),
		chromedp.WaitVisible(chromedp.ID("video")),
	)
	b.do("ask for a video call and land in the lobby",
		chromedp.Click(chromedp.ID("video")),
		chromedp.WaitVisible(chromedp.CSS(`#status[data-state="lobby"]`)),
	)
	if path := b.eval(`location.pathname`); path != "/video/" {
		t.Fatalf("the page is at %s, want /video/", path)
	}
	if hash := b.eval(`location.hash`); !strings.HasPrefix(hash, "#token=") {
		t.Fatalf("the video page's hash %q carries no join token", hash)
	}

	// The server's side: one video conversation of the client, queued for
	// routing, whose room has the client in its lobby.
	page, err := r.g.store.ListConversations(t.Context(), state.ConversationFilter{CustomerID: demoCustomer, Channel: conversation.ChannelVideo})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Fatalf("%d video conversations of the client, want 1", len(page.Items))
	}
	parts, err := r.g.video.srv.Participants(video.RoomID(page.Items[0].ID))
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 1 || parts[0].Identity != demoCustomer || parts[0].State != video.StateLobby {
		t.Fatalf("room participants %+v, want the client in the lobby", parts)
	}
}
