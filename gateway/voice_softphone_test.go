package gateway

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/desk"
	"github.com/airbranch/airbranch/media"
)

// TestVoiceCallEventsOnDesk: the RM's desk, a Go WebSocket client, hears
// how a call goes as "call" events of its stream: offered with the
// offer, ringing on the RM's SIP phone (sipp, registered) once accepted,
// bridged when the phone answered, held and resumed when the phone puts
// the call on hold and takes it back, and ended by the client when the
// trunk hangs up, with the end reason.
func TestVoiceCallEventsOnDesk(t *testing.T) {
	t.Parallel()
	needTool(t, "sipp", "sip-tester")
	eachStore(t, func(t *testing.T, cfg *configs.Config) {
		voiceConfig(cfg)
		r, _ := startVoice(t, cfg)
		phone := registerPhoneScenario(t, r.sipAddr(), "phone_hold.xml", "-rtp_echo")
		d := dialDesk(t, r)
		d.request("presence", map[string]string{"state": "available"})

		call := placeCall(t, r.sipAddr())
		call.waitMusic()
		offerID, id := d.offer()
		if c := d.call(id, desk.CallOffered); c.Device != "" || c.At.IsZero() {
			t.Errorf("offered: %+v", c)
		}
		d.request("accept", map[string]string{"offer_id": offerID})
		if c := d.call(id, desk.CallRinging); c.Device != desk.DevicePhone {
			t.Errorf("ringing on %q, want the phone", c.Device)
		}
		if c := d.call(id, desk.CallBridged); c.Device != desk.DevicePhone {
			t.Errorf("bridged to %q, want the phone", c.Device)
		}
		d.call(id, desk.CallHeld)
		d.call(id, desk.CallResumed)
		call.hangUp()
		call.sipp.wait(t)
		c := d.call(id, desk.CallEnded)
		if c.EndedBy != "client" || c.Reason != "completed" || c.Device != desk.DevicePhone {
			t.Errorf("ended: %+v, want ended by the client, completed, on the phone", c)
		}
		phone.wait(t)
	})
}

