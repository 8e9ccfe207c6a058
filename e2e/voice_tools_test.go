package e2e

import (
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/zaf/g711"

	"github.com/airbranch/airbranch/media"
)

// voiceNeedTool returns the path of an external tool, skipping the test
// when it is absent unless AIRBRANCH_TEST_REQUIRE_TOOLS=1 (then it fails).
func voiceNeedTool(t *testing.T, name, pkg string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("AIRBRANCH_TEST_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s not installed (apt-get install %s)", name, pkg)
		}
		t.Skipf("%s not installed (apt-get install %s)", name, pkg)
	}
	return p
}

// voiceFreeUDPPort returns a loopback UDP port free a moment ago.
func voiceFreeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// voiceTone is the i-th 20 ms frame of a PCMU sine of freq Hz at half
// scale.
func voiceTone(freq float64, i int) []byte {
	out := make([]byte, media.FrameSamples)
	for j := range out {
		n := float64(i*media.FrameSamples + j)
		out[j] = g711.EncodeUlawFrame(int16(0.5 * 32767 * math.Sin(2*math.Pi*freq*n/8000)))
	}
	return out
}

// voiceIsTone reports whether the interleaved 16-bit samples (channels
// per frame, rate Hz; the first channel is read) are a tone near freq: loud
// enough (RMS over 300) with as many zero crossings as that frequency
// makes, within 15%. Music on hold (notes under 530 Hz) and silence are
// not.
func voiceIsTone(samples []byte, channels, rate int, freq float64) bool {
	step := 2 * channels
	n := len(samples) / step
	if n < 80 {
		return false
	}
	var sum float64
	crossings, sign := 0, 0
	for i := range n {
		v := int16(uint16(samples[i*step]) | uint16(samples[i*step+1])<<8)
		sum += float64(v) * float64(v)
		s := 0
		switch {
		case v > 200:
			s = 1
		case v < -200:
			s = -1
		}
		if s != 0 {
			if sign != 0 && s != sign {
				crossings++
			}
			sign = s
		}
	}
	if math.Sqrt(sum/float64(n)) < 300 {
		return false
	}
	want := 2 * freq * float64(n) / float64(rate)
	return math.Abs(float64(crossings)-want) <= 0.15*want
}

// voiceHeardSeconds reads a WAV file of 16-bit PCM (what baresip's
// sndfile module wrote) and returns how many seconds of it, in 100 ms
// windows, carry a tone of freq: what that side heard of the other.
func voiceHeardSeconds(path string, freq float64) (float64, error) {
	if path == "" {
		return 0, fmt.Errorf("baresip kept no audio of the call (no dump-*-dec.wav)")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return 0, fmt.Errorf("%s: not a WAV file", path)
	}
	channels, rate := 0, 0
	var data []byte
	for off := 12; off+8 <= len(b); {
		id, size := string(b[off:off+4]), int(uint32(b[off+4])|uint32(b[off+5])<<8|uint32(b[off+6])<<16|uint32(b[off+7])<<24)
		body := b[off+8:]
		if id == "data" { // its size may not be written yet: up to the end
			data = body
			break
		}
		if size > len(body) {
			break
		}
		if id == "fmt " && size >= 16 {
			channels = int(body[2]) | int(body[3])<<8
			rate = int(uint32(body[4]) | uint32(body[5])<<8 | uint32(body[6])<<16 | uint32(body[7])<<24)
			if bits := int(body[14]) | int(body[15])<<8; bits != 16 {
				return 0, fmt.Errorf("%s: %d-bit samples, want 16", path, bits)
			}
		}
		off += 8 + size + size%2
	}
	if channels == 0 || rate == 0 || data == nil {
		return 0, fmt.Errorf("%s: no fmt or data chunk", path)
	}
	window := rate / 10 * channels * 2
	secs := 0.0
	for off := 0; off+window <= len(data); off += window {
		if voiceIsTone(data[off:off+window], channels, rate, freq) {
			secs += 0.1
		}
	}
	return secs, nil
}

// voiceNoBindingsAtEnd checks, once the test is over and its phones have
// unregistered (cleanups run last-registered first, so call it before
// starting them), that none of rms has a phone binding left in the
// instances' shared registrar (Redis hashes "…sip:reg:{rm}"): a later
// test's call must not ring a phone that is gone.
func voiceNoBindingsAtEnd(t *testing.T, c *cluster, rms ...string) {
	t.Helper()
	t.Cleanup(func() {
		rdb := c.redis.Client()
		defer rdb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for _, rm := range rms {
			keys, err := rdb.Keys(ctx, "*sip:reg:{"+rm+"}").Result()
			if err != nil {
				t.Errorf("registrar of %s: %v", rm, err)
				continue
			}
			for _, k := range keys {
				if n, err := rdb.HLen(ctx, k).Result(); err != nil || n > 0 {
					t.Errorf("%s's phone is still registered after the test (%s: %d bindings, %v)", rm, k, n, err)
				}
			}
		}
	})
}
