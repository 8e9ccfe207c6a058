// Package prompts holds the voice prompts and music on hold the gateway
// plays to callers: 8 kHz mono µ-law (ITU-T G.711) samples embedded in the
// binary (made with espeak-ng and sox by generate.sh, about 470 KB in
// all) and a hold melody synthesised in code.
package prompts

import (
	"embed"
	"math"
	"time"

	"github.com/zaf/g711"
)

//go:embed audio/*.ulaw
var audio embed.FS

// Language is a prompt language: an ISO 639-1 code.
type Language string

// Languages of the embedded prompts.
const (
	English Language = "en"
	Chinese Language = "zh"
)

// Languages lists the prompt languages in menu order.
var Languages = []Language{English, Chinese}

// Name names one prompt.
type Name string

// Prompt names.
const (
	// Welcome greets the caller and explains the menu (1: language, 2:
	// callback).
	Welcome Name = "welcome"
	// LanguageChosen confirms the language just chosen.
	LanguageChosen Name = "language"
	// Callback thanks the caller and says the bank will call back.
	Callback Name = "callback"
	// Position1, Position2, Position3 and PositionMany announce the
	// caller's place in the queue (1 = next).
	Position1    Name = "position_1"
	Position2    Name = "position_2"
	Position3    Name = "position_3"
	PositionMany Name = "position_many"
	// WaitShort and WaitLong announce an expected wait under or over two
	// minutes.
	WaitShort Name = "wait_short"
	WaitLong  Name = "wait_long"
	// Recording tells the caller that the call will be recorded (the
	// consent announcement played before a recorded call is bridged).
	Recording Name = "recording"
	// Transfer asks the caller to hold while the call is transferred to
	// another RM.
	Transfer Name = "transfer"
)

// Get returns the µ-law samples of prompt name in lang, falling back to
// English for an unknown language; nil for an unknown name. The slice is
// shared: do not modify it.
func Get(lang Language, name Name) []byte {
	if b, err := audio.ReadFile("audio/" + string(lang) + "_" + string(name) + ".ulaw"); err == nil {
		return b
	}
	b, _ := audio.ReadFile("audio/" + string(English) + "_" + string(name) + ".ulaw")
	return b
}

// Announcement returns the prompt for a caller's place in the queue:
// position (1 = next) when it is above zero, else the expected wait when it
// is above zero, else nil.
func Announcement(lang Language, position int, wait time.Duration) []byte {
	switch {
	case position == 1:
		return Get(lang, Position1)
	case position == 2:
		return Get(lang, Position2)
	case position == 3:
		return Get(lang, Position3)
	case position > 3:
		return Get(lang, PositionMany)
	case wait > 0 && wait < 2*time.Minute:
		return Get(lang, WaitShort)
	case wait > 0:
		return Get(lang, WaitLong)
	}
	return nil
}

// holdMusic is built once: a gentle arpeggio, 8 s.
var holdMusic = synthHold()

// HoldMusic returns about 8 s of µ-law music on hold to loop: a soft
// arpeggio of sine tones (C major, then A minor), synthesised in code. The
// slice is shared: do not modify it.
func HoldMusic() []byte { return holdMusic }

func synthHold() []byte {
	notes := []float64{261.63, 329.63, 392.00, 523.25, 392.00, 329.63, 220.00, 261.63, 329.63, 440.00, 329.63, 261.63}
	const noteSamples = 8000 * 2 / 3 // 667 ms
	out := make([]byte, 0, len(notes)*noteSamples)
	for _, f := range notes {
		for i := range noteSamples {
			t := float64(i) / 8000
			env := math.Min(1, float64(i)/400) * math.Min(1, float64(noteSamples-i)/800)
			v := 0.18 * env * (math.Sin(2*math.Pi*f*t) + 0.3*math.Sin(4*math.Pi*f*t))
			out = append(out, g711.EncodeUlawFrame(int16(v*32767)))
		}
	}
	return out
}

// Tone returns d of a sine tone of freq Hz at amplitude amp (0 to 1) as
// µ-law samples, e.g. a beep or a test signal.
func Tone(freq float64, amp float64, d time.Duration) []byte {
	n := int(d.Seconds() * 8000)
	out := make([]byte, n)
	for i := range out {
		out[i] = g711.EncodeUlawFrame(int16(amp * 32767 * math.Sin(2*math.Pi*freq*float64(i)/8000)))
	}
	return out
}