// TestVoiceSoftphoneWithWebRTCPeer: the softphone's signalling and media
// with a pion peer standing in for the browser. The desk turns its
// softphone on (phone.register); a call from the trunk (sipp) is offered
// and accepted on the desk, and instead of ringing a SIP phone the
// gateway sends phone.offer (PCMU only) to that desk session; the peer's
// phone.answer connects it, and the caller is bridged: RTP flows both
// ways with the payload unchanged (no transcoding), counted on the
// gateway's legs in each direction. The trunk's BYE ends the call: the
// desk hears phone.hangup and the call event ended by the client, the
// WebRTC leg closes and the conversation goes to wrap-up. Malformed or
// unknown phone requests get error frames.
func TestVoiceSoftphoneWithWebRTCPeer(t *testing.T) {
	t.Parallel()
	needTool(t, "sipp", "sip-tester")
	eachStore(t, func(t *testing.T, cfg *configs.Config) {
		voiceConfig(cfg)
		r, _ := startVoice(t, cfg)
		api := newDesk(t, r)
		d := dialDesk(t, r)
		if got := string(d.request(desk.TypePhoneRegister, map[string]bool{"enabled": true})); got != `{"enabled":true}` {
			t.Errorf("phone.register ack %s", got)
		}
		for _, bad := range []struct {
			typ  string
			data any
			code string
		}{
			{desk.TypePhoneRegister, map[string]string{}, "bad_request"},
			{desk.TypePhoneAnswer, map[string]string{"call_id": "sp-nope", "sdp": "v=0"}, "not_found"},
			{desk.TypePhoneHangup, map[string]string{"call_id": "sp-nope"}, "not_found"},
			{"phone.dial", map[string]string{}, "bad_request"},
		} {
			f := d.try(bad.typ, bad.data)
			var e desk.ErrorData
			_ = json.Unmarshal(f.Data, &e)
			if f.Type != desk.TypeError || e.Code != bad.code {
				t.Errorf("%s %v: %s %s, want error %s", bad.typ, bad.data, f.Type, f.Data, bad.code)
			}
		}

		call := placeCall(t, r.sipAddr())
		call.waitMusic()
		offerID, id := d.offer()
		d.request("accept", map[string]string{"offer_id": offerID})
		po := d.phoneOffer()
		if string(po.ConversationID) != id || !bytes.Contains([]byte(po.SDP), []byte("PCMU/8000")) || bytes.Contains([]byte(po.SDP), []byte("opus")) {
			t.Fatalf("phone.offer %+v, want PCMU only for %s", po, id)
		}
		if c := d.call(id, desk.CallRinging); c.Device != desk.DeviceSoftphone {
			t.Errorf("ringing on %q, want the softphone", c.Device)
		}

		// The "browser" answers.
		peer, track := webrtcPeer(t)
		heard := atomic.Int64{}
		peer.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
			go func() {
				for {
					p, _, err := tr.ReadRTP()
					if err != nil {
						return
					}
					if p.PayloadType == media.PayloadPCMU && bytes.Equal(p.Payload, softCallerAudio) {
						heard.Add(1)
					}
				}
			}()
		})
		closed := make(chan struct{})
		var closeOnce atomic.Bool
		peer.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
			if (s == webrtc.PeerConnectionStateClosed || s == webrtc.PeerConnectionStateFailed || s == webrtc.PeerConnectionStateDisconnected) && closeOnce.CompareAndSwap(false, true) {
				close(closed)
			}
		})
		d.answerPhone(peer, po)
		if c := d.call(id, desk.CallBridged); c.Device != desk.DeviceSoftphone {
			t.Errorf("bridged to %q, want the softphone", c.Device)
		}
		api.waitStatus(id, conversation.StatusActive, demoRM)

		// Both ways: the browser talks while the caller talks.
		stop := make(chan struct{})
		talking := make(chan struct{})
		go func() {
			defer close(talking)
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				_ = track.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: media.PayloadPCMU, SequenceNumber: uint16(i),
					Timestamp: uint32(i * media.FrameSamples), SSRC: 0xb10b}, Payload: softBrowserAudio})
			}
		}()
		back := call.listen(2*time.Second, softCallerAudio, softBrowserAudio)
		waitFor(t, "the caller's audio in the browser", func() bool { return heard.Load() >= 50 })
		// The counters move just after each packet is sent on: read them
		// once they caught up (or after 10 s, failing below).
		var st softphoneStats
		var ok bool
		enough := func() bool {
			st, ok = r.g.voice.soft.stats(conversation.ConversationID(id))
			return ok && st.Caller.PacketsIn >= 50 && st.Caller.PacketsOut >= 50 && st.RM.PacketsIn >= 50 && st.RM.PacketsOut >= 50 &&
				st.WebRTC.ToBrowser >= 50 && st.WebRTC.FromBrowser >= 50
		}
		for deadline := time.Now().Add(10 * time.Second); !enough() && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		close(stop)
		<-talking
		if back < 50 || !ok {
			t.Fatalf("the caller heard %d frames of the browser (stats found %v)", back, ok)
		}
		t.Logf("gateway legs: caller in %d out %d; rm side in %d out %d; to browser %d, from browser %d",
			st.Caller.PacketsIn, st.Caller.PacketsOut, st.RM.PacketsIn, st.RM.PacketsOut, st.WebRTC.ToBrowser, st.WebRTC.FromBrowser)
		if st.Caller.PacketsIn < 50 || st.Caller.PacketsOut < 50 || st.RM.PacketsIn < 50 || st.RM.PacketsOut < 50 ||
			st.WebRTC.ToBrowser < 50 || st.WebRTC.FromBrowser < 50 {
			t.Errorf("leg counters %+v, want at least 50 packets each way", st)
		}

		// The client hangs up.
		call.hangUp()
		call.sipp.wait(t)
		hang := d.next("phone.hangup", func(f desk.Frame) bool { return f.Type == desk.TypePhoneHangup })
		var h phoneHangup
		_ = json.Unmarshal(hang.Data, &h)
		if h.CallID != po.CallID || h.EndedBy != "client" || h.Reason != "completed" {
			t.Errorf("phone.hangup %+v", h)
		}
		if c := d.call(id, desk.CallEnded); c.EndedBy != "client" || c.Device != desk.DeviceSoftphone {
			t.Errorf("ended: %+v", c)
		}
		select {
		case <-closed:
		case <-time.After(20 * time.Second):
			t.Error("the browser's peer connection did not end with the call")
		}
		waitFor(t, "the softphone call forgotten", func() bool { _, ok := r.g.voice.soft.stats(conversation.ConversationID(id)); return !ok })
		api.waitStatus(id, conversation.StatusWrapUp, demoRM)
	})
}

