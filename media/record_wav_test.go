package media

import (
	"math"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/zaf/g711"
)

// tone returns n µ-law samples of a sine of freq Hz at amplitude amp.
func tone(freq, amp float64, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = g711.EncodeUlawFrame(int16(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/SampleRate)))
	}
	return out
}

// energy returns the mean absolute sample value of s.
func energy(s []int16) float64 {
	if len(s) == 0 {
		return 0
	}
	var sum float64
	for _, v := range s {
		sum += math.Abs(float64(v))
	}
	return sum / float64(len(s))
}

// TestWAVRecorderAlignsChannels writes 1 s on the left from t=0 and 0.5 s
// on the right from t=1.5 s (A-law), with a lost packet and a late one,
// and checks the layout: stereo 8 kHz, each channel's audio where its
// packets' times put it and silence elsewhere.
func TestWAVRecorderAlignsChannels(t *testing.T) {
	t.Parallel()
	start := time.Unix(1000, 0)
	path := filepath.Join(t.TempDir(), "call.wav")
	r, err := CreateWAV(path, start)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CreateWAV(path, start); err == nil {
		t.Fatal("second CreateWAV on the same path succeeded")
	}
	left := tone(440, 0.5, SampleRate)
	for i := 0; i < 50; i++ {
		if i == 10 {
			continue // lost
		}
		at := start.Add(time.Duration(i) * 20 * time.Millisecond)
		r.write(ChannelLeft, 7, uint32(5000+i*FrameSamples), left[i*FrameSamples:(i+1)*FrameSamples], CodecPCMU, at)
	}
	right := tone(1000, 0.5, SampleRate/2)
	g711alaw := g711.Ulaw2Alaw(right)
	for i := 0; i < 25; i++ {
		at := start.Add(1500*time.Millisecond + time.Duration(i)*20*time.Millisecond)
		r.write(ChannelRight, 9, uint32(123+i*FrameSamples), g711alaw[i*FrameSamples:(i+1)*FrameSamples], CodecPCMA, at)
	}
	// Far too late for the window (the left channel's first frame, 3 s on).
	r.write(ChannelLeft, 7, 5000, left[:FrameSamples], CodecPCMU, start.Add(4*time.Second))
	rec, err := r.Close()
	if err != nil {
		t.Fatal(err)
	}
	rate, ch, err := ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if rate != SampleRate || len(ch) != 2 {
		t.Fatalf("rate %d, %d channels", rate, len(ch))
	}
	if want := 4*SampleRate + FrameSamples; len(ch[0]) != want || rec.Duration != time.Duration(want)*time.Second/SampleRate {
		t.Fatalf("%d frames (%s), want %d", len(ch[0]), rec.Duration, want)
	}
	if rec.Packets != [2]uint64{50, 25} {
		t.Errorf("packets %v", rec.Packets)
	}
	tests := []struct {
		name     string
		ch       int
		from, to int
		loud     bool
	}{
		{"left talks", 0, 0, 10 * FrameSamples, true},
		{"left lost packet", 0, 10 * FrameSamples, 11 * FrameSamples, false},
		{"left talks on", 0, 11 * FrameSamples, SampleRate, true},
		{"left silent after", 0, SampleRate, 4 * SampleRate, false},
		{"right silent before", 1, 0, 1500 * SampleRate / 1000, false},
		{"right talks", 1, 1500 * SampleRate / 1000, 2 * SampleRate, true},
		{"right silent after", 1, 2 * SampleRate, 4 * SampleRate, false},
		{"re-anchored late packet on the left", 0, 4 * SampleRate, 4*SampleRate + FrameSamples, true},
	}
	for _, tt := range tests {
		e := energy(ch[tt.ch][tt.from:tt.to])
		if tt.loud != (e > 1000) {
			t.Errorf("%s: mean level %.0f", tt.name, e)
		}
	}
	// Samples are the G.711 decoding, not a re-encoding.
	if got, want := ch[0][100], g711.DecodeUlawFrame(left[100]); got != want {
		t.Errorf("left sample %d, want %d", got, want)
	}
	if _, err := r.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestLegRecordsWhatItReceives records two bridged legs over loopback
// UDP: each channel holds its own leg's audio and nothing of the other's,
// and telephone-events are not recorded.
func TestLegRecordsWhatItReceives(t *testing.T) {
	t.Parallel()
	caller, rm := newPhone(t), newPhone(t)
	a := startLeg(t, Negotiation{Codec: CodecPCMU, AudioPT: 0, EventPT: 101, Remote: caller.addr()}, nil)
	b := startLeg(t, Negotiation{Codec: CodecPCMA, AudioPT: 8, Remote: rm.addr()}, nil)
	Bridge(a, b)
	path := filepath.Join(t.TempDir(), "bridge.wav")
	r, err := CreateWAV(path, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	a.Record(r, ChannelLeft)
	b.Record(r, ChannelRight)
	callerAudio := tone(440, 0.5, 25*FrameSamples)
	rmAudio := g711.Ulaw2Alaw(tone(700, 0.5, 25*FrameSamples))
	for i := range 25 {
		caller.send(a.LocalAddr(), rtpPacket(0, uint16(i), uint32(i*FrameSamples), 1, i == 0, callerAudio[i*FrameSamples:(i+1)*FrameSamples]))
		caller.send(a.LocalAddr(), rtpPacket(101, uint16(1000+i), 99, 1, false, []byte{5, 10, 0, 160}))
		rm.send(b.LocalAddr(), rtpPacket(8, uint16(i), uint32(i*FrameSamples), 2, i == 0, rmAudio[i*FrameSamples:(i+1)*FrameSamples]))
		rm.recv()     // the caller's audio relayed to the RM
		caller.recv() // the RM's
		time.Sleep(20 * time.Millisecond)
	}
	a.Record(nil, 0)
	b.Record(nil, 0)
	if _, err := r.Close(); err != nil {
		t.Fatal(err)
	}
	_, ch, err := ReadWAV(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ch) != 2 || len(ch[0]) < 20*FrameSamples {
		t.Fatalf("%d channels of %d frames", len(ch), len(ch[0]))
	}
	wants := [2][]int16{}
	for _, u := range callerAudio[:FrameSamples] {
		wants[0] = append(wants[0], g711.DecodeUlawFrame(u))
	}
	for _, a := range rmAudio[:FrameSamples] {
		wants[1] = append(wants[1], g711.DecodeAlawFrame(a))
	}
	for c, want := range wants {
		// The channel holds the leg's first frame, decoded from its own
		// codec, somewhere in one run.
		found := false
		for off := 0; off+FrameSamples <= len(ch[c]) && !found; off++ {
			found = slices.Equal(ch[c][off:off+FrameSamples], want)
		}
		if !found {
			t.Errorf("channel %d does not hold its leg's first frame", c)
		}
	}
}

// TestWAVRecorderWriteDoesNotAllocate: the per-packet write, flushes to
// the file included, allocates nothing.
func TestWAVRecorderWriteDoesNotAllocate(t *testing.T) {
	start := time.Unix(2000, 0)
	r, err := CreateWAV(filepath.Join(t.TempDir(), "a.wav"), start)
	if err != nil {
		t.Fatal(err)
	}
	frame := tone(440, 0.5, FrameSamples)
	i := 0
	allocs := testing.AllocsPerRun(500, func() { // 10 s: the window flushes several times
		i++
		r.write(ChannelLeft, 1, uint32(i*FrameSamples), frame, CodecPCMU, start.Add(time.Duration(i)*20*time.Millisecond))
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per packet, want 0", allocs)
	}
	if _, err := r.Close(); err != nil {
		t.Fatal(err)
	}
}
