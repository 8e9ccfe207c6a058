package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/airbranch/airbranch/internal/browsertest"
)

// browserVideoStats are a /video/ page's RTCPeerConnection figures (W3C
// webrtc-stats: inbound-rtp packetsReceived and framesDecoded,
// outbound-rtp packetsSent), as gateway/videopage's test reads them.
type browserVideoStats struct {
	InAudio   int    `json:"in_audio"`
	InVideo   int    `json:"in_video"`
	Frames    int    `json:"frames"`
	OutAudio  int    `json:"out_audio"`
	OutVideo  int    `json:"out_video"`
	Connected string `json:"connected"`
}

const browserVideoStatsJS = `(async () => JSON.stringify(await (window.airbranchVideo && window.airbranchVideo.pc ? window.airbranchVideo.pc.getStats().then((s) => {
  const r = {in_audio: 0, in_video: 0, frames: 0, out_audio: 0, out_video: 0, connected: window.airbranchVideo.pc.connectionState};
  s.forEach((x) => {
    if (x.type === "inbound-rtp") { r["in_" + x.kind] += x.packetsReceived || 0; if (x.kind === "video") r.frames += x.framesDecoded || 0; }
    if (x.type === "outbound-rtp") { r["out_" + x.kind] += x.packetsSent || 0; }
  });
  return r;
}) : Promise.resolve({connected: "none"}))))()`

func (b *browserTab) browserVideoStats() browserVideoStats {
	b.t.Helper()
	var st browserVideoStats
	s := browserEval[string](b, browserVideoStatsJS, chromedp.EvalAwaitPromise)
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		b.t.Fatalf("%s: stats %s: %v", b.name, s, err)
	}
	return st
}

// browserVideoRoom returns the room a /ws/video upgrade asks for: the
// "room" claim of the join token in its bearer.<token> subprotocol (read,
// not verified: the instance verifies it).
func browserVideoRoom(r *http.Request) string {
	for _, p := range strings.Split(r.Header.Get("Sec-WebSocket-Protocol"), ",") {
		tok, ok := strings.CutPrefix(strings.TrimSpace(p), "bearer.")
		if !ok {
			continue
		}
		parts := strings.Split(tok, ".")
		if len(parts) != 3 {
			return ""
		}
		raw, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			return ""
		}
		var cl struct {
			Room string `json:"room"`
		}
		_ = json.Unmarshal(raw, &cl)
		return cl.Room
	}
	return ""
}

// browserRoomHolder waits for the instance that opened conversation id's
// video room (its log says "video room opened" for it).
func browserRoomHolder(t *testing.T, c *cluster, id string) *instance {
	t.Helper()
	var holder *instance
	eventually(t, 15*time.Second, "an instance opened the room", func() error {
		var found []*instance
		for _, in := range c.instances() {
			if len(in.LogLines("video room opened", id)) > 0 {
				found = append(found, in)
			}
		}
		if len(found) != 1 {
			return fmt.Errorf("%d instances logged opening room %s", len(found), id)
		}
		holder = found[0]
		return nil
	})
	return holder
}

