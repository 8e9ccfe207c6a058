package gateway

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/configs"
)

// TestVoicePhoneFirst: with sip.phone_first, routing's offer rings the
// RM's phone (Debian's baresip, registered with digest, answering by
// itself) and the answer accepts the offer: the conversation becomes
// active with rm-pb-01 without anyone touching the desk; when the trunk
// hangs up it goes to wrap-up.
func TestVoicePhoneFirst(t *testing.T) {
	t.Parallel()
	bin := needTool(t, "baresip", "baresip-core")
	needTool(t, "sipp", "sip-tester")
	eachStore(t, func(t *testing.T, cfg *configs.Config) {
		voiceConfig(cfg)
		cfg.SIP.PhoneFirst = true
		r, logs := startVoice(t, cfg)
		startBaresip(t, bin, r)
		d := newDesk(t, r)

		call := placeCall(t, r.sipAddr())
		var id string
		waitFor(t, "the call's conversation", func() bool {
			if items := d.conversations(); len(items) == 1 {
				id = items[0].(map[string]any)["id"].(string)
			}
			return id != ""
		})
		d.waitStatus(id, conversation.StatusActive, demoRM)
		if !strings.Contains(logs.String(), `"msg":"rm phone answered; call bridged"`) || !strings.Contains(logs.String(), `"kind":"ring"`) {
			t.Error("the logs do not show the offer ringing the phone")
		}
		if code, list := do(t, "GET", d.base+"/api/v1/offers", d.rm, nil); code != http.StatusOK || len(list["items"].([]any)) != 0 {
			t.Errorf("offers left after the phone answered: %d %v", code, list)
		}
		call.hangUp()
		call.sipp.wait(t)
		d.waitStatus(id, conversation.StatusWrapUp, demoRM)
	})
}

// startBaresip runs baresip as rm-pb-01's desk phone registered with the
// gateway of r by digest, answering calls by itself, and waits until the
// registration is in the gateway's registrar.
func startBaresip(t *testing.T, bin string, r *running) {
	t.Helper()
	dir := t.TempDir()
	config := fmt.Sprintf(`poll_method epoll
sip_listen 127.0.0.1:%d
audio_source ausine,440
audio_player aufile,%s
audio_alert aufile,%s
net_interface 127.0.0.1
ausrc_srate 48000
auplay_srate 48000
ausrc_channels 2
auplay_channels 2
rtp_ports 30000-39998
module_path /usr/lib/baresip/modules
module g711.so
module ausine.so
module aufile.so
module_app account.so
`, freeUDPTCPPort(t), filepath.Join(dir, "heard.wav"), filepath.Join(dir, "alert.wav"))
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	account := fmt.Sprintf("<sip:%s@%s;transport=udp>;auth_pass=%s;answermode=auto;regint=600;audio_codecs=PCMU,PCMA\n", demoRM, r.sipAddr(), phonePassword)
	if err := os.WriteFile(filepath.Join(dir, "accounts"), []byte(account), 0o600); err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	cmd := exec.Command(bin, "-f", dir)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("baresip output:\n%s", out.String())
		}
	})
	waitFor(t, "baresip's registration", func() bool {
		bs, err := r.g.voice.registrar.Bindings(context.Background(), demoRM, time.Now())
		return err == nil && len(bs) == 1
	})
}

