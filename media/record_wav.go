package media

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zaf/g711"
)

// Recording channels of a WAVRecorder: the stereo channel each leg is
// written to.
const (
	// ChannelLeft is the first (left) channel of the WAV file.
	ChannelLeft = 0
	// ChannelRight is the second (right) channel of the WAV file.
	ChannelRight = 1
)

// wavHeaderLen is the length of the canonical RIFF/WAVE header with one
// "fmt " and one "data" chunk.
const wavHeaderLen = 44

// recordWindow is how many sample frames a recorder holds before writing
// them (2 s): packets arriving later than that are dropped.
const recordWindow = 2 * SampleRate

// recordReanchor is how far, in samples (1 s), a channel's RTP timestamps
// may drift from the wall clock before its position is taken from the
// wall clock again (a timestamp jump, a new stream after a pause).
const recordReanchor = SampleRate

// linear decoding tables of G.711 (ITU-T G.711 via github.com/zaf/g711).
var (
	ulawLinear [256]int16
	alawLinear [256]int16
)

func init() {
	for i := range 256 {
		ulawLinear[i] = g711.DecodeUlawFrame(uint8(i))
		alawLinear[i] = g711.DecodeAlawFrame(uint8(i))
	}
}

// WAVRecorder writes the audio two call legs receive to one WAV file
// (RIFF WAVE, WAVE_FORMAT_PCM: 2 channels, 8000 Hz, 16-bit signed
// little-endian samples), one leg per channel, G.711 decoded to linear
// PCM. Each leg's packets are placed on a common timeline by their RTP
// timestamps, anchored to the wall clock at the stream's first packet, so
// the two channels stay aligned and silence fills gaps (no packets, hold,
// lost packets). It keeps 2 s of audio in memory and writes older audio
// to the file as newer packets arrive. Attach it to legs with
// Leg.Record; Close finishes the file. It is safe for concurrent use by
// the two legs' Run goroutines.
type WAVRecorder struct {
	path  string
	start time.Time

	mu     sync.Mutex
	f      *os.File
	w      *bufio.Writer
	err    error
	closed bool
	// win holds the frames from sample position base on (a ring indexed
	// by position modulo recordWindow); high is one past the last
	// position written.
	win        [recordWindow][2]int16
	base, high int64
	chans      [2]recordChannel
	frame      [4]byte
}

// recordChannel maps one channel's RTP timestamps to sample positions.
type recordChannel struct {
	anchored bool
	ssrc     uint32
	ts0      uint32
	pos0     int64
	packets  uint64
}

// Recording describes a finished WAV file.
type Recording struct {
	// Path is the file written.
	Path string
	// Duration is the audio's length (sample frames / 8000 Hz).
	Duration time.Duration
	// Bytes is the file's size, header included.
	Bytes int64
	// Packets counts the RTP packets written per channel.
	Packets [2]uint64
}

// CreateWAV creates the WAV file path (mode 0600; an existing file is an
// error) and returns a recorder whose timeline starts at start. Errors:
// the file system's.
func CreateWAV(path string, start time.Time) (*WAVRecorder, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("recording: %w", err)
	}
	r := &WAVRecorder{path: path, start: start, f: f, w: bufio.NewWriterSize(f, 32<<10)}
	var hdr [wavHeaderLen]byte
	putWAVHeader(hdr[:], 0)
	if _, err := r.w.Write(hdr[:]); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return nil, fmt.Errorf("recording: %w", err)
	}
	return r, nil
}

// Path returns the file the recorder writes.
func (r *WAVRecorder) Path() string { return r.path }

// putWAVHeader writes the 44-byte header of a 2-channel 8 kHz 16-bit PCM
// WAV file with dataBytes bytes of samples.
func putWAVHeader(b []byte, dataBytes uint32) {
	le := binary.LittleEndian
	copy(b[0:], "RIFF")
	le.PutUint32(b[4:], 36+dataBytes)
	copy(b[8:], "WAVEfmt ")
	le.PutUint32(b[16:], 16)           // fmt chunk size
	le.PutUint16(b[20:], 1)            // WAVE_FORMAT_PCM
	le.PutUint16(b[22:], 2)            // channels
	le.PutUint32(b[24:], SampleRate)   // samples per second
	le.PutUint32(b[28:], SampleRate*4) // bytes per second
	le.PutUint16(b[32:], 4)            // block align
	le.PutUint16(b[34:], 16)           // bits per sample
	copy(b[36:], "data")
	le.PutUint32(b[40:], dataBytes)
}

