package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
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

// escalate sends the desk's escalate request for conversation id to
// channel and returns its answer (ack or error).
func (d *deskClient) escalate(id string, channel conversation.Channel) desk.Frame {
	d.t.Helper()
	return d.try("escalate", map[string]string{"conversation_id": id, "channel": string(channel)})
}

// activeChat opens a web chat conversation of the demo client, routes it
// and has rm-pb-01 accept it; it returns its id.
func activeChat(t *testing.T, r *running, d *apiDesk) string {
	t.Helper()
	code, c := do(t, "POST", r.base+"/api/v1/conversations", d.admin, map[string]any{"customer_id": demoCustomer, "channel": "webchat", "intent": "wealth"})
	if code != http.StatusCreated {
		t.Fatalf("create: %d %v", code, c)
	}
	if code, body := do(t, "POST", r.base+"/api/v1/conversations/"+c["id"].(string)+"/route", d.admin, nil); code != http.StatusOK {
		t.Fatalf("route: %d %v", code, body)
	}
	return d.acceptOffer()
}

// timelineDetail returns the detail of the first channel event named
// name on a conversation detail's timeline, nil when there is none.
func timelineDetail(detail map[string]any, name string) map[string]any {
	events, _ := detail["events"].([]any)
	for _, e := range events {
		if d, _ := e.(map[string]any)["detail"].(map[string]any); d["event"] == name {
			return d
		}
	}
	return nil
}

// TestVoiceEscalation: rm-pb-01 escalates an active web chat to voice on
// /ws/desk; the gateway rings the RM's sipp phone, then calls the demo
// client's number over the outbound trunk (a sipp UAS that checks the
// Request-URI, answers, talks 2 s and hangs up) and bridges them; the
// desk hears the call ringing on the phone, bridged, then ended by the
// client, and the conversation, now voice, goes to the RM's wrap-up with
// the completed call on its timeline.
func TestVoiceEscalation(t *testing.T) {
	t.Parallel()
	needTool(t, "sipp", "sip-tester")
	eachStore(t, func(t *testing.T, cfg *configs.Config) {
		voiceConfig(cfg)
		trunkPort := freeUDPPort(t)
		trunk := startSipp(t, "trunk_callee.xml", nil, trunkPort)
		cfg.SIP.Outbound = configs.SIPOutbound{Addr: fmt.Sprintf("127.0.0.1:%d", trunkPort), CallerID: bankNumber}
		r, _ := startVoice(t, cfg)
		d := newDesk(t, r)
		phone := registerPhoneScenario(t, r.sipAddr(), "phone_answer.xml", "-rtp_echo")
		id := activeChat(t, r, d)
		e := dialDesk(t, r)

		f := e.escalate(id, conversation.ChannelVoice)
		if f.Type != desk.TypeAck {
			t.Fatalf("escalate: %s %s", f.Type, f.Data)
		}
		if ring := e.call(id, desk.CallRinging); ring.Device != desk.DevicePhone {
			t.Errorf("ringing on %q, want phone", ring.Device)
		}
		if b := e.call(id, desk.CallBridged); b.Device != desk.DevicePhone {
			t.Errorf("bridged on %q, want phone", b.Device)
		}
		if end := e.call(id, desk.CallEnded); end.EndedBy != "client" || end.Reason != "completed" {
			t.Errorf("ended %+v, want by the client, completed", end)
		}
		trunk.wait(t) // dialled at the client's number, answered, hung up
		phone.wait(t) // rung first, bridged, then hung up by the gateway
		c := d.waitStatus(id, conversation.StatusWrapUp, demoRM)
		if c["channel"] != "voice" || !hasCallEnded(c, "completed") {
			t.Errorf("conversation %v %v: want voice with the completed call", c["channel"], c["events"])
		}
	})
}

