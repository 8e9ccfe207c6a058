package gateway

import (
	"path/filepath"
	"testing"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/configs"
	"github.com/airbranch/airbranch/media"
)

// TestVoiceRecordedCall: with the private segment recorded, the demo
// private-bank client's call (sipp trunk) is accepted by rm-pb-01, whose
// sipp phone answers and echoes; the caller hears the consent
// announcement before the bridge, talks, hangs up; the conversation's
// timeline references the WAV file (channel event call_recorded), which is
// in the configured folder, 8 kHz stereo, with sound on both channels.
func TestVoiceRecordedCall(t *testing.T) {
	t.Parallel()
	needTool(t, "sipp", "sip-tester")
	eachStore(t, func(t *testing.T, cfg *configs.Config) {
		voiceConfig(cfg)
		dir := filepath.Join(t.TempDir(), "calls") // created by the gateway
		cfg.SIP.Recording = configs.SIPRecording{Segments: []conversation.Segment{conversation.SegmentPrivate}, Dir: dir}
		r, _ := startVoice(t, cfg)
		phone := registerPhone(t, r.sipAddr())
		d := newDesk(t, r)

		call := placeCall(t, r.sipAddr())
		call.waitMusic()
		id := d.acceptOffer()
		if back := call.talk(callerAudio, callerEcho, 25); back < 25 {
			t.Fatalf("%d frames came back through the phone, want 25", back)
		}
		call.hangUp()
		call.sipp.wait(t)
		phone.wait(t)
		c := d.waitStatus(id, conversation.StatusWrapUp, demoRM)
		var file string
		events, _ := c["events"].([]any)
		for _, e := range events {
			if det, _ := e.(map[string]any)["detail"].(map[string]any); det["event"] == "call_recorded" {
				file, _ = det["file"].(string)
			}
		}
		if file == "" || filepath.Base(file) != file {
			t.Fatalf("no call_recorded event naming a file on the timeline: %v", events)
		}
		rate, ch, err := media.ReadWAV(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if rate != media.SampleRate || len(ch) != 2 {
			t.Fatalf("%d Hz, %d channels", rate, len(ch))
		}
		for i, samples := range ch {
			loud := 0
			for _, v := range samples {
				if v > 1000 || v < -1000 {
					loud++
				}
			}
			if loud < 25*media.FrameSamples/4 {
				t.Errorf("channel %d: %d loud samples of %d", i, loud, len(samples))
			}
		}
	})
}
