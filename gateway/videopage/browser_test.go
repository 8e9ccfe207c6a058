package videopage_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/airbranch/airbranch/channels/video"
	"github.com/airbranch/airbranch/gateway/videopage"
	"github.com/airbranch/airbranch/media/sfu"
)

type nopSink struct{}

func (nopSink) Chat(context.Context, video.ChatMessage) error { return nil }

// browserStats are the page's RTCPeerConnection figures (W3C
// webrtc-stats: inbound-rtp packetsReceived and framesDecoded,
// outbound-rtp packetsSent).
type browserStats struct {
	InAudio   int    `json:"in_audio"`
	InVideo   int    `json:"in_video"`
	Frames    int    `json:"frames"`
	OutAudio  int    `json:"out_audio"`
	OutVideo  int    `json:"out_video"`
	Connected string `json:"connected"`
}

const statsJS = `window.airbranchVideo.pc ? window.airbranchVideo.pc.getStats().then((s) => {
  const r = {in_audio: 0, in_video: 0, frames: 0, out_audio: 0, out_video: 0, connected: window.airbranchVideo.pc.connectionState};
  s.forEach((x) => {
    if (x.type === "inbound-rtp") { r["in_" + x.kind] += x.packetsReceived || 0; if (x.kind === "video") r.frames += x.framesDecoded || 0; }
    if (x.type === "outbound-rtp") { r["out_" + x.kind] += x.packetsSent || 0; }
  });
  return r;
}) : Promise.resolve({connected: "none"})`

// TestVideoPageInChromium: headless Chromium with a fake camera and
// microphone opens /video/ with a client's join token, previews the
// camera, waits in the lobby, is admitted by a pion RM, and publishes:
// the pion RM receives the browser's audio and video packets; the browser
// receives the RM's audio (pion's generated Opus) and video (the
// browser's own VP8 sent back by the RM, since pion has no encoder) and
// decodes video frames; the RM's tile appears. A screenshot is saved.
func TestVideoPageInChromium(t *testing.T) {
	exe := chromium(t)
	s, err := sfu.New(sfu.Config{UDPAddr: "127.0.0.1:0", KeyframeInterval: 100 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	tokens, err := video.NewTokens([]byte("browser-test-secret-of-32-bytes-at-least"), 0)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := video.NewServer(video.Options{SFU: s, Tokens: tokens, Sink: nopSink{}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(video.WSPath, srv)
	mux.Handle(videopage.Prefix, videopage.Handler())
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done })
	if err := srv.CreateRoom(video.RoomSpec{ID: "room-b", ConversationID: "conv-b"}); err != nil {
		t.Fatal(err)
	}
	issue := func(role video.Role, id string) string {
		tok, _, err := tokens.Issue(video.Grant{Room: "room-b", Role: role, Identity: id, Name: id}, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The pion RM joins first and publishes generated Opus and an echo
	// of the first video track it receives.
	rm := dialParticipant(t, "ws"+strings.TrimPrefix(hs.URL, "http")+video.WSPath, "rm-pb-01", issue(video.RoleRM, "rm-pb-01"))
	rm.await(ctx, video.TypeWelcome)
	rm.send(video.TypeJoin, video.JoinRequest{})
	if _, err := rm.peer.AddTrack("audio", "audio"); err != nil {
		t.Fatal(err)
	}
	if _, err := rm.peer.AddEcho("video", "video"); err != nil {
		t.Fatal(err)
	}
	if err := rm.peer.Offer(false); err != nil {
		t.Fatal(err)
	}

	b := newBrowser(t, exe)
	b.do("open the page with the client's token",
		chromedp.Navigate(hs.URL+videopage.Prefix+"#token="+issue(video.RoleClient, "cus-pb-0001")),
		chromedp.WaitVisible(chromedp.CSS(`#status[data-state="lobby"]`)),
	)
	rm.await(ctx, video.EventLobby)
	rm.send(video.TypeAdmit, video.Target{Identity: "cus-pb-0001"})
	b.do("be admitted and see the rm's tile",
		chromedp.WaitVisible(chromedp.CSS(`#status[data-state="joined"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.tile[data-identity="rm-pb-01"] video`)),
	)

	// Browser → pion: the RM receives the browser's two tracks.
	err = rm.peer.WaitFor(ctx, "the browser's audio and video", func() bool {
		audio, video := uint64(0), uint64(0)
		for k, n := range rm.peer.Received() {
			if strings.HasPrefix(k, "cus-pb-0001/") {
				if n > video {
					audio, video = video, n
				} else if n > audio {
					audio = n
				}
			}
		}
		return audio >= 50 && video >= 50
	})
	if err != nil {
		t.Fatal(err)
	}
	// pion → browser: audio packets and decoded video frames.
	var st browserStats
	deadline := time.Now().Add(30 * time.Second)
	for {
		b.evalJSON(statsJS, &st)
		if st.InAudio >= 50 && st.InVideo >= 50 && st.Frames >= 10 || time.Now().After(deadline) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("browser: %+v; pion rm received %v", st, rm.peer.Received())
	if st.Connected != "connected" || st.InAudio < 50 || st.InVideo < 50 || st.Frames < 10 || st.OutAudio < 50 || st.OutVideo < 50 {
		b.screenshot("video-page-failed.png")
		t.Fatalf("browser stats %+v: want connected, >= 50 packets each way per kind and >= 10 decoded frames (console: %v)", st, b.consoleLines())
	}
	b.screenshot("video-page.png")

	// Mute: the RM is told.
	b.do("mute the microphone", chromedp.Click(chromedp.ID("mute-audio")), chromedp.WaitVisible(chromedp.CSS(`#mute-audio`)))
	var m video.MuteData
	_ = json.Unmarshal(rm.await(ctx, video.EventMute).Data, &m)
	if m.Identity != "cus-pb-0001" || m.Kind != "audio" || !m.Muted {
		t.Fatalf("mute event at the rm: %+v", m)
	}
	// Leave: the RM sees the client go.
	b.do("leave", chromedp.Click(chromedp.ID("leave")), chromedp.WaitVisible(chromedp.CSS(`#status[data-state="ended"]`)))
	var left video.ParticipantInfo
	_ = json.Unmarshal(rm.await(ctx, video.EventLeft).Data, &left)
	if left.Identity != "cus-pb-0001" {
		t.Fatalf("participant_left at the rm: %+v", left)
	}
}
