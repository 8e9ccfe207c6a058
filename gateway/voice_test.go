package gateway

import (
	"context"
	"crypto/rand"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/zaf/g711"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/gateway/state/statetest"
	"github.com/airbranch/airbranch/media"
)

// callerAudio is a PCMU frame the trunk's caller says, and callerEcho
// what comes back from the RM phone's echo: the phone answers in PCMA, so
// the gateway transcodes it both ways (µ-law → A-law → µ-law).
var (
	callerAudio = func() []byte {
		b := make([]byte, media.FrameSamples)
		for i := range b {
			b[i] = byte(i*7 + 3)
		}
		return b
	}()
	callerEcho = g711.Alaw2Ulaw(g711.Ulaw2Alaw(callerAudio))
)

// TestVoiceEndToEnd: rm-pb-01's desk phone (sipp) registers with digest
// and the RM goes available through the API; the bank's trunk (sipp) calls
// from the demo private-bank client's number, asserted by
// P-Asserted-Identity; the call is offered to rm-pb-01, who accepts
// through the API; the phone rings and answers in PCMA; the caller's
// audio reaches the phone and its echo comes back (RTP both ways through
// the gateway, transcoded each way); the trunk hangs up, the gateway
// hangs up the phone, and the conversation is in wrap-up with rm-pb-01 as
// its assignee, the call's end on its timeline.
func TestVoiceEndToEnd(t *testing.T) {
	t.Parallel()
	needTool(t, "sipp", "sip-tester")
	eachStore(t, func(t *testing.T, cfg *configs.Config) {
		voiceConfig(cfg)
		r, logs := startVoice(t, cfg)
		phone := registerPhone(t, r.sipAddr())
		d := newDesk(t, r)

		call := placeCall(t, r.sipAddr())
		call.waitMusic()
		id := d.acceptOffer()
		c := d.conversation(id)
		if c["channel"] != "voice" || c["channel_account"] != bankNumber || c["address"].(map[string]any)["value"] != demoPhone {
			t.Fatalf("conversation %v", c)
		}
		if back := call.talk(callerAudio, callerEcho, 10); back < 10 {
			t.Fatalf("%d frames came back through the phone, want 10", back)
		}
		call.hangUp()
		call.sipp.wait(t)
		phone.wait(t) // the gateway hung up the phone's leg too
		c = d.waitStatus(id, conversation.StatusWrapUp, demoRM)
		if !hasCallEnded(c, "completed") {
			t.Errorf("the timeline does not record the completed call: %v", c["events"])
		}
		if !strings.Contains(logs.String(), `"client_leg_codec":"PCMU","rm_leg_codec":"PCMA"`) {
			t.Error("the logs do not show the PCMU caller bridged to the PCMA phone")
		}
		noPersonalData(t, logs, "incoming call", "55500001")
	})
}

// TestVoiceCancelBeforeAnswer: a trunk caller who gives up while the
// gateway still rings (CANCEL, RFC 3261 §9) leaves an abandoned
// conversation.
func TestVoiceCancelBeforeAnswer(t *testing.T) {
	t.Parallel()
	needTool(t, "sipp", "sip-tester")
	eachStore(t, func(t *testing.T, cfg *configs.Config) {
		voiceConfig(cfg)
		cfg.SIP.RingBeforeAnswer = 30 * time.Second
		r, _ := startVoice(t, cfg)
		d := &apiDesk{t: t, base: r.base, admin: adminToken(t, testSecret)}
		startSipp(t, "trunk_cancel.xml", r.sipAddr(), freeUDPPort(t), "-set", "pai", demoPhone).wait(t)
		var id string
		waitFor(t, "the call's conversation", func() bool {
			if items := d.conversations(); len(items) == 1 {
				id = items[0].(map[string]any)["id"].(string)
			}
			return id != ""
		})
		c := d.waitStatus(id, conversation.StatusAbandoned, "")
		if !hasCallEnded(c, "abandoned") {
			t.Errorf("the timeline does not record the abandoned call: %v", c["events"])
		}
	})
}

// TestVoiceBridgeOnTheCallsInstance: two gateways share one Redis. The
// RM's phone registers with instance B, the trunk's call arrives at
// instance A, and the RM accepts through B's API: B publishes the bridge,
// A (which holds the call) rings the phone found in the shared registrar,
// and the audio flows through A; when the trunk hangs up the conversation
// is in wrap-up with the RM.
func TestVoiceBridgeOnTheCallsInstance(t *testing.T) {
	t.Parallel()
	needTool(t, "sipp", "sip-tester")
	u := testRedisURL(t)
	prefix := "{abtest-voice-" + strings.ToLower(rand.Text()[:12]) + "}"
	t.Cleanup(func() { statetest.PurgeRedisURL(t, u, prefix) })
	instance := func(name string) (*running, *syncBuffer) {
		cfg := configs.Default()
		cfg.Redis.URL, cfg.Redis.KeyPrefix = u, prefix
		cfg.Secrets.JWTSecret = testSecret
		cfg.InstanceID = name
		voiceConfig(cfg)
		return startVoice(t, cfg)
	}
	a, aLogs := instance("voice-a")
	b, bLogs := instance("voice-b")
	phone := registerPhone(t, b.sipAddr())
	d := newDesk(t, b)

	call := placeCall(t, a.sipAddr())
	call.waitMusic()
	id := d.acceptOffer()
	if back := call.talk(callerAudio, callerEcho, 10); back < 10 {
		t.Fatalf("%d frames came back through the phone, want 10", back)
	}
	call.hangUp()
	call.sipp.wait(t)
	phone.wait(t)
	d.waitStatus(id, conversation.StatusWrapUp, demoRM)
	const bridged = `"msg":"rm phone answered; call bridged"`
	if !strings.Contains(aLogs.String(), bridged) || strings.Contains(bLogs.String(), bridged) {
		t.Errorf("the bridge was not made by the call's instance A alone (A logged it: %v, B logged it: %v)",
			strings.Contains(aLogs.String(), bridged), strings.Contains(bLogs.String(), bridged))
	}
}