// TestVoicePhoneDoesNotAnswer: when rm-pb-01's phone is not registered,
// desk-first the accepted call goes back to the queue by the RM ("phone
// did not answer"), and phone-first the offer is declined ("no answer");
// either way the caller waits on, and hangs up.
func TestVoicePhoneDoesNotAnswer(t *testing.T) {
	t.Parallel()
	needTool(t, "sipp", "sip-tester")
	for _, tt := range []struct {
		name       string
		phoneFirst bool
		event      conversation.EventType
		reason     string
	}{
		{name: "desk first", event: conversation.EventTransfer, reason: "to the queue: phone did not answer"},
		{name: "phone first", phoneFirst: true, event: conversation.EventDecline, reason: "no answer"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := configs.Default()
			cfg.Secrets.JWTSecret = testSecret
			voiceConfig(cfg)
			cfg.SIP.PhoneFirst = tt.phoneFirst
			r, _ := startVoice(t, cfg)
			d := newDesk(t, r)
			call := placeCall(t, r.sipAddr())
			call.waitMusic()
			var id string
			if tt.phoneFirst {
				waitFor(t, "the call's conversation", func() bool {
					if items := d.conversations(); len(items) == 1 {
						id = items[0].(map[string]any)["id"].(string)
					}
					return id != ""
				})
			} else {
				id = d.acceptOffer()
			}
			waitFor(t, "the "+string(tt.event)+" by "+demoRM, func() bool {
				events, _ := d.conversation(id)["events"].([]any)
				for _, e := range events {
					e := e.(map[string]any)
					if e["type"] == string(tt.event) && e["rm_id"] == demoRM && e["reason"] == tt.reason {
						return true
					}
				}
				return false
			})
			d.waitStatus(id, conversation.StatusQueued, "")
			call.hangUp()
			call.sipp.wait(t)
			d.waitStatus(id, conversation.StatusAbandoned, "")
		})
	}
}

// TestVoicePhoneFirstDeclinedOnDesk: with sip.phone_first, an RM who
// declines the offer on the desk while their phone rings (sipp has sent
// 180 Ringing) stops the ringing (the phone gets CANCEL, RFC 3261 §9.1) long before the ring or
// the offer would time out; the offer is declined with the RM's reason,
// not as unanswered.
func TestVoicePhoneFirstDeclinedOnDesk(t *testing.T) {
	t.Parallel()
	needTool(t, "sipp", "sip-tester")
	cfg := configs.Default()
	cfg.Secrets.JWTSecret = testSecret
	voiceConfig(cfg)
	cfg.SIP.PhoneFirst = true
	cfg.SIP.RMRingTimeout = 5 * time.Minute
	cfg.Routing.OfferTimeouts["voice"] = 10 * time.Minute
	r, _ := startVoice(t, cfg)
	ringLog := filepath.Join(t.TempDir(), "phone-messages.log")
	phone := registerPhoneScenario(t, r.sipAddr(), "phone_ring.xml", "-trace_msg", "-message_file", ringLog)
	d := newDesk(t, r)
	call := placeCall(t, r.sipAddr())
	call.waitMusic()
	var offer map[string]any
	waitFor(t, "the offer to "+demoRM, func() bool {
		code, list := do(t, "GET", d.base+"/api/v1/offers", d.rm, nil)
		if items, _ := list["items"].([]any); code == http.StatusOK && len(items) == 1 {
			offer = items[0].(map[string]any)
		}
		return offer != nil
	})
	id := offer["conversation_id"].(string)
	waitFor(t, "the phone ringing", func() bool { // sipp's log of the messages it exchanged
		b, _ := os.ReadFile(ringLog)
		return strings.Contains(string(b), "SIP/2.0 180 Ringing")
	})
	if code, body := do(t, "POST", d.base+"/api/v1/offers/"+offer["id"].(string)+"/decline", d.rm, map[string]any{"reason": "with another client"}); code/100 != 2 {
		t.Fatalf("decline: %d %v", code, body)
	}
	phone.wait(t) // cancelled: it exits only on CANCEL
	events, _ := d.conversation(id)["events"].([]any)
	var reasons []string
	for _, e := range events {
		if e := e.(map[string]any); e["type"] == string(conversation.EventDecline) {
			reasons = append(reasons, fmt.Sprint(e["reason"]))
		}
	}
	if strings.Join(reasons, "|") != "with another client" {
		t.Errorf("declines %q, want the RM's alone", reasons)
	}
	call.hangUp()
	call.sipp.wait(t)
	d.waitStatus(id, conversation.StatusAbandoned, "")
}