// write places the G.711 samples of one RTP packet of channel ch on the
// timeline; it is called from a leg's per-packet path and does not
// allocate.
func (r *WAVRecorder) write(ch int, ssrc, ts uint32, payload []byte, codec Codec, now time.Time) {
	table := &ulawLinear
	if codec == CodecPCMA {
		table = &alawLinear
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.err != nil || len(payload) == 0 {
		return
	}
	wall := int64(now.Sub(r.start)) * SampleRate / int64(time.Second)
	c := &r.chans[ch]
	pos := c.pos0 + int64(int32(ts-c.ts0))
	if !c.anchored || ssrc != c.ssrc || pos-wall > recordReanchor || wall-pos > recordReanchor {
		c.anchored, c.ssrc, c.ts0, c.pos0 = true, ssrc, ts, wall
		pos = wall
	}
	c.packets++
	if pos < r.base { // later than the window: keep what still fits
		skip := r.base - pos
		if skip >= int64(len(payload)) {
			return
		}
		payload, pos = payload[skip:], r.base
	}
	end := pos + int64(len(payload))
	if end-r.base > recordWindow {
		r.flush(end - recordWindow)
	}
	for i, b := range payload {
		r.win[(pos+int64(i))%recordWindow][ch] = table[b]
	}
	r.high = max(r.high, end)
}

// flush writes the frames before position upTo to the file and clears
// their slots; positions past the window are written as silence.
func (r *WAVRecorder) flush(upTo int64) {
	for ; r.base < upTo && r.err == nil; r.base++ {
		slot := &r.win[r.base%recordWindow]
		binary.LittleEndian.PutUint16(r.frame[0:], uint16(slot[0]))
		binary.LittleEndian.PutUint16(r.frame[2:], uint16(slot[1]))
		*slot = [2]int16{}
		if _, err := r.w.Write(r.frame[:]); err != nil {
			r.err = err
		}
	}
}

// Close writes the audio still held, completes the header and closes the
// file. It returns what was recorded, and the first write error if any
// (the file may then be incomplete). Calling it again returns the same
// description without doing anything.
func (r *WAVRecorder) Close() (Recording, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec := Recording{Path: r.path, Packets: [2]uint64{r.chans[0].packets, r.chans[1].packets}}
	rec.Duration = time.Duration(r.high) * time.Second / SampleRate
	rec.Bytes = wavHeaderLen + 4*r.high
	if r.closed {
		return rec, r.err
	}
	r.closed = true
	r.flush(r.high)
	if err := r.w.Flush(); err != nil && r.err == nil {
		r.err = err
	}
	var hdr [wavHeaderLen]byte
	putWAVHeader(hdr[:], uint32(4*r.high))
	if _, err := r.f.WriteAt(hdr[:], 0); err != nil && r.err == nil {
		r.err = err
	}
	if err := r.f.Close(); err != nil && r.err == nil {
		r.err = err
	}
	if r.err != nil {
		return rec, fmt.Errorf("recording %s: %w", r.path, r.err)
	}
	return rec, nil
}

// recordTap sends a leg's received audio to one channel of a recorder.
type recordTap struct {
	rec *WAVRecorder
	ch  int
}

// legTap is the recorder slot of a Leg.
type legTap = atomic.Pointer[recordTap]

// Record makes the leg write the audio it receives (not telephone-events)
// to channel ch (ChannelLeft or ChannelRight) of rec, from the next packet
// on; a nil rec stops it.
func (l *Leg) Record(rec *WAVRecorder, ch int) {
	if rec == nil {
		l.tap.Store(nil)
		return
	}
	l.tap.Store(&recordTap{rec: rec, ch: ch & 1})
}

// ReadWAV reads a file CreateWAV wrote (or any canonical 44-byte-header
// 16-bit PCM WAV file) and returns its sample rate and its samples per
// channel. Errors wrap ErrBadWAV for another layout.
func ReadWAV(path string) (rate int, channels [][]int16, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, nil, fmt.Errorf("read wav: %w", err)
	}
	le := binary.LittleEndian
	if len(b) < wavHeaderLen || string(b[0:4]) != "RIFF" || string(b[8:16]) != "WAVEfmt " || string(b[36:40]) != "data" ||
		le.Uint16(b[20:]) != 1 || le.Uint16(b[34:]) != 16 {
		return 0, nil, fmt.Errorf("read wav %s: %w", path, ErrBadWAV)
	}
	n := int(le.Uint16(b[22:]))
	size := int(le.Uint32(b[40:]))
	if n == 0 || size > len(b)-wavHeaderLen || size%(2*n) != 0 {
		return 0, nil, fmt.Errorf("read wav %s: %w: data size %d", path, ErrBadWAV, size)
	}
	channels = make([][]int16, n)
	frames := size / (2 * n)
	for c := range channels {
		channels[c] = make([]int16, frames)
	}
	for i := range frames {
		for c := range n {
			channels[c][i] = int16(le.Uint16(b[wavHeaderLen+2*(i*n+c):]))
		}
	}
	return int(le.Uint32(b[24:])), channels, nil
}