// The audio each side sends: distinct constant µ-law frames, so each
// side recognises the other's.
var (
	softCallerAudio  = bytes.Repeat([]byte{0x2a}, media.FrameSamples)
	softBrowserAudio = bytes.Repeat([]byte{0x5c}, media.FrameSamples)
)

// webrtcPeer is a pion peer connection with a PCMU microphone track, as a
// browser answering the gateway's phone.offer; loopback candidates
// included (the gateway's media address is 127.0.0.1 in these tests).
func webrtcPeer(t *testing.T) (*webrtc.PeerConnection, *webrtc.TrackLocalStaticRTP) {
	t.Helper()
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	track, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000, Channels: 1}, "mic", "browser")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pc.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	return pc, track
}

// TestVoiceSoftphoneRefused: a desk that refuses the gateway's phone.offer
// (phone.hangup before answering) is a phone that did not answer: the
// call goes back to the queue by that RM, the caller still waits with
// music, and hanging up then is an abandonment the desk hears of.
func TestVoiceSoftphoneRefused(t *testing.T) {
	t.Parallel()
	needTool(t, "sipp", "sip-tester")
	cfg := configs.Default()
	cfg.Secrets.JWTSecret = testSecret
	voiceConfig(cfg)
	r, logs := startVoice(t, cfg)
	api := newDesk(t, r)
	d := dialDesk(t, r)
	d.request(desk.TypePhoneRegister, map[string]bool{"enabled": true})

	call := placeCall(t, r.sipAddr())
	call.waitMusic()
	offerID, id := d.offer()
	d.request("accept", map[string]string{"offer_id": offerID})
	po := d.phoneOffer()
	d.request(desk.TypePhoneHangup, map[string]string{"call_id": po.CallID})
	hang := d.next("phone.hangup", func(f desk.Frame) bool { return f.Type == desk.TypePhoneHangup })
	var h phoneHangup
	_ = json.Unmarshal(hang.Data, &h)
	if h.CallID != po.CallID || h.EndedBy != "gateway" {
		t.Errorf("phone.hangup %+v", h)
	}
	waitFor(t, "the call handed back", func() bool {
		return strings.Contains(logs.String(), `"msg":"rm phone did not take the call"`)
	})
	// The hand-back is logged before it is committed: wait for it.
	waitFor(t, "the refused call no longer active", func() bool {
		return api.conversation(id)["status"] != string(conversation.StatusActive)
	})
	call.waitMusic() // still waiting, hearing music
	if f := d.try(desk.TypePhoneAnswer, map[string]string{"call_id": po.CallID, "sdp": "v=0"}); f.Type != desk.TypeError {
		t.Errorf("an answer to the refused offer: %s %s", f.Type, f.Data)
	}
	call.hangUp()
	call.sipp.wait(t)
	waitFor(t, "the abandonment", func() bool {
		return api.conversation(id)["status"] == string(conversation.StatusAbandoned)
	})
}
