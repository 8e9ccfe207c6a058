package gateway

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/configs"
)

// TestVoiceTransferToRM: rm-pb-01 takes the demo client's call on their
// sipp phone (answering PCMA, echoing), then transfers it to rm-pb-02, on
// the desk API or from the phone (REFER, RFC 3515: 202, then a NOTIFY
// "200 OK" checked by the scenario): rm-pb-01's phone gets a BYE (its
// scenario ends), the caller
// hears music again, rm-pb-02 (available, with a sipp phone of their own)
// accepts the transfer's offer, their phone rings and is bridged, and the
// caller's audio comes back through it; the caller's hang-up leaves the
// conversation in rm-pb-02's wrap-up.
func TestVoiceTransferToRM(t *testing.T) {
	t.Parallel()
	needTool(t, "sipp", "sip-tester")
	const rm2 = "rm-pb-02"
	for _, byPhone := range []bool{false, true} {
		t.Run(map[bool]string{false: "desk", true: "phone REFER"}[byPhone], func(t *testing.T) {
			t.Parallel()
			eachStore(t, func(t *testing.T, cfg *configs.Config) {
				voiceConfig(cfg)
				cfg.SIP.RMPhones = append(cfg.SIP.RMPhones, configs.SIPPhone{RM: rm2, Username: rm2})
				cfg.Secrets.SIPPhonePasswords[rm2] = phonePassword
				r, _ := startVoice(t, cfg)
				args := []string{"phone_answer.xml", "-rtp_echo"}
				if byPhone {
					args = []string{"phone_refer.xml", "-rtp_echo", "-set", "refer_to", rm2}
				}
				phone1 := registerPhoneScenario(t, r.sipAddr(), args[0], args[1:]...)
				uas := freeUDPPort(t)
				phone2 := startSipp(t, "phone_answer.xml", nil, uas, "-rtp_echo")
				startSipp(t, "phone_register.xml", r.sipAddr(), freeUDPPort(t), "-s", rm2, "-au", rm2, "-ap", phonePassword,
					"-set", "uas_port", strconv.Itoa(uas)).wait(t)
				d := newDesk(t, r)
				tok2 := rmToken(t, testSecret, rm2, demoRMTeam)
				if code, body := do(t, "PUT", d.base+"/api/v1/presence", tok2, map[string]any{"state": "available"}); code != http.StatusOK {
					t.Fatalf("presence: %d %v", code, body)
				}

				call := placeCall(t, r.sipAddr())
				call.waitMusic()
				id := d.acceptOffer()
				if back := call.talk(callerAudio, callerEcho, 5); back < 5 {
					t.Fatalf("%d frames came back through rm-pb-01's phone, want 5", back)
				}
				if !byPhone {
					code, body := do(t, "POST", d.base+"/api/v1/conversations/"+id+"/transfer", d.rm,
						map[string]any{"to": "rm", "rm_id": rm2, "reason": "wealth question"})
					if code != http.StatusOK {
						t.Fatalf("transfer: %d %v", code, body)
					}
				}
				phone1.wait(t) // its leg got the BYE
				call.waitMusic()
				var offer map[string]any
				waitFor(t, "an offer to "+rm2, func() bool {
					code, list := do(t, "GET", d.base+"/api/v1/offers", tok2, nil)
					if items, _ := list["items"].([]any); code == http.StatusOK && len(items) == 1 {
						offer = items[0].(map[string]any)
					}
					return offer != nil
				})
				if code, acc := do(t, "POST", d.base+"/api/v1/offers/"+offer["id"].(string)+"/accept", tok2, nil); code != http.StatusOK {
					t.Fatalf("accept: %d %v", code, acc)
				}
				if back := call.talk(callerAudio, callerEcho, 5); back < 5 {
					t.Fatalf("%d frames came back through rm-pb-02's phone, want 5", back)
				}
				call.hangUp()
				call.sipp.wait(t)
				phone2.wait(t)
				d.waitStatus(id, conversation.StatusWrapUp, rm2)
			})
		})
	}
}