// TestVoiceMenu: a waiting caller who presses 1 then 2 (SIP INFO) has the
// conversation's language switched to zh, then becomes a callback task
// (closed with disposition callback_requested) and is said goodbye.
func TestVoiceMenu(t *testing.T) {
	t.Parallel()
	needTool(t, "sipp", "sip-tester")
	eachStore(t, func(t *testing.T, cfg *configs.Config) {
		voiceConfig(cfg)
		r, _ := startVoice(t, cfg)
		d := &apiDesk{t: t, base: r.base, admin: adminToken(t, testSecret)}
		startSipp(t, "trunk_menu.xml", r.sipAddr(), freeUDPPort(t), "-set", "pai", demoPhone).wait(t)
		items := d.conversations()
		if len(items) != 1 {
			t.Fatalf("conversations %v", items)
		}
		id := items[0].(map[string]any)["id"].(string)
		c := d.waitStatus(id, conversation.StatusClosed, "")
		if c["disposition"] != "callback_requested" || c["language"] != "zh" {
			t.Errorf("disposition %v, language %v; want callback_requested, zh", c["disposition"], c["language"])
		}
		waitFor(t, "the call's end on the timeline", func() bool { return hasCallEnded(d.conversation(id), "callback") })
	})
}

// TestVoiceQueuePosition: two callers wait while no RM is available; the
// announcements tell the first it is next and the second it is second
// (QueueStatus, what the SIP adapter announces); both hang up while
// waiting, which abandons their conversations.
func TestVoiceQueuePosition(t *testing.T) {
	t.Parallel()
	needTool(t, "sipp", "sip-tester")
	cfg := configs.Default()
	cfg.Secrets.JWTSecret = testSecret
	voiceConfig(cfg)
	r, _ := startVoice(t, cfg)
	d := &apiDesk{t: t, base: r.base, admin: adminToken(t, testSecret)}
	first := placeCall(t, r.sipAddr())
	first.waitMusic()
	second := placeCall(t, r.sipAddr())
	second.waitMusic()
	items := d.conversations() // newest first
	if len(items) != 2 {
		t.Fatalf("conversations %v", items)
	}
	ids := []string{items[1].(map[string]any)["id"].(string), items[0].(map[string]any)["id"].(string)}
	for i, id := range ids {
		d.waitStatus(id, conversation.StatusQueued, "")
		st, err := r.g.voice.QueueStatus(context.Background(), conversation.ConversationID(id))
		if err != nil || st.Position != i+1 || st.ExpectedWait != 0 {
			t.Errorf("caller %d: queue status %+v, %v; want position %d", i+1, st, err, i+1)
		}
	}
	for i, call := range []*trunkCall{first, second} {
		call.hangUp()
		call.sipp.wait(t)
		c := d.waitStatus(ids[i], conversation.StatusAbandoned, "")
		if !hasCallEnded(c, "abandoned") {
			t.Errorf("caller %d: the timeline does not record the abandoned call", i+1)
		}
	}
}

// TestVoiceNewRefuses: the gateway does not start with an RM phone whose
// rm the directory lacks, nor when the SIP port is taken, and says which.
func TestVoiceNewRefuses(t *testing.T) {
	t.Parallel()
	taken, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tt := range []struct {
		name string
		edit func(*configs.Config)
		want string
	}{
		{name: "unknown rm", edit: func(c *configs.Config) { c.SIP.RMPhones = []configs.SIPPhone{{RM: "rm-nobody", Username: "x"}} }, want: `rm phone "x": rm "rm-nobody"`},
		{name: "port taken", edit: func(c *configs.Config) { c.SIP.UDPAddr = taken.LocalAddr().String() }, want: "listen udp " + taken.LocalAddr().String()},
	} {
		cfg := configs.Default()
		voiceConfig(cfg)
		tt.edit(cfg)
		g, err := New(context.Background(), cfg, NewLogger(&syncBuffer{}, "error", "json"))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			if g != nil {
				_ = g.store.Close()
			}
			t.Errorf("%s: New: %v, want an error containing %q", tt.name, err, tt.want)
		}
	}
}
