package gateway

import (
	"fmt"
	"slices"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/configs"
)

// TestVoiceCallbackTask: with an outbound trunk configured (a sipp UAS),
// the demo private-bank client calls and presses 2: the call is said
// goodbye and closed as callback_requested, and a callback task (a voice
// conversation tagged callback_task, pointing back at the call) is routed
// to rm-pb-01, who accepts it; the gateway rings rm-pb-01's sipp phone,
// then calls the client's number over the trunk (the scenario checks the
// Request-URI) and bridges them; the client's hang-up ends the phone's leg
// and leaves the task in rm-pb-01's wrap-up.
func TestVoiceCallbackTask(t *testing.T) {
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
		startSipp(t, "trunk_menu.xml", r.sipAddr(), freeUDPPort(t), "-set", "pai", demoPhone).wait(t)

		id := d.acceptOffer() // the task, offered to the client's own RM
		task := d.conversation(id)
		tags, _ := task["tags"].([]any)
		if task["channel"] != "voice" || !slices.Contains(tags, any(CallbackTaskTag)) {
			t.Fatalf("task %v", task)
		}
		trunk.wait(t) // dialled, answered, hung up
		phone.wait(t) // rung first, bridged, then hung up by the gateway
		c := d.waitStatus(id, conversation.StatusWrapUp, demoRM)
		origin := ""
		for _, e := range c["events"].([]any) {
			if det, _ := e.(map[string]any)["detail"].(map[string]any); det["event"] == "callback_task" {
				origin, _ = det["origin"].(string)
			}
		}
		if origin == "" || origin == id {
			t.Fatalf("the task's timeline does not name the call it came from: %v", c["events"])
		}
		if o := d.conversation(origin); o["disposition"] != "callback_requested" {
			t.Errorf("origin %s disposition %v", origin, o["disposition"])
		}
		if !hasCallEnded(c, "completed") {
			t.Errorf("the task's timeline lacks the completed call: %v", c["events"])
		}
	})
}