// TestVoiceEscalationNoAnswer: when the RM's phone does not answer (a
// sipp phone that rings until cancelled) or the client does not (a trunk
// address where nothing answers), the escalated conversation goes back
// to web chat, still rm-pb-01's and active, with escalation_call_failed
// on its timeline; the desk hears the call ended with no_answer.
func TestVoiceEscalationNoAnswer(t *testing.T) {
	t.Parallel()
	needTool(t, "sipp", "sip-tester")
	for _, tc := range []struct {
		name, phone, reason, endedBy string
	}{
		{"rm phone", "phone_ring.xml", escalationRMNoAnswer, "rm"},
		{"client", "phone_answer.xml", escalationClientNoAnswer, "client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := configs.Default()
			cfg.Secrets.JWTSecret = testSecret
			voiceConfig(cfg)
			cfg.SIP.RMRingTimeout = 2 * time.Second
			// Nothing listens at the trunk: the client's phone never answers.
			cfg.SIP.Outbound = configs.SIPOutbound{Addr: fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t)), CallerID: bankNumber, RingTimeout: 2 * time.Second}
			r, _ := startVoice(t, cfg)
			d := newDesk(t, r)
			extra := []string{}
			if tc.phone == "phone_answer.xml" {
				extra = append(extra, "-rtp_echo")
			}
			phone := registerPhoneScenario(t, r.sipAddr(), tc.phone, extra...)
			id := activeChat(t, r, d)
			e := dialDesk(t, r)
			if f := e.escalate(id, conversation.ChannelVoice); f.Type != desk.TypeAck {
				t.Fatalf("escalate: %s %s", f.Type, f.Data)
			}
			e.call(id, desk.CallRinging)
			if end := e.call(id, desk.CallEnded); end.Reason != "no_answer" || end.EndedBy != tc.endedBy {
				t.Errorf("ended %+v, want no_answer by %s", end, tc.endedBy)
			}
			phone.wait(t)
			var c map[string]any
			waitFor(t, "the conversation back on web chat", func() bool {
				c = d.conversation(id)
				return c["channel"] == "webchat" && timelineDetail(c, eventEscalationCallFailed) != nil
			})
			if c["status"] != "active" || c["assignee_id"] != demoRM {
				t.Errorf("conversation %v %v, want active with %s", c["status"], c["assignee_id"], demoRM)
			}
			if det := timelineDetail(c, eventEscalationCallFailed); det["reason"] != tc.reason || det["back_to"] != "webchat" {
				t.Errorf("timeline note %v, want %s, back to webchat", det, tc.reason)
			}
			if code, body := d.reply(id, map[string]any{"text": "Sorry I missed you, shall we carry on here?"}); code != http.StatusCreated && code != http.StatusOK {
				t.Errorf("reply in the chat after the failed call: %d %v", code, body)
			}
		})
	}
}

// TestVoiceEscalationRefused: an escalation to voice that could not place
// a call is refused on /ws/desk with an error frame, and the conversation
// stays on web chat: voice off (voice_unavailable), no outbound trunk
// (voice_unavailable), no phone of the RM registered (voice_unavailable).
// (A client without a phone number, no_phone_number, is in the desk's
// tests: the demo clients all have one.)
func TestVoiceEscalationRefused(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		voice    bool
		outbound bool
		want     string
	}{
		{"voice off", false, false, "voice_unavailable"},
		{"no outbound trunk", true, false, "voice_unavailable"},
		{"no rm phone", true, true, "voice_unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := configs.Default()
			cfg.Secrets.JWTSecret = testSecret
			if tc.voice {
				voiceConfig(cfg)
			}
			if tc.outbound {
				cfg.SIP.Outbound = configs.SIPOutbound{Addr: fmt.Sprintf("127.0.0.1:%d", freeUDPPort(t)), CallerID: bankNumber}
			}
			r, _ := startVoice(t, cfg)
			d := newDesk(t, r)
			id := activeChat(t, r, d)
			e := dialDesk(t, r)
			f := e.escalate(id, conversation.ChannelVoice)
			if f.Type != desk.TypeError {
				t.Fatalf("escalate: %s %s, want an error frame", f.Type, f.Data)
			}
			var ed desk.ErrorData
			if err := json.Unmarshal(f.Data, &ed); err != nil || ed.Code != tc.want || ed.Status != http.StatusServiceUnavailable {
				t.Errorf("error frame %s, want %s 503", f.Data, tc.want)
			}
			if c := d.conversation(id); c["channel"] != "webchat" || c["status"] != "active" {
				t.Errorf("conversation %v %v after a refusal, want webchat active", c["channel"], c["status"])
			}
			// Video is not the voice channel's concern: still allowed.
			if f := e.escalate(id, conversation.ChannelVideo); f.Type != desk.TypeAck {
				t.Errorf("escalate to video: %s %s", f.Type, f.Data)
			}
		})
	}
}