// TestBrowserVideoEscalatedFromDesk: a private-bank client chats from
// /chat/; their RM accepts on the /desk/ console and escalates to video;
// the console shows the RM's join link and the client's invitation; the
// RM joins /video/ in one Chromium and the client, in theirs, opens the
// invitation and waits in the lobby; the RM admits them; each receives
// the other's audio and video (inbound-rtp packets, decoded frames, a
// video element with a size). Wrapping up on the console ends the room.
//
// Rooms and invitations live on the instance that opened them (the one
// that served the RM's escalation; docs/video.md, Limits): the balancer's
// pick hook sends this room's /ws/video upgrades and its invitation's
// exchange to that instance, as a bank's balancer rule on the room would.
func TestBrowserVideoEscalatedFromDesk(t *testing.T) {
	c := need(t)
	adm := c.admin(t)
	const rm, customer, appUser = "rm-pb-03", "cus-pb-0006", "app-demo-pb-0006"
	run := browserRun()
	text := "Can we talk face to face about the trust? (" + run + ")"

	rmTab := browserOpen(t, "desk "+rm)
	rmTab.browserDeskLogin(c, rm)
	client := browserOpen(t, "client "+customer, browsertest.FakeMedia...)
	client.browserChatSignIn(c.URL(), browserChatToken(t, appUser))
	client.browserChatWrite(text)
	cv := findConversation(t, adm, customer, "webchat", text)
	rmTab.browserDeskAccept(cv.ID)

	rmTab.do("escalate to video",
		chromedp.WaitEnabled(chromedp.ID("escalate-video")),
		chromedp.Click(chromedp.ID("escalate-video")),
		chromedp.WaitVisible(chromedp.CSS(`#escalate-result[data-outcome="ok"]`)),
		chromedp.WaitVisible(chromedp.ID("video-join")),
		chromedp.WaitVisible(chromedp.ID("video-client-link")),
	)
	joinURL := browserEval[string](rmTab, `document.getElementById("video-join").href`)
	inviteURL := rmTab.Text("#video-client-link")
	code, ok := strings.CutPrefix(inviteURL, c.URL()+"/video/#invite=")
	if !strings.HasPrefix(joinURL, c.URL()+"/video/#token=") || !ok || code == "" {
		t.Fatalf("join link %q and client link %q: want /video/ links on the public URL %s", joinURL, inviteURL, c.URL())
	}
	if got, err := adm.conversation(cv.ID); err != nil || got.Channel != "video" || got.AssigneeID != rm {
		t.Fatalf("after the escalation: %s, assigned to %q (%v); want video, %s", got.Channel, got.AssigneeID, err, rm)
	}

	holder := browserRoomHolder(t, c, cv.ID)
	t.Logf("room %s is on instance %s", cv.ID, holder.name)
	pick := func(r *http.Request) *instance {
		switch {
		case r.URL.Path == "/ws/video" && browserVideoRoom(r) == cv.ID,
			r.URL.Path == "/video/invitations/"+code:
			return holder
		}
		return nil
	}
	c.lb.pick.Store(&pick)
	t.Cleanup(func() { c.lb.pick.Store(nil) })

	rmVideo := browserOpen(t, "video "+rm, browsertest.FakeMedia...)
	rmVideo.do("join the room", chromedp.Navigate(joinURL), chromedp.WaitVisible(chromedp.CSS(`#status[data-state="joined"]`)))
	client.do("open the invitation and wait in the lobby", chromedp.Navigate(inviteURL), chromedp.WaitVisible(chromedp.CSS(`#status[data-state="lobby"]`)))
	admit := `#waiting-list li[data-identity="` + customer + `"] button.admit`
	rmVideo.do("admit the client", chromedp.WaitVisible(chromedp.CSS(admit)), chromedp.Click(chromedp.CSS(admit)))
	client.do("be admitted and see the RM", chromedp.WaitVisible(chromedp.CSS(`#status[data-state="joined"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.tile[data-identity="`+rm+`"] video`)))
	rmVideo.do("see the client", chromedp.WaitVisible(chromedp.CSS(`.tile[data-identity="`+customer+`"] video`)))

	// Each side receives the other's media: packets of both kinds,
	// decoded frames, and the other's tile playing video with a size.
	sides := []struct {
		b     *browserTab
		other string
	}{{client, rm}, {rmVideo, customer}}
	for _, s := range sides {
		var st browserVideoStats
		deadline := time.Now().Add(45 * time.Second)
		for {
			st = s.b.browserVideoStats()
			if st.Connected == "connected" && st.InAudio >= 50 && st.InVideo >= 50 && st.Frames >= 10 && st.OutAudio >= 50 && st.OutVideo >= 50 ||
				time.Now().After(deadline) {
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
		t.Logf("%s: %+v", s.b.name, st)
		if st.Connected != "connected" || st.InAudio < 50 || st.InVideo < 50 || st.Frames < 10 || st.OutAudio < 50 || st.OutVideo < 50 {
			s.b.Screenshot("failed-" + strings.ReplaceAll(s.b.name, " ", "-") + ".png")
			t.Fatalf("%s: stats %+v: want connected, >= 50 packets each way per kind and >= 10 decoded frames", s.b.name, st)
		}
		s.b.waitJS("the other's video has a size", 30*time.Second,
			`document.querySelector('.tile[data-identity="`+s.other+`"] video').videoWidth > 0`)
	}
	client.Screenshot("e2e-video-client.png")
	rmVideo.Screenshot("e2e-video-rm.png")

	// The client leaves; the RM closes the conversation on the console,
	// which ends the room.
	client.do("leave", chromedp.Click(chromedp.ID("leave")), chromedp.WaitVisible(chromedp.CSS(`#status[data-state="ended"]`)))
	rmTab.browserDeskFinish(cv.ID)
	rmVideo.do("see the room end", chromedp.WaitVisible(chromedp.CSS(`#status[data-state="ended"]`)))
	if got, err := adm.conversation(cv.ID); err != nil || got.Status != "closed" || got.Channel != "video" {
		t.Errorf("after closing: %s on %s (%v), want closed on video", got.Status, got.Channel, err)
	}
}
