package sip

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/airbranch/airbranch/channels/conversation"
	"github.com/airbranch/airbranch/media"
	"github.com/airbranch/airbranch/media/prompts"
	"github.com/zaf/g711"
)

// tonePcap returns a pcap file of d of a freq Hz sine as 20 ms RTP packets
// of payload type pt (0 PCMU), for sipp's play_pcap_audio.
func tonePcap(freq float64, d time.Duration) []byte { return tonePcapAs(freq, d, false) }

// tonePcapAs is tonePcap in PCMA (payload type 8) when alaw is set.
func tonePcapAs(freq float64, d time.Duration, alaw bool) []byte {
	var b bytes.Buffer
	le := binary.LittleEndian
	hdr := make([]byte, 24)
	le.PutUint32(hdr[0:], 0xa1b2c3d4)
	le.PutUint16(hdr[4:], 2)
	le.PutUint16(hdr[6:], 4)
	le.PutUint32(hdr[16:], 65535)
	le.PutUint32(hdr[20:], 1)
	b.Write(hdr)
	samples := prompts.Tone(freq, 0.4, d)
	pt := uint8(0)
	if alaw {
		samples, pt = g711.Ulaw2Alaw(samples), 8
	}
	for i := 0; (i+1)*media.FrameSamples <= len(samples); i++ {
		rtp := make([]byte, media.RTPHeaderLen+media.FrameSamples)
		media.PutRTPHeader(rtp, i == 0, pt, uint16(i), uint32(i*media.FrameSamples), 0x70e)
		copy(rtp[media.RTPHeaderLen:], samples[i*media.FrameSamples:])
		frame := ethIPv4UDP(rtp)
		at := time.Duration(i) * 20 * time.Millisecond
		rec := make([]byte, 16)
		le.PutUint32(rec[0:], uint32(at/time.Second))
		le.PutUint32(rec[4:], uint32(at%time.Second/time.Microsecond))
		le.PutUint32(rec[8:], uint32(len(frame)))
		le.PutUint32(rec[12:], uint32(len(frame)))
		b.Write(rec)
		b.Write(frame)
	}
	return b.Bytes()
}

// loudest returns the start of the loudest second of s and its mean
// absolute level.
func loudest(s []int16) (int, float64) {
	best, at := 0.0, 0
	for off := 0; off+media.SampleRate <= len(s); off += media.SampleRate / 10 {
		var sum float64
		for _, v := range s[off : off+media.SampleRate] {
			sum += math.Abs(float64(v))
		}
		if l := sum / media.SampleRate; l > best {
			best, at = l, off
		}
	}
	return at, best
}

// zeroCrossings counts sign changes in s.
func zeroCrossings(s []int16) int {
	n := 0
	for i := 1; i < len(s); i++ {
		if (s[i-1] < 0) != (s[i] < 0) {
			n++
		}
	}
	return n
}

// TestSippRecordedCall: a sipp trunk caller (PCMA, playing a 1 kHz tone)
// is bridged to a sipp RM phone (PCMU, playing a 440 Hz tone) on a
// recorded call: the consent announcement plays before the bridge (the RM
// is bridged no sooner than its length), and the WAV file in the
// recording folder is 8 kHz stereo 16-bit with the caller's tone (about
// 2,000 zero crossings a second) on the left and the RM's (about 880) on
// the right; the sink hears of it once the call ended.
func TestSippRecordedCall(t *testing.T) {
	sippPath(t)
	recDir := t.TempDir()
	cfg := testConfig()
	cfg.RecordingDir = recDir
	sink := newFakeSink()
	sink.record = func(id conversation.ConversationID) bool { return true }
	reg := NewMemoryRegistrar()
	s := startServer(t, cfg, sink, reg)
	dir := t.TempDir()
	caller := tonePcapAs(1000, 4*time.Second, true)
	for name, data := range map[string][]byte{"g711a.pcap": caller, "rm_tone.pcap": tonePcap(440, 4*time.Second)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	uasPort := freePort(t)
	phone := startSipp(t, dir, "rm_phone_tone_uas.xml", nil, uasPort)
	startSipp(t, dir, "rm_register.xml", s.Addr("udp"), freePort(t),
		"-s", "rm-pb-01", "-au", "rm-pb-01", "-ap", "secret-1", "-set", "uas_port", strconv.Itoa(uasPort)).wait(t)

	talker := startSipp(t, dir, "trunk_talker.xml", s.Addr("udp"), freePort(t))
	id := conversation.ConversationID(sink.waitEvent(t, "incoming:")[len("incoming:"):])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	if err := bridgeSoon(ctx, s, id, "rm-pb-01"); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	consent := time.Duration(len(prompts.Get(prompts.English, prompts.Recording))) * time.Second / media.SampleRate
	if took := time.Since(start); took < consent {
		t.Errorf("bridged %s after the bridge began, before the %s consent announcement ended", took, consent)
	}
	talker.wait(t)
	phone.wait(t)
	sink.waitEvent(t, "recorded")
	sink.mu.Lock()
	recs := append([]media.Recording(nil), sink.recorded...)
	sink.mu.Unlock()
	files, _ := filepath.Glob(filepath.Join(recDir, "*.wav"))
	if len(recs) != 1 || len(files) != 1 || recs[0].Path != files[0] {
		t.Fatalf("recordings %+v, files %v", recs, files)
	}
	rate, ch, err := media.ReadWAV(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if rate != 8000 || len(ch) != 2 || len(ch[0]) < 5*media.SampleRate {
		t.Fatalf("wav: %d Hz, %d channels, %d frames", rate, len(ch), len(ch[0]))
	}
	lAt, lLevel := loudest(ch[0])
	rAt, rLevel := loudest(ch[1])
	if lLevel < 300 || rLevel < 300 {
		t.Fatalf("levels: left %.0f, right %.0f (want both above 300)", lLevel, rLevel)
	}
	if zc := zeroCrossings(ch[1][rAt : rAt+media.SampleRate]); zc < 860 || zc > 900 {
		t.Errorf("right channel: %d zero crossings in its loudest second, want about 880 (the RM's 440 Hz tone)", zc)
	}
	if zc := zeroCrossings(ch[0][lAt : lAt+media.SampleRate]); zc < 1960 || zc > 2040 {
		t.Errorf("left channel: %d zero crossings in its loudest second, want about 2,000 (the caller's 1 kHz tone)", zc)
	}
	t.Logf("recording %s: %s, left level %.0f at %.1fs, right level %.0f at %.1fs, packets %v", filepath.Base(files[0]), recs[0].Duration,
		lLevel, float64(lAt)/media.SampleRate, rLevel, float64(rAt)/media.SampleRate, recs[0].Packets)
}

// bridgeSoon calls Bridge, again every 20 ms while the call is not yet
// filed under its conversation (the sink hears of it first).
func bridgeSoon(ctx context.Context, s *Server, id conversation.ConversationID, rm conversation.RMID) error {
	for {
		err := s.Bridge(ctx, id, rm)
		if !errors.Is(err, ErrUnknownCall) || ctx.Err() != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}