// TestVoiceEscalationSoftphone: rm-pb-01 has the desk's softphone on (and
// no SIP phone) and escalates an active web chat to voice: the gateway
// offers the call to the softphone (phone.offer), a pion peer answers as
// the browser, then the gateway calls the client over the trunk (a sipp
// UAS echoing RTP) and bridges them: what the browser says comes back
// from the client's side. The desk hears ringing and bridged on the
// softphone; the client's hang-up ends the call (phone.hangup, ended) and
// the conversation goes to wrap-up.
func TestVoiceEscalationSoftphone(t *testing.T) {
	t.Parallel()
	needTool(t, "sipp", "sip-tester")
	cfg := configs.Default()
	cfg.Secrets.JWTSecret = testSecret
	voiceConfig(cfg)
	trunkPort := freeUDPPort(t)
	trunk := startSipp(t, "trunk_callee.xml", nil, trunkPort, "-rtp_echo")
	cfg.SIP.Outbound = configs.SIPOutbound{Addr: fmt.Sprintf("127.0.0.1:%d", trunkPort), CallerID: bankNumber}
	r, _ := startVoice(t, cfg)
	api := newDesk(t, r)
	id := activeChat(t, r, api)
	d := dialDesk(t, r)
	d.request(desk.TypePhoneRegister, map[string]bool{"enabled": true})

	if f := d.escalate(id, conversation.ChannelVoice); f.Type != desk.TypeAck {
		t.Fatalf("escalate: %s %s", f.Type, f.Data)
	}
	po := d.phoneOffer()
	if string(po.ConversationID) != id {
		t.Fatalf("phone.offer for %s, want %s", po.ConversationID, id)
	}
	if c := d.call(id, desk.CallRinging); c.Device != desk.DeviceSoftphone {
		t.Errorf("ringing on %q, want the softphone", c.Device)
	}
	peer, track := webrtcPeer(t)
	echoed := atomic.Int64{}
	peer.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		go func() {
			for {
				p, _, err := tr.ReadRTP()
				if err != nil {
					return
				}
				if bytes.Equal(p.Payload, softBrowserAudio) {
					echoed.Add(1)
				}
			}
		}()
	})
	d.answerPhone(peer, po)
	stop := make(chan struct{})
	talking := make(chan struct{})
	go func() { // the RM talks from the browser until the call is over
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
				Timestamp: uint32(i * media.FrameSamples), SSRC: 0xe5c}, Payload: softBrowserAudio})
		}
	}()
	defer func() { close(stop); <-talking }()
	if c := d.call(id, desk.CallBridged); c.Device != desk.DeviceSoftphone {
		t.Errorf("bridged to %q, want the softphone", c.Device)
	}
	trunk.wait(t) // dialled at the client's number, answered, 2 s of echo, hung up
	if c := d.call(id, desk.CallEnded); c.EndedBy != "client" || c.Device != desk.DeviceSoftphone {
		t.Errorf("ended %+v, want by the client on the softphone", c)
	}
	d.next("phone.hangup", func(f desk.Frame) bool { return f.Type == desk.TypePhoneHangup })
	n := echoed.Load()
	t.Logf("the browser heard %d frames of its own voice echoed by the client's side", n)
	if n < 25 {
		t.Errorf("the browser heard %d frames of its own voice back from the client's side, want at least 25", n)
	}
	c := api.waitStatus(id, conversation.StatusWrapUp, demoRM)
	if c["channel"] != "voice" || !hasCallEnded(c, "completed") {
		t.Errorf("conversation %v %v: want voice with the completed call", c["channel"], c["events"])
	}
}
